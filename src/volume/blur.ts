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
  const n = k.length;
  const clamp = (i: number, len: number): number => (i < 0 ? 0 : i >= len ? len - 1 : i);
  const src = volume.data;
  const a = new Float32Array(src.length);
  const b = new Float32Array(src.length);
  // x: along each row (edges clamped); its own loop, as the row helper below with runs of 1 takes twice as long
  const line = new Float32Array(W + 2 * r);
  for (let o = 0; o < src.length; o += W) {
    for (let i = -r; i < W + r; i++) line[i + r] = src[o + clamp(i, W)];
    for (let i = 0; i < W; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += k[j] * line[i + j];
      a[o + i] = s;
    }
  }
  // y and z: whole rows / planes at a time, so the inner loop runs over contiguous memory
  const rows = (from: Float32Array, to: Float32Array, count: number, run: number, outer: number): void => {
    for (let q = 0; q < outer; q++) {
      const base = q * count * run;
      for (let i = 0; i < count; i++) {
        const o = base + i * run;
        to.fill(0, o, o + run);
        for (let j = 0; j < n; j++) {
          const w = k[j];
          const p = base + clamp(i + j - r, count) * run;
          for (let x = 0; x < run; x++) to[o + x] += w * from[p + x];
        }
      }
    }
  };
  rows(a, b, H, W, D); // y: rows of W within each slice
  rows(b, a, D, W * H, 1); // z: slices of W·H
  return { ...volume, data: a };
}
