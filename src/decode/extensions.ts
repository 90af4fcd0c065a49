/**
 * The file endings a folder scan takes for photos — one list for the CLI, batch runs, eval, bench and the load
 * script: the formats the Node decoder reads (sharp: JPEG, PNG, WebP, AVIF, HEIF, TIFF, GIF; ours: BMP, PNM).
 * A file given by name is decoded whatever its ending (its bytes decide, see sniff.ts).
 *
 * ```ts
 * isImageFile('photos/IMG_0042.JPG'); // true
 * isImageFile('notes.txt');           // false
 * ```
 */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.avif', '.heic', '.heif', '.tif', '.tiff', '.gif', '.bmp', '.ppm', '.pgm', '.pnm'] as const;

/** Whether a file name ends in one of IMAGE_EXTENSIONS (any case). */
export function isImageFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot >= 0 && (IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase());
}
