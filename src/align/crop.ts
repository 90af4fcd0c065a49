/**
 * The network's square crop (models/README.md): from the 2D bounding box (x0, y0, x1, y1) of the 68
 * landmarks, side = scale · max(x1 − x0, y1 − y0), centre = box centre + (0, shiftY · side);
 * axis-aligned, `Crop.toPhoto`: photo = crop · scale + offset.
 */
import type { Box, Crop, Detection, Vec2 } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { BOX_CALIBRATION, DEFAULT_CALIBRATION, type BoxCalibration } from './calibration.ts';

/** The crop rule of a model (its sidecar JSON's `crop`). */
export interface CropSpec {
  scale: number;
  shiftY: number;
}

/**
 * The crop for a landmark bounding box given as (x0, y0, w, h).
 *
 *   const crop = cropFromLandmarkBox([100, 120, 200, 210], { scale: 1.6, shiftY: 0 }, 128);
 */
export function cropFromLandmarkBox(box: Box, spec: CropSpec, size: number): Crop {
  const [x0, y0, w, h] = box;
  if (![x0, y0, w, h, spec.scale, spec.shiftY, size].every(Number.isFinite) || w < 0 || h < 0 || size <= 0) {
    throw new VoxfaceError('BAD_ARGUMENT', 'crop: box, crop spec and size must be finite, sizes positive');
  }
  const side = spec.scale * Math.max(w, h);
  if (!(side > 0)) throw new VoxfaceError('BAD_ARGUMENT', 'crop: the landmarks span no area');
  const cx = x0 + w / 2;
  const cy = y0 + h / 2 + spec.shiftY * side;
  return { size, scale: side / size, offset: [cx - side / 2, cy - side / 2] };
}

/**
 * The crop for 2D landmarks (any number ≥ 2; the pipeline passes the 68 iBUG points), exactly as
 * models/README.md defines it.
 *
 *   const crop = cropFromLandmarks(detection.landmarks68!, model.crop, model.inputSize);
 */
export function cropFromLandmarks(points: readonly (Vec2 | readonly number[])[], spec: CropSpec, size: number): Crop {
  if (points.length < 2) throw new VoxfaceError('BAD_ARGUMENT', 'crop: need at least 2 landmarks');
  return cropFromLandmarkBox(pointsBox(points), spec, size);
}

/** The axis-aligned bounding box [x, y, w, h] of 2D (or 3D: z ignored) points. */
export function pointsBox(points: readonly (readonly number[])[]): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p[0]);
    y0 = Math.min(y0, p[1]);
    x1 = Math.max(x1, p[0]);
    y1 = Math.max(y1, p[1]);
  }
  return [x0, y0, x1 - x0, y1 - y0];
}

/**
 * Estimates the 68-landmark bounding box from a detector box, using the per-detector calibration
 * (`BOX_CALIBRATION`): landmark-box side = ratio(|roll|) · √(w·h), centre = box centre + the offset
 * (given in the face's frame, so it turns with the roll) · √(w·h); the tables cover |roll| 0–90°, an
 * upside-down face uses the mirrored roll. Returns a square box (the crop rule
 * only uses the larger side). A user's box (source 'user') and unknown sources are used as they are.
 *
 *   const lmBox = landmarkBoxFromDetection({ box: [10, 20, 100, 100], score: 0.9, source: 'blazeface-back' });
 */
export function landmarkBoxFromDetection(det: Pick<Detection, 'box' | 'roll' | 'source'>): Box {
  const [x, y, w, h] = det.box;
  const calib = BOX_CALIBRATION[det.source] ?? DEFAULT_CALIBRATION;
  if (calib.asIs) return [x, y, w, h];
  const roll = calib.usesRoll ? (det.roll ?? 0) : 0;
  const a = Math.abs(roll) % 360;
  const folded = Math.min(a, 360 - a);
  const { ratio, offX, offY } = interpolateCalibration(calib, Math.min(folded, 180 - folded));
  const s = Math.sqrt(Math.max(0, w * h));
  const t = (roll * Math.PI) / 180;
  const c = Math.cos(t), sn = Math.sin(t);
  const cx = x + w / 2 + (c * offX - sn * offY) * s;
  const cy = y + h / 2 + (sn * offX + c * offY) * s;
  const side = ratio * s;
  return [cx - side / 2, cy - side / 2, side, side];
}

/**
 * The crop for a detection: from its 68 landmarks when it has them, else from its box mapped to an
 * estimate of the landmark box (`landmarkBoxFromDetection`), then the same crop rule.
 *
 *   const crop = cropFromBox(faces[0], { scale: 1.6, shiftY: 0 }, 128);
 */
export function cropFromBox(
  det: Pick<Detection, 'box' | 'roll' | 'source' | 'landmarks68'>,
  spec: CropSpec,
  size: number,
): Crop {
  if (det.landmarks68 && det.landmarks68.length >= 2) return cropFromLandmarks(det.landmarks68, spec, size);
  return cropFromLandmarkBox(landmarkBoxFromDetection(det), spec, size);
}

/** Crop pixel (continuous coordinates) → photo pixel. */
export function cropToPhoto(crop: Crop, p: Vec2): Vec2 {
  return [p[0] * crop.scale + crop.offset[0], p[1] * crop.scale + crop.offset[1]];
}

/** Photo pixel → crop pixel (continuous coordinates). */
export function photoToCrop(crop: Crop, p: Vec2): Vec2 {
  return [(p[0] - crop.offset[0]) / crop.scale, (p[1] - crop.offset[1]) / crop.scale];
}

/** Linear interpolation of a calibration table at |roll| (degrees), clamped at its ends. */
function interpolateCalibration(calib: BoxCalibration, roll: number): { ratio: number; offX: number; offY: number } {
  const k = calib.knots;
  if (roll <= k[0][0]) return { ratio: k[0][1], offX: k[0][2], offY: k[0][3] };
  for (let i = 1; i < k.length; i++) {
    if (roll <= k[i][0]) {
      const t = (roll - k[i - 1][0]) / (k[i][0] - k[i - 1][0]);
      const mix = (j: number): number => k[i - 1][j] * (1 - t) + k[i][j] * t;
      return { ratio: mix(1), offX: mix(2), offY: mix(3) };
    }
  }
  const last = k[k.length - 1];
  return { ratio: last[1], offX: last[2], offY: last[3] };
}
