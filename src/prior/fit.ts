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
 *   Σ_i |D (s R X_i(c) + t − P_i)|² / s²  +  n · (λ_id |w|² + λ_e |e|²),   e ∈ [0, 1],
 * with D = diag(1, 1, depthWeight): Face Mesh's z measured no better than a flat guess, so it gets a low weight
 * (enough to settle the pose's depth ambiguity, not the shape); the network's z counts fully. Residuals are
 * measured in cm (÷ s), so the regularisers do not depend on the face's size in the photo.
 *
 * ## Method
 * Initial pose: a similarity (Horn) of the mean face's points onto the targets in 3D. Then alternate:
 *  - shape: with the pose fixed the objective is quadratic in c. Its normal matrix is
 *    `Σ_ab M_ab G_ab + λ` with M = Rᵀ D² R (3×3) and G_ab = Σ_i B_i[a]ᵀ B_i[b] precomputed once per point set, so
 *    a step costs O(6·m²) for the matrix instead of O(n·m²); the bounded least squares is solved by projected
 *    Gauss–Seidel;
 *  - pose: Gauss–Newton on (rotation, log s, t) with the shape fixed.
 * No allocation inside the loops: the work arrays are made once per fit.
 */
import { anglesFromRotation, fitSimilarity } from '../landmarks/pose.ts';
import type { Pose, Vec3 } from '../types.ts';
import type { IctBasis } from './basis.ts';
import { FACEMESH_ICT_IDS, FACEMESH_ICT_WEIGHTS } from './correspondence.ts';

/** What to fit: Face Mesh's points, or 68 3D landmarks (iBUG order). */
export interface PriorTargets {
  /**
   * Face Mesh's 468 points: x, y in photo pixels, z MediaPipe's relative depth in pixels (negative toward the
   * camera), as `Detection.mesh468`.
   */
  mesh468?: readonly Vec3[];
  /** 68 landmarks in the photo frame (x right, y down, z toward the camera), e.g. the network's. */
  landmarks68?: readonly Vec3[];
}

export interface PriorFitOptions {
  /** Identity modes fitted (default `PRIOR_DEFAULTS.identityModes`, at most the basis' 100). */
  identityModes?: number;
  /** λ_id: weight of |w|² per point (default `PRIOR_DEFAULTS.identityPrior`). */
  identityPrior?: number;
  /** λ_e: weight of |e|² per point (default `PRIOR_DEFAULTS.expressionPrior`). */
  expressionPrior?: number;
  /** Weight of the targets' z against x, y (default: 0.1 for Face Mesh, 1 for 68 landmarks). */
  depthWeight?: number;
  /** Shape/pose alternations (default 6). */
  iterations?: number;
}

/** The defaults of the fit, chosen on synthetic renders (see models/README.md, "Shape prior"). */
export const PRIOR_DEFAULTS = {
  identityModes: 60,
  identityPrior: 0.004,
  expressionPrior: 0.002,
  depthWeightFaceMesh: 0.1,
  depthWeightLandmarks: 1,
  iterations: 6,
} as const;

export interface PriorFit {
  /** Which targets were fitted. */
  source: 'facemesh' | 'landmarks68';
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
  x0: Float64Array;
  b: Float64Array;
  /** The 6 Gram matrices G_aa (3) and G_ab + G_abᵀ (a < b) (each m × m). */
  gram: Float64Array[];
}

const PAIRS: [number, number][] = [[0, 0], [1, 1], [2, 2], [0, 1], [0, 2], [1, 2]];

/**
 * Fits the ICT face to a face's points. Construct once per basis (it precomputes the point bases and their Gram
 * matrices, ~50 ms); `fit()` holds no state between calls.
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
  private readonly sets: { facemesh: PointSet; landmarks68: PointSet };

  constructor(basis: IctBasis, options: { identityModes?: number } = {}) {
    this.basis = basis;
    this.identityModes = Math.min(options.identityModes ?? PRIOR_DEFAULTS.identityModes, basis.identityModes);
    this.modes = this.identityModes + basis.expressionNames.length;
    const lmIds: number[] = [];
    const lmW: number[] = [];
    for (const v of basis.landmarks68) {
      lmIds.push(v, v, v);
      lmW.push(1, 0, 0);
    }
    this.sets = {
      facemesh: this.pointSet(FACEMESH_ICT_IDS, FACEMESH_ICT_WEIGHTS),
      landmarks68: this.pointSet(lmIds, lmW),
    };
  }

  private pointSet(ids: readonly number[], weights: readonly number[]): PointSet {
    const { basis, identityModes: K, modes: m } = this;
    const V = basis.vertexCount;
    const n = ids.length / 3;
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
    }
    const gram = PAIRS.map(([a, c]) => {
      const g = new Float64Array(m * m);
      for (let i = 0; i < n; i++) {
        const ra = (3 * i + a) * m, rc = (3 * i + c) * m;
        for (let r = 0; r < m; r++) {
          const x = b[ra + r];
          if (x === 0) continue;
          const o = r * m;
          for (let q = 0; q < m; q++) g[o + q] += x * b[rc + q];
        }
      }
      if (a !== c) {
        for (let r = 0; r < m; r++) {
          for (let q = r; q < m; q++) {
            const s = g[r * m + q] + g[q * m + r];
            g[r * m + q] = s;
            g[q * m + r] = s;
          }
        }
      }
      return g;
    });
    return { n, x0, b, gram };
  }

  /** Fits to Face Mesh's points when given (and 468 long), else to the 68 landmarks. */
  fit(targets: PriorTargets, options: PriorFitOptions = {}): PriorFit {
    const useMesh = targets.mesh468 !== undefined && targets.mesh468.length >= 468;
    if (!useMesh && !(targets.landmarks68 && targets.landmarks68.length === 68)) {
      throw new Error('PriorFitter.fit needs 468 Face Mesh points or 68 landmarks');
    }
    const set = useMesh ? this.sets.facemesh : this.sets.landmarks68;
    const src = (useMesh ? targets.mesh468 : targets.landmarks68) as readonly Vec3[];
    const { n } = set;
    // targets in the camera frame (y up, z toward the camera)
    const P = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      P[3 * i] = src[i][0];
      P[3 * i + 1] = -src[i][1];
      P[3 * i + 2] = useMesh ? -src[i][2] : src[i][2];
    }
    const dw = options.depthWeight ?? (useMesh ? PRIOR_DEFAULTS.depthWeightFaceMesh : PRIOR_DEFAULTS.depthWeightLandmarks);
    const lamId = options.identityPrior ?? PRIOR_DEFAULTS.identityPrior;
    const lamEx = options.expressionPrior ?? PRIOR_DEFAULTS.expressionPrior;
    const iterations = options.iterations ?? PRIOR_DEFAULTS.iterations;
    const m = this.modes, K = this.identityModes;

    // work arrays, made once
    const c = new Float64Array(m);
    const X = new Float64Array(n * 3);
    const A = new Float64Array(m * m);
    const rhs = new Float64Array(m);
    const lam = new Float64Array(m);
    for (let j = 0; j < m; j++) lam[j] = n * (j < K ? lamId : lamEx);

    // initial pose: the mean face's points onto the targets
    const pts = (arr: Float64Array): Vec3[] => Array.from({ length: n }, (_, i): Vec3 => [arr[3 * i], arr[3 * i + 1], arr[3 * i + 2]]);
    const sim = fitSimilarity(pts(set.x0), pts(P));
    const R = sim.rotation.slice();
    let s = sim.scale;
    const t = sim.translation.slice() as Vec3;

    for (let it = 0; it < iterations; it++) {
      // --- shape step: min Σ (X_i − Y_i)ᵀ M (X_i − Y_i) + λ|c|², Y_i = Rᵀ (P_i − t) / s, M = Rᵀ D² R
      const Mm = new Array(9);
      for (let a = 0; a < 3; a++) {
        for (let q = 0; q < 3; q++) Mm[a * 3 + q] = R[a] * R[q] + R[3 + a] * R[3 + q] + dw * dw * R[6 + a] * R[6 + q];
      }
      A.fill(0);
      const coef = [Mm[0], Mm[4], Mm[8], Mm[1], Mm[2], Mm[5]];
      for (let p = 0; p < 6; p++) {
        const g = set.gram[p], w = coef[p];
        for (let r = 0; r < m * m; r++) A[r] += w * g[r];
      }
      for (let j = 0; j < m; j++) A[j * m + j] += lam[j];
      rhs.fill(0);
      for (let i = 0; i < n; i++) {
        const qx = (P[3 * i] - t[0]) / s, qy = (P[3 * i + 1] - t[1]) / s, qz = (P[3 * i + 2] - t[2]) / s;
        // residual r = Rᵀ q − X0_i, then M r
        const r0 = R[0] * qx + R[3] * qy + R[6] * qz - set.x0[3 * i];
        const r1 = R[1] * qx + R[4] * qy + R[7] * qz - set.x0[3 * i + 1];
        const r2 = R[2] * qx + R[5] * qy + R[8] * qz - set.x0[3 * i + 2];
        const m0 = Mm[0] * r0 + Mm[1] * r1 + Mm[2] * r2;
        const m1 = Mm[3] * r0 + Mm[4] * r1 + Mm[5] * r2;
        const m2 = Mm[6] * r0 + Mm[7] * r1 + Mm[8] * r2;
        const o = 3 * i * m;
        for (let j = 0; j < m; j++) rhs[j] += set.b[o + j] * m0 + set.b[o + m + j] * m1 + set.b[o + 2 * m + j] * m2;
      }
      solveBoxedGaussSeidel(A, rhs, c, m, K, 60);
      evaluatePoints(set, c, X);
      // --- pose step: Gauss–Newton on (rotation, log s, t)
      gaussNewtonPose(X, P, n, dw, R, t, (ns) => (s = ns), () => s, 3);
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
      source: useMesh ? 'facemesh' : 'landmarks68',
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

/** Projected Gauss–Seidel for min ½cᵀAc − bᵀc with c[j] ∈ [0, 1] for j ≥ K (identity weights in [−5, 5]). */
function solveBoxedGaussSeidel(A: Float64Array, b: Float64Array, c: Float64Array, m: number, K: number, sweeps: number): void {
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let change = 0;
    for (let j = 0; j < m; j++) {
      const o = j * m;
      let r = b[j];
      for (let q = 0; q < m; q++) r -= A[o + q] * c[q];
      let v = c[j] + r / A[o + j];
      if (j >= K) v = v < 0 ? 0 : v > 1 ? 1 : v;
      else v = v < -5 ? -5 : v > 5 ? 5 : v;
      change = Math.max(change, Math.abs(v - c[j]));
      c[j] = v;
    }
    if (change < 1e-5) break;
  }
}

/**
 * Gauss–Newton on the pose: min Σ |D (s R X_i + t − P_i)|², parameters a rotation increment (left-multiplied),
 * log s and t. Updates R and t in place, s through the setter.
 */
function gaussNewtonPose(
  X: Float64Array,
  P: Float64Array,
  n: number,
  dw: number,
  R: number[],
  t: number[],
  setS: (s: number) => void,
  getS: () => number,
  steps: number,
): void {
  const H = new Float64Array(49);
  const g = new Float64Array(7);
  const w2 = dw * dw;
  for (let step = 0; step < steps; step++) {
    const s = getS();
    H.fill(0);
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const x = X[3 * i], y = X[3 * i + 1], z = X[3 * i + 2];
      const Y0 = s * (R[0] * x + R[1] * y + R[2] * z);
      const Y1 = s * (R[3] * x + R[4] * y + R[5] * z);
      const Y2 = s * (R[6] * x + R[7] * y + R[8] * z);
      const e0 = Y0 + t[0] - P[3 * i], e1 = Y1 + t[1] - P[3 * i + 1], e2 = Y2 + t[2] - P[3 * i + 2];
      // rows of the Jacobian over (δθx, δθy, δθz, log s, tx, ty, tz): ∂Y/∂δθ = −[Y]×, ∂Y/∂log s = Y, ∂/∂t = I
      accumulate(H, g, 0, Y2, -Y1, Y0, 1, 0, 0, e0, 1);
      accumulate(H, g, -Y2, 0, Y0, Y1, 0, 1, 0, e1, 1);
      if (w2 > 0) accumulate(H, g, Y1, -Y0, 0, Y2, 0, 0, 1, e2, w2);
    }
    // a little damping (t_z is unobservable without depth)
    for (let a = 0; a < 7; a++) H[a * 8] += 1e-9 * (1 + H[a * 8]) + (a === 6 && dw === 0 ? 1 : 0);
    const delta = solve7(H, g);
    if (!delta) return;
    const [wx, wy, wz, ls, tx, ty, tz] = delta.map((v) => -v);
    // R ← exp([ω]×) R (Rodrigues)
    const th = Math.hypot(wx, wy, wz);
    if (th > 1e-12) {
      const kx = wx / th, ky = wy / th, kz = wz / th;
      const cs = Math.cos(th), sn = Math.sin(th), vc = 1 - cs;
      const Q = [
        cs + kx * kx * vc, kx * ky * vc - kz * sn, kx * kz * vc + ky * sn,
        ky * kx * vc + kz * sn, cs + ky * ky * vc, ky * kz * vc - kx * sn,
        kz * kx * vc - ky * sn, kz * ky * vc + kx * sn, cs + kz * kz * vc,
      ];
      const out = new Array(9).fill(0);
      for (let r = 0; r < 3; r++) for (let q = 0; q < 3; q++) for (let k = 0; k < 3; k++) out[r * 3 + q] += Q[r * 3 + k] * R[k * 3 + q];
      for (let k = 0; k < 9; k++) R[k] = out[k];
    }
    setS(s * Math.exp(ls));
    t[0] += tx;
    t[1] += ty;
    t[2] += tz;
    if (Math.max(Math.abs(wx), Math.abs(wy), Math.abs(wz), Math.abs(ls)) < 1e-7) return;
  }
}

/** Adds one weighted residual row (Jacobian j0…j6, residual e) to the normal equations H, g. */
function accumulate(
  H: Float64Array,
  g: Float64Array,
  j0: number, j1: number, j2: number, j3: number, j4: number, j5: number, j6: number,
  e: number,
  w: number,
): void {
  const j = [j0, j1, j2, j3, j4, j5, j6];
  for (let a = 0; a < 7; a++) {
    const ja = w * j[a];
    if (ja === 0) continue;
    g[a] += ja * e;
    for (let b = 0; b < 7; b++) H[a * 7 + b] += ja * j[b];
  }
}

/** Solves the 7×7 system H x = g by Gaussian elimination with partial pivoting; null when singular. */
function solve7(H: Float64Array, g: Float64Array): number[] | null {
  const n = 7;
  const a = Array.from({ length: n }, (_, r) => [...Array.from({ length: n }, (_, q) => H[r * n + q]), g[r]]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
    if (Math.abs(a[piv][col]) < 1e-18) return null;
    [a[col], a[piv]] = [a[piv], a[col]];
    for (let r = col + 1; r < n; r++) {
      const f = a[r][col] / a[col][col];
      for (let q = col; q <= n; q++) a[r][q] -= f * a[col][q];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = a[r][n];
    for (let q = r + 1; q < n; q++) v -= a[r][q] * x[q];
    x[r] = v / a[r][r];
  }
  return x;
}
