/**
 * The user's own face box (`--box x,y,w,h`): a "detector" that returns exactly that box.
 */
import type { Box, Detection, FaceDetector, RGBImage } from '../types.ts';
import { VoxfaceError } from '../types.ts';

/**
 * Parses "x,y,w,h" (photo pixels, numbers separated by commas and/or spaces) into a Box.
 *
 *   parseBox('120,80,200,220')  // [120, 80, 200, 220]
 */
export function parseBox(text: string): Box {
  const parts = text.trim().split(/[\s,]+/).map(Number);
  if (parts.length !== 4 || !parts.every(Number.isFinite)) {
    throw new VoxfaceError('BAD_ARGUMENT', `--box needs four numbers x,y,w,h, got '${text}'`);
  }
  const [x, y, w, h] = parts;
  if (!(w > 0 && h > 0)) throw new VoxfaceError('BAD_ARGUMENT', `--box width and height must be positive, got ${w}×${h}`);
  return [x, y, w, h];
}

/**
 * A FaceDetector that skips detection and reports the given box (source 'user', score 1); the box
 * is taken as the face's 68-landmark box by `cropFromBox`. Throws BAD_ARGUMENT when the box lies
 * outside the photo.
 *
 *   const faces = await boxDetector(parseBox('120,80,200,220')).detect(image);
 */
export function boxDetector(box: Box): FaceDetector {
  const [x, y, w, h] = box;
  if (![x, y, w, h].every(Number.isFinite) || !(w > 0 && h > 0)) {
    throw new VoxfaceError('BAD_ARGUMENT', `the face box must be finite with a positive size, got [${box.join(', ')}]`);
  }
  return {
    name: 'user',
    async detect(image: RGBImage): Promise<Detection[]> {
      if (x >= image.width || y >= image.height || x + w <= 0 || y + h <= 0) {
        throw new VoxfaceError('BAD_ARGUMENT', `the face box [${box.join(', ')}] lies outside the ${image.width}×${image.height} photo`);
      }
      return [{ box: [x, y, w, h], score: 1, source: 'user' }];
    },
  };
}
