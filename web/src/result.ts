/**
 * What the page shows after a reconstruction, whichever side ran it: the JSON contract (the CLI's
 * `--format json`), the files of each face as download links, and each face's GLB for the viewers.
 *
 * ```ts
 * const r: PageResult = await reconstructOnServer(file, onProgress);   // or reconstructOnDevice(...)
 * const glb = await r.glb(0);                                           // ArrayBuffer of the largest face
 * ```
 */
import type { ResultJSON } from '../../src/export/json.ts';

/** One downloadable file. */
export interface PageFile {
  name: string;
  format: string;
  /** What the file is within its format (the export manifest's role: model, mesh, material, texture, …). */
  role: string;
  bytes: number;
  /** A same-origin link (server mode) or a blob: URL (device mode). */
  href: string;
}

export interface PageResult {
  /** Where the pipeline ran. */
  mode: 'device' | 'server';
  json: ResultJSON;
  /** Files per face, in the order of `json.faces` (largest first). */
  faces: PageFile[][];
  /** Files for the whole photo (the JSON). */
  photoFiles: PageFile[];
  /** Total milliseconds, for the status line. */
  ms: number;
  /** The GLB of face i. */
  glb(i: number): Promise<ArrayBuffer>;
  /**
   * Where some files are made after the model is shown (device mode: the formats the viewer does not need): asks for
   * them and settles once they are in `faces` and `photoFiles` (rejects with a PageError where they could not be made).
   */
  moreFiles?: () => Promise<void>;
  /** Frees blob: URLs. */
  dispose(): void;
}

/** An error to show to the user: a code and a sentence. */
export class PageError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'PageError';
  }
}

/** The message as a sentence: capital first letter, one full stop. */
function sentence(message: string): string {
  const m = message.trim().replace(/[.\s]+$/, '');
  return m ? `${m[0].toUpperCase()}${m.slice(1)}.` : '';
}

/**
 * A friendly sentence for an error code, built around the server's or the pipeline's own message so that each
 * thing is said once: "This file is not a photo that can be read: a text file (expected JPEG, PNG, …)."
 */
export function explain(code: string, message: string): string {
  const detail = message.trim().replace(/^not an image:\s*/i, '').replace(/[.\s]+$/, '');
  switch (code) {
    case 'NO_FACE':
      // the pipeline's own words when they say more than "no face found" (too small, which frames were read)
      if (detail && !/^no face found$/i.test(detail)) return `${sentence(detail)} Try a photo where the face is clearly visible.`;
      return 'No face was found in this photo. Try one where the face is clearly visible, well lit and not tiny.';
    case 'NOT_AN_IMAGE':
    case 'UNSUPPORTED_MEDIA_TYPE':
      return detail ? `This file is not a photo that can be read: ${detail}.` : 'This file is not a photo that can be read (JPEG, PNG, WebP… expected).';
    case 'TRUNCATED_IMAGE':
      return detail ? `This photo file is damaged or incomplete: ${detail}.` : 'This photo file is damaged or incomplete.';
    case 'EMPTY_BODY':
      return 'This file is empty.';
    case 'IMAGE_TOO_LARGE':
      return `This photo is too large${detail ? `: ${detail}` : ''}. Try a smaller one.`;
    case 'BUSY':
      return 'The server is busy right now; try again in a few seconds.';
    case 'TIMEOUT':
      return 'The server took too long with this photo. Try again, or a smaller photo.';
    case 'NETWORK':
      return 'The server cannot be reached. Check the connection, or use "On this device".';
    default:
      return sentence(message);
  }
}

/** "1.2 MB" */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} kB`;
  return `${n} B`;
}
