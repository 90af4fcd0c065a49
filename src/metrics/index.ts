/**
 * Platform-neutral evaluation metrics, AFLW2000-3D style (NME 2D/3D by yaw bin, detection matching, surface depth at
 * the landmarks), ground-truth formats and a MATLAB v5 reader. The runner and report are in eval/.
 *
 * ```ts
 * import { evaluateImage, summarise, parseGroundTruthJson } from './metrics/index.ts';
 * const rows = samples.map((gt, i) => evaluateImage(gt, results[i].faces));
 * summarise(rows).all.nme2d;
 * ```
 */
export * from './nme.ts';
export * from './match.ts';
export * from './surface.ts';
export * from './mat.ts';
export * from './ground-truth.ts';
export * from './evaluate.ts';
