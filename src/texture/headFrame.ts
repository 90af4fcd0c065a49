/**
 * The head frame used by the texture unwrap: a centre on the head's vertical axis and three
 * orthonormal axes in the photo frame. For a frontal, upright face the axes equal the photo axes.
 *   - `right` (ex): toward the photo's right for a frontal face (the subject's left),
 *   - `down`  (ey): the head's vertical axis, chin-ward,
 *   - `forward` (ez = ex × ey): where the nose points, toward the camera for a frontal face.
 * The mid-sagittal plane (the plane of bilateral symmetry) is the plane through `centre` with normal `right`.
 */
import type { Pose, Vec3 } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { rotationFromAngles } from '../landmarks/pose.ts';

export interface HeadFrame {
  centre: Vec3;
  right: Vec3;
  down: Vec3;
  forward: Vec3;
}

export interface HeadFrameHints {
  /** Head pose in degrees (convention in `axesFromPose`). */
  pose?: Pose;
  /** 68 landmarks (iBUG order) in the photo frame; preferred over `pose` when given. */
  landmarks?: Vec3[];
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const add = (a: Vec3, b: Vec3, s = 1): Vec3 => [a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const normalize = (a: Vec3): Vec3 => {
  const l = Math.hypot(a[0], a[1], a[2]);
  return l > 0 ? [a[0] / l, a[1] / l, a[2] / l] : [0, 0, 0];
};

/**
 * Head axes in the photo frame from a pose in degrees, with the project's convention
 * (src/landmarks/pose.ts: R = Rz(roll) · Rx(pitch) · Ry(yaw) maps the frontal face, in a y-up frame,
 * to the photo): yaw > 0 turns the nose toward the photo's right, pitch > 0 tilts the chin down,
 * roll > 0 turns the face counter-clockwise as seen in the photo.
 *
 * @example
 * const { right, down, forward } = axesFromPose({ yaw: 30, pitch: 0, roll: 0 }); // forward.x > 0
 */
export function axesFromPose(pose: Pose): Pick<HeadFrame, 'right' | 'down' | 'forward'> {
  const R = rotationFromAngles(pose); // row-major, y-up frame; column k = image of axis k
  // Back to the photo frame (y down): negate y; the head's down axis is minus its up axis.
  return {
    right: [R[0], -R[3], R[6]],
    down: [-R[1], R[4], -R[7]],
    forward: [R[2], -R[5], R[8]],
  };
}

// iBUG-68 landmark pairs (photo-left index, photo-right index) for a frontal face, and midline points.
const PAIRS: [number, number][] = [
  [0, 16], [1, 15], [2, 14], [3, 13], [17, 26], [18, 25], [19, 24], [20, 23], [21, 22],
  [36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46], [31, 35], [32, 34], [48, 54], [49, 53], [50, 52],
];
const MIDLINE = [8, 27, 28, 29, 30, 33, 51, 57, 62, 66];

/**
 * Head frame from 68 landmarks: `right` is the mean of the left→right vectors of symmetric landmark
 * pairs, `down` the nasion→chin direction made orthogonal to it, the centre lies on the mid-sagittal
 * plane through the midline landmarks, level with the jaw's ends (near the ears).
 *
 * @example
 * const frame = headFrameFromLandmarks(face.landmarks68);
 */
export function headFrameFromLandmarks(landmarks: Vec3[]): HeadFrame {
  if (landmarks.length !== 68) {
    throw new VoxfaceError('BAD_ARGUMENT', `expected 68 landmarks, got ${landmarks.length}`);
  }
  let r: Vec3 = [0, 0, 0];
  for (const [a, b] of PAIRS) r = add(r, sub(landmarks[b], landmarks[a]));
  const right = normalize(r);
  const chin = sub(landmarks[8], landmarks[27]);
  const down = normalize(add(chin, right, -dot(chin, right)));
  const forward = cross(right, down);
  if (dot(right, right) === 0 || dot(down, down) === 0) {
    throw new VoxfaceError('BAD_ARGUMENT', 'landmarks are degenerate (all at one point)');
  }
  const ears: Vec3 = [0, 1, 2].map((k) => (landmarks[0][k] + landmarks[16][k]) / 2) as Vec3;
  const mid = MIDLINE.reduce((s, i) => s + dot(landmarks[i], right), 0) / MIDLINE.length;
  const centre = add(ears, right, mid - dot(ears, right));
  return { centre, right, down, forward };
}

/**
 * Head frame for a photo-frame face mesh: from the landmarks when given (best), else from the pose's
 * axes, else with an upright head and a yaw estimated from the mesh. Without landmarks the nose tip is
 * the most forward 0.5% of the vertices, the mid-sagittal plane passes through it, and the vertical
 * axis lies `NOSE_TO_AXIS` face widths behind it (tragus to nose tip is ≈ 0.7 face widths). The yaw
 * estimate places the nose relative to the middle of the mesh's x extent, sin(yaw) = Δx / that
 * distance: a rough fallback (good to ≈ 10° for yaw within ±30°), meant for meshes without landmarks.
 *
 * @example
 * const frame = estimateHeadFrame(mesh.positions, { landmarks: face.landmarks68 });
 */
export function estimateHeadFrame(positions: Float32Array, hints: HeadFrameHints = {}): HeadFrame {
  if (hints.landmarks) return headFrameFromLandmarks(hints.landmarks);
  if (positions.length < 9) throw new VoxfaceError('BAD_ARGUMENT', 'mesh has fewer than 3 vertices');
  let pose = hints.pose;
  if (!pose) {
    const frontal = noseAndWidth(positions, axesFromPose({ yaw: 0, pitch: 0, roll: 0 }));
    const sinYaw = (frontal.nose[0] - frontal.mid) / (NOSE_TO_AXIS * frontal.width);
    pose = { yaw: Math.asin(Math.min(Math.max(sinYaw, -0.9), 0.9)) * (180 / Math.PI), pitch: 0, roll: 0 };
  }
  const { right, down, forward } = axesFromPose(pose);
  const { nose, width, height } = noseAndWidth(positions, { right, down, forward });
  // centre = (nose a) * right + (nose b − distance to the axis) * forward + (mean height) * down
  const centre = add(add(scale(right, nose[0]), forward, nose[1] - NOSE_TO_AXIS * width), down, height);
  return { centre, right, down, forward };
}

/** Distance from the nose tip to the head's vertical axis, in face widths. */
const NOSE_TO_AXIS = 0.7;

const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];

/**
 * In head axes: the nose tip (a, b) = mean (right, forward) coordinates of the most forward 0.5% of
 * the vertices, the extent's middle and width along `right`, and the mean height along `down`.
 */
function noseAndWidth(
  positions: Float32Array,
  axes: Pick<HeadFrame, 'right' | 'down' | 'forward'>,
): { nose: [number, number]; mid: number; width: number; height: number } {
  const n = positions.length / 3;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  let height = 0;
  let aMin = Infinity;
  let aMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const p: Vec3 = [positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]];
    a[i] = dot(p, axes.right);
    b[i] = dot(p, axes.forward);
    height += dot(p, axes.down) / n;
    aMin = Math.min(aMin, a[i]);
    aMax = Math.max(aMax, a[i]);
  }
  const order = Array.from(b.keys()).sort((i, j) => b[j] - b[i]);
  const top = order.slice(0, Math.max(1, Math.round(n * 0.005)));
  const nose: [number, number] = [
    top.reduce((s, i) => s + a[i], 0) / top.length,
    top.reduce((s, i) => s + b[i], 0) / top.length,
  ];
  return { nose, mid: (aMin + aMax) / 2, width: Math.max(aMax - aMin, 1e-6), height };
}
