/**
 * Which reconstructed face is "the" ground-truth face: the one whose detection box overlaps the ground truth's
 * landmark box most (intersection over union). No overlap at all = a detection failure.
 *
 * ```ts
 * const m = matchFace(result.faces.map((f) => f.box), landmarkBox(gt));
 * if (m.index < 0) failures++;          // nothing overlaps the ground-truth face
 * else evaluate(result.faces[m.index]); // m.iou in (0, 1]
 * ```
 */
import type { Box } from '../types.ts';

/**
 * Intersection over union of two [x, y, w, h] boxes (0 when they do not overlap or one is empty).
 *
 * ```ts
 * boxIoU([0, 0, 2, 2], [1, 0, 2, 2]); // 2 / 6
 * ```
 */
export function boxIoU(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = Math.max(0, a[2]) * Math.max(0, a[3]) + Math.max(0, b[2]) * Math.max(0, b[3]) - inter;
  return inter > 0 && union > 0 ? inter / union : 0;
}

export interface FaceMatch {
  /** Index of the best-overlapping box, −1 when none overlaps by more than `minIoU`. */
  index: number;
  /** Its IoU with the ground-truth box (0 when none). */
  iou: number;
}

/**
 * The box (index) that overlaps `gtBox` most; ties keep the first. A box counts only when its IoU is above
 * `minIoU` (default 0: any overlap).
 *
 * ```ts
 * matchFace([[0, 0, 1, 1], [10, 10, 5, 5]], [11, 11, 4, 4]); // { index: 1, iou: 0.64 }
 * ```
 */
export function matchFace(boxes: readonly Box[], gtBox: Box, minIoU = 0): FaceMatch {
  let index = -1;
  let iou = 0;
  boxes.forEach((b, i) => {
    const v = boxIoU(b, gtBox);
    if (v > minIoU && v > iou) {
      index = i;
      iou = v;
    }
  });
  return { index, iou };
}
