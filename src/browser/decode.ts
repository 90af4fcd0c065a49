/**
 * Browser image decoding: a File/Blob → `RGBImage` (EXIF orientation applied) through createImageBitmap
 * and a canvas, after the same header checks as the Node decoder (`sniffImage`: empty, not an image,
 * truncated, too many pixels — read from the header, so a pixel bomb is refused before decoding).
 *
 * ```ts
 * const { image, bitmap } = await decodeBlob(file, { maxPixels: 40e6 }); // or a VoxfaceError
 * ```
 */
import { DEFAULT_LIMITS, sniffImage } from '../decode/sniff.ts';
import type { DecodeLimits } from '../decode/sniff.ts';
import { VoxfaceError } from '../types.ts';
import type { RGBImage } from '../types.ts';

export type { DecodeLimits } from '../decode/sniff.ts';

/** Formats every browser decodes with createImageBitmap (TIFF, PNM and HEIF are left to the server). */
const BROWSER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'bmp', 'avif']);

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
export async function decodeBlob(blob: Blob, limits: DecodeLimits = {}): Promise<{ image: RGBImage; bitmap: ImageBitmap }> {
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  if (blob.size > maxBytes) {
    throw new VoxfaceError('IMAGE_TOO_LARGE', `the file has ${(blob.size / 1048576).toFixed(1)} MB, more than the limit of ${(maxBytes / 1048576).toFixed(1)} MB`);
  }
  const { format } = sniffImage(new Uint8Array(await blob.arrayBuffer()), limits);
  if (!BROWSER_FORMATS.has(format)) {
    throw new VoxfaceError('NOT_AN_IMAGE', `this browser cannot decode ${format.toUpperCase()} files; use a JPEG or PNG, or the server`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new VoxfaceError('NOT_AN_IMAGE', `the browser cannot decode this ${format.toUpperCase()} file (corrupt or unsupported)`);
  }
  const maxPixels = limits.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  if (bitmap.width * bitmap.height > maxPixels) {
    bitmap.close();
    throw new VoxfaceError('IMAGE_TOO_LARGE', `the image has ${bitmap.width}×${bitmap.height} pixels, more than the limit`);
  }
  return { image: bitmapToRGB(bitmap, bitmap.width, bitmap.height), bitmap };
}
