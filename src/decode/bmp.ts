/**
 * A small decoder for uncompressed Windows BMP files (1/4/8-bit palette, 16/24/32-bit, BI_RGB or
 * BI_BITFIELDS), which sharp cannot read. Platform-neutral.
 */
import type { RGBImage } from '../types.ts';
import { VoxfaceError } from '../types.ts';

/**
 * Decodes a BMP to 8-bit RGB, rows top to bottom (alpha, if any, is dropped).
 *
 *   const img = decodeBmp(bytes);
 */
export function decodeBmp(b: Uint8Array): RGBImage {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 26) throw new VoxfaceError('TRUNCATED_IMAGE', 'truncated BMP file: incomplete header');
  const dataOffset = view.getUint32(10, true);
  const dib = view.getUint32(14, true);
  let width: number, height: number, bpp: number, compression = 0, paletteSize = 0;
  if (dib === 12) {
    width = view.getUint16(18, true);
    height = view.getInt16(20, true);
    bpp = view.getUint16(24, true);
  } else {
    if (b.length < 14 + 40) throw new VoxfaceError('TRUNCATED_IMAGE', 'truncated BMP file: incomplete header');
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bpp = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    paletteSize = view.getUint32(46, true);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (!(width > 0 && height > 0)) throw new VoxfaceError('NOT_AN_IMAGE', `corrupt BMP header (${width}×${height})`);
  if (compression !== 0 && compression !== 3) {
    throw new VoxfaceError('NOT_AN_IMAGE', `unsupported BMP compression ${compression} (only uncompressed BMP is read)`);
  }
  let masks = [0x00ff0000, 0x0000ff00, 0x000000ff];
  if (bpp === 16) masks = [0x7c00, 0x03e0, 0x001f];
  if (compression === 3) {
    const at = dib >= 52 ? 14 + 40 : 14 + dib;
    if (at + 12 > b.length) throw new VoxfaceError('TRUNCATED_IMAGE', 'truncated BMP file: incomplete bit masks');
    masks = [view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true)];
  }
  const palette: number[][] = [];
  if (bpp <= 8) {
    const entry = dib === 12 ? 3 : 4;
    const count = paletteSize || 1 << bpp;
    const at = 14 + dib;
    for (let i = 0; i < count; i++) {
      const p = at + i * entry;
      if (p + 3 > b.length) throw new VoxfaceError('TRUNCATED_IMAGE', 'truncated BMP file: incomplete palette');
      palette.push([b[p + 2], b[p + 1], b[p]]);
    }
  } else if (bpp !== 16 && bpp !== 24 && bpp !== 32) {
    throw new VoxfaceError('NOT_AN_IMAGE', `unsupported BMP bit depth ${bpp}`);
  }
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > b.length) {
    throw new VoxfaceError('TRUNCATED_IMAGE', `truncated BMP file: pixel data ends early (${width}×${height})`);
  }
  const channel = (v: number, mask: number): number => {
    if (mask === 0) return 0;
    const shift = 31 - Math.clz32(mask & -mask);
    const bits = 32 - Math.clz32(mask >>> shift);
    const x = (v & mask) >>> shift;
    return Math.round((x * 255) / ((1 << bits) - 1));
  };
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (bpp <= 8) {
        const bitPos = x * bpp;
        const idx = (b[row + (bitPos >> 3)] >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
        const c = palette[idx] ?? [0, 0, 0];
        out[o] = c[0];
        out[o + 1] = c[1];
        out[o + 2] = c[2];
      } else if (bpp === 24 || (bpp === 32 && compression === 0)) {
        const p = row + x * (bpp / 8);
        out[o] = b[p + 2];
        out[o + 1] = b[p + 1];
        out[o + 2] = b[p];
      } else {
        const v = bpp === 16 ? view.getUint16(row + x * 2, true) : view.getUint32(row + x * 4, true);
        out[o] = channel(v, masks[0]);
        out[o + 1] = channel(v, masks[1]);
        out[o + 2] = channel(v, masks[2]);
      }
    }
  }
  return { width, height, data: out };
}
