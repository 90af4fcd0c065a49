/**
 * Bilinear resampling of an RGBImage through an affine map, with box-filter anti-aliasing.
 *
 * Continuous pixel coordinates everywhere: pixel (col i, row j) covers [i, i+1) × [j, j+1), its
 * centre is (i + 0.5, j + 0.5). An `Affine` maps continuous output coordinates to continuous
 * photo coordinates:  x = a·u + b·v + c,  y = d·u + e·v + f.
 */
import type { Crop, NetworkInput, RGBImage } from '../types.ts';
import { VoxfaceError } from '../types.ts';

/** x = a·u + b·v + c, y = d·u + e·v + f (output → photo, continuous pixel coordinates). */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

/** What a sample outside the photo gets: the nearest edge pixel, or a constant value in [0,1]. */
export type Outside = 'clamp' | number;

export interface SampleOptions {
  /** 'hwc' (interleaved, for tfjs) or 'chw' (planar, for ONNX). Default 'hwc'. */
  layout?: 'hwc' | 'chw';
  /** Pixels outside the photo: 'clamp' = edge-clamped, a number = that grey level in [0,1]. Default 0.5. */
  outside?: Outside;
  /** Output value = v01 · mul + add, where v01 is the colour in [0,1]. Default mul 1, add 0. */
  mul?: number;
  add?: number;
}

/**
 * Box-filter downscale by an integer factor k: output pixel (X, Y) is the mean of photo pixels
 * [kX, kX+k) × [kY, kY+k) (partial blocks at the right/bottom edges average what exists).
 * Continuous coordinates map as x' = x / k.
 *
 *   const half = downscale(image, 2);
 */
export function downscale(image: RGBImage, k: number): RGBImage {
  if (k <= 1) return image;
  const { width: w, height: h, data } = image;
  const W = Math.ceil(w / k);
  const H = Math.ceil(h / k);
  const out = new Uint8Array(W * H * 3);
  if (k === 2 && w % 2 === 0 && h % 2 === 0) {
    // the common case (a photo twice the size it is sampled at), its 2 × 2 blocks summed at once: the same sums
    for (let Y = 0, q = 0; Y < H; Y++) {
      let p0 = 2 * Y * w * 3, p1 = p0 + w * 3;
      for (let X = 0; X < W; X++, q += 3, p0 += 6, p1 += 6) {
        // Math.round(sum / 4) of a non-negative integer sum, in integer arithmetic: (sum + 2) >> 2
        out[q] = (data[p0] + data[p0 + 3] + data[p1] + data[p1 + 3] + 2) >> 2;
        out[q + 1] = (data[p0 + 1] + data[p0 + 4] + data[p1 + 1] + data[p1 + 4] + 2) >> 2;
        out[q + 2] = (data[p0 + 2] + data[p0 + 5] + data[p1 + 2] + data[p1 + 5] + 2) >> 2;
      }
    }
    return { width: W, height: H, data: out };
  }
  // integer sums (at most k² · 255 per channel), one pass over each photo row, block by block: the full blocks of a
  // row with no bound checks, the last (partial) one apart
  const acc = new Int32Array(W * 3);
  const full = Math.floor(w / k);
  const k3 = 3 * k;
  for (let Y = 0; Y < H; Y++) {
    acc.fill(0);
    const y0 = Y * k;
    const y1 = Math.min(h, y0 + k);
    for (let y = y0; y < y1; y++) {
      const row = y * w * 3;
      let p = row;
      // the full blocks (k = 3 and 4 written out: the same integer sums)
      if (k === 3) {
        for (let o = 0, end = 3 * full; o < end; o += 3, p += 9) {
          acc[o] += data[p] + data[p + 3] + data[p + 6];
          acc[o + 1] += data[p + 1] + data[p + 4] + data[p + 7];
          acc[o + 2] += data[p + 2] + data[p + 5] + data[p + 8];
        }
      } else if (k === 4) {
        for (let o = 0, end = 3 * full; o < end; o += 3, p += 12) {
          acc[o] += data[p] + data[p + 3] + data[p + 6] + data[p + 9];
          acc[o + 1] += data[p + 1] + data[p + 4] + data[p + 7] + data[p + 10];
          acc[o + 2] += data[p + 2] + data[p + 5] + data[p + 8] + data[p + 11];
        }
      } else {
        for (let X = 0, o = 0; X < full; X++, o += 3) {
          let r = 0, g = 0, b = 0;
          for (const end = p + k3; p < end; p += 3) {
            r += data[p];
            g += data[p + 1];
            b += data[p + 2];
          }
          acc[o] += r;
          acc[o + 1] += g;
          acc[o + 2] += b;
        }
      }
      if (full < W) {
        let r = 0, g = 0, b = 0;
        for (const end = row + w * 3; p < end; p += 3) {
          r += data[p];
          g += data[p + 1];
          b += data[p + 2];
        }
        acc[full * 3] += r;
        acc[full * 3 + 1] += g;
        acc[full * 3 + 2] += b;
      }
    }
    let q = Y * W * 3;
    const rows = y1 - y0;
    const nFull = k * rows;
    // Math.round(sum / n) of a non-negative integer sum, in integers: ⌊(2·sum + n) / 2n⌋
    for (let X = 0; X < W; X++, q += 3) {
      const n = X < full ? nFull : (w - X * k) * rows;
      const n2 = 2 * n;
      out[q] = Math.floor((2 * acc[X * 3] + n) / n2);
      out[q + 1] = Math.floor((2 * acc[X * 3 + 1] + n) / n2);
      out[q + 2] = Math.floor((2 * acc[X * 3 + 2] + n) / n2);
    }
  }
  return { width: W, height: H, data: out };
}

/** Photo pixels per output pixel of an affine map (the square root of |det|). */
export function affineScale(m: Affine): number {
  return Math.sqrt(Math.abs(m.a * m.e - m.b * m.d));
}

/**
 * Lazily built box-filtered copies of one photo (factor 1, 2, 3, ...), so repeated samplings of the
 * same photo (detector passes, rotations) filter it once. Create one per photo; it holds no other state.
 *
 *   const levels = new ImageLevels(image);
 *   const pixels = sampleAffine(levels, m, 128, 128);
 */
export class ImageLevels {
  private readonly cache = new Map<number, RGBImage>();
  constructor(readonly image: RGBImage) {
    this.cache.set(1, image);
  }

  /** The photo box-filtered by factor k (k = 1: the photo itself). */
  level(k: number): RGBImage {
    let img = this.cache.get(k);
    if (!img) {
      img = downscale(this.image, k);
      this.cache.set(k, img);
    }
    return img;
  }
}

/**
 * The box-filter factor used before bilinear sampling at `scale` photo pixels per output pixel:
 * 1 up to 1.5, then round(scale), which keeps the remaining bilinear step between 0.67 and 1.5.
 */
export function prefilterFactor(scale: number): number {
  return scale > 1.5 ? Math.max(1, Math.round(scale)) : 1;
}

/**
 * Samples `width × height` output pixels from the photo through `m` (output → photo), bilinearly,
 * after box-filtering the photo when the map shrinks it by more than 1.5 (see `prefilterFactor`).
 * Returns floats `v01 · mul + add`, 3 channels, in 'hwc' or 'chw' layout.
 *
 *   // a 128×128 detector input covering the whole photo, values in [-1, 1]
 *   const s = Math.max(img.width, img.height) / 128;
 *   const x = sampleAffine(img, { a: s, b: 0, c: 0, d: 0, e: s, f: 0 }, 128, 128, { mul: 2, add: -1, outside: 0 });
 */
export function sampleAffine(
  source: RGBImage | ImageLevels,
  m: Affine,
  width: number,
  height: number,
  options: SampleOptions = {},
): Float32Array {
  const levels = source instanceof ImageLevels ? source : new ImageLevels(source);
  const k = prefilterFactor(affineScale(m));
  const img = levels.level(k);
  // Continuous photo coords → continuous level coords is /k; bilinear works on pixel-centre indices (−0.5).
  const a = m.a / k, b = m.b / k, c = m.c / k, d = m.d / k, e = m.e / k, f = m.f / k;
  const { width: w, height: h, data } = img;
  const layout = options.layout ?? 'hwc';
  const outside = options.outside ?? 0.5;
  const mul = (options.mul ?? 1) / 255;
  const add = options.add ?? 0;
  const fill = typeof outside === 'number' ? outside * 255 : 0;
  const clamp = outside === 'clamp';
  const out = new Float32Array(width * height * 3);
  const plane = width * height;
  // where channel 0 of output pixel i goes (i · ps) and how far apart its channels lie (cs)
  const ps = layout === 'hwc' ? 3 : 1;
  const cs = layout === 'hwc' ? 1 : plane;
  const px = [0, 0, 0];
  for (let v = 0; v < height; v++) {
    const vc = v + 0.5;
    for (let u = 0; u < width; u++) {
      const uc = u + 0.5;
      const x = a * uc + b * vc + c - 0.5;
      const y = d * uc + e * vc + f - 0.5;
      const o = (v * width + u) * ps;
      const x0 = Math.floor(x), y0 = Math.floor(y);
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        // inside the photo (nearly every pixel): the four taps written out, as \`bilinear\` computes them
        const fx = x - x0, fy = y - y0;
        const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        const p00 = (y0 * w + x0) * 3, p10 = p00 + 3, p01 = p00 + w * 3, p11 = p01 + 3;
        out[o] = (w00 * data[p00] + w10 * data[p10] + w01 * data[p01] + w11 * data[p11]) * mul + add;
        out[o + cs] = (w00 * data[p00 + 1] + w10 * data[p10 + 1] + w01 * data[p01 + 1] + w11 * data[p11 + 1]) * mul + add;
        out[o + 2 * cs] = (w00 * data[p00 + 2] + w10 * data[p10 + 2] + w01 * data[p01 + 2] + w11 * data[p11 + 2]) * mul + add;
        continue;
      }
      bilinear(data, w, h, x, y, clamp, fill, px);
      out[o] = px[0] * mul + add;
      out[o + cs] = px[1] * mul + add;
      out[o + 2 * cs] = px[2] * mul + add;
    }
  }
  return out;
}

/** Bilinear lookup at pixel-centre index (x, y); taps outside the photo are clamped or `fill`. */
function bilinear(
  data: Uint8Array,
  w: number,
  h: number,
  x: number,
  y: number,
  clamp: boolean,
  fill: number,
  out: number[],
): void {
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const fx = x - x0, fy = y - y0;
  const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
  const inside = x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h;
  if (inside) {
    const p00 = (y0 * w + x0) * 3, p10 = p00 + 3, p01 = p00 + w * 3, p11 = p01 + 3;
    for (let ch = 0; ch < 3; ch++) {
      out[ch] = w00 * data[p00 + ch] + w10 * data[p10 + ch] + w01 * data[p01 + ch] + w11 * data[p11 + ch];
    }
    return;
  }
  // at the border: the four taps in the order 00, 10, 01, 11, each clamped or `fill` outside the photo
  out[0] = out[1] = out[2] = 0;
  addTap(data, w, h, x0, y0, w00, clamp, fill, out);
  addTap(data, w, h, x0 + 1, y0, w10, clamp, fill, out);
  addTap(data, w, h, x0, y0 + 1, w01, clamp, fill, out);
  addTap(data, w, h, x0 + 1, y0 + 1, w11, clamp, fill, out);
}

/** Adds weight `wt` of pixel (tx, ty) to `out`: edge-clamped, or `fill` outside the photo. */
function addTap(data: Uint8Array, w: number, h: number, tx: number, ty: number, wt: number, clamp: boolean, fill: number, out: number[]): void {
  if (wt === 0) return;
  let cx = tx, cy = ty;
  if (cx < 0 || cy < 0 || cx >= w || cy >= h) {
    if (!clamp) {
      out[0] += wt * fill;
      out[1] += wt * fill;
      out[2] += wt * fill;
      return;
    }
    cx = Math.min(w - 1, Math.max(0, cx));
    cy = Math.min(h - 1, Math.max(0, cy));
  }
  const p = (cy * w + cx) * 3;
  out[0] += wt * data[p];
  out[1] += wt * data[p + 1];
  out[2] += wt * data[p + 2];
}

/**
 * The network input for a crop: `crop.size`² pixels, planar (CHW) float32 RGB in [0,1], bilinear with
 * box-filter anti-aliasing when the crop shrinks the photo by more than 1.5 (see `prefilterFactor`).
 * Crop pixel (i, j)'s centre maps to photo point (j + 0.5, i + 0.5) · scale + offset. Parts of the crop
 * outside the photo are mid-grey (0.5) by default — neutral for the network and free of the streaks edge
 * clamping would draw; pass `outside: 'clamp'` for edge-clamped pixels.
 *
 *   const input = sampleCrop(image, crop);        // input.data.length === 3 * crop.size ** 2
 */
export function sampleCrop(
  image: RGBImage | ImageLevels,
  crop: Crop,
  options: { outside?: Outside } = {},
): NetworkInput {
  if (!(crop.size > 0 && Number.isInteger(crop.size) && crop.scale > 0)) {
    throw new VoxfaceError('BAD_ARGUMENT', `sampleCrop: bad crop (size ${crop.size}, scale ${crop.scale})`);
  }
  const m: Affine = { a: crop.scale, b: 0, c: crop.offset[0], d: 0, e: crop.scale, f: crop.offset[1] };
  const data = sampleAffine(image, m, crop.size, crop.size, { layout: 'chw', outside: options.outside ?? 0.5 });
  return { crop, data };
}
