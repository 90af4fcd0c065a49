import { TriangleSpans } from '../raster/triangle.ts';
import { VoxfaceError } from '../types.ts';
import type { Mesh, Volume } from '../types.ts';
import { submesh } from './adjacency.ts';
import { taubinSmooth } from './smooth.ts';

/** Options of `frontSurface`. */
export interface FrontSurfaceOptions {
  /** The source volume: supplies the defaults of `voxelSize` and `backZ`. */
  volume?: Pick<Volume, 'depth' | 'voxelSize'>;
  /** Crop px per voxel of the source volume: the z-buffer's cell size. Default: volume's, else mean edge length. */
  voxelSize?: number;
  /**
   * Keep only triangles whose unit normal z, on the smoothed copy, exceeds this (default 0.1: steeper
   * than ~84° is a wall). On the result's border, triangles whose own normal z ≤ 0 are peeled off too.
   */
  minNormalZ?: number;
  /** How far (in cells) a vertex may lie below the z-buffer's neighbouring samples (default 0.5). */
  tolerance?: number;
  /** Crop-frame z of the back of the volume. Default: −depth·voxelSize/2 of `volume`; none: no back test. */
  backZ?: number;
  /** Triangles with every vertex within this many crop px of `backZ` are dropped (default 1 cell). */
  backMargin?: number;
  /** Keep only the largest connected piece of the result (default true). */
  largestComponent?: boolean;
  /**
   * Taubin iterations applied to a private copy of the mesh before classifying (default 8), so that
   * noise on the walls (network output) cannot pass for camera-facing surface. 0: classify as is.
   */
  smoothing?: number;
}

/**
 * Keeps the surface the camera sees from a mesh of a camera-facing, back-filled volume (the
 * network's output): drops the side walls and any back plate that the back-fill creates.
 *
 * How (on a lightly smoothed copy, so wall noise cannot pass for surface): the camera-facing
 * triangles (normal z > `minNormalZ`) are rasterised into an orthographic z-buffer along z, one
 * cell per voxel. A vertex is visible when it is not below the lowest z-buffer sample around it by
 * more than `tolerance` cells: the front surface passes, steep cheeks included (their vertices lie
 * between their neighbouring samples), while walls and back plates lie below the rim that covers
 * them, or have no sample near them at all. A triangle is kept when its three vertices are visible
 * and it faces the camera, or when it is a step: camera-facing surface lies at its foot just beyond
 * it (the side of a nose seen from the side: kept, so the face has no slits; beyond an
 * outline wall there is nothing). Then, from the border inward, triangles whose own normal z ≤ 0
 * are peeled off (the top of the walls), the back plane is dropped and the largest piece kept.
 * The original triangles are returned, unsmoothed.
 *
 * @example
 * const mesh = marchingCubes(volume);
 * const face = frontSurface(mesh, { volume }); // = { voxelSize: v, backZ: −depth·v/2 }
 */
export function frontSurface(mesh: Mesh, options: FrontSurfaceOptions = {}): Mesh {
  const t = mesh.indices;
  const nT = t.length / 3, nV = mesh.positions.length / 3;
  if (nT === 0) return mesh;
  const iterations = options.smoothing ?? 8;
  // Classify on a smoothed copy (positions only), keep the original triangles.
  const p = iterations > 0 ? taubinSmooth(mesh, { iterations, boundary: 'free' }).positions : mesh.positions;
  const minNz = options.minNormalZ ?? 0.1;
  const tol = options.tolerance ?? 0.5;
  let h = options.voxelSize ?? options.volume?.voxelSize ?? meanEdge(mesh);
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
  const spans = new TriangleSpans();
  for (let f = 0; f < nT; f++) {
    const a = t[3 * f] * 3, b = t[3 * f + 1] * 3, c = t[3 * f + 2] * 3;
    const ax = (p[a] - x0) / h, ay = (p[a + 1] - y0) / h, az = p[a + 2];
    const bx = (p[b] - x0) / h, by = (p[b + 1] - y0) / h, bz = p[b + 2];
    const cx = (p[c] - x0) / h, cy = (p[c + 1] - y0) / h, cz = p[c + 2];
    // unit normal z
    const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = bz - az;
    const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = cz - az;
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nzz = ux * vy - uy * vx;
    const len = Math.sqrt(nx * nx + ny * ny + nzz * nzz);
    nz[f] = len > 0 ? nzz / len : 0;
    if (!(nz[f] > minNz)) continue; // walls and back plates do not occlude
    // rasterise at the grid points (i, j): the rasteriser samples pixel centres, so shift by half a cell
    const n = spans.set(ax + 0.5, ay + 0.5, bx + 0.5, by + 0.5, cx + 0.5, cy + 0.5, gw, gh);
    const { rows, b0, b1 } = spans;
    for (let r = 0; r < n; r++) {
      const row = rows[5 * r] * gw;
      const ra0 = rows[5 * r + 3], ra1 = rows[5 * r + 4];
      for (let i = rows[5 * r + 1], i1 = rows[5 * r + 2]; i <= i1; i++) {
        const w0 = ra0 + b0 * i;
        const w1 = ra1 + b1 * i;
        const z = w0 * az + w1 * bz + (1 - w0 - w1) * cz;
        const k = row + i;
        if (z > zbuf[k]) zbuf[k] = z;
      }
    }
  }

  // Visible vertices: not below the lowest z-buffer sample around them (the 2×2 cell, else the
  // 4×4 block) by more than tol cells; a vertex with no sample that close is a wall's.
  const visible = new Uint8Array(nV);
  for (let v = 0; v < nV; v++) {
    const i = Math.floor((p[3 * v] - x0) / h), j = Math.floor((p[3 * v + 1] - y0) / h);
    let zmin = Infinity;
    for (let ring = 0; ring < 2 && zmin === Infinity; ring++) {
      for (let jj = j - ring; jj <= j + 1 + ring; jj++) {
        if (jj < 0 || jj >= gh) continue;
        for (let ii = i - ring; ii <= i + 1 + ring; ii++) {
          if (ii < 0 || ii >= gw) continue;
          const z = zbuf[jj * gw + ii];
          if (z !== -Infinity && z < zmin) zmin = z;
        }
      }
    }
    visible[v] = p[3 * v + 2] >= zmin - tol * h ? 1 : 0;
  }

  const vol = options.volume;
  const backZ = options.backZ ?? (vol ? (-vol.depth * vol.voxelSize) / 2 : undefined);
  const margin = options.backMargin ?? h;
  const keep = new Uint8Array(nT);
  for (let f = 0; f < nT; f++) {
    const a = t[3 * f], b = t[3 * f + 1], c = t[3 * f + 2];
    const front = nz[f] > minNz && visible[a] && visible[b] && visible[c];
    // Steps are judged by their foot alone: a sharp cliff's vertices sit under the plateau's samples.
    const isStep = !front && nz[f] > -0.5 && hasFoot(p, a, b, c, zbuf, x0, y0, h, gw, gh, tol);
    if (!front && !isStep) continue;
    if (backZ !== undefined && Math.max(p[3 * a + 2], p[3 * b + 2], p[3 * c + 2]) <= backZ + margin) continue;
    keep[f] = isStep ? 2 : 1;
  }
  peelBackFacing(mesh, keep);
  if (options.largestComponent !== false) keepLargest(t, nV, keep);
  return submesh(mesh, keep);
}

/**
 * A steep triangle is a step (kept) rather than a wall (dropped) when camera-facing surface lies at
 * or below it just beyond it, in the direction its normal points (the foot of a cliff); beyond an
 * outline wall there is nothing.
 */
function hasFoot(
  p: Float32Array, a: number, b: number, c: number,
  zbuf: Float32Array, x0: number, y0: number, h: number, gw: number, gh: number, tol: number,
): boolean {
  const A = 3 * a, B = 3 * b, C = 3 * c;
  const ux = p[B] - p[A], uy = p[B + 1] - p[A + 1], uz = p[B + 2] - p[A + 2];
  const vx = p[C] - p[A], vy = p[C + 1] - p[A + 1], vz = p[C + 2] - p[A + 2];
  const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz;
  const l = Math.sqrt(nx * nx + ny * ny);
  if (l === 0) return false;
  const cx = (p[A] + p[B] + p[C]) / 3, cy = (p[A + 1] + p[B + 1] + p[C + 1]) / 3, cz = (p[A + 2] + p[B + 2] + p[C + 2]) / 3;
  for (let dist = 1; dist <= 2; dist += 0.5) {
    const i = Math.round((cx + (nx / l) * dist * h - x0) / h), j = Math.round((cy + (ny / l) * dist * h - y0) / h);
    if (i < 0 || j < 0 || i >= gw || j >= gh) continue;
    const z = zbuf[j * gw + i];
    if (z !== -Infinity && z <= cz + tol * h) return true;
  }
  return false;
}

/** Vertex → triangles (compressed rows) of the triangles with keep[f] set. */
function vertexTriangles(t: Uint32Array, nV: number, keep: Uint8Array): { start: Int32Array; tris: Int32Array } {
  const start = new Int32Array(nV + 1);
  for (let f = 0; f < keep.length; f++) if (keep[f]) for (let k = 0; k < 3; k++) start[t[3 * f + k] + 1]++;
  for (let v = 0; v < nV; v++) start[v + 1] += start[v];
  const fill = start.slice(0, nV);
  const tris = new Int32Array(start[nV]);
  for (let f = 0; f < keep.length; f++) if (keep[f]) for (let k = 0; k < 3; k++) tris[fill[t[3 * f + k]]++] = f;
  return { start, tris };
}

/** Clears keep[] outside the kept piece with the most triangles (edge-connected via shared vertices). */
function keepLargest(t: Uint32Array, nV: number, keep: Uint8Array): void {
  const { start, tris } = vertexTriangles(t, nV, keep);
  const label = new Int32Array(keep.length).fill(-1);
  const stack: number[] = [];
  let best = -1, bestSize = 0;
  for (let s = 0, l = 0; s < keep.length; s++) {
    if (!keep[s] || label[s] >= 0) continue;
    let size = 0;
    label[s] = l;
    stack.push(s);
    while (stack.length > 0) {
      const f = stack.pop()!;
      size++;
      for (let k = 0; k < 3; k++) {
        const v = t[3 * f + k];
        for (let j = start[v]; j < start[v + 1]; j++) {
          const g = tris[j];
          if (label[g] < 0) {
            label[g] = l;
            stack.push(g);
          }
        }
      }
    }
    if (size > bestSize) {
      bestSize = size;
      best = l;
    }
    l++;
  }
  for (let f = 0; f < keep.length; f++) if (keep[f] && label[f] !== best) keep[f] = 0;
}

/**
 * Peels, from the border of the kept set inward, triangles whose own normal z is ≤ 0 (the top of
 * the side walls). Steps (keep = 2) go only when on the border at the start, so a vertical cliff is
 * not eaten from its ends; back-facing noise inside the face stays, so no holes open.
 */
function peelBackFacing(mesh: Mesh, keep: Uint8Array): void {
  const p = mesh.positions, t = mesh.indices, nV = p.length / 3;
  const bad = new Uint8Array(keep.length);
  let any = false;
  for (let f = 0; f < keep.length; f++) {
    if (!keep[f]) continue;
    const a = t[3 * f] * 3, b = t[3 * f + 1] * 3, c = t[3 * f + 2] * 3;
    const nz = (p[b] - p[a]) * (p[c + 1] - p[a + 1]) - (p[b + 1] - p[a + 1]) * (p[c] - p[a]);
    if (!(nz > 0)) {
      bad[f] = 1;
      any = true;
    }
  }
  if (!any) return;
  const { start, tris } = vertexTriangles(t, nV, keep);
  /** Number of kept triangles on edge (a, b). */
  const edgeUse = (a: number, b: number): number => {
    let n = 0;
    for (let j = start[a]; j < start[a + 1]; j++) {
      const g = tris[j];
      if (keep[g] && (t[3 * g] === b || t[3 * g + 1] === b || t[3 * g + 2] === b)) n++;
    }
    return n;
  };
  const onBorder = (f: number): boolean => {
    for (let k = 0; k < 3; k++) if (edgeUse(t[3 * f + k], t[3 * f + ((k + 1) % 3)]) < 2) return true;
    return false;
  };
  const queue: number[] = [];
  for (let f = 0; f < keep.length; f++) if (keep[f] && bad[f] && onBorder(f)) queue.push(f);
  while (queue.length > 0) {
    const f = queue.pop()!;
    if (!keep[f]) continue;
    keep[f] = 0;
    // its kept neighbours are now on the border
    for (let k = 0; k < 3; k++) {
      const v = t[3 * f + k];
      for (let j = start[v]; j < start[v + 1]; j++) {
        const g = tris[j];
        if (keep[g] === 1 && bad[g] && onBorder(g)) queue.push(g);
      }
    }
  }
}

/** Mean edge length of a mesh (0 for no triangles). */
function meanEdge(mesh: Mesh): number {
  const p = mesh.positions, t = mesh.indices;
  let s = 0;
  for (let i = 0; i < t.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const a = t[i + k] * 3, b = t[i + ((k + 1) % 3)] * 3;
      const dx = p[a] - p[b], dy = p[a + 1] - p[b + 1], dz = p[a + 2] - p[b + 2];
      s += Math.sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return t.length > 0 ? s / t.length : 0;
}
