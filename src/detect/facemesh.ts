/**
 * MediaPipe Face Mesh (468 landmarks, 192×192 input, RGB in [0,1]) run on a rotated square region
 * around a detected face: our own region-of-interest logic.
 *
 * The region is a square of side `1.5 × face size` centred on the face, rotated by the face's roll so
 * the eyes are level (as MediaPipe does); a second pass re-centres it on the first pass's landmarks. A face whose one
 * pass in the region that re-centring takes on average is already settled (`isSettled`) needs no second.
 */
import type { Box, Vec2, Vec3 } from '../types.ts';
import { sampleAffine, type Affine, type ImageLevels } from '../align/sample.ts';
import { estimatePose } from '../landmarks/pose.ts';
import { MESH_TO_IBUG68 } from './mesh68.ts';
import type { DetectorNet, DetectorNetLoader } from './models.ts';

/** A square, rotated region of the photo: centre, side and roll (degrees, clockwise, y down). */
export interface Roi {
  cx: number;
  cy: number;
  size: number;
  roll: number;
}

/** Face Mesh output in photo pixels. */
export interface MeshResult {
  /** 468 points: x, y in photo pixels, z in photo pixels (relative depth, toward the camera negative as in MediaPipe). */
  points: Vec3[];
  /** Face presence probability 0..1. */
  score: number;
  /** The region the mesh was computed in. */
  roi: Roi;
}

const INPUT = 192;
/** MediaPipe's eye corner vertices used to measure roll: subject's right outer (33), left outer (263). */
const RIGHT_EYE_OUTER = 33;
const LEFT_EYE_OUTER = 263;

/** The affine map from Face Mesh input pixels to photo pixels for a region. */
export function roiAffine(roi: Roi, inputSize = INPUT): Affine {
  const s = roi.size / inputSize;
  const t = (roi.roll * Math.PI) / 180;
  const cos = Math.cos(t) * s, sin = Math.sin(t) * s;
  const h = inputSize / 2;
  // photo = R(roll)·s·(u − h) + centre
  return { a: cos, b: -sin, c: roi.cx - cos * h + sin * h, d: sin, e: cos, f: roi.cy - sin * h - cos * h };
}

/**
 * The region MediaPipe would track next from a set of mesh points: roll from the outer eye corners,
 * the points' extent measured along the rolled axes, times `scale`.
 */
export function roiFromMesh(points: readonly (Vec2 | Vec3)[], scale = 1.5): Roi {
  const r = points[RIGHT_EYE_OUTER], l = points[LEFT_EYE_OUTER];
  const roll = (Math.atan2(l[1] - r[1], l[0] - r[0]) * 180) / Math.PI;
  const t = (roll * Math.PI) / 180;
  const c = Math.cos(t), s = Math.sin(t);
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (const p of points) {
    const u = c * p[0] + s * p[1], v = -s * p[0] + c * p[1];
    u0 = Math.min(u0, u);
    u1 = Math.max(u1, u);
    v0 = Math.min(v0, v);
    v1 = Math.max(v1, v);
  }
  const uc = (u0 + u1) / 2, vc = (v0 + v1) / 2;
  return { cx: c * uc - s * vc, cy: s * uc + c * vc, size: Math.max(u1 - u0, v1 - v0) * scale, roll };
}

/** The region Face Mesh first runs in for a detection's landmark box (x, y, w, h) at `roll` degrees: 1.5 × its side, centred. */
export function roiFromLandmarkBox(box: Box, roll: number): Roi {
  return { cx: box[0] + box[2] / 2, cy: box[1] + box[3] / 2, size: box[2] * 1.5, roll };
}

/**
 * Where the re-centring pass would go, on average, for a landmark box: a square of `size` × the box's side, its centre
 * moved `up` × that side toward the top of the (rolled) face. Measured on AFLW2000-3D fit/ (492 faces Face Mesh
 * scored ≥ 0.8): the region the second pass derives from the first pass's points was 1.09 × the first region
 * (`roiFromLandmarkBox`) and 0.04 of that region's side higher (per face: ± 0.05 in log size, ± 0.02–0.025 in
 * position, ± 3° of roll).
 */
export const SETTLED_ROI = { size: 1.5 * 1.09, up: 0.04 * 1.5 * 1.09 } as const;

/** `SETTLED_ROI` for a landmark box at `roll` degrees (clockwise, y down). */
export function settledRoiFromLandmarkBox(box: Box, roll: number): Roi {
  const t = (roll * Math.PI) / 180;
  const up = SETTLED_ROI.up * box[2];
  // "up" in the face's rolled frame is −y turned by the roll: (sin t, −cos t)
  return { cx: box[0] + box[2] / 2 + Math.sin(t) * up, cy: box[1] + box[3] / 2 - Math.cos(t) * up, size: SETTLED_ROI.size * box[2], roll };
}

/**
 * When one Face Mesh pass in `settledRoiFromLandmarkBox`'s region is the answer: it is sure of the face (`minScore`),
 * sees it from the front (|yaw| of its 68 points under `maxYaw`°), and the region its points give differs little from
 * the one it ran in (centre within `maxShift` × the side, side within a factor e^±`maxLogSize`, roll within
 * `maxRoll`°). Chosen on AFLW2000-3D fit/ (models/README.md, "One Face Mesh pass for a settled face").
 */
export const SETTLED = { minScore: 0.99, maxYaw: 30, maxShift: 0.09, maxLogSize: 0.15, maxRoll: 12 } as const;

/**
 * How far a BlazeFace detection's nose tip sits from the middle of its eyes, along the line between them, in eye
 * distances (its 6 keypoints: right eye, left eye, nose tip, …): about 0 for a face seen from the front, growing as it
 * turns; undefined without BlazeFace's keypoints.
 *
 * ```ts
 * noseOffset([[40, 50], [60, 50], [50, 60], [50, 70], [30, 52], [70, 52]]);   // 0
 * ```
 */
export function noseOffset(keypoints: readonly Vec2[] | undefined): number | undefined {
  if (!keypoints || keypoints.length < 3) return undefined;
  const [er, el, nose] = keypoints;
  const ex = el[0] - er[0], ey = el[1] - er[1];
  const len2 = ex * ex + ey * ey;
  if (!(len2 > 0)) return undefined;
  return ((nose[0] - (er[0] + el[0]) / 2) * ex + (nose[1] - (er[1] + el[1]) / 2) * ey) / len2;
}

/**
 * A detection whose keypoints put the nose further than this from the eyes' middle (`noseOffset`, eye distances) is
 * turned too far for one settled pass, so it goes straight to the two passes from its box. On AFLW2000-3D fit/ (558
 * candidates): 157 of them, of which 154 would not have settled (a Face Mesh run each saved) and 3 would (two passes
 * instead of one, as before session 13); at 0.4, 187 saved and 12 settled ones lost; at 0.6, 125 and none.
 */
export const MAX_SETTLED_NOSE_OFFSET = 0.5;

/** Whether a pass is settled (`SETTLED`): the region its own points give is close to the one it ran in. */
export function isSettled(pass: MeshResult, rule: typeof SETTLED = SETTLED): boolean {
  const r = pass.roi;
  if (pass.score < rule.minScore) return false;
  const next = roiFromMesh(pass.points);
  if (Math.hypot(next.cx - r.cx, next.cy - r.cy) > rule.maxShift * r.size) return false;
  if (Math.abs(Math.log(next.size / r.size)) > rule.maxLogSize) return false;
  const droll = ((((next.roll - r.roll) % 360) + 540) % 360) - 180;
  if (Math.abs(droll) > rule.maxRoll) return false;
  // Face Mesh's z points away from the camera; the pose fit's toward it
  const yaw = estimatePose(MESH_TO_IBUG68.map((i): Vec3 => [pass.points[i][0], pass.points[i][1], -pass.points[i][2]])).pose.yaw;
  return Math.abs(yaw) < rule.maxYaw;
}

/**
 * Face Mesh landmark model.
 *
 *   const mesh = await FaceMesh.load(graphNets(fileModelLoader()));
 *   const res = await mesh.run(levels, { cx: 200, cy: 180, size: 300, roll: 0 });
 *   if (res.score > 0.5) use(res.points);
 */
export class FaceMesh {
  readonly name = 'facemesh';
  constructor(private readonly net: DetectorNet) {}

  /** Loads the 'facemesh' model through `nets`. */
  static async load(nets: DetectorNetLoader): Promise<FaceMesh> {
    return new FaceMesh(await nets('facemesh'));
  }

  /** One pass in the given region. */
  async run(levels: ImageLevels, roi: Roi): Promise<MeshResult> {
    const m = roiAffine(roi);
    const pixels = sampleAffine(levels, m, INPUT, INPUT, { outside: 0 });
    const out = await this.net(pixels, [1, INPUT, INPUT, 3]);
    let mesh: Float32Array | undefined, flag = 0;
    for (const t of out.values()) {
      if (t.data.length === 468 * 3) mesh = t.data;
      else if (t.data.length === 1) flag = t.data[0];
    }
    if (!mesh) throw new Error('facemesh: unexpected model output');
    const s = roi.size / INPUT;
    const points: Vec3[] = [];
    for (let i = 0; i < 468; i++) {
      const u = mesh[3 * i], v = mesh[3 * i + 1];
      points.push([m.a * u + m.b * v + m.c, m.d * u + m.e * v + m.f, mesh[3 * i + 2] * s]);
    }
    // The graph ends in a sigmoid: the flag already is a probability.
    const score = Math.min(1, Math.max(0, flag));
    return { points, score, roi };
  }

  /**
   * Runs on `roi`, then once more on the region derived from the first landmarks (which levels
   * the eyes and centres the face); returns the better-scoring pass. With `minFirst`, a first pass scoring below it
   * is the answer (no face there to re-centre on).
   */
  async refine(levels: ImageLevels, roi: Roi, passes = 2, minFirst = 0): Promise<MeshResult> {
    let best = await this.run(levels, roi);
    let cur = best;
    if (best.score < minFirst) return best;
    for (let i = 1; i < passes; i++) {
      cur = await this.run(levels, roiFromMesh(cur.points));
      if (cur.score >= best.score - 0.05) best = cur;
    }
    return best;
  }
}
