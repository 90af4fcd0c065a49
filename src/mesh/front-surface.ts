import { VoxfaceError } from '../types.ts';
import type { Mesh } from '../types.ts';
import { submesh } from './adjacency.ts';
import { largestComponent } from './components.ts';

/** Options of `frontSurface`. */
export interface FrontSurfaceOptions {
  /** Crop px per voxel of the source volume: the z-buffer's cell size. Default: mean edge length. */
  voxelSize?: number;
  /** Keep only triangles whose unit normal z exceeds this (default 0: camera-facing ones). */
  minNormalZ?: number;
  /** How far (in cells) a vertex may lie below the z-buffer's neighbouring samples (default 1). */
  tolerance?: number;
  /** Crop-frame z of the back of the volume (e.g. −depth·voxelSize/2). Absent: no back test. */
  backZ?: number;
  /** Triangles with every vertex within this many crop px of `backZ` are dropped (default 1 cell). */
  backMargin?: number;
  /** Keep only the largest connected piece of the result (default true). */
  largestComponent?: boolean;
}

/**
 * Keeps the surface the camera sees from a mesh of a camera-facing, back-filled volume (the
 * network's output): drops the side walls and any back plate that the back-fill creates.
 *
 * How: the mesh is rasterised into an orthographic z-buffer along z (one cell per voxel). A vertex
 * is visible when it is not below the lowest of the four z-buffer samples around it by more than
 * `tolerance` cells: the front surface passes (steep cheeks included: their vertices lie between
 * their neighbouring samples), while walls and back plates lie far below the rim that covers them.
 * A triangle is kept when its three vertices are visible, it faces the camera
 * (normal z > `minNormalZ`) and it is not on the back plane. Steps inside the face (the side of a
 * nose seen from the side) stay, so the result has no holes.
 *
 * @example
 * const mesh = marchingCubes(volume);
 * const face = frontSurface(mesh, { voxelSize: volume.voxelSize, backZ: -volume.depth * volume.voxelSize / 2 });
 */
export function frontSurface(mesh: Mesh, options: FrontSurfaceOptions = {}): Mesh {
  const p = mesh.positions, t = mesh.indices;
  const nT = t.length / 3, nV = p.length / 3;
  if (nT === 0) return mesh;
  const minNz = options.minNormalZ ?? 0;
  const tol = options.tolerance ?? 1;
  let h = options.voxelSize ?? meanEdge(mesh);
  if (!(h > 0) || !Number.isFinite(h)) {
    if (options.voxelSize !== undefined) throw new VoxfaceError('BAD_ARGUMENT', `frontSurface: voxelSize must be > 0, got ${String(h)}`);
    h = 1;
  }

  // z-buffer over the mesh's xy bounding box, samples at x0 + i·h, y0 + j·h.
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < p.length; i += 3) {
    if (p[i] < x0) x0 = p[i];
    if (p[i] > x1) x1 = p[i];
    if (p[i + 1] < y0) y0 = p[i + 1];
    if (p[i + 1] > y1) y1 = p[i + 1];
  }
  x0 -= h; y0 -= h;
  const gw = Math.ceil((x1 - x0) / h) + 2, gh = Math.ceil((y1 - y0) / h) + 2;
  if (!(gw * gh <= 1e8)) throw new VoxfaceError('BAD_ARGUMENT', 'frontSurface: mesh too large for its voxelSize');
  const zbuf = new Float32Array(gw * gh).fill(-Infinity);
  const nz = new Float32Array(nT);
  for (let f = 0; f < nT; f++) {
    const a = t[3 * f] * 3, b = t[3 * f + 1] * 3, c = t[3 * f + 2] * 3;
    const ax = (p[a] - x0) / h, ay = (p[a + 1] - y0) / h, az = p[a + 2];
    const bx = (p[b] - x0) / h, by = (p[b + 1] - y0) / h, bz = p[b + 2];
    const cx = (p[c] - x0) / h, cy = (p[c + 1] - y0) / h, cz = p[c + 2];
    // unit normal z
    const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = bz - az;
    const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = cz - az;
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nzz = ux * vy - uy * vx;
    const len = Math.hypot(nx, ny, nzz);
    nz[f] = len > 0 ? nzz / len : 0;
    // rasterise (inclusive edges, either winding)
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (Math.abs(area) < 1e-12) continue;
    const i0 = Math.max(0, Math.ceil(Math.min(ax, bx, cx) - 1e-6)), i1 = Math.min(gw - 1, Math.floor(Math.max(ax, bx, cx) + 1e-6));
    const j0 = Math.max(0, Math.ceil(Math.min(ay, by, cy) - 1e-6)), j1 = Math.min(gh - 1, Math.floor(Math.max(ay, by, cy) + 1e-6));
    const eps = -1e-6 * Math.abs(area);
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const w0 = ((bx - i) * (cy - j) - (by - j) * (cx - i)) / area;
        const w1 = ((cx - i) * (ay - j) - (cy - j) * (ax - i)) / area;
        const w2 = 1 - w0 - w1;
        if (w0 * Math.abs(area) < eps || w1 * Math.abs(area) < eps || w2 * Math.abs(area) < eps) continue;
        const z = w0 * az + w1 * bz + w2 * cz;
        const k = j * gw + i;
        if (z > zbuf[k]) zbuf[k] = z;
      }
    }
  }

  // Visible vertices: not below the lowest surrounding z-buffer sample by more than tol cells.
  const visible = new Uint8Array(nV);
  for (let v = 0; v < nV; v++) {
    const fx = (p[3 * v] - x0) / h, fy = (p[3 * v + 1] - y0) / h;
    const i = Math.min(gw - 2, Math.max(0, Math.floor(fx))), j = Math.min(gh - 2, Math.max(0, Math.floor(fy)));
    let zmin = Infinity;
    for (let k = 0; k < 4; k++) {
      const z = zbuf[(j + (k >> 1)) * gw + i + (k & 1)];
      if (z !== -Infinity && z < zmin) zmin = z;
    }
    visible[v] = zmin === Infinity || p[3 * v + 2] >= zmin - tol * h ? 1 : 0;
  }

  const backZ = options.backZ;
  const margin = options.backMargin ?? h;
  const keep = new Uint8Array(nT);
  for (let f = 0; f < nT; f++) {
    const a = t[3 * f], b = t[3 * f + 1], c = t[3 * f + 2];
    if (!(nz[f] > minNz) || !visible[a] || !visible[b] || !visible[c]) continue;
    if (backZ !== undefined && Math.max(p[3 * a + 2], p[3 * b + 2], p[3 * c + 2]) <= backZ + margin) continue;
    keep[f] = 1;
  }
  const out = submesh(mesh, keep);
  return options.largestComponent === false ? out : largestComponent(out);
}

/** Mean edge length of a mesh (0 for no triangles). */
function meanEdge(mesh: Mesh): number {
  const p = mesh.positions, t = mesh.indices;
  let s = 0;
  for (let i = 0; i < t.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const a = t[i + k] * 3, b = t[i + ((k + 1) % 3)] * 3;
      s += Math.hypot(p[a] - p[b], p[a + 1] - p[b + 1], p[a + 2] - p[b + 2]);
    }
  }
  return t.length > 0 ? s / t.length : 0;
}
