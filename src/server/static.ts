/**
 * Static files: the page (`web/`, `web/dist/`), the model, and the few vendor files the browser needs.
 * Each mount maps a URL prefix to a folder, optionally with an allow-list of file names; paths never
 * leave their folder. ETag/304, HEAD, and gzip (cached in memory) for text and wasm files.
 *
 * ```ts
 * const files = new StaticFiles([{ prefix: '/', file: 'web/index.html' }, { prefix: '/dist/', dir: 'web/dist' }]);
 * if (await files.serve(req, res, url.pathname)) return; // handled (200/304/404 inside a mount)
 * ```
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface Mount {
  /** URL prefix ending in '/' (a folder mount), or an exact URL path when `file` is given. */
  prefix: string;
  /** The folder served under `prefix`. */
  dir?: string;
  /** The one file served at exactly `prefix`. */
  file?: string;
  /** Only these relative paths are served (default: any file inside `dir`). */
  allow?: readonly string[];
  /** Only files with these extensions are served (e.g. ['.html', '.css']). */
  exts?: readonly string[];
  /** Cache-Control value (default 'no-cache': revalidate with the ETag). */
  cache?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.css', '.js', '.mjs', '.map', '.json', '.svg', '.wasm', '.txt', '.webmanifest', '.onnx']);

/** The Content-Type for a file name (application/octet-stream when unknown). */
export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export class StaticFiles {
  private readonly gzipCache = new Map<string, { etag: string; data: Buffer }>();
  private gzipBytes = 0;

  constructor(
    private readonly mounts: readonly Mount[],
    private readonly options: { gzipCacheBytes?: number } = {},
  ) {}

  /** Resolves a URL path to a file of a mount, or undefined (outside every mount, or not allowed). */
  resolve(pathname: string): { file: string; mount: Mount } | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    for (const mount of this.mounts) {
      if (mount.file) {
        if (decoded === mount.prefix) return { file: mount.file, mount };
        continue;
      }
      if (!mount.dir || !decoded.startsWith(mount.prefix)) continue;
      const rel = decoded.slice(mount.prefix.length);
      if (!rel || rel.split('/').some((s) => s === '' || s.startsWith('.'))) continue; // no '..', no dotfiles
      if (mount.allow && !mount.allow.includes(rel)) continue;
      if (mount.exts && !mount.exts.includes(path.extname(rel).toLowerCase())) continue;
      const root = path.resolve(mount.dir);
      const file = path.resolve(root, rel);
      if (!file.startsWith(root + path.sep)) continue;
      return { file, mount };
    }
    return undefined;
  }

  /** Serves the file for `pathname` if a mount has it; returns false when no mount has it (caller 404s). */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    const hit = this.resolve(pathname);
    if (!hit) return false;
    let info;
    try {
      info = await stat(hit.file);
    } catch {
      return false;
    }
    if (!info.isFile()) return false;
    const etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
    const ext = path.extname(hit.file).toLowerCase();
    res.setHeader('Content-Type', contentType(hit.file));
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', hit.mount.cache ?? 'no-cache');
    res.setHeader('Vary', 'Accept-Encoding');
    if (req.headers['if-none-match'] === etag) {
      res.statusCode = 304;
      res.end();
      return true;
    }
    const gzip = COMPRESSIBLE.has(ext) && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (gzip) {
      const data = await this.gzipped(hit.file, etag);
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Length', data.length);
      res.end(req.method === 'HEAD' ? undefined : data);
      return true;
    }
    res.setHeader('Content-Length', info.size);
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(hit.file);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
    return true;
  }

  private async gzipped(file: string, etag: string): Promise<Buffer> {
    const cached = this.gzipCache.get(file);
    if (cached && cached.etag === etag) return cached.data;
    const data = gzipSync(await readFile(file), { level: 6 });
    const limit = this.options.gzipCacheBytes ?? 64 * 1024 * 1024;
    if (cached) {
      this.gzipCache.delete(file);
      this.gzipBytes -= cached.data.length;
    }
    if (data.length <= limit) {
      while (this.gzipBytes + data.length > limit) {
        const [oldest, entry] = this.gzipCache.entries().next().value as [string, { data: Buffer }];
        this.gzipCache.delete(oldest);
        this.gzipBytes -= entry.data.length;
      }
      this.gzipCache.set(file, { etag, data });
      this.gzipBytes += data.length;
    }
    return data;
  }
}
