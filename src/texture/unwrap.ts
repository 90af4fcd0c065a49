import type { HeadFrame } from './headFrame.ts';

/** Per-vertex cylindrical coordinates and the UVs laid out from them. */
export interface CylinderUnwrap {
  /** uv per vertex, v = 0 at the top row (glTF convention). */
  uvs: Float32Array;
  /** Angle around the head's vertical axis per vertex, radians, 0 at the mid-sagittal plane. */
  theta: Float32Array;
}

/** Largest |θ| given its own texture space: 110°, past the ears. */
const THETA_CAP = (110 * Math.PI) / 180;

/**
 * Head-centred cylindrical unwrap: u follows the arc length around the head's vertical axis
 * (θ = atan2(p·right, p·forward) from the mid-sagittal plane, times the mean radius), v follows
 * the height along `down`, with one common scale so texels are square on the cylinder.
 * The layout is symmetric: u = 0.5 is the mid-sagittal plane and the mirror image of (u, v)
 * across that plane is (1 − u, v), which is what the symmetric completion relies on.
 * Angles beyond ±`THETA_CAP` (parts behind the head's axis, e.g. walls of a volume's isosurface)
 * are clamped onto the layout's border so they cannot squeeze the face's share of the texture.
 * `margin` (in uv units) is kept free on every side for dilation.
 *
 * @example
 * const { uvs } = cylindricalUnwrap(mesh.positions, frame, 8 / 1024);
 */
export function cylindricalUnwrap(positions: Float32Array, frame: HeadFrame, margin: number): CylinderUnwrap {
  const n = positions.length / 3;
  const theta = new Float32Array(n);
  const height = new Float32Array(n);
  const { centre: c, right: r, down: d, forward: f } = frame;
  let radius = 0;
  let maxTheta = 1e-6;
  let hMin = Infinity;
  let hMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = positions[3 * i] - c[0];
    const y = positions[3 * i + 1] - c[1];
    const z = positions[3 * i + 2] - c[2];
    const a = x * r[0] + y * r[1] + z * r[2];
    const b = x * f[0] + y * f[1] + z * f[2];
    const h = x * d[0] + y * d[1] + z * d[2];
    theta[i] = Math.atan2(a, b);
    height[i] = h;
    radius += Math.hypot(a, b) / n;
    maxTheta = Math.max(maxTheta, Math.min(Math.abs(theta[i]), THETA_CAP));
    hMin = Math.min(hMin, h);
    hMax = Math.max(hMax, h);
  }
  const halfU = Math.max(radius * maxTheta, 1e-6);
  const halfV = Math.max((hMax - hMin) / 2, 1e-6);
  const k = (0.5 - margin) / Math.max(halfU, halfV);
  const hMid = (hMin + hMax) / 2;
  const uvs = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    uvs[2 * i] = 0.5 + k * radius * Math.min(Math.max(theta[i], -THETA_CAP), THETA_CAP);
    uvs[2 * i + 1] = 0.5 + k * (height[i] - hMid);
  }
  return { uvs, theta };
}
