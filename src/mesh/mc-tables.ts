/**
 * Marching-cubes lookup tables, generated at load time from first principles (no copied tables).
 *
 * Cube corner i sits at (i & 1, (i >> 1) & 1, (i >> 2) & 1) = (+x, +y, +z) steps from the cube's
 * first voxel. Edges 0–3 run along x, 4–7 along y, 8–11 along z; within an axis, edge k's two other
 * coordinates are (k & 1, k >> 1) in increasing axis order.
 *
 * Faces are resolved on their own (so the two cubes sharing a face always agree → watertight):
 * a face whose inside corners sit on a diagonal is "ambiguous" and the caller decides it with the
 * asymptotic decider (bilinear saddle value vs iso), passing one bit per face: 1 = the inside
 * corners connect across the face. Each closed contour on the cube's boundary is triangulated as a
 * disc (min total diagonal length, never a diagonal between two crossings on one face, which a
 * neighbour cube might use too); contours oriented so triangle normals (right-hand rule) point
 * from inside (value ≥ iso) to outside.
 */

/** Corner pairs (low corner, high corner) of the 12 cube edges. */
export const EDGE_CORNERS: readonly (readonly [number, number])[] = (() => {
  const edges: [number, number][] = [];
  for (let axis = 0; axis < 3; axis++) {
    const [p, q] = [0, 1, 2].filter((a) => a !== axis);
    for (let k = 0; k < 4; k++) {
      const a = ((k & 1) << p) | ((k >> 1) << q);
      edges.push([a, a | (1 << axis)]);
    }
  }
  return edges;
})();

/** Face f = 2·axis + side: its 4 corners in canonical cyclic order (u,v) = (0,0),(1,0),(1,1),(0,1). */
export const FACE_CORNERS: Uint8Array = (() => {
  const out = new Uint8Array(24);
  for (let axis = 0; axis < 3; axis++) {
    const [p, q] = [0, 1, 2].filter((a) => a !== axis);
    for (let side = 0; side < 2; side++) {
      const uv = [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ];
      uv.forEach(([u, v], k) => {
        out[(2 * axis + side) * 4 + k] = (side << axis) | (u << p) | (v << q);
      });
    }
  }
  return out;
})();

/** Index of the edge joining corners a and b (which must differ in one bit). */
function edgeIndex(a: number, b: number): number {
  const lo = Math.min(a, b), hi = Math.max(a, b);
  const e = EDGE_CORNERS.findIndex(([x, y]) => x === lo && y === hi);
  if (e < 0) throw new Error(`not a cube edge: ${a}-${b}`);
  return e;
}

const cornerPos = (i: number): number[] => [i & 1, (i >> 1) & 1, (i >> 2) & 1];
const edgeMid = (e: number): number[] => {
  const [a, b] = EDGE_CORNERS[e].map(cornerPos);
  return [0, 1, 2].map((k) => (a[k] + b[k]) / 2);
};
const sub = (a: number[], b: number[]) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Faces (0–5) each edge lies on. */
const EDGE_FACES: number[][] = EDGE_CORNERS.map(([a, b]) => {
  const faces: number[] = [];
  for (let f = 0; f < 6; f++) {
    const cs = Array.from(FACE_CORNERS.subarray(f * 4, f * 4 + 4));
    if (cs.includes(a) && cs.includes(b)) faces.push(f);
  }
  return faces;
});

/** Bit mask of the ambiguous faces of a corner configuration. */
function ambiguousFaces(config: number): number {
  let mask = 0;
  for (let f = 0; f < 6; f++) {
    const ins = [0, 1, 2, 3].map((k) => (config >> FACE_CORNERS[f * 4 + k]) & 1);
    if (ins[0] === ins[2] && ins[1] === ins[3] && ins[0] !== ins[1]) mask |= 1 << f;
  }
  return mask;
}

/** Oriented contour segments [fromEdge, toEdge] on every face, given face decisions. */
function faceSegments(config: number, decisions: number): [number, number][] {
  const segs: [number, number][] = [];
  for (let f = 0; f < 6; f++) {
    const cs = Array.from(FACE_CORNERS.subarray(f * 4, f * 4 + 4));
    const ins = cs.map((c) => (config >> c) & 1);
    const side = (k: number) => edgeIndex(cs[k], cs[(k + 1) % 4]); // edge between corner k and k+1
    const cut = [0, 1, 2, 3].filter((k) => ins[k] !== ins[(k + 1) % 4]);
    const pairs: [number, number][] = [];
    if (cut.length === 2) {
      pairs.push([side(cut[0]), side(cut[1])]);
    } else if (cut.length === 4) {
      const joinInside = (decisions >> f) & 1;
      // Isolate the corners of the class that does not connect across the face.
      const isolate = joinInside ? 0 : 1;
      for (let k = 0; k < 4; k++) if (ins[k] === isolate) pairs.push([side((k + 3) % 4), side(k)]);
    }
    const axis = f >> 1;
    const normal = [0, 0, 0];
    normal[axis] = f & 1 ? 1 : -1;
    for (const [e1, e2] of pairs) {
      // Orient p → q so that, seen from outside the cube, inside corners lie on the right:
      // ((q − p) × n_face) · (u − p) > 0 with u the inside corner of p's edge.
      const p = edgeMid(e1), q = edgeMid(e2);
      const [a, b] = EDGE_CORNERS[e1];
      const u = cornerPos((config >> a) & 1 ? a : b);
      const s = dot(cross(sub(q, p), normal), sub(u, p));
      segs.push(s > 0 ? [e1, e2] : [e2, e1]);
    }
  }
  return segs;
}

/** Triangulates one closed contour (edge ids in order) without diagonals inside a face. */
function triangulateLoop(loop: number[]): number[] | null {
  const n = loop.length;
  if (n === 3) return loop.slice();
  const mids = loop.map(edgeMid);
  const weight = (i: number, j: number): number => {
    if ((j - i + n) % n === 1 || (i - j + n) % n === 1) return 0; // contour side
    const [a, b] = [loop[i], loop[j]];
    if (EDGE_FACES[a].some((f) => EDGE_FACES[b].includes(f))) return Infinity;
    const d = sub(mids[i], mids[j]);
    return Math.sqrt(dot(d, d));
  };
  // Min-weight polygon triangulation by dynamic programming over sub-chains i..j.
  const cost: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const best: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(-1));
  for (let len = 2; len < n; len++) {
    for (let i = 0; i + len < n; i++) {
      const j = i + len;
      cost[i][j] = Infinity;
      for (let k = i + 1; k < j; k++) {
        const c = cost[i][k] + cost[k][j] + weight(i, k) + weight(k, j);
        if (c < cost[i][j]) {
          cost[i][j] = c;
          best[i][j] = k;
        }
      }
    }
  }
  if (!Number.isFinite(cost[0][n - 1])) return null;
  const tris: number[] = [];
  const emit = (i: number, j: number): void => {
    if (j - i < 2) return;
    const k = best[i][j];
    tris.push(loop[i], loop[k], loop[j]);
    emit(i, k);
    emit(k, j);
  };
  emit(0, n - 1);
  return tris;
}

/**
 * Centre-vertex id used by triangle lists for the few contours (9 or 12 crossings, the "tunnel"
 * configurations) that cannot be cut into triangles of crossings alone.
 */
export const CENTER = 12;

/** Triangles (edge ids, CENTER for a cube-centre vertex) of one configuration + face decisions. */
function buildTriangles(config: number, decisions: number): { tris: number[]; centerEdges: number } {
  const segs = faceSegments(config, decisions);
  const next = new Map<number, number>();
  for (const [a, b] of segs) {
    if (next.has(a)) throw new Error(`config ${config}: edge ${a} starts two segments`);
    next.set(a, b);
  }
  const seen = new Set<number>();
  const tris: number[] = [];
  let centerEdges = 0;
  for (const [start] of segs) {
    if (seen.has(start)) continue;
    const loop: number[] = [];
    for (let e = start; !seen.has(e); e = next.get(e)!) {
      seen.add(e);
      loop.push(e);
    }
    const t = triangulateLoop(loop);
    if (t) tris.push(...t);
    else {
      if (centerEdges !== 0) throw new Error(`config ${config}: two contours need a centre vertex`);
      for (let i = 0; i < loop.length; i++) {
        tris.push(CENTER, loop[i], loop[(i + 1) % loop.length]);
        centerEdges |= 1 << loop[i];
      }
    }
  }
  return { tris, centerEdges };
}

/** Tables consumed by `marchingCubes`. Key = config · 64 + face-decision bits. */
export interface McTables {
  /** Cut edges (12-bit mask) per configuration. */
  edgeMask: Uint16Array;
  /** Ambiguous faces (6-bit mask) per configuration. */
  ambiguous: Uint8Array;
  /** Start into `tris` per key. */
  start: Int32Array;
  /** Number of edge ids (3 per triangle) per key. */
  count: Uint8Array;
  /** Edge ids; CENTER = an extra vertex at the average of the crossings in `centerEdges`. */
  tris: Uint8Array;
  /** Per key, the edges (12-bit mask) of the one contour fanned around a CENTER vertex; 0 = none. */
  centerEdges: Uint16Array;
}

function build(): McTables {
  const edgeMask = new Uint16Array(256);
  const ambiguous = new Uint8Array(256);
  const start = new Int32Array(256 * 64);
  const count = new Uint8Array(256 * 64);
  const centerEdges = new Uint16Array(256 * 64);
  const all: number[] = [];
  for (let config = 0; config < 256; config++) {
    let m = 0;
    EDGE_CORNERS.forEach(([a, b], e) => {
      if (((config >> a) & 1) !== ((config >> b) & 1)) m |= 1 << e;
    });
    edgeMask[config] = m;
    const amb = ambiguousFaces(config);
    ambiguous[config] = amb;
    // Enumerate every subset of the ambiguous faces' decision bits.
    for (let sub = amb; ; sub = (sub - 1) & amb) {
      const key = config * 64 + sub;
      const t = buildTriangles(config, sub);
      start[key] = all.length;
      count[key] = t.tris.length;
      centerEdges[key] = t.centerEdges;
      all.push(...t.tris);
      if (sub === 0) break;
    }
  }
  return { edgeMask, ambiguous, start, count, tris: Uint8Array.from(all), centerEdges };
}

let built: McTables | undefined;

/**
 * The generated tables, built on the first call (marching cubes' first run): 0.1–0.3 s of a cold process that
 * the default shape, which meshes no volume, does not spend.
 *
 * ```ts
 * const { edgeMask } = mcTables(); // edgeMask[config]: the cube edges a configuration cuts
 * ```
 */
export function mcTables(): McTables {
  return (built ??= build());
}
