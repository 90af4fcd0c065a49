/**
 * PNG encoding and decoding, platform-neutral (zlib via fflate, or the platform's: src/image/deflate.ts; CRC-32 and
 * filters our own).
 *
 * Encodes 8-bit RGB / RGBA / grey and 16-bit grey images, with optional tEXt chunks.
 * Decodes any non-interlaced PNG with bit depth 8 or 16 (grey, grey+alpha, RGB, RGBA) and
 * 8-bit palette images: enough for our own files and for tests.
 *
 * @example
 * const bytes = encodePNG({ width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 0, 255]) });
 * const back = decodePNG(bytes); // { width: 2, height: 1, channels: 3, bitDepth: 8, data, text: {} }
 */
import { unzlibSync } from 'fflate';
import { zlibDeflate, type DeflateStrategy } from './deflate.ts';
import { VoxfaceError } from '../types.ts';

/** An 8-bit image to encode: `channels` bytes per pixel (default 3), rows top to bottom. */
export interface PNGImage8 {
  width: number;
  height: number;
  data: Uint8Array;
  /** 1 (grey), 3 (RGB, default) or 4 (RGBA). */
  channels?: 1 | 3 | 4;
}

export interface PNGEncodeOptions {
  /** tEXt chunks: keyword (1–79 printable Latin-1 characters) → text. */
  text?: Record<string, string>;
  /** zlib level 0–9, default 6. */
  level?: number;
  /**
   * Row filter: 'adaptive' (default: per row, the one with the smallest sum of absolute residuals) or one
   * filter for every row: 0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth (Paeth suits photographs and textures
   * as well as 'adaptive' does, at a third of the filtering time).
   */
  filter?: 'adaptive' | 0 | 1 | 2 | 3 | 4;
  /**
   * zlib's strategy: 'default', or 'rle' (matches only of distance 1: on filtered photographic rows as small as
   * 'default' at level 1 and about a fifth faster with Node's zlib; fflate, the browser's, has no strategies and
   * ignores it).
   */
  strategy?: DeflateStrategy;
}

/** A decoded PNG: 8-bit data in a Uint8Array, 16-bit data in a Uint16Array (native values). */
export interface DecodedPNG {
  width: number;
  height: number;
  channels: number;
  bitDepth: 8 | 16;
  data: Uint8Array | Uint16Array;
  text: Record<string, string>;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** zlib level when none is given. */
const DEFAULT_LEVEL = 6;

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC, the one PNG and gzip use) of `bytes`, continuing from `crc`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * Encodes an 8-bit grey, RGB or RGBA image as PNG.
 *
 * @example
 * const png = encodePNG({ width: 1024, height: 1024, data: rgbBytes }, { text: { Software: 'voxface' } });
 */
export function encodePNG(image: PNGImage8, options: PNGEncodeOptions = {}): Uint8Array {
  const channels = image.channels ?? 3;
  checkSize(image.width, image.height, image.data.length, image.width * image.height * channels);
  const colourType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  return assemble(image.width, image.height, 8, colourType, image.data, channels, options);
}

/**
 * Encodes a 16-bit greyscale image (values 0–65535, rows top to bottom) as PNG.
 *
 * @example
 * const png = encodePNGGray16(640, 480, depthLevels, { text: { depth_scale: '0.01' } });
 */
export function encodePNGGray16(
  width: number,
  height: number,
  data: Uint16Array,
  options: PNGEncodeOptions = {},
): Uint8Array {
  checkSize(width, height, data.length, width * height);
  const bytes = new Uint8Array(data.length * 2);
  for (let i = 0; i < data.length; i++) {
    bytes[2 * i] = data[i] >>> 8; // PNG samples are big-endian
    bytes[2 * i + 1] = data[i] & 0xff;
  }
  return assemble(width, height, 16, 0, bytes, 2, options);
}

function checkSize(width: number, height: number, length: number, expected: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new VoxfaceError('BAD_ARGUMENT', `PNG size must be positive integers, got ${width}x${height}`);
  }
  if (length !== expected) {
    throw new VoxfaceError('BAD_ARGUMENT', `PNG data has ${length} samples, expected ${expected}`);
  }
}

/**
 * Filters every row (by default with the filter of the smallest sum of absolute signed residuals, the
 * usual heuristic: the five costs come from one pass over the row, then only the chosen filter is
 * written) and writes the chunks.
 */
function assemble(
  width: number,
  height: number,
  bitDepth: 8 | 16,
  colourType: number,
  bytes: Uint8Array,
  bpp: number,
  options: PNGEncodeOptions,
): Uint8Array {
  const stride = width * bpp;
  const raw = new Uint8Array((stride + 1) * height);
  const zero = new Uint8Array(stride);
  const costs = new Float64Array(5);
  const fixed = options.filter ?? 'adaptive';
  if (fixed !== 'adaptive' && !(Number.isInteger(fixed) && fixed >= 0 && fixed <= 4)) {
    throw new VoxfaceError('BAD_ARGUMENT', `PNG filter must be 'adaptive' or 0..4, got ${String(fixed)}`);
  }
  for (let y = 0; y < height; y++) {
    const row = bytes.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? bytes.subarray((y - 1) * stride, y * stride) : zero;
    let bestType = 0;
    if (fixed !== 'adaptive') bestType = fixed;
    else {
      filterCosts(row, prev, bpp, costs);
      for (let type = 1; type < 5; type++) if (costs[type] < costs[bestType]) bestType = type;
    }
    raw[y * (stride + 1)] = bestType;
    filterRow(bestType, row, prev, bpp, raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  const chunks: Uint8Array[] = [new Uint8Array(SIGNATURE), chunk('IHDR', ihdr)];
  for (const [key, value] of Object.entries(options.text ?? {})) chunks.push(chunk('tEXt', textChunk(key, value)));
  const level = options.level ?? DEFAULT_LEVEL;
  chunks.push(chunk('IDAT', zlibDeflate(raw, level, options.strategy)), chunk('IEND', new Uint8Array(0)));
  return concat(chunks);
}

/** |residual| of a byte residual read as signed: 0..128. */
const abs8 = (v: number): number => {
  const d = (v << 24) >> 24;
  return d < 0 ? -d : d;
};

/** costs[t] = sum of |signed residuals| of filter t (None, Sub, Up, Average, Paeth) over the row. */
function filterCosts(row: Uint8Array, prev: Uint8Array, bpp: number, costs: Float64Array): void {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  const n = row.length;
  const head = Math.min(bpp, n);
  for (let i = 0; i < head; i++) {
    // a = c = 0: Sub = None, Average = b/2, Paeth = b
    const x = row[i], b = prev[i];
    const v0 = abs8(x);
    s0 += v0;
    s1 += v0;
    s2 += abs8(x - b);
    s3 += abs8(x - (b >>> 1));
    s4 += abs8(x - b);
  }
  for (let i = head; i < n; i++) {
    const x = row[i], a = row[i - bpp], b = prev[i], c = prev[i - bpp];
    s0 += abs8(x);
    s1 += abs8(x - a);
    s2 += abs8(x - b);
    s3 += abs8(x - ((a + b) >>> 1));
    s4 += abs8(x - paeth(a, b, c));
  }
  costs[0] = s0; costs[1] = s1; costs[2] = s2; costs[3] = s3; costs[4] = s4;
}

/** Writes filter `type` of `row` into `out` (one loop per filter type, no per-byte branching on it). */
function filterRow(type: number, row: Uint8Array, prev: Uint8Array, bpp: number, out: Uint8Array): void {
  const n = row.length;
  const head = Math.min(bpp, n);
  switch (type) {
    case 0:
      out.set(row);
      break;
    case 1:
      for (let i = 0; i < head; i++) out[i] = row[i];
      for (let i = head; i < n; i++) out[i] = (row[i] - row[i - bpp]) & 0xff;
      break;
    case 2:
      for (let i = 0; i < n; i++) out[i] = (row[i] - prev[i]) & 0xff;
      break;
    case 3:
      for (let i = 0; i < head; i++) out[i] = (row[i] - (prev[i] >>> 1)) & 0xff;
      for (let i = head; i < n; i++) out[i] = (row[i] - ((row[i - bpp] + prev[i]) >>> 1)) & 0xff;
      break;
    default:
      for (let i = 0; i < head; i++) out[i] = (row[i] - prev[i]) & 0xff;
      for (let i = head; i < n; i++) out[i] = (row[i] - paeth(row[i - bpp], prev[i], prev[i - bpp])) & 0xff;
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function textChunk(key: string, value: string): Uint8Array {
  if (!/^[\x21-\x7e\xa1-\xff]([\x20-\x7e\xa1-\xff]{0,78})$/.test(key) || / {2}| $/.test(key)) {
    throw new VoxfaceError('BAD_ARGUMENT', `invalid PNG tEXt keyword "${key}"`);
  }
  const out = new Uint8Array(key.length + 1 + value.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 255) throw new VoxfaceError('BAD_ARGUMENT', `PNG tEXt value for "${key}" is not Latin-1`);
    out[key.length + 1 + i] = code;
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Decodes a non-interlaced PNG (bit depth 8 or 16, or an 8-bit palette image, expanded to RGB/RGBA).
 * Checks the signature and every chunk's CRC.
 *
 * @example
 * const { width, height, channels, data, text } = decodePNG(bytes);
 */
export function decodePNG(bytes: Uint8Array): DecodedPNG {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new VoxfaceError('NOT_AN_IMAGE', 'not a PNG file (bad signature)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colourType = -1;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  const text: Record<string, string> = {};
  let offset = 8;
  while (true) {
    if (offset + 12 > bytes.length) throw new VoxfaceError('TRUNCATED_IMAGE', 'PNG ends before its IEND chunk');
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (offset + 12 + length > bytes.length) throw new VoxfaceError('TRUNCATED_IMAGE', `PNG chunk ${type} is truncated`);
    const start = offset + 8;
    const data = bytes.subarray(start, start + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)) {
      throw new VoxfaceError('NOT_AN_IMAGE', `PNG chunk ${type} has a bad CRC`);
    }
    offset += 12 + length;
    if (type === 'IHDR') {
      width = view.getUint32(start);
      height = view.getUint32(start + 4);
      bitDepth = data[8];
      colourType = data[9];
      if (data[12] !== 0) throw new VoxfaceError('BAD_ARGUMENT', 'interlaced PNG is not supported');
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'tEXt') {
      const nul = data.indexOf(0);
      text[latin1(data.subarray(0, nul))] = latin1(data.subarray(nul + 1));
    } else if (type === 'IEND') break;
  }
  const channelsOf: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const channels = channelsOf[colourType];
  if (!channels || (bitDepth !== 8 && bitDepth !== 16) || (colourType === 3 && bitDepth !== 8)) {
    throw new VoxfaceError('BAD_ARGUMENT', `unsupported PNG colour type ${colourType} / bit depth ${bitDepth}`);
  }
  const bpp = (channels * bitDepth) / 8;
  const stride = width * bpp;
  const raw = unzlibSync(concat(idat));
  if (raw.length < (stride + 1) * height) throw new VoxfaceError('TRUNCATED_IMAGE', 'PNG image data is truncated');
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    unfilterRow(type, src, row, y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : undefined, bpp);
  }
  if (colourType === 3) return expandPalette(width, height, pixels, palette, transparency, text);
  if (bitDepth === 8) return { width, height, channels, bitDepth: 8, data: pixels, text };
  const wide = new Uint16Array(pixels.length / 2);
  for (let i = 0; i < wide.length; i++) wide[i] = (pixels[2 * i] << 8) | pixels[2 * i + 1];
  return { width, height, channels, bitDepth: 16, data: wide, text };
}

function unfilterRow(type: number, src: Uint8Array, row: Uint8Array, prev: Uint8Array | undefined, bpp: number): void {
  for (let i = 0; i < src.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev ? prev[i] : 0;
    const c = prev && i >= bpp ? prev[i - bpp] : 0;
    let predictor = 0;
    if (type === 1) predictor = a;
    else if (type === 2) predictor = b;
    else if (type === 3) predictor = (a + b) >>> 1;
    else if (type === 4) predictor = paeth(a, b, c);
    else if (type !== 0) throw new VoxfaceError('NOT_AN_IMAGE', `PNG row has unknown filter type ${type}`);
    row[i] = (src[i] + predictor) & 0xff;
  }
}

function expandPalette(
  width: number,
  height: number,
  indices: Uint8Array,
  palette: Uint8Array | undefined,
  transparency: Uint8Array | undefined,
  text: Record<string, string>,
): DecodedPNG {
  if (!palette) throw new VoxfaceError('NOT_AN_IMAGE', 'palette PNG has no PLTE chunk');
  const channels = transparency ? 4 : 3;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    data.set(palette.subarray(3 * k, 3 * k + 3), i * channels);
    if (transparency) data[i * channels + 3] = k < transparency.length ? transparency[k] : 255;
  }
  return { width, height, channels, bitDepth: 8, data, text };
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}
