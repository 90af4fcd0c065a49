/**
 * Reads a request body into memory with a byte limit (photos are never written to disk).
 *
 * ```ts
 * const bytes = await readBody(req, 20 * 1024 * 1024); // throws HttpError 413 past the limit
 * ```
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

/** Human-readable size, e.g. "20 MB". */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} kB`;
  return `${n} bytes`;
}

/**
 * Collects the body. Rejects with 413 as soon as the declared Content-Length or the bytes received pass
 * `limit` (the rest of the upload is then discarded, not buffered), and with 400 when the client aborts.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, 'IMAGE_TOO_LARGE', `the upload is larger than the limit of ${formatBytes(limit)}`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (err) {
        req.resume(); // drain and drop whatever is still coming
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish(tooLarge());
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => finish(null));
    req.on('aborted', () => finish(new HttpError(400, 'ABORTED', 'the upload was aborted')));
    req.on('error', (e) => finish(new HttpError(400, 'ABORTED', `the upload failed: ${e.message}`)));
  });
}
