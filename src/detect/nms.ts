/**
 * Overlap measures and non-maximum suppression for face detections.
 */
import type { Box, Detection, Vec2 } from '../types.ts';

/** Intersection over union of two boxes (0 when either is empty). */
export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/** Intersection over the smaller box's area: 1 when one box lies inside the other. */
export function overlapMin(a: Box, b: Box): number {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const small = Math.min(a[2] * a[3], b[2] * b[3]);
  return small > 0 ? inter / small : 0;
}

/**
 * Hard NMS: keeps the best-scoring detection of every group whose IoU exceeds `threshold`.
 *
 *   const kept = nms(candidates, 0.3);
 */
export function nms(dets: Detection[], threshold: number): Detection[] {
  const sorted = [...dets].sort((p, q) => q.score - p.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.every((k) => iou(k.box, d.box) <= threshold)) kept.push(d);
  }
  return kept;
}

/**
 * Weighted ("blending") NMS as in MediaPipe: each kept detection's box and keypoints become the
 * score-weighted mean of all candidates that overlap it by more than `threshold`; its score stays
 * the best one. Keypoints are blended only among candidates with the same keypoint count.
 *
 *   const faces = weightedNms(rawAnchors, 0.3);
 */
export function weightedNms(dets: Detection[], threshold: number): Detection[] {
  let rest = [...dets].sort((p, q) => q.score - p.score);
  const kept: Detection[] = [];
  while (rest.length > 0) {
    const top = rest[0];
    const group = rest.filter((d) => iou(top.box, d.box) > threshold);
    rest = rest.filter((d) => iou(top.box, d.box) <= threshold);
    let wsum = 0;
    const box: Box = [0, 0, 0, 0];
    for (const d of group) {
      wsum += d.score;
      for (let i = 0; i < 4; i++) box[i] += d.box[i] * d.score;
    }
    for (let i = 0; i < 4; i++) box[i] /= wsum;
    const merged: Detection = { ...top, box };
    if (top.keypoints) {
      const n = top.keypoints.length;
      const same = group.filter((d) => d.keypoints?.length === n);
      const ksum = same.reduce((s, d) => s + d.score, 0);
      merged.keypoints = top.keypoints.map((_, i): Vec2 => {
        let x = 0, y = 0;
        for (const d of same) {
          x += d.keypoints![i][0] * d.score;
          y += d.keypoints![i][1] * d.score;
        }
        return [x / ksum, y / ksum];
      });
    }
    kept.push(merged);
  }
  return kept;
}
