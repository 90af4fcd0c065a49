import type { RGBImage } from '../types.ts';

/**
 * Bilinear sample of an RGB photo at continuous photo coordinates (x, y), where pixel (i, j) covers
 * [i, i+1) × [j, j+1) and its centre is (i + 0.5, j + 0.5) (the convention of the volume grid).
 * Coordinates outside the photo clamp to the border. Writes RGB in [0, 1] to `out[offset..offset+2]`.
 *
 * @example
 * const rgb = new Float32Array(3);
 * samplePhoto(photo, 120.5, 88.25, rgb, 0);
 */
export function samplePhoto(photo: RGBImage, x: number, y: number, out: Float32Array, offset: number): void {
  const { width, height, data } = photo;
  const fx = Math.min(Math.max(x - 0.5, 0), width - 1);
  const fy = Math.min(Math.max(y - 0.5, 0), height - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const tx = fx - x0;
  const ty = fy - y0;
  const w00 = (1 - tx) * (1 - ty);
  const w10 = tx * (1 - ty);
  const w01 = (1 - tx) * ty;
  const w11 = tx * ty;
  const i00 = 3 * (y0 * width + x0);
  const i10 = 3 * (y0 * width + x1);
  const i01 = 3 * (y1 * width + x0);
  const i11 = 3 * (y1 * width + x1);
  for (let c = 0; c < 3; c++) {
    out[offset + c] = (w00 * data[i00 + c] + w10 * data[i10 + c] + w01 * data[i01 + c] + w11 * data[i11 + c]) / 255;
  }
}
