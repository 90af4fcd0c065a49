/**
 * Picture helpers for galleries: resize an RGB image and put images side by side.
 *
 * @example
 * const small = resizeImage(photo, 320, 240);
 * const row = hstack([small, render], { gap: 4 });
 */
import type { RGBImage } from '../../src/types.ts';
import { VoxfaceError } from '../../src/types.ts';

/**
 * Resizes an RGB image: area average when shrinking (each output pixel averages the input pixels it
 * covers), bilinear when enlarging.
 *
 * @example
 * const thumb = resizeImage(photo, 200, Math.round((200 * photo.height) / photo.width));
 */
export function resizeImage(image: RGBImage, width: number, height: number): RGBImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new VoxfaceError('BAD_ARGUMENT', `resize needs positive integer sizes, got ${width}x${height}`);
  }
  const { width: w, height: h, data: src } = image;
  const out = new Uint8Array(width * height * 3);
  const sx = w / width, sy = h / height;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const o = 3 * (j * width + i);
      if (sx > 1 || sy > 1) {
        // area average over [i·sx, (i+1)·sx) × [j·sy, (j+1)·sy), partial pixels weighted by overlap
        const xa = i * sx, xb = Math.min((i + 1) * sx, w), ya = j * sy, yb = Math.min((j + 1) * sy, h);
        let r = 0, g = 0, b = 0, n = 0;
        for (let y = Math.floor(ya); y < yb; y++) {
          const wy = Math.min(y + 1, yb) - Math.max(y, ya);
          for (let x = Math.floor(xa); x < xb; x++) {
            const wgt = wy * (Math.min(x + 1, xb) - Math.max(x, xa));
            const k = 3 * (y * w + x);
            r += wgt * src[k];
            g += wgt * src[k + 1];
            b += wgt * src[k + 2];
            n += wgt;
          }
        }
        out[o] = Math.round(r / n);
        out[o + 1] = Math.round(g / n);
        out[o + 2] = Math.round(b / n);
      } else {
        const fx = Math.min(Math.max((i + 0.5) * sx - 0.5, 0), w - 1), fy = Math.min(Math.max((j + 0.5) * sy - 0.5, 0), h - 1);
        const x0 = Math.floor(fx), y0 = Math.floor(fy), x1 = Math.min(x0 + 1, w - 1), y1 = Math.min(y0 + 1, h - 1);
        const tx = fx - x0, ty = fy - y0;
        for (let c = 0; c < 3; c++) {
          const top = (1 - tx) * src[3 * (y0 * w + x0) + c] + tx * src[3 * (y0 * w + x1) + c];
          const bottom = (1 - tx) * src[3 * (y1 * w + x0) + c] + tx * src[3 * (y1 * w + x1) + c];
          out[o + c] = Math.round((1 - ty) * top + ty * bottom);
        }
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Images side by side, top-aligned, `gap` pixels apart, on a `background` colour (RGB 0–255).
 *
 * @example
 * const row = hstack([photo, frontal, turned, overlay], { gap: 6, background: [24, 24, 26] });
 */
export function hstack(images: RGBImage[], options: { gap?: number; background?: [number, number, number] } = {}): RGBImage {
  if (images.length === 0) throw new VoxfaceError('BAD_ARGUMENT', 'hstack needs at least one image');
  const gap = options.gap ?? 0;
  const bg = options.background ?? [0, 0, 0];
  const width = images.reduce((s, im) => s + im.width, 0) + gap * (images.length - 1);
  const height = Math.max(...images.map((im) => im.height));
  const data = new Uint8Array(width * height * 3);
  for (let k = 0; k < width * height; k++) data.set(bg, 3 * k);
  let x0 = 0;
  for (const im of images) {
    for (let j = 0; j < im.height; j++) data.set(im.data.subarray(3 * j * im.width, 3 * (j + 1) * im.width), 3 * (j * width + x0));
    x0 += im.width + gap;
  }
  return { width, height, data };
}

/**
 * Images in a grid, row by row, `columns` per row, each cell as large as the largest image and the
 * image centred in it, `gap` pixels apart, on a `background` colour (RGB 0–255).
 *
 * @example
 * const sheet = grid([a, b, c, d], { columns: 2, gap: 4 }); // 2 × 2
 */
export function grid(images: RGBImage[], options: { columns?: number; gap?: number; background?: [number, number, number] } = {}): RGBImage {
  if (images.length === 0) throw new VoxfaceError('BAD_ARGUMENT', 'grid needs at least one image');
  const columns = Math.max(1, Math.min(options.columns ?? images.length, images.length));
  const rows = Math.ceil(images.length / columns);
  const gap = options.gap ?? 0;
  const bg = options.background ?? [0, 0, 0];
  const cw = Math.max(...images.map((im) => im.width)), ch = Math.max(...images.map((im) => im.height));
  const width = columns * cw + (columns - 1) * gap, height = rows * ch + (rows - 1) * gap;
  const data = new Uint8Array(width * height * 3);
  for (let k = 0; k < width * height; k++) data.set(bg, 3 * k);
  images.forEach((im, n) => {
    const x0 = (n % columns) * (cw + gap) + ((cw - im.width) >> 1);
    const y0 = Math.floor(n / columns) * (ch + gap) + ((ch - im.height) >> 1);
    for (let j = 0; j < im.height; j++) data.set(im.data.subarray(3 * j * im.width, 3 * (j + 1) * im.width), 3 * ((y0 + j) * width + x0));
  });
  return { width, height, data };
}
