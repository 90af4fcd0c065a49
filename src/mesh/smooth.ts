import { VoxfaceError } from '../types.ts';
import type { Mesh } from '../types.ts';
import { vertexAdjacency } from './adjacency.ts';

/** Options of `taubinSmooth`. */
export interface TaubinOptions {
  /** λ|μ pass pairs (default 10). */
  iterations?: number;
  /** Shrinking step, 0 < λ < 1 (default 0.5). */
  lambda?: number;
  /** Inflating step, μ < −λ (default −0.53: pass band k ≈ 0.11). */
  mu?: number;
  /**
   * Boundary vertices: 'curve' (default) smooths them along the boundary only, 'fixed' pins them,
   * 'free' treats them like any vertex (pulls open borders inward).
   */
  boundary?: 'curve' | 'fixed' | 'free';
}

/**
 * Taubin λ|μ smoothing (uniform umbrella weights): removes marching-cubes terracing and network
 * noise without the shrinkage of plain Laplacian smoothing. Returns a new mesh sharing `indices`;
 * vertex normals are dropped (recompute them).
 *
 * @example const smooth = taubinSmooth(mesh, { iterations: 10 });
 */
export function taubinSmooth(mesh: Mesh, options: TaubinOptions = {}): Mesh {
  const iterations = options.iterations ?? 10;
  const lambda = options.lambda ?? 0.5;
  const mu = options.mu ?? -0.53;
  const mode = options.boundary ?? 'curve';
  if (!(Number.isInteger(iterations) && iterations >= 0)) {
    throw new VoxfaceError('BAD_ARGUMENT', `taubinSmooth: iterations must be a non-negative integer, got ${String(iterations)}`);
  }
  if (!(lambda > 0 && lambda < 1) || !(mu < -lambda && mu > -1)) {
    throw new VoxfaceError('BAD_ARGUMENT', `taubinSmooth: need 0 < lambda < 1 and -1 < mu < -lambda, got ${lambda}, ${mu}`);
  }
  const n = mesh.positions.length / 3;
  const { start, neighbors, boundaryEdge, boundary } = vertexAdjacency(mesh);
  // Per vertex, the neighbours it averages ('curve' boundary vertices: border neighbours only).
  const use = new Uint8Array(neighbors.length);
  for (let v = 0; v < n; v++) {
    const onB = boundary[v] === 1 && mode !== 'free';
    if (onB && mode === 'fixed') continue;
    for (let j = start[v]; j < start[v + 1]; j++) use[j] = !onB || boundaryEdge[j] === 1 ? 1 : 0;
  }
  let cur = new Float32Array(mesh.positions);
  let nxt = new Float32Array(cur.length);
  for (let i = 0; i < 2 * iterations; i++) {
    umbrellaStep(cur, nxt, start, neighbors, use, i % 2 === 0 ? lambda : mu);
    const t = cur;
    cur = nxt;
    nxt = t;
  }
  const out: Mesh = { positions: cur, indices: mesh.indices };
  if (mesh.uvs) out.uvs = mesh.uvs;
  if (mesh.colors) out.colors = mesh.colors;
  return out;
}

/** nxt = cur + f·(mean of the used neighbours − cur), per vertex. */
function umbrellaStep(cur: Float32Array, nxt: Float32Array, start: Int32Array, nb: Int32Array, use: Uint8Array, f: number): void {
  const n = start.length - 1;
  for (let v = 0; v < n; v++) {
    let sx = 0, sy = 0, sz = 0, k = 0;
    for (let j = start[v]; j < start[v + 1]; j++) {
      if (use[j] === 0) continue;
      const u = nb[j] * 3;
      sx += cur[u]; sy += cur[u + 1]; sz += cur[u + 2];
      k++;
    }
    const p = v * 3;
    if (k === 0) {
      nxt[p] = cur[p]; nxt[p + 1] = cur[p + 1]; nxt[p + 2] = cur[p + 2];
    } else {
      nxt[p] = cur[p] + f * (sx / k - cur[p]);
      nxt[p + 1] = cur[p + 1] + f * (sy / k - cur[p + 1]);
      nxt[p + 2] = cur[p + 2] + f * (sz / k - cur[p + 2]);
    }
  }
}
