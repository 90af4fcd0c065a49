/**
 * Server mode: uploads the photo to `POST api/v1/reconstruct` beside the page (multipart, the formats it offers as links) with
 * upload progress, and turns the answer into a `PageResult`.
 *
 * ```ts
 * const result = await reconstructOnServer(file, (fraction, text) => showProgress(fraction, text));
 * ```
 */
import type { OptionsInput } from '../../src/options.ts';
import type { ReconstructResponse } from '../../src/server/reconstruct.ts';
import { pageFormats, serverQuery } from './options.ts';
import { PageError } from './result.ts';
import type { PageFile, PageResult } from './result.ts';

/** Progress callback: fraction 0..1, or undefined while waiting with no measure. */
export type Progress = (fraction: number | undefined, text: string) => void;

/** Sends the photo (with the page's options, see options.ts) and resolves with the result, or rejects with a PageError. */
export function reconstructOnServer(file: Blob, name: string, onProgress: Progress, signal?: AbortSignal, options: OptionsInput = {}): Promise<PageResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    // relative to the page, like every URL of the page (it may sit under a path prefix behind a proxy)
    xhr.open('POST', new URL(`api/v1/reconstruct?${serverQuery(options, pageFormats(options).join(','))}`, document.baseURI));
    xhr.responseType = 'json';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total, `Uploading… ${Math.round((100 * e.loaded) / e.total)}%`);
    };
    xhr.upload.onload = () => onProgress(undefined, 'Reconstructing on the server…');
    xhr.onerror = () => reject(new PageError('NETWORK', 'network error'));
    xhr.onabort = () => reject(new PageError('ABORTED', 'cancelled'));
    xhr.onload = () => {
      const body = xhr.response as (ReconstructResponse & { error?: string; code?: string }) | null;
      if (xhr.status !== 200 || !body || body.error) {
        const retry = Number(xhr.getResponseHeader('Retry-After')) || undefined;
        reject(new PageError(body?.code ?? `HTTP_${xhr.status}`, body?.error ?? `the server answered HTTP ${xhr.status}`, retry));
        return;
      }
      resolve(toPageResult(body, performance.now() - t0));
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('image', file, name);
    xhr.send(form);
  });
}

function toPageResult(body: ReconstructResponse, ms: number): PageResult {
  const file = (f: ReconstructResponse['files'][number]): PageFile => ({
    name: f.name,
    format: f.format,
    role: f.role,
    bytes: f.bytes,
    href: f.url ?? URL.createObjectURL(new Blob([Uint8Array.from(atob(f.base64 ?? ''), (c) => c.charCodeAt(0))])),
  });
  const faces = body.faces.map((f) => f.files.map(file));
  const photoFiles = body.files.map(file);
  const { files: _files, id: _id, expires: _expires, timings: _timings, ...rest } = body;
  const json = { ...rest, faces: body.faces.map(({ files: _f, ...face }) => face) };
  return {
    mode: 'server',
    json,
    faces,
    photoFiles,
    ms,
    async glb(i) {
      const entry = faces[i]?.find((f) => f.format === 'glb');
      if (!entry) throw new PageError('NO_GLB', 'the server sent no GLB for this face');
      const res = await fetch(entry.href);
      if (!res.ok) throw new PageError('EXPIRED', 'the result has expired on the server; reconstruct the photo again');
      return res.arrayBuffer();
    },
    dispose() {
      for (const f of [...faces.flat(), ...photoFiles]) if (f.href.startsWith('blob:')) URL.revokeObjectURL(f.href);
    },
  };
}
