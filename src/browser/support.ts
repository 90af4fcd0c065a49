/**
 * Whether this browser can run the pipeline itself. Its own module, free of model code, so a page can ask before it
 * loads anything heavy.
 *
 * ```ts
 * import { browserSupport } from 'voxface/browser';
 * const { ok, why } = browserSupport(); // { ok: false, why: 'WebAssembly is not available' } on a browser without it
 * ```
 */

/** Whether this browser can run the pipeline itself, and if not, why. */
export function browserSupport(): { ok: boolean; why?: string } {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') return { ok: false, why: 'WebAssembly is not available' };
  if (typeof createImageBitmap !== 'function') return { ok: false, why: 'createImageBitmap is not available' };
  if (typeof fetch !== 'function') return { ok: false, why: 'fetch is not available' };
  return { ok: true };
}
