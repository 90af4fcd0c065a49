/**
 * Image format and size from the first bytes, without decoding: refuses non-images, truncated headers
 * and oversized images (decompression bombs) before any decoder sees them.
 */
import { VoxfaceError } from '../types.ts';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'heif' | 'tiff' | 'gif' | 'bmp' | 'pnm';

export interface ImageHeader {
  format: ImageFormat;
  /** Stored width and height (before any EXIF rotation). */
  width: number;
  height: number;
}

export interface DecodeLimits {
  /** Largest accepted file, in bytes (default 50 MB). */
  maxBytes?: number;
  /** Largest accepted width × height (default 50 megapixels). */
  maxPixels?: number;
}

export const DEFAULT_LIMITS: Required<DecodeLimits> = { maxBytes: 50 * 1024 * 1024, maxPixels: 50_000_000 };

/**
 * Recognises the format by its magic bytes, reads width/height from the header and checks the limits.
 * Throws VoxfaceError NOT_AN_IMAGE (empty, text, unknown), TRUNCATED_IMAGE (header cut short) or
 * IMAGE_TOO_LARGE (bytes or pixels over the limits).
 *
 *   const { format, width, height } = sniffImage(bytes, { maxPixels: 20e6 });
 */
export function sniffImage(bytes: Uint8Array, limits: DecodeLimits = {}): ImageHeader {
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const maxPixels = limits.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  if (bytes.length === 0) throw new VoxfaceError('NOT_AN_IMAGE', 'the file is empty (0 bytes)');
  if (bytes.length > maxBytes) {
    throw new VoxfaceError('IMAGE_TOO_LARGE', `the file has ${mb(bytes.length)}, more than the limit of ${mb(maxBytes)}`);
  }
  const format = detectFormat(bytes);
  if (!format) {
    const what = looksLikeText(bytes) ? 'a text file' : 'an unknown format';
    throw new VoxfaceError('NOT_AN_IMAGE', `not an image: ${what} (expected JPEG, PNG, WebP, AVIF/HEIF, TIFF, GIF, BMP or PPM)`);
  }
  const size = readSize(format, bytes);
  if (!size) throw new VoxfaceError('TRUNCATED_IMAGE', `truncated ${format.toUpperCase()} file: its header ends before the image size`);
  const [width, height] = size;
  if (!(width > 0 && height > 0)) {
    throw new VoxfaceError('NOT_AN_IMAGE', `corrupt ${format.toUpperCase()} header: size ${width}×${height}`);
  }
  if (width * height > maxPixels) {
    throw new VoxfaceError(
      'IMAGE_TOO_LARGE',
      `the image is ${width}×${height} = ${(width * height / 1e6).toFixed(1)} megapixels, more than the limit of ${(maxPixels / 1e6).toFixed(1)}`,
    );
  }
  if (!hasEnd(format, bytes)) throw new VoxfaceError('TRUNCATED_IMAGE', `truncated ${format.toUpperCase()} file: it ends before its end marker`);
  return { format, width, height };
}

/**
 * Whether a PNG has its IEND chunk and a JPEG an end-of-image marker after its first scan (a JPEG's
 * embedded EXIF thumbnail has its own end marker, hence "after the scan"). Other formats: true.
 */
function hasEnd(format: ImageFormat, b: Uint8Array): boolean {
  if (format === 'png') {
    for (let i = b.length - 8; i >= Math.max(8, b.length - 4096); i--) {
      if (b[i] === 0x49 && b[i + 1] === 0x45 && b[i + 2] === 0x4e && b[i + 3] === 0x44) return true;
    }
    return false;
  }
  if (format === 'jpeg') {
    const sos = jpegScanStart(b);
    if (sos < 0) return false;
    for (let i = b.length - 2; i >= sos; i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
    return false;
  }
  return true;
}

/** Offset of the first start-of-scan marker, walking the marker segments; -1 if absent. */
function jpegScanStart(b: Uint8Array): number {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return -1;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xda) return i;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return -1;
}

/** The format from the magic bytes, or undefined. */
export function detectFormat(b: Uint8Array): ImageFormat | undefined {
  const ascii = (at: number, s: string): boolean => b.length >= at + s.length && [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(4, 'ftyp')) {
    const brands = [ascii(8, 'avif'), ascii(8, 'avis')];
    if (brands.some(Boolean)) return 'avif';
    for (const brand of ['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1']) if (ascii(8, brand)) return 'heif';
    return undefined;
  }
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'tiff';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'BM') && b.length >= 6) return 'bmp';
  if (b.length >= 2 && b[0] === 0x50 /* P */ && b[1] >= 0x31 && b[1] <= 0x36 && (b.length === 2 || isSpace(b[2]))) return 'pnm';
  return undefined;
}

function readSize(format: ImageFormat, b: Uint8Array): [number, number] | undefined {
  switch (format) {
    case 'jpeg':
      return jpegSize(b);
    case 'png':
      return b.length >= 24 ? [u32be(b, 16), u32be(b, 20)] : undefined;
    case 'gif':
      return b.length >= 10 ? [b[6] | (b[7] << 8), b[8] | (b[9] << 8)] : undefined;
    case 'bmp':
      return bmpSize(b);
    case 'webp':
      return webpSize(b);
    case 'avif':
    case 'heif':
      return ispeSize(b);
    case 'tiff':
      return tiffSize(b);
    case 'pnm':
      return pnmHeader(b)?.size;
  }
}

/** Walks the JPEG markers up to the first SOFn frame header. */
function jpegSize(b: Uint8Array): [number, number] | undefined {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = (b[i + 2] << 8) | b[i + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 9 > b.length) return undefined;
      return [(b[i + 7] << 8) | b[i + 8], (b[i + 5] << 8) | b[i + 6]];
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image / scan before any frame header
    i += 2 + len;
  }
  return undefined;
}

function bmpSize(b: Uint8Array): [number, number] | undefined {
  if (b.length < 26) return undefined;
  const dib = u32le(b, 14);
  if (dib === 12) return [b[18] | (b[19] << 8), b[20] | (b[21] << 8)];
  const w = i32le(b, 18), h = i32le(b, 22);
  return [Math.abs(w), Math.abs(h)];
}

function webpSize(b: Uint8Array): [number, number] | undefined {
  if (b.length < 30) return undefined;
  const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return [(b[26] | (b[27] << 8)) & 0x3fff, (b[28] | (b[29] << 8)) & 0x3fff];
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return undefined;
    const bits = u32le(b, 21);
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8X') {
    return [1 + (b[24] | (b[25] << 8) | (b[26] << 16)), 1 + (b[27] | (b[28] << 8) | (b[29] << 16))];
  }
  return [0, 0];
}

/** AVIF/HEIF: the largest 'ispe' (image spatial extents) property in the file's first bytes. */
function ispeSize(b: Uint8Array): [number, number] | undefined {
  let best: [number, number] | undefined;
  const end = Math.min(b.length, 1 << 20);
  for (let i = 4; i + 16 <= end; i++) {
    if (b[i] === 0x69 && b[i + 1] === 0x73 && b[i + 2] === 0x70 && b[i + 3] === 0x65) {
      const w = u32be(b, i + 8), h = u32be(b, i + 12);
      if (!best || w * h > best[0] * best[1]) best = [w, h];
    }
  }
  return best;
}

/** TIFF: ImageWidth (256) and ImageLength (257) of the first IFD. */
function tiffSize(b: Uint8Array): [number, number] | undefined {
  const le = b[0] === 0x49;
  const u16 = (at: number): number => (le ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1]);
  const u32 = (at: number): number => (le ? u32le(b, at) : u32be(b, at));
  if (b.length < 8) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > b.length) return undefined;
  const n = u16(ifd);
  let w: number | undefined, h: number | undefined;
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > b.length) return undefined;
    const tag = u16(e), type = u16(e + 2);
    const value = type === 3 ? u16(e + 8) : u32(e + 8);
    if (tag === 256) w = value;
    if (tag === 257) h = value;
  }
  return w !== undefined && h !== undefined ? [w, h] : undefined;
}

/** PNM (PBM/PGM/PPM) header: magic number, width, height, maxval, and where the pixels start. */
export function pnmHeader(b: Uint8Array): { kind: number; size: [number, number]; maxval: number; dataStart: number } | undefined {
  const kind = b[1] - 0x30;
  const fields: number[] = [];
  const need = kind === 1 || kind === 4 ? 2 : 3;
  let i = 2;
  while (fields.length < need) {
    while (i < b.length && (isSpace(b[i]) || b[i] === 0x23)) {
      if (b[i] === 0x23) while (i < b.length && b[i] !== 0x0a && b[i] !== 0x0d) i++;
      else i++;
    }
    if (i >= b.length) return undefined;
    let v = 0, digits = 0;
    while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) {
      v = v * 10 + b[i] - 0x30;
      i++;
      digits++;
    }
    if (digits === 0 || (i < b.length && !isSpace(b[i]) && b[i] !== 0x23)) return undefined;
    if (i >= b.length && fields.length + 1 < need) return undefined;
    fields.push(v);
  }
  if (i >= b.length && kind >= 4) return undefined; // binary kinds need the single whitespace byte
  return { kind, size: [fields[0], fields[1]], maxval: need === 3 ? fields[2] : 1, dataStart: i + 1 };
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) if ((b[i] >= 0x20 && b[i] < 0x7f) || b[i] === 9 || b[i] === 10 || b[i] === 13 || b[i] >= 0x80) printable++;
  return printable / n > 0.95;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
const u32be = (b: Uint8Array, at: number): number => ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
const u32le = (b: Uint8Array, at: number): number => ((b[at + 3] << 24) >>> 0) + ((b[at + 2] << 16) | (b[at + 1] << 8) | b[at]);
const i32le = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
