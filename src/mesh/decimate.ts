import { VoxfaceError } from '../types.ts';
import type { Mesh } from '../types.ts';
import { vertexAdjacency } from './adjacency.ts';

/** Options of `decimate`. */
export interface DecimateOptions {
  /** Stop at this many triangles (or fewer). Default: `ratio` of the input. */
  targetTriangles?: number;
  /** Fraction of the input triangles to keep when `targetTriangles` is absent (default 0.25). */
  ratio?: number;
  /** Never collapse edges whose quadric error exceeds this (crop px², area-weighted). Default ∞. */
  maxError?: number;
  /**
   * The boundary (open borders, uv seams): 'fixed' (default) never moves a boundary vertex nor collapses a boundary
   * edge; 'when-needed' does so too once no interior collapse is left and the mesh is still above the target:
   * boundary edges collapse along their own loop (every loop kept, with at least 3 edges), the outline held by
   * constraint planes; a vertex that shares its position with another (a uv seam, where a mesh splits its
   * vertices) is never removed nor moved, so the two sides of a seam still meet.
   */
  boundary?: 'fixed' | 'when-needed';
}

/**
 * Quadric-error edge-collapse decimation (Garland–Heckbert): collapses the cheapest edge first,
 * placing the merged vertex at the quadric's optimum, until `targetTriangles` remain.
 * Boundary vertices never move and boundary edges never collapse, so open borders (the face's
 * outline) and uv seams (split vertices are boundary vertices) are kept exactly — unless
 * `boundary: 'when-needed'` (see there). Collapses that would fold a triangle over, or break the
 * 2-manifold (link condition), are refused, so a watertight input stays watertight. Normals are
 * dropped (recompute them); colors are carried by the surviving vertices; uvs too, the merged
 * vertex's interpolated along its edge where it moves (a collapse that would flip a triangle in the
 * uv plane is refused), so the uvs stay in their input range and index the same atlas.
 *
 * @example const light = decimate(mesh, { targetTriangles: 20000 });
 */
export function decimate(mesh: Mesh, options: DecimateOptions = {}): Mesh {
  const nT0 = mesh.indices.length / 3;
  const ratio = options.ratio ?? 0.25;
  const target = options.targetTriangles ?? Math.floor(nT0 * ratio);
  if (!(target >= 0) || !Number.isFinite(target)) {
    throw new VoxfaceError('BAD_ARGUMENT', `decimate: targetTriangles must be a non-negative number, got ${String(target)}`);
  }
  const maxError = options.maxError ?? Infinity;
  if (nT0 <= target) return mesh;

  const nV = mesh.positions.length / 3;
  const pos = Float64Array.from(mesh.positions);
  const tri = Int32Array.from(mesh.indices);
  const triAlive = new Uint8Array(nT0).fill(1);
  const vAlive = new Uint8Array(nV).fill(1);
  const ver = new Int32Array(nV);
  const { start, neighbors, boundary } = vertexAdjacency(mesh);
  const uv = mesh.uvs ? Float64Array.from(mesh.uvs) : undefined;
  const whenNeeded = options.boundary === 'when-needed';
  /** Phase 2 (boundary edges too) has begun. */
  let alongBoundary = false;
  /** Vertices that never move nor go: those sharing their position with another (seams), in phase 2. */
  const locked = whenNeeded ? sharedPositions(pos) : new Uint8Array(nV);

  // Quadrics: area-weighted plane equations of the adjacent triangles.
  const Q = new Float64Array(nV * 10);
  for (let t = 0; t < nT0; t++) {
    const a = tri[3 * t] * 3, b = tri[3 * t + 1] * 3, c = tri[3 * t + 2] * 3;
    const ux = pos[b] - pos[a], uy = pos[b + 1] - pos[a + 1], uz = pos[b + 2] - pos[a + 2];
    const vx = pos[c] - pos[a], vy = pos[c + 1] - pos[a + 1], vz = pos[c + 2] - pos[a + 2];
    let nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const len = Math.sqrt(nx * nx + ny * ny + nz * nz);
    if (len === 0) continue;
    const area = len / 2;
    nx /= len; ny /= len; nz /= len;
    const d = -(nx * pos[a] + ny * pos[a + 1] + nz * pos[a + 2]);
    QS[0] = nx * nx; QS[1] = nx * ny; QS[2] = nx * nz; QS[3] = nx * d; QS[4] = ny * ny;
    QS[5] = ny * nz; QS[6] = ny * d; QS[7] = nz * nz; QS[8] = nz * d; QS[9] = d * d;
    for (let k3 = 0; k3 < 3; k3++) {
      const o = tri[3 * t + k3] * 10;
      for (let k = 0; k < 10; k++) Q[o + k] += area * QS[k];
    }
  }

  // Vertex → triangle references; a collapse appends the merged vertex's fresh list at the end.
  const refStart = new Int32Array(nV);
  const refCount = new Int32Array(nV);
  let refs = new Int32Array(nT0 * 3 * 2);
  {
    for (let i = 0; i < nT0 * 3; i++) refCount[tri[i]]++;
    let s = 0;
    for (let v = 0; v < nV; v++) {
      refStart[v] = s;
      s += refCount[v];
      refCount[v] = 0;
    }
    for (let i = 0; i < nT0 * 3; i++) {
      const v = tri[i];
      refs[refStart[v] + refCount[v]++] = (i / 3) | 0;
    }
  }
  let refEnd = nT0 * 3;

  // Min-heap of candidate collapses, validated lazily by vertex versions.
  const heap = new EdgeHeap(nT0 * 6);
  const best = new Float64Array(5); // x, y, z, cost, the boundary vertex kept (collapses along the boundary)
  const evaluate = (u: number, v: number): boolean => {
    if (!(boundary[u] && boundary[v])) return evaluateCollapse(Q, pos, boundary, u, v, best);
    // both ends on the boundary: only along a boundary edge, only in phase 2, never removing a locked vertex
    if (!alongBoundary || (locked[u] && locked[v]) || trianglesOn(u, v) !== 1) return false;
    return evaluateEnds(Q, pos, locked, u, v, best);
  };
  /** Alive triangles with both u and v. */
  const trianglesOn = (u: number, v: number): number => {
    let n = 0;
    for (let r = refStart[u]; r < refStart[u] + refCount[u]; r++) {
      const t = refs[r];
      if (triAlive[t] && (tri[3 * t] === v || tri[3 * t + 1] === v || tri[3 * t + 2] === v)) n++;
    }
    return n;
  };
  const push = (u: number, v: number): void => {
    if (evaluate(u, v) && best[3] <= maxError) heap.push(best, u, v, ver[u], ver[v]);
  };
  for (let u = 0; u < nV; u++) {
    for (let j = start[u]; j < start[u + 1]; j++) if (neighbors[j] > u) push(u, neighbors[j]);
  }

  const mark = new Int32Array(nV).fill(-1);
  let stamp = 0;
  let alive = nT0;
  const live: number[] = [];
  for (;;) {
    if (alive <= target) break;
    if (heap.size === 0) {
      if (!whenNeeded || alongBoundary) break;
      // phase 2: the boundary edges too, their loops held by constraint planes
      alongBoundary = true;
      addBoundaryQuadrics(Q, pos, tri, triAlive, nT0, refs, refStart, refCount);
      for (let t = 0; t < nT0; t++) {
        if (!triAlive[t]) continue;
        for (let k = 0; k < 3; k++) {
          const a = tri[3 * t + k], b = tri[3 * t + (k + 1) % 3];
          push(Math.min(a, b), Math.max(a, b));
        }
      }
      if (heap.size === 0) break;
    }
    const top = heap.pop();
    let u = heap.u[top], v = heap.v[top];
    if (!vAlive[u] || !vAlive[v] || ver[u] !== heap.su[top] || ver[v] !== heap.sv[top]) continue;
    if (!evaluate(u, v)) continue;
    if (boundary[u] && boundary[v] ? best[4] === v : boundary[v]) {
      // keep the boundary vertex (of two: the one evaluateEnds chose)
      const w = u;
      u = v;
      v = w;
    }
    TARGET[0] = best[0]; TARGET[1] = best[1]; TARGET[2] = best[2];
    const px = best[0], py = best[1], pz = best[2];
    // two boundary vertices merge only along a boundary edge of their own loop (else a pinch forms)
    const bothBoundary = boundary[u] === 1 && boundary[v] === 1;

    stamp++;
    let shared = 0;
    for (let r = refStart[u]; r < refStart[u] + refCount[u]; r++) {
      const t = refs[r];
      if (!triAlive[t]) continue;
      for (let k = 0; k < 3; k++) mark[tri[3 * t + k]] = stamp;
    }
    // Link condition: u and v may only share the neighbours opposite the edge (else a pinch forms).
    let common = 0;
    stamp++;
    let ok = true;
    for (let r = refStart[v]; r < refStart[v] + refCount[v] && ok; r++) {
      const t = refs[r];
      if (!triAlive[t]) continue;
      const a = tri[3 * t], b = tri[3 * t + 1], c = tri[3 * t + 2];
      for (let k = 0; k < 3; k++) {
        const w = tri[3 * t + k];
        if (w !== u && w !== v && mark[w] === stamp - 1) {
          mark[w] = stamp;
          common++;
        }
      }
      if (a === u || b === u || c === u) shared++;
      // Fold-over: no other triangle's normal may flip when v moves to p.
      else ok = !flips(pos, a, b, c, v, TARGET);
    }
    if (!ok || shared === 0 || common !== shared || (bothBoundary && shared !== 1)) continue;
    for (let r = refStart[u]; r < refStart[u] + refCount[u] && ok; r++) {
      const t = refs[r];
      if (!triAlive[t]) continue;
      const a = tri[3 * t], b = tri[3 * t + 1], c = tri[3 * t + 2];
      if (a === v || b === v || c === v) continue;
      ok = !flips(pos, a, b, c, u, TARGET);
    }
    if (!ok) continue;
    if (uv) {
      // the merged vertex's uv: along the edge as its position is (an end that stays keeps its own)
      const t = boundary[u] ? 0 : edgeParameter(pos, u, v, TARGET);
      UVT[0] = uv[2 * u] + t * (uv[2 * v] - uv[2 * u]);
      UVT[1] = uv[2 * u + 1] + t * (uv[2 * v + 1] - uv[2 * u + 1]);
      for (let r = refStart[u]; r < refStart[u] + refCount[u] && ok; r++) {
        const t2 = refs[r];
        if (triAlive[t2] && !hasVertex(tri, t2, v)) ok = !uvFlips(uv, tri, t2, u, UVT);
      }
      for (let r = refStart[v]; r < refStart[v] + refCount[v] && ok; r++) {
        const t2 = refs[r];
        if (triAlive[t2] && !hasVertex(tri, t2, u)) ok = !uvFlips(uv, tri, t2, v, UVT);
      }
      if (!ok) continue;
      uv[2 * u] = UVT[0];
      uv[2 * u + 1] = UVT[1];
    }

    // Collapse v into u.
    live.length = 0;
    for (let r = refStart[u]; r < refStart[u] + refCount[u]; r++) if (triAlive[refs[r]]) live.push(refs[r]);
    for (let r = refStart[v]; r < refStart[v] + refCount[v]; r++) {
      const t = refs[r];
      if (!triAlive[t]) continue;
      const k0 = 3 * t;
      if (tri[k0] === u || tri[k0 + 1] === u || tri[k0 + 2] === u) {
        triAlive[t] = 0;
        alive--;
        continue;
      }
      for (let k = 0; k < 3; k++) if (tri[k0 + k] === v) tri[k0 + k] = u;
      live.push(t);
    }
    let n = 0;
    if (refEnd + live.length > refs.length) {
      const x = new Int32Array(refs.length * 2);
      x.set(refs);
      refs = x;
    }
    refStart[u] = refEnd;
    for (const t of live) if (triAlive[t]) refs[refEnd + n++] = t;
    refCount[u] = n;
    refEnd += n;
    pos[3 * u] = px; pos[3 * u + 1] = py; pos[3 * u + 2] = pz;
    for (let k = 0; k < 10; k++) Q[u * 10 + k] += Q[v * 10 + k];
    vAlive[v] = 0;
    ver[u]++;
    // Re-queue u's edges.
    stamp++;
    for (let r = refStart[u]; r < refStart[u] + refCount[u]; r++) {
      const t = refs[r];
      for (let k = 0; k < 3; k++) {
        const w = tri[3 * t + k];
        if (w !== u && mark[w] !== stamp) {
          mark[w] = stamp;
          push(u, w);
        }
      }
    }
  }

  // Compact.
  const map = new Int32Array(nV).fill(-1);
  let nv = 0;
  const indices = new Uint32Array(alive * 3);
  let o = 0;
  for (let t = 0; t < nT0; t++) {
    if (!triAlive[t]) continue;
    for (let k = 0; k < 3; k++) {
      const w = tri[3 * t + k];
      if (map[w] < 0) map[w] = nv++;
      indices[o++] = map[w];
    }
  }
  const positions = new Float32Array(nv * 3);
  const uvs = mesh.uvs ? new Float32Array(nv * 2) : undefined;
  const colors = mesh.colors ? new Float32Array(nv * 3) : undefined;
  for (let w = 0; w < nV; w++) {
    const m = map[w];
    if (m < 0) continue;
    positions[3 * m] = pos[3 * w]; positions[3 * m + 1] = pos[3 * w + 1]; positions[3 * m + 2] = pos[3 * w + 2];
    if (uvs && uv) { uvs[2 * m] = uv[2 * w]; uvs[2 * m + 1] = uv[2 * w + 1]; }
    if (colors) for (let k = 0; k < 3; k++) colors[3 * m + k] = mesh.colors![3 * w + k];
  }
  const out: Mesh = { positions, indices };
  if (uvs) out.uvs = uvs;
  if (colors) out.colors = colors;
  return out;
}

// Scratch (doubles travel through typed arrays: no boxed numbers in the hot loop).
const QS = new Float64Array(10);
const CAND = new Float64Array(3);
const TARGET = new Float64Array(3);
const UVT = new Float64Array(2);

/** Weight of the boundary constraint planes (× the edge's squared length) against the surface's quadrics. */
const BOUNDARY_WEIGHT = 10;

/** 1 for every vertex whose position another vertex has too (a uv seam splits a vertex into copies). */
function sharedPositions(pos: Float64Array): Uint8Array {
  const n = pos.length / 3;
  const out = new Uint8Array(n);
  const first = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = `${pos[3 * i]},${pos[3 * i + 1]},${pos[3 * i + 2]}`;
    const j = first.get(key);
    if (j === undefined) first.set(key, i);
    else out[i] = out[j] = 1;
  }
  return out;
}

/**
 * Adds to Q, for every boundary edge of the alive triangles (an edge of one of them), the plane through the edge
 * perpendicular to its triangle, weighted by the edge's squared length: moving a boundary vertex off its outline
 * costs, sliding along it does not.
 */
function addBoundaryQuadrics(
  Q: Float64Array, pos: Float64Array, tri: Int32Array, triAlive: Uint8Array, nT: number,
  refs: Int32Array, refStart: Int32Array, refCount: Int32Array,
): void {
  const onEdge = (a: number, b: number): number => {
    let n = 0;
    for (let r = refStart[a]; r < refStart[a] + refCount[a]; r++) {
      const t = refs[r];
      if (triAlive[t] && hasVertex(tri, t, b)) n++;
    }
    return n;
  };
  for (let t = 0; t < nT; t++) {
    if (!triAlive[t]) continue;
    const i0 = tri[3 * t] * 3, i1 = tri[3 * t + 1] * 3, i2 = tri[3 * t + 2] * 3;
    const ux = pos[i1] - pos[i0], uy = pos[i1 + 1] - pos[i0 + 1], uz = pos[i1 + 2] - pos[i0 + 2];
    const vx = pos[i2] - pos[i0], vy = pos[i2 + 1] - pos[i0 + 1], vz = pos[i2 + 2] - pos[i0 + 2];
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    for (let k = 0; k < 3; k++) {
      const a = tri[3 * t + k], b = tri[3 * t + (k + 1) % 3];
      if (onEdge(a, b) !== 1) continue;
      const ex = pos[3 * b] - pos[3 * a], ey = pos[3 * b + 1] - pos[3 * a + 1], ez = pos[3 * b + 2] - pos[3 * a + 2];
      // the plane's normal: edge × triangle normal
      let mx = ey * nz - ez * ny, my = ez * nx - ex * nz, mz = ex * ny - ey * nx;
      const len = Math.sqrt(mx * mx + my * my + mz * mz);
      if (len === 0) continue;
      mx /= len; my /= len; mz /= len;
      const d = -(mx * pos[3 * a] + my * pos[3 * a + 1] + mz * pos[3 * a + 2]);
      const w = BOUNDARY_WEIGHT * (ex * ex + ey * ey + ez * ez);
      QS[0] = mx * mx; QS[1] = mx * my; QS[2] = mx * mz; QS[3] = mx * d; QS[4] = my * my;
      QS[5] = my * mz; QS[6] = my * d; QS[7] = mz * mz; QS[8] = mz * d; QS[9] = d * d;
      for (const o of [a * 10, b * 10]) for (let j = 0; j < 10; j++) Q[o + j] += w * QS[j];
    }
  }
}

/**
 * A collapse of two boundary vertices along their boundary edge: the merged vertex stays at one end (the outline
 * keeps its own vertices), the cheaper of the ends whose partner may go. best = x, y, z, error, the kept vertex.
 */
function evaluateEnds(Q: Float64Array, pos: Float64Array, locked: Uint8Array, u: number, v: number, best: Float64Array): boolean {
  const q = QS;
  for (let k = 0; k < 10; k++) q[k] = Q[u * 10 + k] + Q[v * 10 + k];
  best[3] = Infinity;
  let kept = -1;
  for (const [keep, go] of [[u, v], [v, u]]) {
    if (locked[go]) continue;
    CAND[0] = pos[3 * keep]; CAND[1] = pos[3 * keep + 1]; CAND[2] = pos[3 * keep + 2];
    const before = best[3];
    consider(q, best);
    if (best[3] !== before || kept < 0) kept = keep;
  }
  best[4] = kept;
  return kept >= 0;
}

function hasVertex(tri: Int32Array, t: number, v: number): boolean {
  return tri[3 * t] === v || tri[3 * t + 1] === v || tri[3 * t + 2] === v;
}

/** Where p projects on the segment u → v, as a parameter in [0, 1]. */
function edgeParameter(pos: Float64Array, u: number, v: number, p: Float64Array): number {
  const ex = pos[3 * v] - pos[3 * u], ey = pos[3 * v + 1] - pos[3 * u + 1], ez = pos[3 * v + 2] - pos[3 * u + 2];
  const l2 = ex * ex + ey * ey + ez * ez;
  if (l2 === 0) return 0;
  const t = ((p[0] - pos[3 * u]) * ex + (p[1] - pos[3 * u + 1]) * ey + (p[2] - pos[3 * u + 2]) * ez) / l2;
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

/** True when giving vertex m of triangle t the uv `to` flips the triangle in the uv plane (or flattens it). */
function uvFlips(uv: Float64Array, tri: Int32Array, t: number, m: number, to: Float64Array): boolean {
  const a = tri[3 * t], b = tri[3 * t + 1], c = tri[3 * t + 2];
  const area = (au: number, av: number, bu: number, bv: number, cu: number, cv: number) => (bu - au) * (cv - av) - (bv - av) * (cu - au);
  const before = area(uv[2 * a], uv[2 * a + 1], uv[2 * b], uv[2 * b + 1], uv[2 * c], uv[2 * c + 1]);
  if (before === 0) return false;
  const at = (w: number, k: 0 | 1) => (w === m ? to[k] : uv[2 * w + k]);
  const after = area(at(a, 0), at(a, 1), at(b, 0), at(b, 1), at(c, 0), at(c, 1));
  return after / before <= 0;
}

/**
 * Best position and quadric error for collapsing edge (u, v) into `best` (x, y, z, error);
 * false when both ends are on the boundary (never collapsed). A boundary end stays put.
 */
function evaluateCollapse(Q: Float64Array, pos: Float64Array, boundary: Uint8Array, u: number, v: number, best: Float64Array): boolean {
  if (boundary[u] && boundary[v]) return false;
  const qa = u * 10, qb = v * 10;
  const q = QS;
  for (let k = 0; k < 10; k++) q[k] = Q[qa + k] + Q[qb + k];
  best[3] = Infinity;
  if (boundary[u] || boundary[v]) {
    const w = boundary[u] ? u : v;
    CAND[0] = pos[3 * w]; CAND[1] = pos[3 * w + 1]; CAND[2] = pos[3 * w + 2];
    consider(q, best);
    return true;
  }
  // optimum: solve A x = −b
  const a11 = q[0], a12 = q[1], a13 = q[2], a22 = q[4], a23 = q[5], a33 = q[7];
  const c11 = a22 * a33 - a23 * a23, c12 = a13 * a23 - a12 * a33, c13 = a12 * a23 - a13 * a22;
  const det = a11 * c11 + a12 * c12 + a13 * c13;
  const scale = a11 + a22 + a33;
  const ux = pos[3 * u], uy = pos[3 * u + 1], uz = pos[3 * u + 2];
  const vx = pos[3 * v], vy = pos[3 * v + 1], vz = pos[3 * v + 2];
  if (Math.abs(det) > 1e-9 * scale * scale * scale) {
    const c22 = a11 * a33 - a13 * a13, c23 = a12 * a13 - a11 * a23, c33 = a11 * a22 - a12 * a12;
    const bx = -q[3], by = -q[6], bz = -q[8];
    const x = (c11 * bx + c12 * by + c13 * bz) / det;
    const y = (c12 * bx + c22 * by + c23 * bz) / det;
    const z = (c13 * bx + c23 * by + c33 * bz) / det;
    // accept only optima near the edge (ill-conditioned quadrics can throw vertices far away)
    const ex = ux - vx, ey = uy - vy, ez = uz - vz;
    const mx = x - (ux + vx) / 2, my = y - (uy + vy) / 2, mz = z - (uz + vz) / 2;
    if (mx * mx + my * my + mz * mz <= 4 * (ex * ex + ey * ey + ez * ez)) {
      CAND[0] = x; CAND[1] = y; CAND[2] = z;
      consider(q, best);
    }
  }
  // the endpoints and the midpoint
  CAND[0] = ux; CAND[1] = uy; CAND[2] = uz;
  consider(q, best);
  CAND[0] = vx; CAND[1] = vy; CAND[2] = vz;
  consider(q, best);
  CAND[0] = (ux + vx) / 2; CAND[1] = (uy + vy) / 2; CAND[2] = (uz + vz) / 2;
  consider(q, best);
  return true;
}

/** Keeps in `best` (x, y, z, error) the candidate in CAND if its quadric error is smaller. */
function consider(q: Float64Array, best: Float64Array): void {
  const x = CAND[0], y = CAND[1], z = CAND[2];
  const e =
    q[0] * x * x + 2 * q[1] * x * y + 2 * q[2] * x * z + 2 * q[3] * x +
    q[4] * y * y + 2 * q[5] * y * z + 2 * q[6] * y +
    q[7] * z * z + 2 * q[8] * z + q[9];
  const err = e > 0 ? e : 0;
  if (err < best[3] || best[3] === Infinity) {
    best[0] = x; best[1] = y; best[2] = z; best[3] = err;
  }
}

/** True when moving vertex `m` of triangle (a, b, c) to p flips its normal (or makes it vanish). */
function flips(pos: Float64Array, a: number, b: number, c: number, m: number, target: Float64Array): boolean {
  const px = target[0], py = target[1], pz = target[2];
  const ax = pos[3 * a], ay = pos[3 * a + 1], az = pos[3 * a + 2];
  const bx = pos[3 * b], by = pos[3 * b + 1], bz = pos[3 * b + 2];
  const cx = pos[3 * c], cy = pos[3 * c + 1], cz = pos[3 * c + 2];
  let ux = bx - ax, uy = by - ay, uz = bz - az, vx = cx - ax, vy = cy - ay, vz = cz - az;
  const n0x = uy * vz - uz * vy, n0y = uz * vx - ux * vz, n0z = ux * vy - uy * vx;
  // the same triangle with m moved to p
  const Ax = a === m ? px : ax, Ay = a === m ? py : ay, Az = a === m ? pz : az;
  const Bx = b === m ? px : bx, By = b === m ? py : by, Bz = b === m ? pz : bz;
  const Cx = c === m ? px : cx, Cy = c === m ? py : cy, Cz = c === m ? pz : cz;
  ux = Bx - Ax; uy = By - Ay; uz = Bz - Az; vx = Cx - Ax; vy = Cy - Ay; vz = Cz - Az;
  const n1x = uy * vz - uz * vy, n1y = uz * vx - ux * vz, n1z = ux * vy - uy * vx;
  const l0 = Math.sqrt(n0x * n0x + n0y * n0y + n0z * n0z), l1 = Math.sqrt(n1x * n1x + n1y * n1y + n1z * n1z);
  if (l1 <= 1e-12 * (l0 + 1e-30)) return true;
  return n0x * n1x + n0y * n1y + n0z * n1z < 0.2 * l0 * l1;
}

/**
 * Binary min-heap of (cost, u, v, version u, version v) in growable typed arrays. Costs sit in
 * heap order next to their slot ids (no indirection while sifting); slots hold the payload.
 */
class EdgeHeap {
  u: Int32Array;
  v: Int32Array;
  su: Int32Array;
  sv: Int32Array;
  /** heap position → cost, slot */
  private key: Float64Array;
  private slot: Int32Array;
  size = 0;
  private slots = 0;
  /** slots released by pop, reused by push */
  private free: Int32Array;
  private nFree = 0;

  constructor(capacity: number) {
    const n = Math.max(16, capacity);
    this.u = new Int32Array(n);
    this.v = new Int32Array(n);
    this.su = new Int32Array(n);
    this.sv = new Int32Array(n);
    this.key = new Float64Array(n);
    this.slot = new Int32Array(n);
    this.free = new Int32Array(n);
  }

  /** Adds the candidate (cost = from[3]). */
  push(from: Float64Array, u: number, v: number, su: number, sv: number): void {
    const cost = from[3];
    let s: number;
    if (this.nFree > 0) s = this.free[--this.nFree];
    else {
      if (this.slots === this.u.length) this.grow();
      s = this.slots++;
    }
    this.u[s] = u; this.v[s] = v; this.su[s] = su; this.sv[s] = sv;
    const key = this.key, slot = this.slot;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (key[p] <= cost) break;
      key[i] = key[p];
      slot[i] = slot[p];
      i = p;
    }
    key[i] = cost;
    slot[i] = s;
  }

  /** Removes the cheapest entry and returns its slot (valid until the next push). */
  pop(): number {
    const key = this.key, slot = this.slot;
    const top = slot[0];
    const n = --this.size;
    const lk = key[n], ls = slot[n];
    let i = 0;
    while (true) {
      let k = 2 * i + 1;
      if (k >= n) break;
      if (k + 1 < n && key[k + 1] < key[k]) k++;
      if (key[k] >= lk) break;
      key[i] = key[k];
      slot[i] = slot[k];
      i = k;
    }
    if (n > 0) {
      key[i] = lk;
      slot[i] = ls;
    }
    this.free[this.nFree++] = top;
    return top;
  }

  private grow(): void {
    const n = this.u.length * 2;
    this.u = grown(this.u, new Int32Array(n));
    this.v = grown(this.v, new Int32Array(n));
    this.su = grown(this.su, new Int32Array(n));
    this.sv = grown(this.sv, new Int32Array(n));
    this.key = grown(this.key, new Float64Array(n));
    this.slot = grown(this.slot, new Int32Array(n));
    this.free = grown(this.free, new Int32Array(n));
  }
}

function grown<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
