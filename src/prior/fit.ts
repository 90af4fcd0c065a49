/**
 * The shape prior's fit: the ICT Face Model posed and shaped to a face's points in the photo.
 *
 * ```ts
 * const fitter = new PriorFitter(basis);                       // precomputes once per basis
 * const fit = fitter.fit({ mesh468: detection.mesh468 });      // Face Mesh's 468 points (photo pixels)
 * const fit2 = fitter.fit({ landmarks68: networkLandmarks });  // or 68 3D landmarks (photo frame)
 * fit.pose.yaw; fit.identity; fit.expression;                  // degrees; N(0, 1) weights; [0, 1] weights
 * ```
 *
 * ## Model
 * A point of the face is `X(c) = X0 + B c` (cm, ICT's frame), c = the first `identityModes` identity weights and the
 * 53 expression weights. Face Mesh's 468 vertices are fixed points of the ICT surface (`correspondence.ts`); the 68
 * landmarks are ICT's landmark vertices. The camera is scaled orthographic: a photo point is
 * `P = s · R · X + t` in the camera frame (x right, y **up**, z toward the camera; the photo's y is −P.y).
 *
 * ## Objective
 *   Σ_i w_i |D (s R X_i(c) + t − P_i)|² / s²  +  n · (λ_id |w|² + λ_e |e|²),   e ∈ [0, 1], |w_k| ≤ 5,
 * with D = diag(1, 1, depthWeight): Face Mesh's z measured no better than a flat guess, so it gets a low weight; the
 * network's z counts fully. Residuals are measured in cm (÷ s), so the regularisers do not depend on the face's
 * size in the photo. w_i: 1, or `ovalWeight` for Face Mesh's face-oval points.
 *
 * ## Method
 * Initial pose: a similarity (Horn) of the mean face's points onto the targets in 3D. Then Gauss–Newton on the
 * whole problem (Levenberg–Marquardt damping on the rotation): with u = s·c and t' = Rᵀt the projection
 * `R (s X0 + B u + t')` is linear in θ = (s, u, t'), so only the rotation increment ω is linearised, and each step
 * solves for (θ, ω) jointly — alternating shape and pose instead converges slowly, since scale trades against the
 * size modes and small rotations against shape modes. The θθ block of the normal matrix is `Σ_ab M_ab G_ab` with
 * M = Rᵀ D² R (3×3) and G_ab the Gram matrices of [X0 | B | I3] over the points, precomputed once per point set:
 * O(6·m²) per step instead of O(n·m²). The bounds are kept by a primal active-set solver (`BoundedSolver`).
 * A noise-free fit converges in 3 steps.
 * No allocation inside the loops: the work arrays are made once per fit.
 */
import { anglesFromRotation, fitSimilarity } from '../landmarks/pose.ts';
import type { Pose, Vec3 } from '../types.ts';
import type { IctBasis } from './basis.ts';
import { FACEMESH_ICT_IDS, FACEMESH_ICT_WEIGHTS } from './correspondence.ts';
import { LANDMARKS68_AFLW } from './landmarks68-aflw.ts';

/** What to fit: Face Mesh's points, or 68 3D landmarks (iBUG order). */
export interface PriorTargets {
  /**
   * Face Mesh's 468 points: x, y in photo pixels, z MediaPipe's relative depth in pixels (negative toward the
   * camera), as `Detection.mesh468`.
   */
  mesh468?: readonly Vec3[];
  /** 68 landmarks in the photo frame (x right, y down, z toward the camera), e.g. the network's: ICT's landmark vertices. */
  landmarks68?: readonly Vec3[];
  /**
   * 68 landmarks as AFLW2000-3D places them (src/prior/landmarks68-aflw.ts), photo frame, e.g. the landmark network's
   * (src/landmarks/regressor.ts). Used when `mesh468` is not given.
   */
  aflw68?: readonly Vec3[];
}

export interface PriorFitOptions {
  /** Identity modes fitted (default `PRIOR_DEFAULTS.identityModes`, at most the basis' 100). */
  identityModes?: number;
  /** λ_id: weight of |w − w₀|² per point (default `PRIOR_DEFAULTS.identityPrior`). */
  identityPrior?: number;
  /**
   * w₀, the identity the regulariser pulls toward (default: the mean face, all 0), e.g. an identity regressed from
   * the image. Modes past its length, or past `identityModes`, are pulled toward 0.
   */
  identityCenter?: ArrayLike<number>;
  /** λ_e: weight of |e|² per point (default `PRIOR_DEFAULTS.expressionPrior`). */
  expressionPrior?: number;
  /** Weight of the targets' z against x, y (default: 0.1 for Face Mesh, 1 for 68 landmarks). */
  depthWeight?: number;
  /** At most this many Gauss–Newton steps (default 5; it stops when a step gains less than 0.1%; a noise-free fit converges in 3). */
  iterations?: number;
  /**
   * Start from this fit (its pose, scale, identity and expression) instead of the mean face's similarity onto the
   * targets: a second fit of the same targets (another identity centre) then converges in a step or two.
   */
  start?: Pick<PriorFit, 'rotation' | 'scale' | 'translation' | 'identity' | 'expression'>;
}

/** The defaults of the fit, chosen on synthetic renders (see models/README.md, "Shape prior"). */
export const PRIOR_DEFAULTS = {
  identityModes: 60,
  identityPrior: 0.06,
  expressionPrior: 0.1,
  depthWeightFaceMesh: 0.1,
  depthWeightLandmarks: 1,
  iterations: 5,
  /**
   * Weight of Face Mesh's 36 face-oval points: they follow the face's outline as the camera sees it more than fixed
   * points of the face.
   */
  ovalWeight: 0.3,
  /** See `fitPrior` (src/prior/index.ts). */
  faceMeshMaxYaw: 40,
  /** The same where the landmark network's points judge the yaw (chosen on AFLW2000-3D fit/, models/README.md). */
  faceMeshMaxYawReal: 30,
} as const;

export interface PriorFit {
  /** Which targets were fitted. */
  source: 'facemesh' | 'landmarks68' | 'aflw68';
  /** Identity weights (length `identityModes` of the fit; the rest are 0). */
  identity: Float32Array;
  /** The 53 expression weights, in [0, 1]. */
  expression: Float32Array;
  /** Row-major 3×3 rotation: ICT's frame → the camera frame (x right, y up, z toward the camera). */
  rotation: number[];
  /** Photo pixels per cm. */
  scale: number;
  /**
   * Camera-frame translation in photo pixels (y up: photo y = −(s R X + t).y). Its z puts the mean depth of the 68
   * landmarks at 0, the network volume's depth origin.
   */
  translation: Vec3;
  /** Yaw, pitch, roll of `rotation` (see landmarks/pose.ts). */
  pose: Pose;
  /** RMS distance of the fitted points in x, y, photo pixels. */
  rms: number;
}

/** A set of model points: P = X0 + B c per point, with B stored [point][axis][mode]. */
interface PointSet {
  n: number;
  /** Weight of each point's residual. */
  pw: Float64Array;
  x0: Float64Array;
  b: Float64Array;
  /** The 6 Gram matrices G_aa (3) and G_ab + G_abᵀ (a < b) (each m × m); made on the set's first fit (`gramOf`). */
  gram?: Float64Array[];
}

const PAIRS: [number, number][] = [[0, 0], [1, 1], [2, 2], [0, 1], [0, 2], [1, 2]];

/** Face Mesh's face-oval vertices (MediaPipe's FACE_OVAL connections). */
const FACE_OVAL = new Set([
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
  152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
]);

/**
 * Fits the ICT face to a face's points. Construct once per basis (it precomputes the point bases and their Gram
 * matrices); `fit()` holds no state between calls.
 *
 * ```ts
 * const fitter = new PriorFitter(basis, { identityModes: 60 });
 * const { pose, identity } = fitter.fit({ mesh468 });
 * ```
 */
export class PriorFitter {
  readonly basis: IctBasis;
  readonly identityModes: number;
  readonly modes: number;
  private readonly sets: { facemesh: PointSet; landmarks68: PointSet; aflw68: PointSet };

  constructor(basis: IctBasis, options: { identityModes?: number; ovalWeight?: number } = {}) {
    this.basis = basis;
    this.identityModes = Math.min(options.identityModes ?? PRIOR_DEFAULTS.identityModes, basis.identityModes);
    this.modes = this.identityModes + basis.expressionNames.length;
    const ovalWeight = options.ovalWeight ?? PRIOR_DEFAULTS.ovalWeight;
    const lmIds: number[] = [];
    const lmW: number[] = [];
    for (const v of basis.landmarks68) {
      lmIds.push(v, v, v);
      lmW.push(1, 0, 0);
    }
    this.sets = {
      facemesh: this.pointSet(FACEMESH_ICT_IDS, FACEMESH_ICT_WEIGHTS, (i) => (FACE_OVAL.has(i) ? ovalWeight : 1)),
      landmarks68: this.pointSet(lmIds, lmW, () => 1),
      aflw68: this.pointSet(Array.from(LANDMARKS68_AFLW.vertex, (v) => [v, v, v]).flat(), lmW, () => 1, LANDMARKS68_AFLW.offset),
    };
  }

  /** Point i = Σ_k weights[3i+k] · vertex ids[3i+k] (+ offset[3i..3i+2], cm, ICT's frame). */
  private pointSet(ids: readonly number[], weights: readonly number[], weightOf: (i: number) => number, offset?: ArrayLike<number>): PointSet {
    const { basis, identityModes: K, modes: m } = this;
    const V = basis.vertexCount;
    const n = ids.length / 3;
    const pw = Float64Array.from({ length: n }, (_, i) => weightOf(i));
    const x0 = new Float64Array(n * 3);
    const b = new Float64Array(n * 3 * m);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) {
        const v = ids[3 * i + k], w = weights[3 * i + k];
        if (w === 0) continue;
        for (let a = 0; a < 3; a++) {
          x0[3 * i + a] += w * basis.neutral[3 * v + a];
          const row = (3 * i + a) * m;
          for (let j = 0; j < K; j++) b[row + j] += w * basis.identity[(j * V + v) * 3 + a];
          for (let j = 0; j < m - K; j++) b[row + K + j] += w * basis.expression[(j * V + v) * 3 + a];
        }
      }
      if (offset) for (let a = 0; a < 3; a++) x0[3 * i + a] += offset[3 * i + a];
    }
    return { n, pw, x0, b };
  }

  /**
   * The Gram matrices of a point set's extended columns [X0 | B | I3] (scale, scaled weights, model-frame
   * translation), made on its first fit: a fit to Face Mesh's points never pays for the 68 landmarks' and back.
   * G_aa is symmetric: its upper triangle is summed and mirrored.
   */
  private gramOf(set: PointSet): Float64Array[] {
    if (set.gram) return set.gram;
    const { n, pw, x0, b } = set;
    const m = this.modes;
    const q = m + 4;
    set.gram = PAIRS.map(([a, c]) => {
      const g = new Float64Array(q * q);
      const ra = new Float64Array(q), rc = new Float64Array(q);
      const upper = a === c;
      for (let i = 0; i < n; i++) {
        const w = pw[i];
        ra[0] = w * x0[3 * i + a];
        rc[0] = x0[3 * i + c];
        const oa = (3 * i + a) * m, oc = (3 * i + c) * m;
        for (let j = 0; j < m; j++) {
          ra[j + 1] = w * b[oa + j];
          rc[j + 1] = b[oc + j];
        }
        for (let k = 0; k < 3; k++) {
          ra[m + 1 + k] = k === a ? w : 0;
          rc[m + 1 + k] = k === c ? 1 : 0;
        }
        for (let r = 0; r < q; r++) {
          const x = ra[r];
          if (x === 0) continue;
          const o = r * q;
          for (let k = upper ? r : 0; k < q; k++) g[o + k] += x * rc[k];
        }
      }
      if (upper) {
        for (let r = 0; r < q; r++) for (let k = r + 1; k < q; k++) g[k * q + r] = g[r * q + k];
      } else {
        for (let r = 0; r < q; r++) {
          for (let k = r; k < q; k++) {
            const sum = g[r * q + k] + g[k * q + r];
            g[r * q + k] = sum;
            g[k * q + r] = sum;
          }
        }
      }
      return g;
    });
    return set.gram;
  }

  /** Fits to Face Mesh's points when given (and 468 long), else to the benchmark's 68, else to ICT's 68. */
  /** The targets' point set and the targets in the camera frame (y up, z toward the camera). */
  private targetsOf(targets: PriorTargets): { source: PriorFit['source']; set: PointSet; P: Float64Array } {
    const useMesh = targets.mesh468 !== undefined && targets.mesh468.length >= 468;
    const useAflw = !useMesh && targets.aflw68?.length === 68;
    if (!useMesh && !useAflw && !(targets.landmarks68 && targets.landmarks68.length === 68)) {
      throw new Error('PriorFitter.fit needs 468 Face Mesh points or 68 landmarks');
    }
    const source: PriorFit['source'] = useMesh ? 'facemesh' : useAflw ? 'aflw68' : 'landmarks68';
    const set = this.sets[source];
    const src = (useMesh ? targets.mesh468 : useAflw ? targets.aflw68 : targets.landmarks68) as readonly Vec3[];
    const P = new Float64Array(set.n * 3);
    for (let i = 0; i < set.n; i++) {
      P[3 * i] = src[i][0];
      P[3 * i + 1] = -src[i][1];
      P[3 * i + 2] = useMesh ? -src[i][2] : src[i][2];
    }
    return { source, set, P };
  }

  /**
   * The pose of the mean face's points laid onto the targets by a similarity (Horn): where a fit starts, in a tenth
   * of a millisecond instead of a fit's few. `fitPrior` judges the yaw by it when it chooses between Face Mesh and the
   * landmark network (on AFLW2000-3D fit/ it falls on the same side of 30° as the fit's own yaw for all 487 faces).
   *
   * ```ts
   * fitter.meanFacePose({ aflw68: network68 }).yaw;
   * ```
   */
  meanFacePose(targets: PriorTargets): Pose {
    const { set, P } = this.targetsOf(targets);
    const pts = (arr: Float64Array): Vec3[] => Array.from({ length: set.n }, (_, i): Vec3 => [arr[3 * i], arr[3 * i + 1], arr[3 * i + 2]]);
    return anglesFromRotation(fitSimilarity(pts(set.x0), pts(P)).rotation);
  }

  fit(targets: PriorTargets, options: PriorFitOptions = {}): PriorFit {
    const { source, set, P } = this.targetsOf(targets);
    const useMesh = source === 'facemesh';
    const { n } = set;
    const dw = options.depthWeight ?? (useMesh ? PRIOR_DEFAULTS.depthWeightFaceMesh : PRIOR_DEFAULTS.depthWeightLandmarks);
    const lamId = options.identityPrior ?? PRIOR_DEFAULTS.identityPrior;
    const lamEx = options.expressionPrior ?? PRIOR_DEFAULTS.expressionPrior;
    const iterations = options.iterations ?? PRIOR_DEFAULTS.iterations;
    const m = this.modes, K = this.identityModes, q = m + 4;
    const w0 = new Float64Array(K);
    if (options.identityCenter) for (let j = 0; j < Math.min(K, options.identityCenter.length); j++) w0[j] = options.identityCenter[j];
    let w0sq = 0;
    for (let j = 0; j < K; j++) w0sq += w0[j] * w0[j];

    // work arrays, made once. Unknowns of a step: θ = [s, u = s·c (m), t' = Rᵀt (3)] and ω (3), the rotation increment
    const c = new Float64Array(m);
    const X = new Float64Array(n * 3);
    const N = q + 3;
    const A = new Float64Array(N * N);
    const rhs = new Float64Array(N);
    const theta = new Float64Array(N);
    // the expression weights are the bounded block; the rest (scale, identity, translation, rotation) is eliminated
    const solver = new SchurSolver(N, Array.from({ length: m - K }, (_, j) => 1 + K + j));
    const lo = new Float64Array(N), hi = new Float64Array(N);
    const CN = new Float64Array(m); // a step's candidate weights and points
    const XN = new Float64Array(n * 3);
    const Mm = new Array<number>(9);

    // initial pose: the start's, or the mean face's points onto the targets
    const pts = (arr: Float64Array): Vec3[] => Array.from({ length: n }, (_, i): Vec3 => [arr[3 * i], arr[3 * i + 1], arr[3 * i + 2]]);
    const st = options.start;
    const sim = st ? { rotation: Array.from(st.rotation), scale: st.scale, translation: [...st.translation] } : fitSimilarity(pts(set.x0), pts(P));
    const R = sim.rotation.slice();
    let s = sim.scale;
    const t = sim.translation.slice() as Vec3;
    if (st) {
      for (let j = 0; j < K; j++) c[j] = st.identity[j] ?? 0;
      for (let j = 0; j < m - K; j++) c[K + j] = st.expression[j] ?? 0;
      evaluatePoints(set, c, X);
    } else X.set(set.x0);
    let current = objective(X, P, set.pw, dw, R, t, s) + regulariser(c, w0, n, K, lamId, lamEx, s);
    let damping = 1e-3;

    for (let it = 0; it < iterations; it++) {
      const before = current;
      // One Gauss–Newton step on the whole problem, linearised in the rotation only (the rest is linear):
      //   r_i = D (R Ã_i θ − [Y_i]× ω − P_i),  Ã_i = [X0_i | B_i | I3],  Y_i = s R X_i (current),
      // plus n λ |u|². The θθ block is Σ_ab M_ab G_ab with M = Rᵀ D² R and the Gram matrices of Ã, precomputed.
      for (let a = 0; a < 3; a++) {
        for (let k = 0; k < 3; k++) Mm[a * 3 + k] = R[a] * R[k] + R[3 + a] * R[3 + k] + dw * dw * R[6 + a] * R[6 + k];
      }
      A.fill(0);
      rhs.fill(0);
      const coef = [Mm[0], Mm[4], Mm[8], Mm[1], Mm[2], Mm[5]];
      const gram = this.gramOf(set);
      // the six Gram terms in one pass (A is 0 here: the same sums in the same order as six passes)
      {
        const [g0, g1, g2, g3, g4, g5] = gram;
        const [k0, k1, k2, k3, k4, k5] = coef;
        for (let r = 0; r < q; r++) {
          const ro = r * N, go = r * q;
          for (let k = 0; k < q; k++) {
            const i = go + k;
            A[ro + k] = k0 * g0[i] + k1 * g1[i] + k2 * g2[i] + k3 * g3[i] + k4 * g4[i] + k5 * g5[i];
          }
        }
      }
      for (let j = 0; j < m; j++) A[(j + 1) * N + j + 1] += n * (j < K ? lamId : lamEx);
      // the centre: n λ |u − s w₀|² couples the identity to the scale (θ₀ = s)
      if (w0sq > 0) {
        A[0] += n * lamId * w0sq;
        for (let j = 0; j < K; j++) {
          A[j + 1] -= n * lamId * w0[j];
          A[(j + 1) * N] -= n * lamId * w0[j];
        }
      }
      // t' along the camera's z is unobservable without depth: a tiny ridge keeps the system definite
      for (let a = 0; a < 3; a++) A[(m + 1 + a) * N + m + 1 + a] += 1e-6 * n;
      const d2 = [1, 1, dw * dw];
      for (let i = 0; i < n; i++) {
        const wi = set.pw[i];
        const x = X[3 * i], y = X[3 * i + 1], z = X[3 * i + 2];
        // Y = s R X, camera frame (the rotation turns the face about its own origin; t is a separate unknown)
        const Y0 = s * (R[0] * x + R[1] * y + R[2] * z);
        const Y1 = s * (R[3] * x + R[4] * y + R[5] * z);
        const Y2 = s * (R[6] * x + R[7] * y + R[8] * z);
        // J_ω = −[Y]× (camera frame), weighted by D²: Wc = D² J_ω. Its 9 entries, D², the ωω block, the ω rhs and
        // W = Rᵀ D² J written out in locals (the same products and sums in the same order as the loops over a, k, r)
        const J0 = 0, J1 = Y2, J2 = -Y1, J3 = -Y2, J4 = 0, J5 = Y0, J6 = Y1, J7 = -Y0, J8 = 0;
        const D0 = d2[0], D1 = d2[1], D2 = d2[2];
        const P0 = P[3 * i], P1 = P[3 * i + 1], P2 = P[3 * i + 2];
        A[(q + 0) * N + q + 0] += wi * (((0 + J0 * D0 * J0) + J3 * D1 * J3) + J6 * D2 * J6);
        A[(q + 0) * N + q + 1] += wi * (((0 + J0 * D0 * J1) + J3 * D1 * J4) + J6 * D2 * J7);
        A[(q + 0) * N + q + 2] += wi * (((0 + J0 * D0 * J2) + J3 * D1 * J5) + J6 * D2 * J8);
        rhs[q + 0] += wi * (((0 + J0 * D0 * P0) + J3 * D1 * P1) + J6 * D2 * P2);
        A[(q + 1) * N + q + 0] += wi * (((0 + J1 * D0 * J0) + J4 * D1 * J3) + J7 * D2 * J6);
        A[(q + 1) * N + q + 1] += wi * (((0 + J1 * D0 * J1) + J4 * D1 * J4) + J7 * D2 * J7);
        A[(q + 1) * N + q + 2] += wi * (((0 + J1 * D0 * J2) + J4 * D1 * J5) + J7 * D2 * J8);
        rhs[q + 1] += wi * (((0 + J1 * D0 * P0) + J4 * D1 * P1) + J7 * D2 * P2);
        A[(q + 2) * N + q + 0] += wi * (((0 + J2 * D0 * J0) + J5 * D1 * J3) + J8 * D2 * J6);
        A[(q + 2) * N + q + 1] += wi * (((0 + J2 * D0 * J1) + J5 * D1 * J4) + J8 * D2 * J7);
        A[(q + 2) * N + q + 2] += wi * (((0 + J2 * D0 * J2) + J5 * D1 * J5) + J8 * D2 * J8);
        rhs[q + 2] += wi * (((0 + J2 * D0 * P0) + J5 * D1 * P1) + J8 * D2 * P2);
        // model-frame rows: Rᵀ D² P (θ rhs) and Rᵀ D² J (θω block)
        const dp0 = P0, dp1 = P1, dp2 = D2 * P2;
        const m0 = wi * (R[0] * dp0 + R[3] * dp1 + R[6] * dp2);
        const m1 = wi * (R[1] * dp0 + R[4] * dp1 + R[7] * dp2);
        const m2 = wi * (R[2] * dp0 + R[5] * dp1 + R[8] * dp2);
        const W0 = wi * (R[0] * J0 + R[3] * J3 + D2 * R[6] * J6);
        const W1 = wi * (R[0] * J1 + R[3] * J4 + D2 * R[6] * J7);
        const W2 = wi * (R[0] * J2 + R[3] * J5 + D2 * R[6] * J8);
        const W3 = wi * (R[1] * J0 + R[4] * J3 + D2 * R[7] * J6);
        const W4 = wi * (R[1] * J1 + R[4] * J4 + D2 * R[7] * J7);
        const W5 = wi * (R[1] * J2 + R[4] * J5 + D2 * R[7] * J8);
        const W6 = wi * (R[2] * J0 + R[5] * J3 + D2 * R[8] * J6);
        const W7 = wi * (R[2] * J1 + R[5] * J4 + D2 * R[8] * J7);
        const W8 = wi * (R[2] * J2 + R[5] * J5 + D2 * R[8] * J8);
        // θ = 0: the X0 column; 1..m: B; m+1..m+3: I3. The θω block is accumulated in its column rows (q + k)
        // only and mirrored once after the loop.
        const x0 = set.x0, bb = set.b;
        {
          const c0 = x0[3 * i], c1 = x0[3 * i + 1], c2 = x0[3 * i + 2];
          rhs[0] += c0 * m0 + c1 * m1 + c2 * m2;
          A[q * N] += c0 * W0 + c1 * W3 + c2 * W6;
          A[(q + 1) * N] += c0 * W1 + c1 * W4 + c2 * W7;
          A[(q + 2) * N] += c0 * W2 + c1 * W5 + c2 * W8;
        }
        const o0 = 3 * i * m, o1 = o0 + m, o2 = o1 + m;
        const r0 = q * N + 1, r1 = (q + 1) * N + 1, r2 = (q + 2) * N + 1;
        for (let j = 0; j < m; j++) {
          const c0 = bb[o0 + j], c1 = bb[o1 + j], c2 = bb[o2 + j];
          rhs[j + 1] += c0 * m0 + c1 * m1 + c2 * m2;
          A[r0 + j] += c0 * W0 + c1 * W3 + c2 * W6;
          A[r1 + j] += c0 * W1 + c1 * W4 + c2 * W7;
          A[r2 + j] += c0 * W2 + c1 * W5 + c2 * W8;
        }
        rhs[m + 1] += m0;
        rhs[m + 2] += m1;
        rhs[m + 3] += m2;
        A[q * N + m + 1] += W0; A[(q + 1) * N + m + 1] += W1; A[(q + 2) * N + m + 1] += W2;
        A[q * N + m + 2] += W3; A[(q + 1) * N + m + 2] += W4; A[(q + 2) * N + m + 2] += W5;
        A[q * N + m + 3] += W6; A[(q + 1) * N + m + 3] += W7; A[(q + 2) * N + m + 3] += W8;
      }
      // mirror the θω block (kept in rows q…q+2) into columns q…q+2
      for (let k = 0; k < 3; k++) for (let j = 0; j < q; j++) A[j * N + q + k] = A[(q + k) * N + j];
      // bounds, which scale with s (the current s: it moves little in a step); ω free
      lo[0] = 1e-6 * s;
      hi[0] = Infinity;
      for (let j = 0; j < m; j++) {
        lo[j + 1] = j < K ? -5 * s : 0;
        hi[j + 1] = j < K ? 5 * s : s;
      }
      for (let a = 0; a < 6; a++) {
        lo[m + 1 + a] = -Infinity;
        hi[m + 1 + a] = Infinity;
      }
      // Levenberg–Marquardt on ω: retry with more damping when the step does not pay
      const trace = A[q * N + q] + A[(q + 1) * N + q + 1] + A[(q + 2) * N + q + 2];
      let accepted = false;
      for (let tries = 0; tries < 6 && !accepted; tries++) {
        const ridge = damping * trace / 3 + 1e-12;
        for (let a = 0; a < 3; a++) A[(q + a) * N + q + a] += ridge;
        theta[0] = s;
        for (let j = 0; j < m; j++) theta[j + 1] = s * c[j];
        for (let a = 0; a < 3; a++) theta[m + 1 + a] = R[a] * t[0] + R[3 + a] * t[1] + R[6 + a] * t[2];
        theta[q] = theta[q + 1] = theta[q + 2] = 0;
        solver.solve(A, rhs, lo, hi, theta);
        for (let j = 0; j < N; j++) theta[j] = Math.min(Math.max(theta[j], lo[j]), hi[j]);
        for (let a = 0; a < 3; a++) A[(q + a) * N + q + a] -= ridge;
        // the candidate: rotation exp([ω]×) R; θ gives s, c, and t = R_new t'
        const Rn = rotate(R, theta[q], theta[q + 1], theta[q + 2]);
        const sn = theta[0];
        for (let j = 0; j < m; j++) CN[j] = Math.min(Math.max(theta[j + 1] / sn, j < K ? -5 : 0), j < K ? 5 : 1);
        // t' was solved in the old rotation's model frame: t = R t'
        const tn: Vec3 = [0, 1, 2].map((r) => R[r * 3] * theta[m + 1] + R[r * 3 + 1] * theta[m + 2] + R[r * 3 + 2] * theta[m + 3]) as Vec3;
        evaluatePoints(set, CN, XN);
        const cost = objective(XN, P, set.pw, dw, Rn, tn, sn) + regulariser(CN, w0, n, K, lamId, lamEx, sn);
        if (cost <= current || tries === 5) {
          if (cost <= current) {
            for (let k = 0; k < 9; k++) R[k] = Rn[k];
            s = sn;
            for (let a = 0; a < 3; a++) t[a] = tn[a];
            for (let j = 0; j < m; j++) c[j] = CN[j];
            X.set(XN);
            damping = Math.max(damping / 3, 1e-6);
            current = cost;
          }
          accepted = true;
        } else {
          damping *= 10;
        }
      }
      // converged: the last step gained less than 0.1% of the objective
      if (before - current < 1e-3 * before) break;
    }
    // z origin: the 68 landmarks' mean depth at 0
    const lm = this.sets.landmarks68;
    let zMean = 0;
    for (let i = 0; i < 68; i++) {
      let z = 0;
      for (let a = 0; a < 3; a++) {
        let v = lm.x0[3 * i + a];
        const o = (3 * i + a) * m;
        for (let j = 0; j < m; j++) v += lm.b[o + j] * c[j];
        z += R[6 + a] * v;
      }
      zMean += (s * z) / 68;
    }
    t[2] = -zMean;
    let err = 0;
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < 2; a++) {
        const v = s * (R[3 * a] * X[3 * i] + R[3 * a + 1] * X[3 * i + 1] + R[3 * a + 2] * X[3 * i + 2]) + t[a] - P[3 * i + a];
        err += v * v;
      }
    }
    const identity = new Float32Array(this.basis.identityModes);
    for (let j = 0; j < K; j++) identity[j] = c[j];
    const expression = new Float32Array(m - K);
    for (let j = 0; j < m - K; j++) expression[j] = c[K + j];
    return {
      source,
      identity,
      expression,
      rotation: R,
      scale: s,
      translation: t,
      pose: anglesFromRotation(R),
      rms: Math.sqrt(err / n),
    };
  }
}


/** n λ |u − s w₀|² in pixel units (u = s·c; w₀ the identity centre, 0 for the expressions). */
function regulariser(c: Float64Array, w0: Float64Array, n: number, K: number, lamId: number, lamEx: number, s: number): number {
  let r = 0;
  for (let j = 0; j < c.length; j++) {
    const d = j < K ? c[j] - w0[j] : c[j];
    r += (j < K ? lamId : lamEx) * d * d;
  }
  return n * s * s * r;
}

/** exp([ω]×) R (Rodrigues), a new matrix. */
function rotate(R: readonly number[], wx: number, wy: number, wz: number): number[] {
  const th = Math.hypot(wx, wy, wz);
  if (th < 1e-15) return R.slice();
  const kx = wx / th, ky = wy / th, kz = wz / th;
  const cs = Math.cos(th), sn = Math.sin(th), vc = 1 - cs;
  const Q = [
    cs + kx * kx * vc, kx * ky * vc - kz * sn, kx * kz * vc + ky * sn,
    ky * kx * vc + kz * sn, cs + ky * ky * vc, ky * kz * vc - kx * sn,
    kz * kx * vc - ky * sn, kz * ky * vc + kx * sn, cs + kz * kz * vc,
  ];
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let k = 0; k < 3; k++) for (let p = 0; p < 3; p++) out[r * 3 + k] += Q[r * 3 + p] * R[p * 3 + k];
  return out;
}
function objective(X: Float64Array, P: Float64Array, pw: Float64Array, dw: number, R: number[], t: number[], s: number): number {
  let e = 0;
  for (let i = 0; i < pw.length; i++) {
    for (let a = 0; a < 3; a++) {
      const v = s * (R[3 * a] * X[3 * i] + R[3 * a + 1] * X[3 * i + 1] + R[3 * a + 2] * X[3 * i + 2]) + t[a] - P[3 * i + a];
      e += pw[i] * (a === 2 ? dw * dw : 1) * v * v;
    }
  }
  return e;
}

/**
 * min ½ xᵀAx − bᵀx with bounds on a block E of the variables only (the others are free): the free block F is
 * eliminated once (Cholesky of A_FF), leaving a small bounded problem in E on the Schur complement
 * S = A_EE − A_EF A_FF⁻¹ A_FE, solved by `BoundedSolver` (warm-started across calls). The caller clamps F to any
 * bounds it has (here the identity's ±5, which a face rarely reaches).
 */
export class SchurSolver {
  private readonly F: Int32Array;
  private readonly E: Int32Array;
  private readonly L: Float64Array;
  private readonly Z: Float64Array;
  private readonly zb: Float64Array;
  private readonly y: Float64Array;
  private readonly S: Float64Array;
  private readonly bs: Float64Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly e: Float64Array;
  private readonly inner: BoundedSolver;
  constructor(private readonly q: number, bounded: readonly number[]) {
    const isE = new Uint8Array(q);
    for (const j of bounded) isE[j] = 1;
    this.E = Int32Array.from(bounded);
    this.F = Int32Array.from({ length: q }, (_, j) => j).filter((j) => !isE[j]);
    const f = this.F.length, e = this.E.length;
    this.L = new Float64Array(f * f);
    this.Z = new Float64Array(f * e);
    this.zb = new Float64Array(f);
    this.y = new Float64Array(f);
    this.S = new Float64Array(e * e);
    this.bs = new Float64Array(e);
    this.lo = new Float64Array(e);
    this.hi = new Float64Array(e);
    this.e = new Float64Array(e);
    this.inner = new BoundedSolver(e);
  }

  /** Solves into x (x's incoming bounded values start the inner solver). */
  solve(A: Float64Array, b: Float64Array, lo: Float64Array, hi: Float64Array, x: Float64Array): void {
    const { q, F, E, L, Z, zb, S, bs } = this;
    const f = F.length, ne = E.length;
    cholesky(A, q, F, L);
    // with A_FF = L Lᵀ: Z (E-major: row k = L⁻¹ A_F,E[k]) and zb = L⁻¹ b_F, forward substitutions only; then
    // S = A_EE − Zᵀ Z and bs = b_E − Zᵀ zb, and after the bounded solve x_F = L⁻ᵀ (zb − Z e)
    for (let k = 0; k < ne; k++) {
      const row = Z.subarray(k * f, (k + 1) * f);
      for (let r = 0; r < f; r++) row[r] = A[F[r] * q + E[k]];
      forward(L, f, row);
    }
    for (let r = 0; r < f; r++) zb[r] = b[F[r]];
    forward(L, f, zb);
    for (let i = 0; i < ne; i++) {
      const zi = i * f;
      let v = b[E[i]];
      for (let r = 0; r < f; r++) v -= Z[zi + r] * zb[r];
      bs[i] = v;
      for (let k = i; k < ne; k++) {
        const zk = k * f;
        let w = A[E[i] * q + E[k]];
        for (let r = 0; r < f; r++) w -= Z[zi + r] * Z[zk + r];
        S[i * ne + k] = w;
        S[k * ne + i] = w;
      }
      this.lo[i] = lo[E[i]];
      this.hi[i] = hi[E[i]];
      this.e[i] = x[E[i]];
    }
    this.inner.solve(S, bs, this.lo, this.hi, this.e);
    for (let i = 0; i < ne; i++) x[E[i]] = this.e[i];
    const y = this.y;
    for (let r = 0; r < f; r++) y[r] = zb[r];
    for (let k = 0; k < ne; k++) {
      const ek = this.e[k], zk = k * f;
      if (ek !== 0) for (let r = 0; r < f; r++) y[r] -= Z[zk + r] * ek;
    }
    // back substitution with Lᵀ (column r of L read down its rows)
    for (let r = f - 1; r >= 0; r--) {
      let v = y[r];
      for (let p = r + 1; p < f; p++) v -= L[p * f + r] * y[p];
      y[r] = v / L[r * f + r];
    }
    for (let r = 0; r < f; r++) x[F[r]] = y[r];
  }
}

/** Solves L y = v in place (L lower, row-major f × f). */
function forward(L: Float64Array, f: number, v: Float64Array): void {
  for (let r = 0; r < f; r++) {
    let s = v[r];
    const ro = r * f;
    for (let p = 0; p < r; p++) s -= L[ro + p] * v[p];
    v[r] = s / L[ro + r];
  }
}

/** Cholesky factor (row-major, lower) of A restricted to the variables `idx`. */
export function cholesky(A: Float64Array, q: number, idx: Int32Array, L: Float64Array): void {
  const f = idx.length;
  for (let r = 0; r < f; r++) {
    const jr = idx[r];
    for (let k = 0; k <= r; k++) {
      let sum = A[jr * q + idx[k]];
      const ro = r * f, ko = k * f;
      for (let p = 0; p < k; p++) sum -= L[ro + p] * L[ko + p];
      if (r === k) L[ro + r] = Math.sqrt(Math.max(sum, 1e-12));
      else L[ro + k] = sum / L[ko + k];
    }
  }
}

/** Solves L Lᵀ x = y in place (Lt = Lᵀ, row-major, for a contiguous back substitution). */
export function cholSolve(L: Float64Array, Lt: Float64Array, f: number, y: Float64Array): void {
  for (let r = 0; r < f; r++) {
    let v = y[r];
    const ro = r * f;
    for (let p = 0; p < r; p++) v -= L[ro + p] * y[p];
    y[r] = v / L[ro + r];
  }
  for (let r = f - 1; r >= 0; r--) {
    let v = y[r];
    const ro = r * f;
    for (let p = r + 1; p < f; p++) v -= Lt[ro + p] * y[p];
    y[r] = v / Lt[ro + r];
  }
}

/**
 * Solves A x = b for a small dense symmetric positive-definite A (n × n, row-major), one x per right-hand side, by
 * the fit's Cholesky (src/prior/surface-field.ts, src/prior/silhouette.ts).
 */
export function solveSpd(A: Float64Array, n: number, b: readonly Float64Array[]): Float64Array[] {
  const L = new Float64Array(n * n), Lt = new Float64Array(n * n);
  cholesky(A, n, Int32Array.from({ length: n }, (_, i) => i), L);
  for (let r = 0; r < n; r++) for (let k = 0; k <= r; k++) Lt[k * n + r] = L[r * n + k];
  return b.map((rhs) => {
    const x = Float64Array.from(rhs);
    cholSolve(L, Lt, n, x);
    return x;
  });
}

/**
 * min ½ θᵀAθ − bᵀθ subject to lo ≤ θ ≤ hi, A symmetric positive definite: a primal active-set method. From a
 * feasible point, solve with the free variables (Cholesky, the fixed ones held at their bounds); step toward that
 * solution as far as the bounds allow, fixing the variable that blocks; at a free optimum release the fixed variable
 * whose gradient pulls it inside most, until none does. The active set is kept between calls (warm start: the
 * shape step repeats with slowly changing matrices). Work arrays are made once per solver.
 */
export class BoundedSolver {
  private readonly L: Float64Array;
  private readonly free: Int32Array;
  private readonly y: Float64Array;
  private readonly z: Float64Array;
  private readonly fixed: Uint8Array;
  constructor(private readonly q: number) {
    this.L = new Float64Array(q * q);
    this.free = new Int32Array(q);
    this.y = new Float64Array(q);
    this.z = new Float64Array(q);
    this.fixed = new Uint8Array(q);
  }

  /** Solves into x; x's incoming values are the starting point (clamped into the bounds). */
  solve(A: Float64Array, b: Float64Array, lo: Float64Array, hi: Float64Array, x: Float64Array, maxRounds = 60): void {
    const { q, fixed, z } = this;
    for (let j = 0; j < q; j++) {
      x[j] = Math.min(Math.max(x[j], lo[j]), hi[j]);
      if (fixed[j]) x[j] = x[j] - lo[j] < hi[j] - x[j] ? lo[j] : hi[j];
    }
    for (let round = 0; round < maxRounds; round++) {
      this.solveFree(A, b, x, z);
      // step from x toward z, as far as the bounds allow
      let alpha = 1, block = -1;
      for (let j = 0; j < q; j++) {
        if (fixed[j]) continue;
        const d = z[j] - x[j];
        if (d < 0 && z[j] < lo[j]) {
          const a = (lo[j] - x[j]) / d;
          if (a < alpha) {
            alpha = a;
            block = j;
          }
        } else if (d > 0 && z[j] > hi[j]) {
          const a = (hi[j] - x[j]) / d;
          if (a < alpha) {
            alpha = a;
            block = j;
          }
        }
      }
      for (let j = 0; j < q; j++) if (!fixed[j]) x[j] += Math.max(alpha, 0) * (z[j] - x[j]);
      if (block >= 0) {
        fixed[block] = 1;
        x[block] = z[block] < lo[block] ? lo[block] : hi[block];
        continue;
      }
      // a free optimum: release the fixed variable whose gradient pulls it inside most
      let release = -1, pull = 1e-12;
      for (let j = 0; j < q; j++) {
        if (!fixed[j]) continue;
        let g = -b[j];
        for (let k = 0; k < q; k++) g += A[j * q + k] * x[k];
        const inward = x[j] <= lo[j] ? -g : x[j] >= hi[j] ? g : Math.abs(g);
        if (inward > pull) {
          pull = inward;
          release = j;
        }
      }
      if (release < 0) return;
      fixed[release] = 0;
    }
  }

  /** Solves for the free variables with the fixed ones held at their values in x. */
  private solveFree(A: Float64Array, b: Float64Array, x: Float64Array, out: Float64Array): void {
    const { q, L, free, y, fixed } = this;
    let f = 0;
    for (let j = 0; j < q; j++) if (!fixed[j]) free[f++] = j;
    // reduced right-hand side
    for (let r = 0; r < f; r++) {
      const j = free[r];
      let v = b[j];
      for (let k = 0; k < q; k++) if (fixed[k]) v -= A[j * q + k] * x[k];
      y[r] = v;
    }
    // Cholesky of the free block, in place in L (row-major f × f)
    for (let r = 0; r < f; r++) {
      const jr = free[r];
      for (let k = 0; k <= r; k++) {
        let sum = A[jr * q + free[k]];
        for (let p = 0; p < k; p++) sum -= L[r * f + p] * L[k * f + p];
        if (r === k) L[r * f + r] = Math.sqrt(Math.max(sum, 1e-12));
        else L[r * f + k] = sum / L[k * f + k];
      }
    }
    // forward, then back substitution
    for (let r = 0; r < f; r++) {
      let v = y[r];
      for (let p = 0; p < r; p++) v -= L[r * f + p] * y[p];
      y[r] = v / L[r * f + r];
    }
    for (let r = f - 1; r >= 0; r--) {
      let v = y[r];
      for (let p = r + 1; p < f; p++) v -= L[p * f + r] * y[p];
      y[r] = v / L[r * f + r];
    }
    for (let j = 0; j < q; j++) out[j] = x[j];
    for (let r = 0; r < f; r++) out[free[r]] = y[r];
  }
}

/** X = X0 + B c for every point of the set. */
function evaluatePoints(set: PointSet, c: Float64Array, X: Float64Array): void {
  const { x0, b } = set;
  const m = c.length;
  for (let r = 0; r < x0.length; r++) {
    let v = x0[r];
    const o = r * m;
    for (let j = 0; j < m; j++) v += b[o + j] * c[j];
    X[r] = v;
  }
}
