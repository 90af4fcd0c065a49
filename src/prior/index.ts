/**
 * The shape prior stage: the ICT Face Model fitted to Face Mesh's points (or to the network's 68 landmarks), the
 * shape every face starts from, on ICT's clean topology. Platform-neutral; the Node and browser adapters only read
 * `models/ict-face.bin`.
 *
 * ```ts
 * const prior = createShapePrior(await readFile('models/ict-face.bin'));
 * const fit = fitPrior(prior, { mesh468: det.mesh468, landmarks68: networkLandmarks });
 * const mesh = priorMesh(prior.basis, fit, 'face');
 * ```
 */
import { estimatePose } from '../landmarks/pose.ts';
import type { Vec3 } from '../types.ts';
import { parseIctBasis } from './basis.ts';
import type { IctBasis } from './basis.ts';
import { PRIOR_DEFAULTS, PriorFitter } from './fit.ts';
import type { PriorFit, PriorFitOptions } from './fit.ts';

export { ATLAS, parseIctBasis, shapeVertices, type IctBasis, type TemplateMesh } from './basis.ts';
export { PRIOR_DEFAULTS, PriorFitter, type PriorFit, type PriorFitOptions, type PriorTargets } from './fit.ts';
export { benchmarkLandmarks, onSurfaceLandmarks, poseToPhoto, priorLandmarks, priorMesh, type PriorMeshOptions, type PriorRegion } from './mesh.ts';
export { landmarkSurfaceField } from './surface-field.ts';
export { fitSilhouette, profileEdges, SILHOUETTE_DEFAULTS, type ProfileEdges, type SilhouetteFace, type SilhouetteFitOptions, type SilhouetteOptions } from './silhouette.ts';

/** The loaded prior: the basis and its fitter (precomputed once). */
export interface ShapePrior {
  basis: IctBasis;
  fitter: PriorFitter;
}

/**
 * Parses `models/ict-face.bin` and precomputes the fitter (~0.1 s; once per process).
 *
 * ```ts
 * const prior = createShapePrior(new Uint8Array(await (await fetch('/models/ict-face.bin')).arrayBuffer()));
 * ```
 */
export function createShapePrior(bytes: Uint8Array, options: { identityModes?: number } = {}): ShapePrior {
  const basis = parseIctBasis(bytes);
  return { basis, fitter: new PriorFitter(basis, options) };
}

/** What the fit can use: Face Mesh's points when the detector had them, and always the network's landmarks. */
export interface PriorInputs {
  /** `Detection.mesh468`. */
  mesh468?: readonly Vec3[];
  /** The network's 68 landmarks in the photo frame. */
  landmarks68: readonly Vec3[];
  /** The landmark network's 68 (the benchmark's convention), photo frame: fitted instead of `landmarks68` when given. */
  aflw68?: readonly Vec3[];
}

export interface PriorChoice {
  /** Fit Face Mesh's points when the head, judged by the network's landmarks, turns less than this (degrees). */
  faceMeshMaxYaw?: number;
  /**
   * Fit these targets without choosing (a second fit of the same face, e.g. with `start` and an identity centre);
   * they must be among the inputs.
   */
  source?: PriorFit['source'];
}

/**
 * Which of a face's targets the prior is fitted to when the landmark network has answered: Face Mesh's 468 points
 * where it fitted the face and the head turns less than `faceMeshMaxYaw` (default
 * `PRIOR_DEFAULTS.faceMeshMaxYawReal`), judged by the mean face laid onto the network's 68 points (`meanFacePose`: the
 * fit's start, not a whole fit), else the network's points. The pipeline judges by the network's first, cheaper pass
 * and runs its refining pass only where it will fit to it (src/pipeline.ts).
 *
 * ```ts
 * choosePriorSource(prior, { mesh468: det.mesh468, aflw68: network68 });   // 'facemesh' | 'aflw68'
 * ```
 */
export function choosePriorSource(prior: ShapePrior, inputs: Pick<PriorInputs, 'mesh468' | 'aflw68'>, options: PriorChoice = {}): 'facemesh' | 'aflw68' {
  if (inputs.aflw68?.length !== 68) throw new Error('choosePriorSource needs the landmark network\'s 68 points');
  const maxYaw = options.faceMeshMaxYaw ?? PRIOR_DEFAULTS.faceMeshMaxYawReal;
  const mesh = inputs.mesh468 && inputs.mesh468.length >= 468;
  return mesh && Math.abs(prior.fitter.meanFacePose({ aflw68: inputs.aflw68 }).yaw) < maxYaw ? 'facemesh' : 'aflw68';
}

/**
 * Fits the prior to the better of its inputs: with the landmark network's 68 points (`aflw68`), as
 * `choosePriorSource` says; else Face Mesh's 468 points where it fitted the face and the head turns less than
 * `faceMeshMaxYaw` (default `PRIOR_DEFAULTS.faceMeshMaxYaw`; Face Mesh flattens strongly turned faces), judged by the
 * volume network's 68 landmarks, else those landmarks.
 *
 * ```ts
 * const fit = fitPrior(prior, { mesh468: det.mesh468, landmarks68 });
 * fit.source;   // 'facemesh' | 'landmarks68'
 * ```
 */
export function fitPrior(prior: ShapePrior, inputs: PriorInputs, options: PriorChoice & PriorFitOptions = {}): PriorFit {
  if (options.source) {
    const targets = options.source === 'facemesh' ? { mesh468: inputs.mesh468 } : options.source === 'aflw68' ? { aflw68: inputs.aflw68 } : { landmarks68: inputs.landmarks68 };
    return prior.fitter.fit(targets, options);
  }
  if (inputs.aflw68 && inputs.aflw68.length === 68) {
    const source = choosePriorSource(prior, inputs, options);
    return prior.fitter.fit(source === 'facemesh' ? { mesh468: inputs.mesh468 } : { aflw68: inputs.aflw68 }, options);
  }
  const maxYaw = options.faceMeshMaxYaw ?? PRIOR_DEFAULTS.faceMeshMaxYaw;
  const yaw = Math.abs(estimatePose(inputs.landmarks68 as Vec3[]).pose.yaw);
  if (inputs.mesh468 && inputs.mesh468.length >= 468 && yaw < maxYaw) return prior.fitter.fit({ mesh468: inputs.mesh468 }, options);
  return prior.fitter.fit({ landmarks68: inputs.landmarks68 }, options);
}
