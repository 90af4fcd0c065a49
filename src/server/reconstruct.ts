/**
 * `POST /api/v1/reconstruct`: request parsing (raw image body, or the parts of a multipart form as
 * @fastify/multipart reads them), the reconstruction
 * itself (decode → pipeline → export, inside the concurrency limit, under a timeout, on a worker thread) and the
 * answer (the CLI's JSON plus links or inline files, or the GLB itself for `Accept: model/gltf-binary`). The photo's
 * header is checked (`checkImage`: type, size, truncation, dimensions) before the request takes a queue place.
 *
 * ```ts
 * const req = parseReconstructRequest(headers, url.searchParams, body);
 * checkImage(req.image);                                    // 415 / 400 / 413 / 422 at once, never queued
 * const out = await reconstructRequest(req, { run: (job) => workers.run(job), limiter, store, timeoutMs: 60_000 }, abortSignal);
 * ```
 */
import type { IncomingHttpHeaders } from 'node:http';
import { baseName } from '../export/files.ts';
import type { ExportedFile, FileRole, Format } from '../export/files.ts';
import { option, OptionError, optionsFromText, resolveOptions, resolveTable } from '../options.ts';
import type { Options, OptionsInput } from '../options.ts';
import type { ResultJSON } from '../export/json.ts';
import { sniffImage } from '../decode/sniff.ts';
import type { DecodeLimits, ImageHeader } from '../decode/sniff.ts';
import { MIN_FACE_IMAGE_SIDE, noFaceMessage } from '../detect/too-small.ts';
import { VoxfaceError } from '../types.ts';
import { HttpError } from './errors.ts';
import { BusyError, Limiter } from './limiter.ts';
import type { JobOutput, Runner } from './job.ts';
import type { ResultStore } from './results.ts';

/** The server's own parameters (the rest come from the options table, src/options.ts, rows exposed to 'server'). */
export const SERVER_OPTIONS = {
  inline: option.boolean({ default: false, metavar: '0|1', help: '1: the files in the answer as base64 instead of links (nothing is kept on the server)' }),
};

/** An uploaded file of a multipart form (in memory). */
export interface Upload {
  /** The form field's name. */
  name: string;
  /** The client's file name. */
  filename?: string;
  /** The part's Content-Type. */
  contentType?: string;
  data: Buffer;
}

/** What a client asked for, validated. */
export interface ReconstructRequest {
  image: Uint8Array;
  /** Every option of the table: the server's defaults (formats: glb) and what the client gave. */
  options: Options;
  inline: boolean;
  /** Answer with the largest face's GLB instead of JSON. */
  glb: boolean;
  /** Base name of the files (from the uploaded file's name, else "face"). */
  base: string;
}

/** One file in the answer: a link, or its bytes as base64 with `inline=1`. */
export interface FileEntry {
  name: string;
  format: Format;
  /** What the file is within its format (the export manifest's role: mesh, material, texture, …). */
  role: FileRole;
  bytes: number;
  url?: string;
  base64?: string;
}

/** The JSON answer: the CLI's JSON contract plus the files. */
export type ReconstructResponse = Omit<ResultJSON, 'faces'> & {
  id?: string;
  expires?: string;
  faces: (ResultJSON['faces'][number] & { files: FileEntry[] })[];
  /** Files that cover the whole photo (the JSON file). */
  files: FileEntry[];
  timings: Record<string, number>;
};

/** Everything the handler needs from the server. */
export interface ReconstructContext {
  /** Runs one reconstruction (a worker thread's, or this thread's with a given voxface). */
  run: Runner;
  limiter: Limiter;
  store: ResultStore;
  timeoutMs: number;
}

/** Content types accepted as a raw image body (besides multipart/form-data). */
export function isImageContentType(type: string): boolean {
  return /^image\/[\w.+-]+$/.test(type) || type === 'application/octet-stream';
}

/** A safe base name from an uploaded file name ("My Photo.jpg" → "My_Photo"): the exporters' own `baseName`. */
export { baseName };

/**
 * Validates the request: where the image is, the options of the table the server exposes (`faces`, `formats`,
 * `texture-size`, `landmarks`, … as in the OpenAPI document) and `inline`, from the query string or from form
 * fields, which win. Throws HttpError 400 (naming the parameter) / 415.
 */
export function parseReconstructRequest(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  body: Buffer | { fields: Map<string, string>; files: Upload[] },
): ReconstructRequest {
  const type = String(headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const params = new Map<string, string>();
  for (const [k, v] of query) params.set(k, v);
  let image: Uint8Array | undefined;
  let filename: string | undefined;
  if (!Buffer.isBuffer(body)) {
    for (const [k, v] of body.fields) params.set(k, v);
    const { files } = body;
    if (files.length === 0) throw new HttpError(400, 'BAD_ARGUMENT', 'the form has no file field (send the photo in a field named "image")');
    if (files.length > 1) throw new HttpError(400, 'BAD_ARGUMENT', 'send one photo per request');
    if (files[0].contentType && !isImageContentType(files[0].contentType.toLowerCase())) {
      throw new HttpError(415, 'NOT_AN_IMAGE', `the file's type ${files[0].contentType} is not an image`);
    }
    image = files[0].data;
    filename = files[0].filename;
  } else if (isImageContentType(type)) {
    image = body;
  } else {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `unsupported Content-Type "${type || '(none)'}": send the photo as image/* or application/octet-stream, or as multipart/form-data`,
    );
  }
  if (image.length === 0) throw new HttpError(400, 'EMPTY_BODY', 'the request holds no image (0 bytes)');

  let options: Options;
  let inline: boolean;
  try {
    const given = optionsFromText(params, 'server') as OptionsInput;
    ({ inline } = resolveTable(SERVER_OPTIONS, optionsFromText(params, 'server', SERVER_OPTIONS, () => true), 'server', 'server'));
    options = resolveOptions(given, 'server');
  } catch (e) {
    if (e instanceof OptionError) throw new HttpError(400, 'BAD_ARGUMENT', e.message);
    throw e;
  }
  const accept = String(headers.accept ?? '').toLowerCase();
  const glb = /(^|,)\s*model\/gltf-binary\s*(;|,|$)/.test(accept);
  if (glb) options = { ...options, faces: 'largest', formats: ['glb'] };
  return { image, options, inline, glb, base: baseName(filename) };
}

/**
 * The checks a photo's header allows, before it waits for a reconstruction: a known image format (not text, not an
 * unknown format: NOT_AN_IMAGE → 415), the whole header and, for JPEG and PNG, the end marker (TRUNCATED_IMAGE → 400),
 * bytes and pixels within the limits (IMAGE_TOO_LARGE → 413), and a size that can hold a face (NO_FACE → 422, the
 * pipeline's own message for it). Reads only the header: microseconds, on the HTTP thread.
 *
 *   checkImage(bytes);   // { format: 'jpeg', width: 400, height: 400 }, or throws VoxfaceError
 */
export function checkImage(bytes: Uint8Array, limits?: DecodeLimits): ImageHeader {
  const header = sniffImage(bytes, limits);
  if (Math.min(header.width, header.height) < MIN_FACE_IMAGE_SIDE) throw new VoxfaceError('NO_FACE', noFaceMessage(header));
  return header;
}

/** The result of a request: JSON, or the raw GLB. */
export type ReconstructOutcome = { kind: 'json'; body: ReconstructResponse } | { kind: 'glb'; name: string; bytes: Uint8Array };

/**
 * Runs one request: waits for a slot (BusyError → 503), decodes, reconstructs, exports, stores the files.
 * Rejects with HttpError 504 when `timeoutMs` passes first (a job already running finishes in the
 * background and keeps its slot; its result is dropped), or with the signal's reason when the client left.
 */
export async function reconstructRequest(req: ReconstructRequest, ctx: ReconstructContext, signal?: AbortSignal): Promise<ReconstructOutcome> {
  const t0 = performance.now();
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let started = 0;
  const job = ctx.limiter.run(async () => {
    started = performance.now();
    const out = await ctx.run({ image: req.image, options: req.options, base: req.base });
    return { ...out, timings: { queue: started - t0, decode: out.decodeMs, reconstruct: out.reconstructMs, export: out.exportMs } };
  }, abort);
  let done;
  try {
    done = await raceAbort(job, abort);
  } catch (e) {
    if (timeout.aborted && !(e instanceof BusyError) && !(signal?.aborted)) {
      throw new HttpError(504, 'TIMEOUT', `the reconstruction took longer than ${Math.round(ctx.timeoutMs / 1000)} s`);
    }
    if (e instanceof BusyError) {
      throw new HttpError(503, 'BUSY', 'the server is busy, try again shortly', { 'Retry-After': String(e.retryAfterS) });
    }
    throw e;
  }
  const timings = { ...done.timings, total: performance.now() - t0 };
  if (req.glb) {
    const file = done.files.find((f) => f.face === 0 && f.format === 'glb');
    if (!file) throw new HttpError(500, 'INTERNAL', 'no GLB was produced');
    return { kind: 'glb', name: file.name, bytes: file.bytes };
  }
  return { kind: 'json', body: respond(done, req, ctx.store, timings) };
}

/** Resolves with `p`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function respond(done: Pick<JobOutput, 'json' | 'files'>, req: ReconstructRequest, store: ResultStore, timings: Record<string, number>): ReconstructResponse {
  const all: Record<string, Uint8Array> = Object.fromEntries(done.files.map((f) => [f.name, f.bytes]));
  const stored = req.inline || done.files.length === 0 ? undefined : store.put(all);
  const entry = ({ name, format, role, bytes }: ExportedFile): FileEntry => {
    return stored
      ? { name, format, role, bytes: bytes.byteLength, url: `/api/v1/results/${stored.id}/${encodeURIComponent(name)}` }
      : { name, format, role, bytes: bytes.byteLength, base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  };
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    ...(stored ? { id: stored.id, expires: new Date(stored.expires).toISOString() } : {}),
    image: done.json.image,
    faces: done.json.faces.map((f, i) => ({ ...f, files: done.files.filter((x) => x.face === i).map(entry) })),
    files: done.files.filter((x) => x.face === null).map(entry),
    timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, round(v)])),
  };
}
