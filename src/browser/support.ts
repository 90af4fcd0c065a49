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

/**
 * How many WebAssembly threads each runtime (onnxruntime-web, TF.js) uses by default: half the logical cores, at
 * most 4 (onnxruntime-web's own rule), so the page's thread keeps a core while a reconstruction computes; 1 where
 * the page is not cross-origin isolated (no SharedArrayBuffer, no threads).
 *
 * ```ts
 * import { defaultWasmThreads } from './support.ts';
 * const threads = defaultWasmThreads(); // 1 on a 2-core machine, 4 on an 8-core one
 * ```
 */
export function defaultWasmThreads(): number {
  if (!globalThis.crossOriginIsolated) return 1;
  return Math.min(4, Math.ceil((globalThis.navigator?.hardwareConcurrency || 1) / 2));
}
