import type { Mesh } from '../types.ts';

/** One-ring neighbourhoods of a triangle mesh (compressed rows). */
export interface VertexAdjacency {
  /** neighbours of vertex i: neighbors[start[i] .. start[i+1]) */
  start: Int32Array;
  neighbors: Int32Array;
  /** Per neighbours entry: 1 when that edge belongs to a single triangle (a boundary edge). */
  boundaryEdge: Uint8Array;
  /** Per vertex: 1 when it lies on a boundary edge. */
  boundary: Uint8Array;
}

/**
 * Distinct neighbours of every vertex, and which edges and vertices lie on the mesh boundary
 * (edges used by a single triangle).
 *
 * @example
 * const adj = vertexAdjacency(mesh);
 * for (let k = adj.start[i]; k < adj.start[i + 1]; k++) visit(adj.neighbors[k]);
 */
export function vertexAdjacency(mesh: Mesh): VertexAdjacency {
  const n = mesh.positions.length / 3;
  const t = mesh.indices;
  // Every triangle gives each corner its two other corners: count, fill, then dedupe per vertex.
  const deg = new Int32Array(n + 1);
  for (let i = 0; i < t.length; i++) deg[t[i] + 1] += 2;
  for (let i = 0; i < n; i++) deg[i + 1] += deg[i];
  const raw = new Int32Array(deg[n]);
  const fill = deg.slice(0, n);
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i], b = t[i + 1], c = t[i + 2];
    raw[fill[a]++] = b; raw[fill[a]++] = c;
    raw[fill[b]++] = c; raw[fill[b]++] = a;
    raw[fill[c]++] = a; raw[fill[c]++] = b;
  }
  const start = new Int32Array(n + 1);
  const neighbors = new Int32Array(raw.length);
  const boundaryEdge = new Uint8Array(raw.length);
  const boundary = new Uint8Array(n);
  let out = 0;
  for (let v = 0; v < n; v++) {
    start[v] = out;
    const lo = deg[v], hi = deg[v + 1];
    // insertion sort: rings are small
    for (let i = lo + 1; i < hi; i++) {
      const x = raw[i];
      let j = i - 1;
      while (j >= lo && raw[j] > x) {
        raw[j + 1] = raw[j];
        j--;
      }
      raw[j + 1] = x;
    }
    for (let i = lo; i < hi; ) {
      let j = i + 1;
      while (j < hi && raw[j] === raw[i]) j++;
      neighbors[out] = raw[i];
      if (j - i === 1) {
        // In a closed fan every neighbour shows up twice (once per triangle on the edge).
        boundaryEdge[out] = 1;
        boundary[v] = 1;
      }
      out++;
      i = j;
    }
  }
  start[n] = out;
  return { start, neighbors: neighbors.slice(0, out), boundaryEdge: boundaryEdge.slice(0, out), boundary };
}

/**
 * A new mesh holding only the triangles with `keep[t] !== 0` and the vertices they use
 * (normals, uvs and colors follow their vertices).
 *
 * @example const front = submesh(mesh, keepMask);
 */
export function submesh(mesh: Mesh, keep: ArrayLike<number>): Mesh {
  const n = mesh.positions.length / 3;
  const t = mesh.indices;
  const map = new Int32Array(n).fill(-1);
  let nt = 0, nv = 0;
  for (let i = 0; i < t.length / 3; i++) {
    if (!keep[i]) continue;
    nt++;
    for (let k = 0; k < 3; k++) if (map[t[3 * i + k]] < 0) map[t[3 * i + k]] = nv++;
  }
  const indices = new Uint32Array(nt * 3);
  for (let i = 0, o = 0; i < t.length / 3; i++) {
    if (!keep[i]) continue;
    indices[o++] = map[t[3 * i]];
    indices[o++] = map[t[3 * i + 1]];
    indices[o++] = map[t[3 * i + 2]];
  }
  const pick = (src: Float32Array | undefined, k: number): Float32Array | undefined => {
    if (!src) return undefined;
    const dst = new Float32Array(nv * k);
    for (let v = 0; v < n; v++) {
      const m = map[v];
      if (m >= 0) for (let j = 0; j < k; j++) dst[m * k + j] = src[v * k + j];
    }
    return dst;
  };
  const out: Mesh = { positions: pick(mesh.positions, 3)!, indices };
  if (mesh.normals) out.normals = pick(mesh.normals, 3);
  if (mesh.uvs) out.uvs = pick(mesh.uvs, 2);
  if (mesh.colors) out.colors = pick(mesh.colors, 3);
  return out;
}
