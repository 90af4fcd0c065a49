/**
 * MediaPipe Face Mesh (468 landmarks, 192×192 input, RGB in [0,1]) run on a rotated square region
 * around a detected face: our own region-of-interest logic.
 *
 * The region is a square of side `1.5 × face size` centred on the face, rotated by the face's roll so
 * the eyes are level (as MediaPipe does); a second pass re-centres it on the first pass's landmarks.
 */
import type { Vec2, Vec3 } from '../types.ts';
import { sampleAffine, type Affine, type ImageLevels } from '../align/sample.ts';
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
