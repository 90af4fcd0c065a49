/**
 * Depth of a reconstructed surface at ground-truth landmark positions, the way AFLW2000-3D-style
 * evaluations check shape rather than only landmarks: cast a ray along z through each ground-truth (x, y),
 * take the front-most hit on the mesh (largest z: z points toward the camera), and compare the hit depths with
 * the ground-truth z after centring both on the points that were hit.
 *
 * ```ts
 * const z = surfaceDepthAt(face.mesh, gt.map(([x, y]) => [x, y]));   // NaN where the ray misses
 * const d = surfaceDepthError(face.mesh, gt, INTERIOR_68);             // { error, flat, hit }
 * ```
 */
import type { Mesh, Vec2, Vec3 } from '../types.ts';
import { boxNormaliser } from './nme.ts';

/** All 68 landmarks. */
export const ALL_68: readonly number[] = Array.from({ length: 68 }, (_, i) => i);
/** The interior landmarks 17–67 (brows, nose, eyes, mouth): the jaw line 0–16 is a silhouette, often hidden. */
export const INTERIOR_68: readonly number[] = Array.from({ length: 51 }, (_, i) => i + 17);

/**
 * z of the front-most mesh surface under each (x, y) (a ray along z, barycentric interpolation inside the
 * triangle hit; a point on a shared edge takes either triangle). NaN where no triangle covers the point.
 * The mesh is in the same frame as the points (photo frame: x right, y down, z toward the camera).
 *
 * ```ts
 * surfaceDepthAt(face.mesh, [[120, 200]]); // Float64Array [ z ]
 * ```
 */
export function surfaceDepthAt(mesh: Pick<Mesh, 'positions' | 'indices'>, points: readonly Vec2[]): Float64Array {
  const { positions: P, indices: I } = mesh;
  const out = new Float64Array(points.length).fill(-Infinity);
  for (let t = 0; t + 2 < I.length; t += 3) {
    const a = I[t] * 3;
    const b = I[t + 1] * 3;
    const c = I[t + 2] * 3;
    const ax = P[a], ay = P[a + 1], az = P[a + 2];
    const bx = P[b], by = P[b + 1], bz = P[b + 2];
    const cx = P[c], cy = P[c + 1], cz = P[c + 2];
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (area === 0 || !Number.isFinite(area)) continue; // degenerate or seen edge-on
    const x0 = Math.min(ax, bx, cx), x1 = Math.max(ax, bx, cx);
    const y0 = Math.min(ay, by, cy), y1 = Math.max(ay, by, cy);
    const eps = 1e-9 * Math.abs(area);
    for (let k = 0; k < points.length; k++) {
      const [px, py] = points[k];
      if (px < x0 || px > x1 || py < y0 || py > y1) continue;
      // barycentric weights from signed sub-areas (same sign as the whole for inside points)
      const wa = ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area;
      const wb = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) / area;
      const wc = 1 - wa - wb;
      if (wa * Math.abs(area) < -eps || wb * Math.abs(area) < -eps || wc * Math.abs(area) < -eps) continue;
      const z = wa * az + wb * bz + wc * cz;
      if (z > out[k]) out[k] = z;
    }
  }
  for (let k = 0; k < out.length; k++) if (out[k] === -Infinity) out[k] = NaN;
  return out;
}

export interface SurfaceDepthError {
  /**
   * Mean |(z_surface − mean) − (z_gt − mean)| over the landmarks hit, each set centred on its mean over those
   * points, ÷ √(w·h) of the ground truth's 2D landmark box. NaN when fewer than 3 landmarks are hit.
   */
  error: number;
  /** The same number for a flat face (constant z) over the same points: the floor any shape must beat. */
  flat: number;
  /** Fraction of the requested landmarks whose ray hit the mesh. */
  hit: number;
}

/**
 * Surface depth error of a mesh at the ground-truth landmarks `which` (indices into `gt`, e.g. `INTERIOR_68`).
 * The normaliser is always the box of all of `gt`, as for NME.
 *
 * ```ts
 * const { error, flat, hit } = surfaceDepthError(face.mesh, gt.landmarks3d, ALL_68);
 * ```
 */
export function surfaceDepthError(
  mesh: Pick<Mesh, 'positions' | 'indices'>,
  gt: readonly Vec3[],
  which: readonly number[] = ALL_68,
): SurfaceDepthError {
  const norm = boxNormaliser(gt);
  const pts = which.map((i) => gt[i]);
  const zs = surfaceDepthAt(mesh, pts.map(([x, y]): Vec2 => [x, y]));
  const hitIdx: number[] = [];
  zs.forEach((z, k) => {
    if (Number.isFinite(z)) hitIdx.push(k);
  });
  const hit = pts.length > 0 ? hitIdx.length / pts.length : 0;
  if (hitIdx.length < 3) return { error: NaN, flat: NaN, hit };
  let ms = 0;
  let mg = 0;
  for (const k of hitIdx) {
    ms += zs[k] / hitIdx.length;
    mg += pts[k][2] / hitIdx.length;
  }
  let err = 0;
  let flat = 0;
  for (const k of hitIdx) {
    err += Math.abs(zs[k] - ms - (pts[k][2] - mg));
    flat += Math.abs(pts[k][2] - mg);
  }
  return { error: err / hitIdx.length / norm, flat: flat / hitIdx.length / norm, hit };
}
