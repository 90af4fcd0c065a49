/**
 * The TF.js core the detectors run on, given by the platform's adapter: `src/node/detectors.ts` loads it with
 * `require` (Node reads a CommonJS package imported from an ES module through its export lexer, 0.4 s of CPU for
 * TF.js' core, converter and backend at every start; `require` skips that), `src/browser/detector.ts` imports it
 * (bundled). The detector code itself imports only types.
 *
 * ```ts
 * useTf(require('@tensorflow/tfjs-core'));
 * tf().tensor4d(pixels, [1, 128, 128, 3]);
 * ```
 */
import type * as TF from '@tensorflow/tfjs-core';

export type TfCore = typeof TF;

let core: TfCore | undefined;

/** Sets the TF.js core (the same module object every time; idempotent). */
export function useTf(tf: TfCore): void {
  core = tf;
}

/** The TF.js core set by `useTf`, or undefined where no adapter has loaded it yet. */
export function loadedTf(): TfCore | undefined {
  return core;
}

/** The TF.js core set by `useTf`; throws when no adapter has set it. */
export function tf(): TfCore {
  if (!core) throw new Error('TF.js is not loaded: load the detector through voxface/node or voxface/browser');
  return core;
}
