/**
 * Head pose from 68 3D landmarks: a similarity fit (Horn's quaternion method) of the mean face
 * (`LANDMARK_TEMPLATE_CM`) onto the landmarks, then yaw/pitch/roll of the rotation.
 *
 * ```ts
 * const { pose, rotation, scale } = estimatePose(face.landmarks68); // photo frame landmarks
 * pose.yaw; // degrees, + = the face turns toward the photo's right (the subject's left)
 * ```
 *
 * Convention (the same as the training renderer, training/ict.py): R = Rz(roll) · Rx(pitch) · Ry(yaw) maps the
 * frontal face (x right, y up, z toward the camera) to the photo's orientation. Positive yaw turns the face
 * toward the photo's right, positive pitch tilts it down (chin toward the chest), positive roll turns it
 * counter-clockwise as seen in the photo.
 */
import type { Pose, Vec3 } from '../types.ts';
import { LANDMARK_TEMPLATE_CM } from './template.ts';

export interface PoseFit {
  pose: Pose;
  /** Row-major 3×3 rotation, template (y up) → photo-aligned right-handed frame (x right, y up, z toward camera). */
  rotation: number[];
  /** Photo pixels per centimetre of the mean face. */
  scale: number;
  /** RMS residual of the fit in photo pixels. */
  rms: number;
}

const RAD = 180 / Math.PI;

/** Fits the mean face to photo-frame landmarks (x right, y down, z toward the camera). */
export function estimatePose(landmarks: readonly Vec3[]): PoseFit {
  const n = Math.min(landmarks.length, LANDMARK_TEMPLATE_CM.length);
  if (n < 3) throw new Error('estimatePose needs at least 3 landmarks');
  // target in a right-handed y-up frame
  const q = landmarks.slice(0, n).map(([x, y, z]): Vec3 => [x, -y, z]);
  const { rotation, scale, rms } = fitSimilarity(LANDMARK_TEMPLATE_CM.slice(0, n), q);
  return { pose: anglesFromRotation(rotation), rotation, scale, rms };
}

/** A similarity q ≈ scale · R · p + translation (least squares). */
export interface Similarity {
  /** Row-major 3×3 rotation. */
  rotation: number[];
  scale: number;
  translation: Vec3;
  /** RMS residual. */
  rms: number;
}

/**
 * The least-squares similarity from points `p` onto points `q` (Horn's quaternion method), optionally weighted.
 *
 * ```ts
 * const { rotation, scale, translation } = fitSimilarity(modelPoints, targetPoints);
 * ```
 */
export function fitSimilarity(
  p: readonly (readonly number[])[],
  q: readonly (readonly number[])[],
  weights?: ArrayLike<number>,
): Similarity {
  const n = Math.min(p.length, q.length);
  if (n < 3) throw new Error('fitSimilarity needs at least 3 point pairs');
  const wt = (i: number) => (weights ? weights[i] : 1);
  let W = 0;
  const cp = [0, 0, 0], cq = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const w = wt(i);
    W += w;
    for (let k = 0; k < 3; k++) {
      cp[k] += w * p[i][k];
      cq[k] += w * q[i][k];
    }
  }
  for (let k = 0; k < 3; k++) {
    cp[k] /= W;
    cq[k] /= W;
  }
  // cross-covariance S = sum w p_i q_i^T (p → q)
  const S = new Array(9).fill(0);
  let pp = 0;
  for (let i = 0; i < n; i++) {
    const w = wt(i);
    const a0 = p[i][0] - cp[0], a1 = p[i][1] - cp[1], a2 = p[i][2] - cp[2];
    const b0 = q[i][0] - cq[0], b1 = q[i][1] - cq[1], b2 = q[i][2] - cq[2];
    const a = [a0, a1, a2], b = [b0, b1, b2];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) S[r * 3 + c] += w * a[r] * b[c];
    pp += w * (a0 * a0 + a1 * a1 + a2 * a2);
  }
  const [Sxx, Sxy, Sxz, Syx, Syy, Syz, Szx, Szy, Szz] = S;
  const N = [
    [Sxx + Syy + Szz, Syz - Szy, Szx - Sxz, Sxy - Syx],
    [Syz - Szy, Sxx - Syy - Szz, Sxy + Syx, Szx + Sxz],
    [Szx - Sxz, Sxy + Syx, -Sxx + Syy - Szz, Syz + Szy],
    [Sxy - Syx, Szx + Sxz, Syz + Szy, -Sxx - Syy + Szz],
  ];
  const { values, vectors } = jacobiEigen4(N);
  let best = 0;
  for (let i = 1; i < 4; i++) if (values[i] > values[best]) best = i;
  const [w, x, y, z] = vectors.map((row) => row[best]);
  const R = [
    w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z,
  ];
  // scale: sum w b·(R a) / sum w |a|^2
  let num = 0;
  for (let i = 0; i < n; i++) {
    const a0 = p[i][0] - cp[0], a1 = p[i][1] - cp[1], a2 = p[i][2] - cp[2];
    for (let r = 0; r < 3; r++) num += wt(i) * (R[r * 3] * a0 + R[r * 3 + 1] * a1 + R[r * 3 + 2] * a2) * (q[i][r] - cq[r]);
  }
  const scale = num / Math.max(pp, 1e-12);
  const translation: Vec3 = [0, 1, 2].map((r) => cq[r] - scale * (R[r * 3] * cp[0] + R[r * 3 + 1] * cp[1] + R[r * 3 + 2] * cp[2])) as Vec3;
  let err = 0;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) {
      const v = scale * (R[r * 3] * p[i][0] + R[r * 3 + 1] * p[i][1] + R[r * 3 + 2] * p[i][2]) + translation[r] - q[i][r];
      err += wt(i) * v * v;
    }
  }
  return { rotation: R, scale, translation, rms: Math.sqrt(err / W) };
}

/** Yaw, pitch, roll (degrees) of R = Rz(roll)·Rx(pitch)·Ry(yaw). */
export function anglesFromRotation(R: readonly number[]): Pose {
  const pitch = Math.asin(Math.max(-1, Math.min(1, R[7])));
  const yaw = Math.atan2(-R[6], R[8]);
  const roll = Math.atan2(-R[1], R[4]);
  return { yaw: yaw * RAD, pitch: pitch * RAD, roll: roll * RAD };
}

/** R = Rz(roll)·Rx(pitch)·Ry(yaw), row-major, from degrees. */
export function rotationFromAngles({ yaw, pitch, roll }: Pose): number[] {
  const [cy, sy] = [Math.cos(yaw / RAD), Math.sin(yaw / RAD)];
  const [cp, sp] = [Math.cos(pitch / RAD), Math.sin(pitch / RAD)];
  const [cr, sr] = [Math.cos(roll / RAD), Math.sin(roll / RAD)];
  const Ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const Rx = [1, 0, 0, 0, cp, -sp, 0, sp, cp];
  const Rz = [cr, -sr, 0, sr, cr, 0, 0, 0, 1];
  return mul3(Rz, mul3(Rx, Ry));
}

export function mul3(a: readonly number[], b: readonly number[]): number[] {
  const o = new Array(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) o[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return o;
}

/** Eigen-decomposition of a symmetric 4×4 matrix by cyclic Jacobi rotations. vectors[r][k] = component r of vector k. */
function jacobiEigen4(M: number[][]): { values: number[]; vectors: number[][] } {
  const a = M.map((r) => r.slice());
  const v: number[][] = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j): number => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) off += a[i][j] * a[i][j];
    if (off < 1e-22) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: [a[0][0], a[1][1], a[2][2], a[3][3]], vectors: v };
}
