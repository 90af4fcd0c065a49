/**
 * Scores one benchmark image (the faces the pipeline found against its ground truth) and summarises many,
 * by yaw bin, the AFLW2000-3D way: NME over the detected faces, detection failures counted apart.
 *
 * ```ts
 * const row = evaluateImage(gt, result.faces);          // picks the face overlapping the GT box most
 * const summary = summarise(rows);
 * summary.all.nme2d;                                     // mean NME 2D over detected faces (fraction)
 * summary.balanced.nme2d;                                // mean of the non-empty bins' means (the papers' "mean")
 * ```
 */
import { estimatePose } from '../landmarks/pose.ts';
import type { Box, Mesh, Pose, Vec3 } from '../types.ts';
import type { GroundTruth } from './ground-truth.ts';
import { matchFace } from './match.ts';
import { boxNormaliser, landmarkBox, meanOf, nme2d, nme3d, YAW_BINS, yawBin } from './nme.ts';
import type { YawBin } from './nme.ts';
import { ALL_68, INTERIOR_68, surfaceDepthError } from './surface.ts';
import type { SurfaceDepthError } from './surface.ts';

/** What the evaluation needs of a reconstructed face (a `FaceResult` has all of it). */
export interface FaceLike {
  box: Box;
  landmarks68: Vec3[];
  mesh: Pick<Mesh, 'positions' | 'indices'>;
  pose?: Pose;
}

/** The scores of one image. Errors are fractions of √(w·h) of the ground-truth landmark box. */
export interface ImageEval {
  name: string;
  /** Ground-truth yaw, degrees, voxface convention (+ = face turned toward the photo's right). */
  yaw: number;
  /** Yaw of our mean face fitted to the ground-truth landmarks (a check of the dataset's yaw sign). */
  yawFromGt: number;
  bin: YawBin;
  /** √(w·h) of the ground-truth 2D landmark box, pixels. */
  norm: number;
  /** How many faces the pipeline returned. */
  faces: number;
  detected: boolean;
  /** IoU of the chosen face's box with the ground-truth landmark box (0 when not detected). */
  iou: number;
  nme2d: number;
  nme3d: number;
  /** NME 2D against the re-annotated 2D landmarks (same normaliser), when the dataset has them. */
  nme2dReannotated: number;
  /** Our surface depth at the ground-truth landmarks vs their z (see surfaceDepthError). */
  depthAll68: SurfaceDepthError;
  depthInterior: SurfaceDepthError;
  /**
   * The same at the landmarks the camera sees, when the dataset flags them (synthetic benchmark); over all 68
   * otherwise (AFLW2000-3D gives no flags; its dev photos are near-frontal).
   */
  depthVisible: SurfaceDepthError;
  /** Our estimated yaw of the chosen face. */
  predictedYaw: number;
  /** Index of the chosen face in `faces` (−1 when not detected). */
  face: number;
  /**
   * Dense-shape error, mm (eval/dense.ts: the pose removed, over the front of the face), for datasets with dense
   * ground truth and faces on ICT's topology; NaN otherwise.
   */
  denseMM: number;
  /** NME 2D of each landmark group (LANDMARK_GROUPS: jaw, brows, nose, eyes, mouth), same normaliser; NaN when not detected. */
  groups: Record<LandmarkGroup, number>;
  /** The dataset's pitch, degrees (NaN when it has none); binned by |pitch| in PITCH_BINS. */
  pitch: number;
  /** Pipeline error message, when the pipeline failed on this image for another reason than "no face". */
  error?: string;
  /** Wall time of the pipeline on this image, ms. */
  ms?: number;
}

const NONE: SurfaceDepthError = { error: NaN, flat: NaN, hit: 0 };

/** The iBUG 68's groups: the jaw contour 0–16, brows 17–26, nose 27–35, eyes 36–47, mouth 48–67. */
export const LANDMARK_GROUPS = { jaw: [0, 17], brows: [17, 27], nose: [27, 36], eyes: [36, 48], mouth: [48, 68] } as const;
export type LandmarkGroup = keyof typeof LANDMARK_GROUPS;

/** |pitch| bins, degrees: the upper bound of each (the last takes everything above). */
export const PITCH_BINS = [{ label: '[0,20]', max: 20 }, { label: '(20,40]', max: 40 }, { label: '>40', max: Infinity }] as const;

/** NME 2D of each landmark group. */
function groupErrors(pred: readonly Vec3[], gt: readonly Vec3[], norm: number): Record<LandmarkGroup, number> {
  const out = {} as Record<LandmarkGroup, number>;
  for (const [g, [a, b]] of Object.entries(LANDMARK_GROUPS) as [LandmarkGroup, readonly [number, number]][]) {
    let s = 0;
    for (let i = a; i < b; i++) s += Math.hypot(pred[i][0] - gt[i][0], pred[i][1] - gt[i][1]);
    out[g] = s / (b - a) / norm;
  }
  return out;
}
const NO_GROUPS: Record<LandmarkGroup, number> = { jaw: NaN, brows: NaN, nose: NaN, eyes: NaN, mouth: NaN };

/**
 * Scores one image. `faces` are every face the pipeline returned (may be empty); the one whose box overlaps
 * the ground truth's landmark box most is "the" face, none overlapping (IoU ≤ `minIoU`) = not detected.
 *
 * ```ts
 * const row = evaluateImage(gt, result.faces);
 * row.detected && row.nme2d;  // 0.0412
 * ```
 */
export function evaluateImage(gt: GroundTruth, faces: readonly FaceLike[], minIoU = 0): ImageEval {
  const lm = gt.landmarks3d;
  const norm = boxNormaliser(lm);
  const base = {
    name: gt.name,
    yaw: gt.yaw,
    yawFromGt: estimatePose(lm).pose.yaw,
    bin: yawBin(gt.yaw),
    norm,
    faces: faces.length,
    pitch: gt.datasetPose.pitch ?? NaN,
  };
  const m = matchFace(faces.map((f) => f.box), landmarkBox(lm), minIoU);
  if (m.index < 0) {
    return {
      ...base, detected: false, iou: 0, nme2d: NaN, nme3d: NaN, nme2dReannotated: NaN,
      depthAll68: NONE, depthInterior: NONE, depthVisible: NONE, predictedYaw: NaN, face: -1, denseMM: NaN, groups: NO_GROUPS,
    };
  }
  const f = faces[m.index];
  return {
    ...base,
    detected: true,
    iou: m.iou,
    nme2d: nme2d(f.landmarks68, lm, norm),
    nme3d: nme3d(f.landmarks68, lm, norm),
    groups: groupErrors(f.landmarks68, lm, norm),
    nme2dReannotated: gt.landmarks2dReannotated ? nme2d(f.landmarks68, gt.landmarks2dReannotated, norm) : NaN,
    depthAll68: surfaceDepthError(f.mesh, lm, ALL_68),
    depthInterior: surfaceDepthError(f.mesh, lm, INTERIOR_68),
    depthVisible: surfaceDepthError(f.mesh, lm, gt.visible ? ALL_68.filter((i) => gt.visible![i]) : ALL_68),
    predictedYaw: f.pose?.yaw ?? estimatePose(f.landmarks68).pose.yaw,
    face: m.index,
    denseMM: NaN,
  };
}

/** Means over one group of images (a yaw bin, or all). NaN where the group has no value. */
export interface GroupStats {
  label: string;
  images: number;
  detected: number;
  /** Failures ÷ images (0 when the group is empty). */
  failureRate: number;
  nme2d: number;
  nme3d: number;
  nme2dReannotated: number;
  depthAll68: number;
  flatAll68: number;
  depthInterior: number;
  flatInterior: number;
  depthVisible: number;
  flatVisible: number;
  /** Mean fraction of landmarks whose ray hit our mesh (all 68): the surface's coverage of the face. */
  hitAll68: number;
  /** The same over the interior landmarks 17–67: a mesh that stops short of the face shows here. */
  hitInterior: number;
  /** Mean dense-shape error, mm (NaN without dense ground truth). */
  denseMM: number;
}

export interface Summary {
  bins: GroupStats[];
  all: GroupStats;
  /** Mean of the bin means over the non-empty bins: the "mean" column of the AFLW2000-3D papers. */
  balanced: { nme2d: number; nme3d: number; bins: number };
}

/** Mean of the finite values (NaN when none). */
function finiteMean(values: readonly number[]): number {
  return meanOf(values.filter(Number.isFinite));
}

/**
 * Group statistics of some rows. NME means are over detected faces; depth means over the detected faces whose
 * depth error is defined (≥ 3 landmarks hit).
 *
 * ```ts
 * groupStats('all', rows).failureRate; // 0.125 = 1 of 8 not detected
 * ```
 */
export function groupStats(label: string, rows: readonly ImageEval[]): GroupStats {
  const det = rows.filter((r) => r.detected);
  const col = (f: (r: ImageEval) => number) => finiteMean(det.map(f));
  return {
    label,
    images: rows.length,
    detected: det.length,
    failureRate: rows.length ? (rows.length - det.length) / rows.length : 0,
    nme2d: col((r) => r.nme2d),
    nme3d: col((r) => r.nme3d),
    nme2dReannotated: col((r) => r.nme2dReannotated),
    depthAll68: col((r) => r.depthAll68.error),
    flatAll68: col((r) => (Number.isFinite(r.depthAll68.error) ? r.depthAll68.flat : NaN)),
    depthInterior: col((r) => r.depthInterior.error),
    flatInterior: col((r) => (Number.isFinite(r.depthInterior.error) ? r.depthInterior.flat : NaN)),
    depthVisible: col((r) => r.depthVisible.error),
    flatVisible: col((r) => (Number.isFinite(r.depthVisible.error) ? r.depthVisible.flat : NaN)),
    hitAll68: col((r) => r.depthAll68.hit),
    hitInterior: col((r) => r.depthInterior.hit),
    denseMM: col((r) => r.denseMM),
  };
}

/**
 * Per-bin and overall statistics, plus the bin-balanced mean the papers report.
 *
 * ```ts
 * const s = summarise(rows);
 * s.bins.map((b) => b.nme2d);  // [0.031, 0.045, NaN] (NaN: no detected face in that bin)
 * ```
 */
export function summarise(rows: readonly ImageEval[]): Summary {
  const bins = YAW_BINS.map((label, b) => groupStats(label, rows.filter((r) => r.bin === b)));
  const full = bins.filter((b) => Number.isFinite(b.nme2d));
  return {
    bins,
    all: groupStats('all', rows),
    balanced: { nme2d: meanOf(full.map((b) => b.nme2d)), nme3d: meanOf(full.map((b) => b.nme3d)), bins: full.length },
  };
}
