/**
 * Photo bytes → RGBImage in Node, with sharp (libvips). Formats: JPEG, PNG, WebP, AVIF (HEIF where the
 * sharp build has the codec), TIFF, GIF (any frame: `frameCount` says how many); BMP and PPM/PGM/PBM through our
 * own small parsers.
 */
import sharp from 'sharp';
import type { RGBImage } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { decodeBmp } from '../decode/bmp.ts';
import { decodePnm } from '../decode/pnm.ts';
import { DEFAULT_LIMITS, sniffImage, type DecodeLimits } from '../decode/sniff.ts';

/**
 * Decodes a photo to 8-bit sRGB, rows top to bottom, EXIF orientation applied. 16-bit, grey, CMYK and
 * ICC-tagged images are converted to 8-bit sRGB; alpha is flattened onto white; animations and multi-page
 * files give frame `frame` (default 0, the first). The header is checked first (`sniffImage`), so empty/text
 * files, truncated headers and decompression bombs are refused before decoding; truncated pixel data is an error,
 * not grey garbage. Errors are VoxfaceError: NOT_AN_IMAGE, TRUNCATED_IMAGE or IMAGE_TOO_LARGE.
 *
 *   const image = await decodeImage(await readFile('photo.jpg'));
 *   const third = await decodeImage(gifBytes, {}, 2);   // the third frame of an animated GIF
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits = {}, frame = 0): Promise<RGBImage> {
  const header = sniffImage(bytes, limits);
  if (header.format === 'pnm') return decodePnm(bytes);
  if (header.format === 'bmp') return decodeBmp(bytes);
  const maxPixels = limits.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  try {
    const { data, info } = await sharp(bytes, {
      limitInputPixels: maxPixels,
      failOn: 'truncated',
      page: frame,
      pages: 1,
      sequentialRead: true,
    })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw asDecodeError(e, header.format);
  }
}

/**
 * How many frames (animation frames, or pages of a multi-page TIFF) an image has, from its header: 1 for a still
 * image, and 1 when the header cannot be read (decodeImage then says why).
 *
 *   const n = await frameCount(gifBytes);   // 12
 */
export async function frameCount(bytes: Uint8Array): Promise<number> {
  try {
    const { pages } = await sharp(bytes, { limitInputPixels: false }).metadata();
    return pages && pages > 1 ? pages : 1;
  } catch {
    return 1;
  }
}

/** Maps a libvips/sharp failure to a one-line VoxfaceError. */
function asDecodeError(e: unknown, format: string): VoxfaceError {
  if (e instanceof VoxfaceError) return e;
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
  const what = format.toUpperCase();
  if (/premature end|truncat|unexpected end|end of (file|stream|data)|not enough|short read|incomplete|corrupt data|out of data/i.test(msg)) {
    return new VoxfaceError('TRUNCATED_IMAGE', `truncated ${what} file: ${msg}`);
  }
  if (/pixel limit|exceeds? .*limit/i.test(msg)) return new VoxfaceError('IMAGE_TOO_LARGE', `the ${what} image is too large: ${msg}`);
  if (/unsupported|no decoder|codec|compression format has not been built/i.test(msg)) {
    return new VoxfaceError('NOT_AN_IMAGE', `cannot decode this ${what} file here: ${msg}`);
  }
  return new VoxfaceError('NOT_AN_IMAGE', `cannot decode the ${what} file: ${msg}`);
}
