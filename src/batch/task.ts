/**
 * One photo of a batch, start to end, in a worker: read the file (or fetch the URL), reconstruct, export, write
 * its files all or nothing (src/node/write.ts). The same function serves the local pool and the queue workers, so an output does not
 * depend on which of them made it.
 *
 * ```ts
 * const vox = await loadVoxface({ threads: 1 });
 * const outcome = await runTask(vox, spec, { worker: 'host:123#0' });
 * // { ok: true, faces: 1, files: ['a.glb', 'a.json'], ms: 312, ... }
 * // or { ok: false, code: 'NO_FACE', message: 'no face found', retryable: false, ... }
 * ```
 * Failure codes: the pipeline's own (NOT_AN_IMAGE, TRUNCATED_IMAGE, IMAGE_TOO_LARGE, NO_FACE, BAD_ARGUMENT,
 * MODEL_ERROR), NOT_FOUND and READ_FAILED (the input file), FETCH_FAILED (the URL), WRITE_FAILED (an output file:
 * src/node/write.ts names the folder and the cause), INTERNAL (a bug). `retryable` says whether trying again later may succeed (a full disk, a busy server, an
 * unreachable URL), as opposed to a property of the photo or the settings.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { exportResult } from '../export/files.ts';
import type { DecodeLimits } from '../decode/sniff.ts';
import { DEFAULT_LIMITS } from '../decode/sniff.ts';
import type { Voxface } from '../node/index.ts';
import { VoxfaceError } from '../types.ts';
import { prepareOutputFolder, writeError, writeFilesAtomic } from '../node/write.ts';
import { isUrl } from './plan.ts';
import type { JobSettings } from './plan.ts';

/** Everything a worker needs to make one photo's files (JSON: it travels through IPC and Redis). */
export interface TaskSpec {
  /** itemId(source, optionsHash): the journal key and the BullMQ job id. */
  id: string;
  /** The input as given (for messages). */
  input: string;
  /** Absolute path or http(s) URL. */
  source: string;
  /** Absolute output folder (on a filesystem every worker sees). */
  out: string;
  /** Output base relative to `out`, '/'-separated. */
  name: string;
  settings: JobSettings;
  /** modelDigest() of the model the producer meant; a worker with another model refuses the task. */
  model: string;
}

export type TaskOutcome =
  | { ok: true; id: string; faces: number; files: string[]; bytes: number; ms: number; cpuMs?: number; worker: string }
  | {
      ok: false;
      id: string;
      code: string;
      message: string;
      retryable: boolean;
      /** The same cause fails every later photo too (a full disk): a local batch stops. */
      fatal?: boolean;
      ms: number;
      cpuMs?: number;
      worker: string;
    };

export interface TaskEnv {
  /** Who runs it: recorded in the journal. */
  worker: string;
  /** Time limit of a URL download (default 30 s). */
  fetchTimeoutMs?: number;
  limits?: DecodeLimits;
  /**
   * Stops the task (its process is going away: the parent died): no new stage starts, and its files are not
   * renamed into place (their temporary files are removed). The outcome is then INTERRUPTED.
   */
  signal?: AbortSignal;
}

/** An error with a batch failure code and whether retrying may help. */
export class TaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly fatal = false,
  ) {
    super(message);
  }
}

const TRANSIENT_FS = new Set(['EIO', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'ETIMEDOUT', 'ESTALE', 'ENOSPC', 'EDQUOT', 'ECONNRESET']);

async function readSource(source: string, env: TaskEnv): Promise<Uint8Array> {
  const maxBytes = env.limits?.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  if (!isUrl(source)) {
    try {
      return await readFile(source);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'ENOENT') throw new TaskError('NOT_FOUND', 'no such file', false);
      throw new TaskError('READ_FAILED', `cannot read the file: ${code}`, TRANSIENT_FS.has(code));
    }
  }
  let res: Response;
  try {
    const timeout = AbortSignal.timeout(env.fetchTimeoutMs ?? 30_000);
    // a stopping worker does not wait for a download either
    res = await fetch(source, { signal: env.signal ? AbortSignal.any([timeout, env.signal]) : timeout, redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new TaskError('FETCH_FAILED', `cannot download: ${cause === 'TimeoutError' ? 'timed out' : cause}`, true);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    throw new TaskError('FETCH_FAILED', `the server answered HTTP ${res.status}`, retryable);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new TaskError('IMAGE_TOO_LARGE', `the download has ${declared} bytes, more than the limit of ${maxBytes}`, false);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = res.body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new TaskError('IMAGE_TOO_LARGE', `the download has more than the limit of ${maxBytes} bytes`, false);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof TaskError) throw e;
    throw new TaskError('FETCH_FAILED', `the download broke off: ${(e as Error).message.split('\n')[0]}`, true);
  }
  return Buffer.concat(chunks);
}

/** The failure code, one-line message and retryability of anything a task threw. */
export function classify(e: unknown): { code: string; message: string; retryable: boolean; fatal?: boolean } {
  if (e instanceof TaskError) return { code: e.code, message: e.message, retryable: e.retryable, ...(e.fatal ? { fatal: true } : {}) };
  if (e instanceof VoxfaceError) return { code: e.code, message: e.message.split('\n')[0], retryable: e.code === 'IO_ERROR' };
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message: `internal error: ${msg.split('\n')[0]}`, retryable: false };
}

/** Output folders this process has created and checked (each once, not once per photo). */
const prepared = new Set<string>();

/** Runs one photo; never throws (failures come back as `{ ok: false }`). */
export async function runTask(vox: Voxface, spec: TaskSpec, env: TaskEnv): Promise<TaskOutcome> {
  const t0 = performance.now();
  const { signal } = env;
  const check = () => {
    if (signal?.aborted) throw new TaskError('INTERRUPTED', 'the worker is stopping', true);
  };
  try {
    check();
    const bytes = await readSource(spec.source, env);
    check();
    // before detection and before each face: a stopping worker starts no more work
    const { result } = await vox.reconstructBytes(bytes, { ...spec.settings, onProgress: check });
    check();
    const base = path.posix.basename(spec.name);
    const relDir = path.posix.dirname(spec.name);
    const files = exportResult(result, base, spec.settings);
    const dir = path.join(spec.out, ...relDir.split('/'));
    const written: string[] = [];
    let total = 0;
    try {
      if (!prepared.has(dir)) {
        await prepareOutputFolder(dir);
        prepared.add(dir);
      }
      // all or nothing: every file to its temporary file, then the renames
      total = await writeFilesAtomic(dir, files, { signal });
      for (const f of files) written.push(relDir === '.' ? f.name : `${relDir}/${f.name}`);
    } catch (e) {
      check();
      const w = writeError(e, dir);
      // a full disk or a flaky one may pass later; a read-only or forbidden folder will not
      const retryable = w.problem === 'DISK_FULL' || w.problem === 'IO';
      throw new TaskError('WRITE_FAILED', w.message, retryable, w.fatal);
    }
    return { ok: true, id: spec.id, faces: result.faces.length, files: written, bytes: total, ms: performance.now() - t0, worker: env.worker };
  } catch (e) {
    return { ok: false, id: spec.id, ...classify(e), ms: performance.now() - t0, worker: env.worker };
  }
}
