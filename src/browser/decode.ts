/**
 * Browser image decoding: a File/Blob → `RGBImage` (EXIF orientation applied) through createImageBitmap
 * and a canvas, with the same kinds of checks as the Node decoder: empty, not an image, truncated, too
 * many pixels (read from the header before anything is decoded, so a pixel bomb is refused cheaply).
 *
 * ```ts
 * const image = await decodeBlob(file, { maxPixels: 40e6 }); // RGBImage, or a VoxfaceError
 * ```
 */
import { VoxfaceError } from '../types.ts';
import type { RGBImage } from '../types.ts';

export interface BrowserDecodeLimits {
  /** Most bytes accepted (default 50 MB). */
  maxBytes?: number;
  /** Most pixels (width × height) accepted (default 50 million). */
  maxPixels?: number;
}

export type ImageKind = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif' | 'unknown';

/** The image format from its first bytes. */
export function sniffImage(b: Uint8Array): ImageKind {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp' && /avi[fs]/.test(ascii(b, 8, 4))) return 'avif';
  return 'unknown';
}

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

/**
 * Width and height from the header of a JPEG, PNG, GIF, WebP or BMP (undefined when the header does not say,
 * e.g. AVIF, or is cut short).
 *
 *   imageSize(bytes); // { width: 640, height: 480 }
 */
export function imageSize(b: Uint8Array): { width: number; height: number } | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const kind = sniffImage(b);
  try {
    if (kind === 'png' && b.length >= 24) return { width: dv.getUint32(16), height: dv.getUint32(20) };
    if (kind === 'gif' && b.length >= 10) return { width: dv.getUint16(6, true), height: dv.getUint16(8, true) };
    if (kind === 'bmp' && b.length >= 26) return { width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
    if (kind === 'webp' && b.length >= 30) {
      const chunk = ascii(b, 12, 4);
      if (chunk === 'VP8X') return { width: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)), height: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)) };
      if (chunk === 'VP8L') {
        const bits = dv.getUint32(21, true);
        return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
      }
      if (chunk === 'VP8 ') return { width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
    }
    if (kind === 'jpeg') {
      let p = 2;
      while (p + 9 < b.length) {
        if (b[p] !== 0xff) return undefined;
        const marker = b[p + 1];
        if (marker === 0xff) {
          p++;
          continue;
        }
        const len = dv.getUint16(p + 2);
        // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          return { width: dv.getUint16(p + 7), height: dv.getUint16(p + 5) };
        }
        p += 2 + len;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Whether the file visibly ends early (JPEG without its end marker, PNG without IEND). */
export function looksTruncated(b: Uint8Array, kind: ImageKind = sniffImage(b)): boolean {
  const tail = b.subarray(Math.max(0, b.length - 4096));
  if (kind === 'jpeg') {
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return false;
    return true;
  }
  if (kind === 'png') {
    for (let i = tail.length - 4; i >= 0; i--) if (tail[i] === 0x49 && tail[i + 1] === 0x45 && tail[i + 2] === 0x4e && tail[i + 3] === 0x44) return false;
    return true;
  }
  return false;
}

/**
 * Checks the bytes of a photo before decoding: size, format, truncation, pixel count.
 * Throws VoxfaceError NOT_AN_IMAGE / TRUNCATED_IMAGE / IMAGE_TOO_LARGE.
 */
export function checkImageBytes(bytes: Uint8Array, limits: BrowserDecodeLimits = {}): ImageKind {
  const maxBytes = limits.maxBytes ?? 50 * 1024 * 1024;
  const maxPixels = limits.maxPixels ?? 50e6;
  if (bytes.length === 0) throw new VoxfaceError('NOT_AN_IMAGE', 'the file is empty');
  if (bytes.length > maxBytes) throw new VoxfaceError('IMAGE_TOO_LARGE', `the file is larger than ${Math.round(maxBytes / 1048576)} MB`);
  const kind = sniffImage(bytes);
  if (kind === 'unknown') throw new VoxfaceError('NOT_AN_IMAGE', 'not an image (JPEG, PNG, WebP, GIF, BMP or AVIF expected)');
  if (looksTruncated(bytes, kind)) throw new VoxfaceError('TRUNCATED_IMAGE', `the ${kind.toUpperCase()} file is truncated`);
  const size = imageSize(bytes);
  if (size && size.width * size.height > maxPixels) {
    throw new VoxfaceError('IMAGE_TOO_LARGE', `the image has ${size.width}×${size.height} pixels, more than the limit of ${Math.round(maxPixels / 1e6)} megapixels`);
  }
  return kind;
}

/** Draws a bitmap on a canvas and returns its pixels as RGB. */
export function bitmapToRGB(bitmap: ImageBitmap | HTMLCanvasElement | HTMLVideoElement, width: number, height: number): RGBImage {
  const canvas: OffscreenCanvas | HTMLCanvasElement =
    typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new VoxfaceError('IO_ERROR', 'this browser cannot read canvas pixels');
  ctx.drawImage(bitmap, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    data[j] = rgba[i];
    data[j + 1] = rgba[i + 1];
    data[j + 2] = rgba[i + 2];
  }
  return { width, height, data };
}

/**
 * Decodes a photo (EXIF orientation applied, like the Node decoder). Returns the pixels and the bitmap
 * (for display; close it when done).
 */
export async function decodeBlob(blob: Blob, limits: BrowserDecodeLimits = {}): Promise<{ image: RGBImage; bitmap: ImageBitmap }> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  checkImageBytes(bytes, limits);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new VoxfaceError('NOT_AN_IMAGE', 'the browser cannot decode this image (corrupt or unsupported format)');
  }
  const maxPixels = limits.maxPixels ?? 50e6;
  if (bitmap.width * bitmap.height > maxPixels) {
    bitmap.close();
    throw new VoxfaceError('IMAGE_TOO_LARGE', `the image has ${bitmap.width}×${bitmap.height} pixels, more than the limit`);
  }
  return { image: bitmapToRGB(bitmap, bitmap.width, bitmap.height), bitmap };
}
