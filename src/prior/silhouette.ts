/**
 * A turned face's profile fitted to the photo. ICT's mean nose and lips are smaller than most people's, and the fit
 * to 68 points holds the identity near its centre (issue 18), so in profile the fitted face's outline lay inside the
 * photo's nose and lips: on AFLW2000-3D `fit/` at |yaw| 60–90° 11% of the benchmark's interior landmarks fell outside
 * the mesh, most of them 1–3 pixels beyond its outline. Here the outline on the side the face looks toward (brow,
 * nose, lips, chin) finds the photo's edge along its outward normal (`profileEdges`), and the fit's identity (with
 * the lips' and jaw's thrust) moves so the outline meets those edges while the 68 landmarks stay where they are
 * (`fitSilhouette`): the face changes only as ICT's modes allow (a longer nose, fuller lips), never by free-form
 * warping.
 *
 * Edge search, per outline vertex (an edge between a triangle facing the camera and one facing away, or a border
 * edge of a facing one): the photo sampled bilinearly (pixel centres at i + 0.5, as `samplePhoto`) along the
 * outline's outward normal from `inside` cm within the mesh to `outside` cm beyond it (steps of about 0.08 cm, at
 * least a pixel); the step with the largest colour change (central difference, RGB distance, 0–255) less
 * `distancePenalty` per step away from the outline is the edge, if that change is at least `minContrast`. Chosen
 * on AFLW2000-3D `fit/` and the synthetic benchmark (models/README.md).
 *
 * ```ts
 * const edges = profileEdges(mesh, photo, { scale: fit.scale, landmarks68 });   // outline vertices and their edges
 * const better = fitSilhouette(basis, fit, 'face', photo);                        // the identity moved to meet them
 * ```
 */
import { TriangleSpans } from '../raster/triangle.ts';
import type { Mesh, RGBImage, Vec3 } from '../types.ts';
import { samplePhoto } from '../texture/sample.ts';
import type { IctBasis } from './basis.ts';
import { PRIOR_DEFAULTS, solveSpd } from './fit.ts';
import type { PriorFit } from './fit.ts';
import { LANDMARKS68_AFLW } from './landmarks68-aflw.ts';
import { benchmarkLandmarks, photoIndices, surfacePositions } from './mesh.ts';
import type { PriorRegion } from './mesh.ts';

/** The edge search's settings (cm of the fitted face: the fit's scale turns them into pixels). */
export interface SilhouetteOptions {
  /** How far inside the mesh's outline the edge is looked for, cm (default `SILHOUETTE_DEFAULTS.inside`). */
  inside?: number;
  /** How far beyond it, cm. */
  outside?: number;
  /** Least colour change (RGB distance, 0–441, over two steps) that counts as an edge. */
  minContrast?: number;
  /** The outline's outward normal must point this much (cosine) toward the side the face looks to. */
  minFacing?: number;
  /**
   * Each step away from the fitted outline costs this much colour change: of two edges about as strong, the nearer
   * wins (0: the strongest anywhere in the window).
   */
  distancePenalty?: number;
}

/**
 * The defaults, in cm of the fitted face (chosen on AFLW2000-3D `fit/`, models/README.md), and the least |yaw|. The
 * window reaches further out than in: the fitted outline lies inside the photo's more often than outside it, and
 * inside it the nostril's and the lips' own edges compete with the outline's.
 */
export const SILHOUETTE_DEFAULTS = {
  inside: 0.2,
  outside: 0.6,
  minContrast: 30,
  minFacing: 0.3,
  distancePenalty: 2,
  weight: 5,
  rounds: 2,
  /** The expression weights the silhouette may move besides the identity: the lips' and the jaw's thrust. */
  expressions: ['mouthFunnel', 'mouthPucker', 'mouthRollLower', 'mouthRollUpper', 'mouthShrugLower', 'mouthShrugUpper', 'jawForward'] as readonly string[],
  /** λ of those weights' pull toward the fit's (per point, as the fit's `expressionPrior`; 3 × the fit's 0.1). */
  expressionPrior: 0.3,
  /** The pipeline fits the profile of faces turned at least this much (degrees; `silhouette` option 'auto'). */
  minYaw: 45,
} as const;

/** `fitSilhouette`'s options: the edge search's, and the fit's own (defaults `SILHOUETTE_DEFAULTS`, `PRIOR_DEFAULTS`). */
export interface SilhouetteFitOptions extends SilhouetteOptions {
  /** The outline's rows against the 68 landmarks' (all of them together). */
  weight?: number;
  /** Rounds (edges found again on each round's face). */
  rounds?: number;
  /** ICT expression names that may move besides the identity (bounded to [0, 1] like the fit's). */
  expressions?: readonly string[];
  /** Their pull toward the fit's values, per point. */
  expressionPrior?: number;
  /** λ_id, the identity's pull toward the fit's (default the fit's `PRIOR_DEFAULTS.identityPrior`). */
  identityPrior?: number;
}

/** What the edge search needs of the face: the fit's scale (photo pixels per cm) and the 68 landmarks in the photo frame. */
export interface SilhouetteFace {
  scale: number;
  landmarks68: readonly Vec3[];
}

interface Edges {
  /** Per edge: u, v, the triangle on one side, the triangle on the other (−1 for a border edge). */
  data: Int32Array;
  count: number;
}

/** The last few topologies' edges, found by content (each `priorMesh` call makes its own index array). */
const edgeCache: { key: string; indices: Uint32Array; edges: Edges }[] = [];

/** A fingerprint of an index array: its length and an FNV-1a hash of its values. */
function fingerprint(indices: Uint32Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < indices.length; i++) h = Math.imul(h ^ indices[i], 0x01000193);
  return `${indices.length}:${h >>> 0}`;
}

/** Whether two index arrays hold the same values. */
function sameIndices(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The edges of a triangle list with the triangles on each side (kept for the last few topologies: ICT's repeats). */
function edgesOf(indices: Uint32Array, vertexCount: number): Edges {
  const key = fingerprint(indices);
  const hit = edgeCache.find((e) => e.key === key && sameIndices(e.indices, indices));
  if (hit) return hit.edges;
  const at = new Map<number, number>();
  const data = new Int32Array((indices.length / 3) * 3 * 4);
  let count = 0;
  for (let t = 0; t < indices.length / 3; t++) {
    for (let k = 0; k < 3; k++) {
      const a = indices[3 * t + k], b = indices[3 * t + ((k + 1) % 3)];
      const u = Math.min(a, b), v = Math.max(a, b);
      const key = u * vertexCount + v;
      const e = at.get(key);
      if (e === undefined) {
        at.set(key, count);
        data.set([u, v, t, -1], 4 * count++);
      } else if (data[4 * e + 3] < 0) data[4 * e + 3] = t;
    }
  }
  const edges = { data: data.slice(0, 4 * count), count };
  edgeCache.unshift({ key, indices: indices.slice(), edges });
  edgeCache.length = Math.min(edgeCache.length, 4);
  return edges;
}

/** The profile outline's vertices that found an edge: mesh vertex, unit outward normal (photo frame), distance (px). */
export interface ProfileEdges {
  ids: number[];
  nx: number[];
  ny: number[];
  t: number[];
}

/**
 * The outline vertices on the side the face looks toward (between the chin and just above the brows) and where the
 * photo's edge lies along each one's outward normal. The mesh is in the photo frame, facing the camera where its
 * triangles wind counter-clockwise (every mesh of the pipeline).
 */
export function profileEdges(mesh: Mesh, image: RGBImage, face: SilhouetteFace, options: SilhouetteOptions = {}): ProfileEdges {
  const o = { ...SILHOUETTE_DEFAULTS, ...options };
  const P = mesh.positions;
  const V = P.length / 3;
  const L = face.landmarks68;
  const s = face.scale;
  const none: ProfileEdges = { ids: [], nx: [], ny: [], t: [] };
  if (L.length !== 68 || !(s > 0)) return none;
  // the face's frame in the photo: up from the chin (8) to the brows (19, 24); "forward" across it, toward the nose
  const bx = (L[19][0] + L[24][0]) / 2, by = (L[19][1] + L[24][1]) / 2;
  let ux = bx - L[8][0], uy = by - L[8][1];
  const height = Math.hypot(ux, uy);
  if (!(height > 0)) return none;
  ux /= height;
  uy /= height;
  let cx = 0, cy = 0;
  for (const p of L) {
    cx += p[0] / 68;
    cy += p[1] / 68;
  }
  let fx = -uy, fy = ux;
  if ((L[30][0] - cx) * fx + (L[30][1] - cy) * fy < 0) {
    fx = -fx;
    fy = -fy;
  }
  const top = height * 1.05;

  // outline vertices and their outward normals (away from the facing triangle)
  const I = mesh.indices;
  const T = I.length / 3;
  const facing = new Uint8Array(T);
  for (let t = 0; t < T; t++) {
    const a = 3 * I[3 * t], b = 3 * I[3 * t + 1], c = 3 * I[3 * t + 2];
    facing[t] = (P[b] - P[a]) * (P[c + 1] - P[a + 1]) - (P[b + 1] - P[a + 1]) * (P[c] - P[a]) > 0 ? 1 : 0;
  }
  const { data: E, count } = edgesOf(I, V);
  const nrm = new Float64Array(V * 2);
  const onOutline = new Uint8Array(V);
  for (let e = 0; e < count; e++) {
    const u = E[4 * e], v = E[4 * e + 1], t1 = E[4 * e + 2], t2 = E[4 * e + 3];
    let t: number;
    if (t2 < 0) {
      if (!facing[t1]) continue;
      t = t1;
    } else if (facing[t1] !== facing[t2]) t = facing[t1] ? t1 : t2;
    else continue;
    let w = I[3 * t];
    if (w === u || w === v) w = I[3 * t + 1];
    if (w === u || w === v) w = I[3 * t + 2];
    let nx = -(P[3 * v + 1] - P[3 * u + 1]), ny = P[3 * v] - P[3 * u];
    if (nx * (P[3 * w] - P[3 * u]) + ny * (P[3 * w + 1] - P[3 * u + 1]) > 0) {
      nx = -nx;
      ny = -ny;
    }
    nrm[2 * u] += nx;
    nrm[2 * u + 1] += ny;
    nrm[2 * v] += nx;
    nrm[2 * v + 1] += ny;
    onOutline[u] = onOutline[v] = 1;
  }

  // the profile outline's vertices: facing the way the face looks, between the chin and just above the brows
  const cand: number[] = [], cnx: number[] = [], cny: number[] = [];
  for (let v = 0; v < V; v++) {
    if (!onOutline[v]) continue;
    let nx = nrm[2 * v], ny = nrm[2 * v + 1];
    const len = Math.hypot(nx, ny);
    if (!(len > 0)) continue;
    nx /= len;
    ny /= len;
    if (nx * fx + ny * fy < o.minFacing) continue;
    const along = (P[3 * v] - L[8][0]) * ux + (P[3 * v + 1] - L[8][1]) * uy;
    if (along < 0 || along > top) continue;
    cand.push(v);
    cnx.push(nx);
    cny.push(ny);
  }
  if (cand.length === 0) return none;

  // which pixels the face covers, around those vertices: one whose outward side is still face is an inner fold (the
  // nose's side against the cheek), not the outline against the background
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const v of cand) {
    x0 = Math.min(x0, P[3 * v]);
    x1 = Math.max(x1, P[3 * v]);
    y0 = Math.min(y0, P[3 * v + 1]);
    y1 = Math.max(y1, P[3 * v + 1]);
  }
  const ox = Math.floor(x0) - 4, oy = Math.floor(y0) - 4;
  const mw = Math.ceil(x1) - ox + 5, mh = Math.ceil(y1) - oy + 5;
  if (!(mw > 0 && mh > 0 && mw * mh < 1 << 26)) return none;
  const covered = new Uint8Array(mw * mh);
  const spans = new TriangleSpans();
  for (let t = 0; t < T; t++) {
    const a = 3 * I[3 * t], b = 3 * I[3 * t + 1], c = 3 * I[3 * t + 2];
    const rows = spans.set(P[a] - ox, P[a + 1] - oy, P[b] - ox, P[b + 1] - oy, P[c] - ox, P[c + 1] - oy, mw, mh);
    for (let r = 0; r < rows; r++) {
      const o = spans.rows[5 * r] * mw;
      covered.fill(1, o + spans.rows[5 * r + 1], o + spans.rows[5 * r + 2] + 1);
    }
  }
  const covers = (x: number, y: number) => {
    const i = Math.floor(x - ox), j = Math.floor(y - oy);
    return i >= 0 && j >= 0 && i < mw && j < mh && covered[j * mw + i] === 1;
  };

  // each profile outline vertex: the strongest colour edge along its normal
  const step = Math.max(1, 0.08 * s);
  const t0 = Math.round((-o.inside * s) / step), t1 = Math.round((o.outside * s) / step);
  const n = t1 - t0 + 1;
  const cols = new Float32Array(n * 3); // RGB in [0, 1], the photo frame's pixel centres (samplePhoto)
  const ids: number[] = [], enx: number[] = [], eny: number[] = [], et: number[] = [];
  for (let q = 0; q < cand.length; q++) {
    const v = cand[q], nx = cnx[q], ny = cny[q];
    const x = P[3 * v], y = P[3 * v + 1];
    if (covers(x + 2 * nx, y + 2 * ny) || covers(x + 3 * nx, y + 3 * ny)) continue;
    for (let k = 0; k < n; k++) {
      const t = (t0 + k) * step;
      samplePhoto(image, x + t * nx, y + t * ny, cols, 3 * k);
    }
    let at = -1;
    let best = -Infinity, contrast = 0;
    for (let k = 1; k < n - 1; k++) {
      const g = 255 * Math.hypot(cols[3 * k + 3] - cols[3 * k - 3], cols[3 * k + 4] - cols[3 * k - 2], cols[3 * k + 5] - cols[3 * k - 1]);
      const score = g - o.distancePenalty * Math.abs(t0 + k);
      if (score > best) {
        best = score;
        contrast = g;
        at = k;
      }
    }
    if (contrast < o.minContrast) continue;
    const t = (t0 + at) * step;
    ids.push(v);
    enx.push(nx);
    eny.push(ny);
    et.push(t);
  }
  return { ids, nx: enx, ny: eny, t: et };
}

const grams = new WeakMap<IctBasis, Map<string, Float64Array>>();

/**
 * Σ over the 68 benchmark points' vertices of Bᵀ B, B's columns the first `KI` identity modes and the expression modes
 * `EX` (K × K, upper triangle, K = KI + |EX|): the same for every pose, kept per basis and column set.
 */
function landmarkGram(basis: IctBasis, KI: number, EX: readonly number[]): Float64Array {
  let byKey = grams.get(basis);
  if (!byKey) grams.set(basis, (byKey = new Map()));
  const key = `${KI}:${EX.join(',')}`;
  const cached = byKey.get(key);
  if (cached) return cached;
  const V = basis.vertexCount;
  const K = KI + EX.length;
  const G = new Float64Array(K * K);
  const row = new Float64Array(K);
  for (const v of LANDMARKS68_AFLW.vertex) {
    for (let ax = 0; ax < 3; ax++) {
      for (let j = 0; j < K; j++) row[j] = j < KI ? basis.identity[(j * V + v) * 3 + ax] : basis.expression[(EX[j - KI] * V + v) * 3 + ax];
      for (let a = 0; a < K; a++) for (let c = a; c < K; c++) G[a * K + c] += row[a] * row[c];
    }
  }
  byKey.set(key, G);
  return G;
}

/**
 * The fit's identity (and its lips' and jaw's thrust, `expressions`) moved so that its profile outline meets the
 * photo's edges (`profileEdges`), the pose and the other expression weights held: one linearised least-squares step
 * per round, each outline vertex's move along its outward normal against the photo's edge (in cm, ÷ the fit's
 * scale), the 68 landmarks held where they are (weight 1 each, all three axes), the fit's own identity prior
 * (n · λ_id |w − w₀|², n = 68) and `expressionPrior` on those expression weights (kept in [0, 1]). `weight` scales
 * the outline's rows against the landmarks' (spread over however many outline vertices found an edge).
 *
 * ```ts
 * const better = fitSilhouette(basis, fit, 'face', photo, { identityPrior: 0.06 });
 * ```
 */
export function fitSilhouette(
  basis: IctBasis,
  fit: PriorFit,
  region: PriorRegion,
  image: RGBImage,
  options: SilhouetteFitOptions = {},
): PriorFit {
  const KI = fit.identity.length;
  const V = basis.vertexCount;
  const o = { ...SILHOUETTE_DEFAULTS, ...options };
  // the unknowns: the fit's identity weights, then the lips' and jaw's expression weights `o.expressions`
  const EX = o.expressions.map((n) => basis.expressionNames.indexOf(n)).filter((i) => i >= 0);
  const K = KI + EX.length;
  const lamE = o.expressionPrior * 68;
  const valueOf = (f: PriorFit, j: number) => (j < KI ? f.identity[j] : f.expression[EX[j - KI]]);
  const vertexOf = basis.meshes[region].vertex;
  const R = fit.rotation, s = fit.scale;
  const lam = (options.identityPrior ?? PRIOR_DEFAULTS.identityPrior) * 68;
  const weight = o.weight;
  // the prior holds the identity near the fit's own (its centre already weighed against the landmarks)
  const w0 = Float64Array.from({ length: K }, (_, j) => valueOf(fit, j));
  let cur = fit;
  const indices = photoIndices(basis, region);
  for (let round = 0; round < o.rounds; round++) {
    const mesh = { positions: surfacePositions(basis, cur, region), indices };
    const edges = profileEdges(mesh, image, { scale: s, landmarks68: benchmarkLandmarks(basis, cur) }, options);
    const k = edges.ids.length;
    if (k < 8) break;
    const A = new Float64Array(K * K);
    const b = new Float64Array(K);
    const row = new Float64Array(K);
    const ow = (weight * 68) / k;
    const { identity: BI, expression: BE } = basis;
    const R0 = R[0], R1 = R[1], R2 = R[2], R3 = R[3], R4 = R[4], R5 = R[5];
    for (let i = 0; i < k; i++) {
      const v = vertexOf[edges.ids[i]];
      const nx = edges.nx[i], ny = edges.ny[i];
      // the identity's columns, then the expressions' (colv, unrolled by array)
      for (let j = 0; j < K; j++) {
        const o = j < KI ? (j * V + v) * 3 : (EX[j - KI] * V + v) * 3;
        const B = j < KI ? BI : BE;
        const bx = B[o], by = B[o + 1], bz = B[o + 2];
        // photo x = camera x, photo y = −camera y
        row[j] = nx * (R0 * bx + R1 * by + R2 * bz) - ny * (R3 * bx + R4 * by + R5 * bz);
      }
      const r = edges.t[i] / s;
      for (let a = 0; a < K; a++) {
        const wa = ow * row[a]; // (ow · row[a]) · x, as before: the same floats
        b[a] += wa * r;
        const ao = a * K;
        for (let c = a; c < K; c++) A[ao + c] += wa * row[c];
      }
    }
    // the landmarks stay: Σ |R B Δw|² over the 68 benchmark points (their vertices) = Σ |B Δw|² (R is a rotation)
    const G = landmarkGram(basis, KI, EX);
    for (let i = 0; i < K * K; i++) A[i] += G[i];
    for (let a = 0; a < K; a++) {
      const l = a < KI ? lam : lamE;
      A[a * K + a] += l;
      b[a] -= l * (valueOf(cur, a) - w0[a]);
      for (let c = 0; c < a; c++) A[a * K + c] = A[c * K + a];
    }
    const [dx] = solveSpd(A, K, [b]);
    const identity = new Float32Array(KI);
    for (let j = 0; j < KI; j++) identity[j] = Math.max(-5, Math.min(5, cur.identity[j] + dx[j]));
    const expression = Float32Array.from(cur.expression);
    for (let j = 0; j < EX.length; j++) expression[EX[j]] = Math.max(0, Math.min(1, expression[EX[j]] + dx[KI + j]));
    cur = { ...cur, identity, expression };
  }
  return cur;
}
