/**
 * A small decoder for the Netpbm formats (P1–P6: PBM, PGM, PPM, ASCII or binary, 8 or 16 bit),
 * which sharp cannot read. Platform-neutral.
 */
import type { RGBImage } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { pnmHeader } from './sniff.ts';

/**
 * Decodes a PBM/PGM/PPM file to 8-bit RGB (grey and bitmaps are expanded, 16-bit and other maxvals
 * rescaled). Throws TRUNCATED_IMAGE when the pixel data is short, NOT_AN_IMAGE when malformed.
 *
 *   const img = decodePnm(bytes);
 */
export function decodePnm(b: Uint8Array): RGBImage {
  const h = pnmHeader(b);
  if (!h) throw new VoxfaceError('TRUNCATED_IMAGE', 'truncated PNM file: incomplete header');
  const { kind, maxval } = h;
  const [width, height] = h.size;
  if (!(width > 0 && height > 0) || !(maxval > 0 && maxval < 65536)) {
    throw new VoxfaceError('NOT_AN_IMAGE', `corrupt PNM header (${width}×${height}, maxval ${maxval})`);
  }
  const n = width * height;
  const channels = kind === 3 || kind === 6 ? 3 : 1;
  const out = new Uint8Array(n * 3);
  const put = (i: number, c: number, v: number): void => {
    const q = Math.round((Math.min(v, maxval) * 255) / maxval);
    if (channels === 3) out[i * 3 + c] = q;
    else out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = q;
  };
  const short = (): never => {
    throw new VoxfaceError('TRUNCATED_IMAGE', `truncated PNM file: pixel data ends early (${width}×${height})`);
  };
  if (kind <= 3) {
    // ASCII: whitespace-separated numbers (P1 digits may touch each other).
    let i = h.dataStart - 1;
    for (let k = 0; k < n * channels; k++) {
      while (i < b.length && (b[i] < 0x30 || b[i] > 0x39)) {
        if (b[i] === 0x23) while (i < b.length && b[i] !== 0x0a) i++;
        else i++;
      }
      if (i >= b.length) short();
      let v = 0;
      if (kind === 1) v = b[i++] - 0x30;
      else while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) v = v * 10 + b[i++] - 0x30;
      if (kind === 1) put(k, 0, v ? 0 : 1); // PBM: 1 = black
      else put(Math.floor(k / channels), k % channels, v);
    }
    return { width, height, data: out };
  }
  const start = h.dataStart;
  if (kind === 4) {
    const row = Math.ceil(width / 8);
    if (start + row * height > b.length) short();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = (b[start + y * row + (x >> 3)] >> (7 - (x & 7))) & 1;
        put(y * width + x, 0, bit ? 0 : 1);
      }
    }
    return { width, height, data: out };
  }
  const bytesPer = maxval > 255 ? 2 : 1;
  if (start + n * channels * bytesPer > b.length) short();
  for (let k = 0; k < n * channels; k++) {
    const at = start + k * bytesPer;
    const v = bytesPer === 2 ? (b[at] << 8) | b[at + 1] : b[at];
    put(Math.floor(k / channels), k % channels, v);
  }
  return { width, height, data: out };
}
