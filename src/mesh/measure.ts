import type { Mesh } from '../types.ts';

/**
 * Total triangle area (crop px² for crop-frame meshes).
 *
 * @example const a = surfaceArea(marchingCubes(volume));
 */
export function surfaceArea(mesh: Mesh): number {
  const p = mesh.positions, t = mesh.indices;
  let sum = 0;
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i] * 3, b = t[i + 1] * 3, c = t[i + 2] * 3;
    const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
    const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    sum += Math.sqrt(nx * nx + ny * ny + nz * nz);
  }
  return sum / 2;
}

/**
 * Signed enclosed volume (divergence theorem): positive for a closed mesh whose triangles are
 * counter-clockwise seen from outside (right-hand-rule normals pointing out).
 *
 * @example assert.ok(signedVolume(mesh) > 0);
 */
export function signedVolume(mesh: Mesh): number {
  const p = mesh.positions, t = mesh.indices;
  let sum = 0;
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i] * 3, b = t[i + 1] * 3, c = t[i + 2] * 3;
    const ax = p[a], ay = p[a + 1], az = p[a + 2];
    const bx = p[b], by = p[b + 1], bz = p[b + 2];
    const cx = p[c], cy = p[c + 1], cz = p[c + 2];
    sum += ax * (by * cz - bz * cy) + ay * (bz * cx - bx * cz) + az * (bx * cy - by * cx);
  }
  return sum / 6;
}

/** Edge topology of a triangle mesh, see `edgeReport`. */
export interface EdgeReport {
  /** Distinct undirected edges. */
  edges: number;
  /** Edges used by exactly one triangle. */
  boundary: number;
  /** Edges used by three or more triangles. */
  nonManifold: number;
  /** Edges used twice in the same direction (neighbours wound inconsistently). */
  misoriented: number;
  /** Triangles with a repeated vertex index. */
  degenerate: number;
  /** Closed, manifold and consistently oriented: every edge used exactly twice, once each way. */
  watertight: boolean;
}

/**
 * Counts boundary, non-manifold and inconsistently oriented edges (sort-based, no hashing).
 *
 * @example const { watertight, boundary } = edgeReport(mesh);
 */
export function edgeReport(mesh: Mesh): EdgeReport {
  const t = mesh.indices;
  const n = mesh.positions.length / 3;
  const keys = new Float64Array(t.length);
  let degenerate = 0;
  for (let i = 0; i < t.length; i += 3) {
    if (t[i] === t[i + 1] || t[i + 1] === t[i + 2] || t[i] === t[i + 2]) degenerate++;
    for (let k = 0; k < 3; k++) {
      const a = t[i + k], b = t[i + ((k + 1) % 3)];
      // key = undirected edge · 2 + direction bit
      keys[i + k] = a < b ? (a * n + b) * 2 : (b * n + a) * 2 + 1;
    }
  }
  keys.sort();
  let edges = 0, boundary = 0, nonManifold = 0, misoriented = 0;
  for (let i = 0; i < keys.length; ) {
    const e = Math.floor(keys[i] / 2);
    let j = i, fwd = 0;
    while (j < keys.length && Math.floor(keys[j] / 2) === e) {
      if (keys[j] % 2 === 0) fwd++;
      j++;
    }
    const count = j - i;
    edges++;
    if (count === 1) boundary++;
    else if (count > 2) nonManifold++;
    else if (fwd !== 1) misoriented++;
    i = j;
  }
  return {
    edges,
    boundary,
    nonManifold,
    misoriented,
    degenerate,
    watertight: boundary === 0 && nonManifold === 0 && misoriented === 0 && degenerate === 0 && t.length > 0,
  };
}
