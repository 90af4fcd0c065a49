/**
 * Separable 3D Gaussian blur of a volume's occupancy (a new volume; the input is not changed).
 *
 * ```ts
 * const smooth = blurVolume(out.volume, 1);   // σ = 1 voxel along x, y and z
 * ```
 *
 * The network's occupancy is noisy at voxel scale (lumps and ridges on the isosurface); blurring the field
 * before marching cubes removes them without shrinking the surface the way mesh smoothing does. Edges are
 * clamped (the border voxel repeats), so a volume full to its border stays full.
 */
import type { Volume } from '../types.ts';
import { checkVolume } from './check.ts';

/** Normalised Gaussian taps for σ (radius ⌈2.5σ⌉). */
export function gaussianKernel(sigma: number): Float32Array {
  if (!(sigma > 0)) return Float32Array.of(1);
  const r = Math.max(1, Math.ceil(2.5 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

export function blurVolume(volume: Volume, sigma: number): Volume {
  checkVolume(volume, 'blurVolume');
  if (!(sigma > 0)) return { ...volume, data: volume.data.slice() };
  const { width: W, height: H, depth: D } = volume;
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) >> 1;
  const line = new Float32Array(Math.max(W, H, D) + 2 * r);
  /** Convolves the n-voxel line at offset o (step `stride`) of `src` into `dst`, edges clamped. */
  const convolve = (src: Float32Array, dst: Float32Array, o: number, n: number, stride: number): void => {
    for (let i = -r; i < n + r; i++) line[i + r] = src[o + Math.min(n - 1, Math.max(0, i)) * stride];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < k.length; j++) s += k[j] * line[i + j];
      dst[o + i * stride] = s;
    }
  };
  const a = new Float32Array(volume.data.length);
  const b = new Float32Array(volume.data.length);
  for (let d = 0; d < D; d++) for (let y = 0; y < H; y++) convolve(volume.data, a, (d * H + y) * W, W, 1);
  for (let d = 0; d < D; d++) for (let x = 0; x < W; x++) convolve(a, b, d * H * W + x, H, W);
  for (let p = 0; p < W * H; p++) convolve(b, a, p, D, W * H);
  return { ...volume, data: a };
}
