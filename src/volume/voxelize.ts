/**
 * Analytic shapes turned into soft (anti-aliased) occupancy volumes, for tests and benches.
 * All coordinates are crop pixels in the `Volume` frame: voxel (d, r, c) sits at
 * x = (c+0.5)v, y = (r+0.5)v, z = (d+0.5−depth/2)v, z toward the camera.
 */
import { VoxfaceError } from '../types.ts';
import type { Vec3, Volume } from '../types.ts';
import { checkDims } from './check.ts';
import type { VolumeDims } from './check.ts';

/** Signed distance (crop px) at a crop-frame point: negative inside, positive outside. */
export type SDF = (x: number, y: number, z: number) => number;

/** Options of the voxelizers. */
export interface VoxelizeOptions {
  /**
   * Width, in voxels, of the linear 1 → 0 occupancy ramp across the surface (default 2). With a
   * ramp ≥ 2 voxels and a true distance function, linear interpolation along grid edges places the
   * iso-0.5 crossing exactly for planar pieces of surface.
   */
  ramp?: number;
}

function rampOf(voxelSize: number, options: VoxelizeOptions, where: string): number {
  if (!(voxelSize > 0) || !Number.isFinite(voxelSize)) {
    throw new VoxfaceError('BAD_ARGUMENT', `${where}: voxelSize must be a positive number, got ${String(voxelSize)}`);
  }
  const ramp = options.ramp ?? 2;
  if (!(ramp > 0)) throw new VoxfaceError('BAD_ARGUMENT', `${where}: ramp must be > 0, got ${String(ramp)}`);
  return ramp * voxelSize;
}

/** Occupancy of a point at signed distance `s` for a ramp of width `ramp`: clamp(0.5 − s/ramp, 0, 1). */
function occupancy(s: number, ramp: number): number {
  const o = 0.5 - s / ramp;
  return o > 1 ? 1 : o > 0 ? o : 0;
}

/**
 * Samples a signed distance function at every voxel centre into a soft occupancy volume
 * (1 inside, 0 outside, a linear ramp of `ramp` voxels across the surface, 0.5 on it).
 *
 * @example
 * const vol = voxelizeSDF({ width: 48, height: 48, depth: 48 }, 1, sphereSDF([24, 24, 0], 15));
 */
export function voxelizeSDF(dims: VolumeDims, voxelSize: number, sdf: SDF, options: VoxelizeOptions = {}): Volume {
  checkDims(dims, 'voxelizeSDF');
  const ramp = rampOf(voxelSize, options, 'voxelizeSDF');
  const { width: W, height: H, depth: D } = dims;
  const data = new Float32Array(W * H * D);
  let i = 0;
  for (let d = 0; d < D; d++) {
    const z = (d + 0.5 - D / 2) * voxelSize;
    for (let r = 0; r < H; r++) {
      const y = (r + 0.5) * voxelSize;
      for (let c = 0; c < W; c++) data[i++] = occupancy(sdf((c + 0.5) * voxelSize, y, z), ramp);
    }
  }
  return { width: W, height: H, depth: D, voxelSize, data };
}

/**
 * Crop-frame point at the centre of a volume's box (x, y mid-crop, z = 0).
 *
 * @example const c = volumeCenter({ width: 64, height: 64, depth: 64 }, 2); // [64, 64, 0]
 */
export function volumeCenter(dims: VolumeDims, voxelSize: number): Vec3 {
  return [(dims.width * voxelSize) / 2, (dims.height * voxelSize) / 2, 0];
}

/**
 * Exact SDF of a sphere.
 *
 * @example const s = sphereSDF([32, 32, 0], 20); s(32, 32, 20); // 0
 */
export function sphereSDF(center: Vec3, radius: number): SDF {
  const [cx, cy, cz] = center;
  return (x, y, z) => Math.hypot(x - cx, y - cy, z - cz) - radius;
}

/**
 * SDF of an axis-aligned ellipsoid: exact zero set, first-order distance near the surface
 * (value / gradient length), which is all the soft voxelizer needs.
 *
 * @example const e = ellipsoidSDF([32, 32, 0], [20, 14, 10]);
 */
export function ellipsoidSDF(center: Vec3, radii: Vec3): SDF {
  const [cx, cy, cz] = center;
  const [a, b, c] = radii;
  return (x, y, z) => {
    const u = (x - cx) / a, v = (y - cy) / b, w = (z - cz) / c;
    const k0 = Math.hypot(u, v, w);
    const k1 = Math.hypot(u / a, v / b, w / c);
    return k1 > 0 ? (k0 * (k0 - 1)) / k1 : -Math.min(a, b, c);
  };
}

/**
 * Exact SDF of a torus around the z axis through `center`: ring radius `major`, tube radius `minor`.
 *
 * @example const t = torusSDF([32, 32, 0], 14, 5);
 */
export function torusSDF(center: Vec3, major: number, minor: number): SDF {
  const [cx, cy, cz] = center;
  return (x, y, z) => Math.hypot(Math.hypot(x - cx, y - cy) - major, z - cz) - minor;
}

/**
 * Exact SDF of an axis-aligned box with half extents `half`.
 *
 * @example const b = boxSDF([32, 32, 0], [10, 10, 10]);
 */
export function boxSDF(center: Vec3, half: Vec3): SDF {
  const [cx, cy, cz] = center;
  const [hx, hy, hz] = half;
  return (x, y, z) => {
    const qx = Math.abs(x - cx) - hx, qy = Math.abs(y - cy) - hy, qz = Math.abs(z - cz) - hz;
    const out = Math.hypot(Math.max(qx, 0), Math.max(qy, 0), Math.max(qz, 0));
    return out + Math.min(Math.max(qx, qy, qz), 0);
  };
}

/**
 * Union of shapes (minimum of their SDFs).
 *
 * @example const twoBlobs = unionSDF(sphereSDF([16, 32, 0], 8), sphereSDF([46, 32, 0], 12));
 */
export function unionSDF(...sdfs: SDF[]): SDF {
  return (x, y, z) => {
    let m = Infinity;
    for (const f of sdfs) m = Math.min(m, f(x, y, z));
    return m;
  };
}

/**
 * A surface seen by the camera, z = height(x, y) in crop px, over a 2D region of the crop.
 */
export interface HeightField {
  /** Crop-frame z of the surface above crop pixel (x, y); NaN for no surface there. */
  height(x: number, y: number): number;
  /** Signed 2D distance (crop px) to the region's outline, negative inside. Absent: the whole crop. */
  region?(x: number, y: number): number;
}

/**
 * Voxelizes a height field "back-filled" exactly like the network's training targets: occupancy 1
 * on and behind the surface (z ≤ height) down to the back of the volume, 0 in front of it and
 * outside the region; soft ramps across the surface (distance ≈ (z − h)/√(1+|∇h|²)) and across the
 * region's outline (side walls).
 *
 * @example
 * const dims = { width: 64, height: 64, depth: 64 };
 * const vol = voxelizeHeightField(dims, 2, faceLikeField(dims, 2));
 */
export function voxelizeHeightField(
  dims: VolumeDims,
  voxelSize: number,
  field: HeightField,
  options: VoxelizeOptions = {},
): Volume {
  checkDims(dims, 'voxelizeHeightField');
  const ramp = rampOf(voxelSize, options, 'voxelizeHeightField');
  const { width: W, height: H, depth: D } = dims;
  const S = W * H;
  const data = new Float32Array(S * D);
  const e = 0.25 * voxelSize;
  for (let r = 0; r < H; r++) {
    const y = (r + 0.5) * voxelSize;
    for (let c = 0; c < W; c++) {
      const x = (c + 0.5) * voxelSize;
      const h = field.height(x, y);
      if (Number.isNaN(h)) continue;
      const gx = (field.height(x + e, y) - field.height(x - e, y)) / (2 * e);
      const gy = (field.height(x, y + e) - field.height(x, y - e)) / (2 * e);
      const g = Math.sqrt(1 + (Number.isFinite(gx) ? gx * gx : 0) + (Number.isFinite(gy) ? gy * gy : 0));
      const wall = field.region ? occupancy(field.region(x, y), ramp) : 1;
      if (wall === 0) continue;
      for (let d = 0, i = r * W + c; d < D; d++, i += S) {
        const z = (d + 0.5 - D / 2) * voxelSize;
        const o = occupancy((z - h) / g, ramp);
        data[i] = o < wall ? o : wall;
      }
    }
  }
  return { width: W, height: H, depth: D, voxelSize, data };
}

/** Approximate signed distance to an axis-aligned ellipse (exact zero set). */
function ellipse2D(px: number, py: number, a: number, b: number): number {
  const k0 = Math.hypot(px / a, py / b);
  const k1 = Math.hypot(px / (a * a), py / (b * b));
  return k1 > 0 ? (k0 * (k0 - 1)) / k1 : -Math.min(a, b);
}

/**
 * A smooth, face-like height field centred in the crop of a volume: an ellipsoidal dome with a nose,
 * eye sockets, brow, lips and chin, over an elliptic face region (semi-axes 0.34 L × 0.44 L,
 * L = the crop's smaller side). z spans about 0 (rim) … +0.19 L (nose tip), inside any volume with
 * depth·voxelSize ≥ 0.4 L; the back-fill runs from there to the back of the volume.
 *
 * @example
 * const dims = { width: 192, height: 192, depth: 200 };
 * const face = faceLikeField(dims, 1);
 * const vol = voxelizeHeightField(dims, 1, face);
 */
export function faceLikeField(dims: VolumeDims, voxelSize: number): HeightField {
  checkDims(dims, 'faceLikeField');
  const L = Math.min(dims.width, dims.height) * voxelSize;
  const cx = (dims.width * voxelSize) / 2;
  const cy = (dims.height * voxelSize) / 2;
  const g = (a: number, b: number) => Math.exp(-(a * a + b * b));
  return {
    height(x, y) {
      const u = (x - cx) / L, w = (y - cy) / L;
      const dome = 1 - (u / 0.48) ** 2 - (w / 0.62) ** 2;
      let h = -0.12 + 0.22 * Math.sqrt(dome > 0 ? dome : 0);
      h += 0.08 * g(u / 0.05, (w - 0.02) / 0.09); // nose
      h -= 0.025 * (g((u - 0.13) / 0.07, (w + 0.09) / 0.045) + g((u + 0.13) / 0.07, (w + 0.09) / 0.045)); // eyes
      h += 0.015 * g(u / 0.22, (w + 0.16) / 0.04); // brow
      h += 0.015 * g(u / 0.09, (w - 0.17) / 0.03); // lips
      h += 0.02 * g(u / 0.08, (w - 0.3) / 0.05); // chin
      return h * L;
    },
    region(x, y) {
      return ellipse2D(x - cx, y - (cy + 0.02 * L), 0.34 * L, 0.44 * L);
    },
  };
}

/**
 * The face-like test volume: `faceLikeField` voxelized and back-filled like a network target.
 *
 * @example const vol = voxelizeFaceLike({ width: 192, height: 192, depth: 200 }, 1);
 */
export function voxelizeFaceLike(dims: VolumeDims, voxelSize: number, options: VoxelizeOptions = {}): Volume {
  return voxelizeHeightField(dims, voxelSize, faceLikeField(dims, voxelSize), options);
}
