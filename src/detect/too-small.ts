/**
 * The message for a photo in which no face was found, saying so plainly when the image is too small to hold one.
 * Measured with the shipped detectors on examples/face.jpg and a 400×400 portrait scaled down: faces are still
 * found in 20×20 images (a 9-pixel face), none in 16×16 or smaller.
 *
 * ```ts
 * noFaceMessage({ width: 1, height: 1 });     // 'the image is too small to hold a face (1×1)'
 * noFaceMessage({ width: 640, height: 480 }); // 'no face found'
 * ```
 */

/** Images whose shorter side is below this many pixels cannot hold a face the detectors find. */
export const MIN_FACE_IMAGE_SIDE = 16;

export function noFaceMessage(image: { width: number; height: number }): string {
  const { width, height } = image;
  return Math.min(width, height) < MIN_FACE_IMAGE_SIDE ? `the image is too small to hold a face (${width}×${height})` : 'no face found';
}
