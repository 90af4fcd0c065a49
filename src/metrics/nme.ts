/**
 * Landmark error metrics of the AFLW2000-3D protocol (3DDFA, PRNet, 3DDFA_V2, SynergyNet): the mean
 * point-to-point error over the 68 landmarks divided by √(w·h) of the ground truth's 2D landmark box,
 * reported by |yaw| bin [0,30], (30,60], (60,90+].
 *
 * ```ts
 * const e2 = nme2d(face.landmarks68, gt);   // 0.0412 = 4.12 %
 * const e3 = nme3d(face.landmarks68, gt);   // z of both sets centred on their own mean
 * yawBin(-45);                               // 1 → '(30,60]'
 * ```
 */
import type { Box, Vec2, Vec3 } from '../types.ts';
import { pointsBox } from '../align/crop.ts';

/** Labels of the three yaw bins, in order. */
export const YAW_BINS = ['[0,30]', '(30,60]', '(60,90]'] as const;
export type YawBin = 0 | 1 | 2;

/**
 * The bin of a yaw in degrees, by |yaw|, as 3DDFA's benchmark does it: |yaw| ≤ 30 → 0, 30 < |yaw| ≤ 60 → 1,
 * |yaw| > 60 → 2 (yaws past 90° go to the last bin). Throws on a non-finite yaw.
 *
 * ```ts
 * yawBin(30);   // 0
 * yawBin(-60);  // 1
 * yawBin(60.1); // 2
 * ```
 */
export function yawBin(yaw: number): YawBin {
  if (!Number.isFinite(yaw)) throw new Error(`yawBin: yaw must be finite, got ${yaw}`);
  const a = Math.abs(yaw);
  return a <= 30 ? 0 : a <= 60 ? 1 : 2;
}

/**
 * The axis-aligned box [x, y, w, h] of points' x and y.
 *
 * ```ts
 * landmarkBox([[0, 0], [4, 2]]); // [0, 0, 4, 2]
 * ```
 */
export function landmarkBox(points: readonly (Vec2 | Vec3)[]): Box {
  if (points.length === 0) throw new Error('landmarkBox: no points');
  return pointsBox(points);
}

/**
 * The AFLW2000-3D normaliser: √(w·h) of the 2D box of the ground-truth landmarks (their x, y).
 *
 * ```ts
 * boxNormaliser([[0, 0, 5], [4, 9, 1]]); // 6
 * ```
 */
export function boxNormaliser(gt: readonly (Vec2 | Vec3)[]): number {
  const [, , w, h] = landmarkBox(gt);
  const n = Math.sqrt(w * h);
  if (!(n > 0)) throw new Error('boxNormaliser: the ground-truth landmark box is empty');
  return n;
}

function checkPair(pred: readonly unknown[], gt: readonly unknown[], what: string): void {
  if (pred.length !== gt.length || gt.length === 0) {
    throw new Error(`${what}: need the same non-zero number of points, got ${pred.length} and ${gt.length}`);
  }
}

/**
 * NME 2D: mean over points of the x, y distance between prediction and ground truth ÷ `boxNormaliser(gt)`.
 * A fraction (multiply by 100 for %). `norm` overrides the normaliser (e.g. the 3D landmarks' box when the
 * ground truth compared against is another 2D annotation).
 *
 * ```ts
 * nme2d(pred, gt); // every point 3 px off with a 100×100 box → 0.03
 * ```
 */
export function nme2d(pred: readonly (Vec2 | Vec3)[], gt: readonly (Vec2 | Vec3)[], norm = boxNormaliser(gt)): number {
  checkPair(pred, gt, 'nme2d');
  let sum = 0;
  for (let i = 0; i < gt.length; i++) sum += Math.hypot(pred[i][0] - gt[i][0], pred[i][1] - gt[i][1]);
  return sum / gt.length / norm;
}

/**
 * NME 3D: like `nme2d` with the z distance included, each set's z first centred on its own mean (depth has no
 * common origin between a prediction and the ground truth).
 *
 * ```ts
 * nme3d(pred, gt); // a prediction shifted only in z scores 0
 * ```
 */
export function nme3d(pred: readonly Vec3[], gt: readonly Vec3[], norm = boxNormaliser(gt)): number {
  checkPair(pred, gt, 'nme3d');
  const zp = meanOf(pred.map((p) => p[2]));
  const zg = meanOf(gt.map((p) => p[2]));
  let sum = 0;
  for (let i = 0; i < gt.length; i++) {
    sum += Math.hypot(pred[i][0] - gt[i][0], pred[i][1] - gt[i][1], pred[i][2] - zp - (gt[i][2] - zg));
  }
  return sum / gt.length / norm;
}

/** Mean of numbers (NaN for none). */
export function meanOf(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
