/**
 * `voxface batch` on one machine: plans the inputs, skips what the journal says is done, runs the rest on a pool
 * of worker processes with a progress bar, records every outcome in the journal, and ends with a summary.
 *
 * ```ts
 * import { runBatch } from './run.ts';
 * import { jobSettings } from './plan.ts';
 * const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
 * const summary = await runBatch(['photos/'], { out: 'out/', jobs: 2, settings: jobSettings({ flip: false }) }, io);
 * // { done: 118, failed: { NO_FACE: 2 }, skipped: 0, faces: 121, ms: 61230, loadMs: 910, interrupted: false }
 * ```
 * Running it again skips the inputs done before (their files still there) and the ones that failed before;
 * `retryFailed` runs the failed ones again. Failures that may pass on a later try (a full disk, a dead worker
 * process, an unreachable URL) are retried `attempts` times with exponential backoff within the run.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareOutputFolder, removeStaleTemps, writeError } from '../node/write.ts';
import { Journal } from './journal.ts';
import type { ItemRecord, SummaryRecord } from './journal.ts';
import { checkImageFile, isUrl, itemId, modelDigest, optionsHash, packageVersion, planInputs } from './plan.ts';
import type { JobSettings } from './plan.ts';
import { BatchProgress } from './progress.ts';
import { POOL_DEFAULTS, PoolStartError, WorkerPool } from './pool.ts';
import type { TaskOutcome, TaskSpec } from './task.ts';

export interface BatchOptions {
  /** Output folder (the journal lives in it). */
  out: string;
  /** What the output files depend on: reconstruction options, formats, frame, solid STL. */
  settings: JobSettings;
  /** Worker processes (default: the machine's cores). */
  jobs?: number;
  /** onnxruntime threads per worker (default: cores / jobs, at least 1). */
  threads?: number;
  /** ONNX model (default: the package's models/vrn-compact.onnx). */
  model?: string;
  /** Run again the inputs whose last record is 'failed' (default false: they are skipped). */
  retryFailed?: boolean;
  /** Tries of a task whose failure may pass (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubled each time (default 1000). */
  backoffMs?: number;
  /** Time limit of a URL download (default 30 s). */
  fetchTimeoutMs?: number;
}

/** The batch's defaults, named. */
export const BATCH_DEFAULTS = { attempts: 3, backoffMs: 1000, fetchTimeoutMs: 30_000 } as const;

export interface BatchIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY?: boolean;
  /** No progress bar and no summary on stdout (failures still on stderr). */
  quiet?: boolean;
  /** Stops the batch: running photos finish and are recorded, the rest stay pending. */
  signal?: AbortSignal;
  /** Called with each photo's record once the journal has it (done or failed): results as they come. */
  onRecord?: (record: ItemRecord) => void;
}

export type BatchSummary = Omit<SummaryRecord, 'type' | 'at'>;

/** The model could not be loaded (exit code 3). */
export class BatchModelError extends Error {}

/** The package's default model path, without loading onnxruntime in this process. */
export function defaultModel(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'vrn-compact.onnx');
}

export interface PreparedBatch {
  journal: Journal;
  /** Inputs to run, in order. */
  pending: TaskSpec[];
  /** Inputs not run: done before, or failed before without retryFailed. */
  skipped: number;
  /** Of `skipped`: the ones that failed before. */
  failedBefore: number;
  /** Inputs that cannot be run at all (missing, output name taken, not an image or too large by its header): recorded as failed. */
  failed: Record<string, number>;
  total: number;
  hash: string;
  model: string;
}

async function allExist(out: string, files: readonly string[] | undefined): Promise<boolean> {
  if (!files || files.length === 0) return false;
  for (const f of files) {
    try {
      await stat(path.join(out, ...f.split('/')));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Plans a batch against its journal (shared by the local batch and the queue producer): which inputs are pending,
 * which are skipped, which cannot run. Records the ones that cannot run as failed and prints one line each.
 */
export async function prepareBatch(
  inputs: readonly string[],
  options: Pick<BatchOptions, 'out' | 'settings' | 'model' | 'retryFailed'>,
  io: Pick<BatchIO, 'stderr'>,
): Promise<PreparedBatch> {
  const out = path.resolve(options.out);
  await prepareOutputFolder(out); // WriteError naming the folder and the cause, before any work
  const modelPath = path.resolve(options.model ?? defaultModel());
  let model: string;
  try {
    model = await modelDigest(modelPath);
  } catch (e) {
    throw new BatchModelError(`cannot read the model ${modelPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const hash = optionsHash(options.settings, model, await packageVersion());
  const { items, problems, notes } = await planInputs(inputs, { exclude: out });
  for (const n of notes) io.stderr(`voxface: ${n}\n`);
  const journal = await Journal.open(out);
  if (journal.badLines > 0) io.stderr(`voxface: ${journal.file}: ${journal.badLines} unreadable line(s) skipped (cut short by a crash)\n`);
  const failed: Record<string, number> = {};
  for (const p of problems) {
    io.stderr(`voxface: ${p.input}: ${p.message}\n`);
    failed[p.code] = (failed[p.code] ?? 0) + 1;
    await journal.append({ type: 'item', id: itemId(p.source, hash), input: p.input, name: p.name, state: 'failed', code: p.code, reason: p.message });
  }
  const pending: TaskSpec[] = [];
  let skipped = 0;
  let failedBefore = 0;
  const CHUNK = 64;
  for (let i = 0; i < items.length; i += CHUNK) {
    const chunk = items.slice(i, i + CHUNK);
    const keep = await Promise.all(
      chunk.map(async (it): Promise<boolean | 'failed' | { code: string; message: string }> => {
        const last = journal.state(itemId(it.source, hash));
        const run = !last || (last.state === 'done' ? !(await allExist(out, last.files)) : options.retryFailed === true || 'failed');
        // a file to run: what its header tells (missing, not an image, a pixel bomb) fails it here, before any worker
        if (run === true && !isUrl(it.source)) return (await checkImageFile(it.source)) ?? true;
        return run;
      }),
    );
    for (let k = 0; k < chunk.length; k++) {
      const it = chunk[k];
      const id = itemId(it.source, hash);
      const what = keep[k];
      if (typeof what === 'object') {
        io.stderr(`voxface: ${it.input}: ${what.message}\n`);
        failed[what.code] = (failed[what.code] ?? 0) + 1;
        await journal.append({ type: 'item', id, input: it.input, name: it.name, state: 'failed', code: what.code, reason: what.message });
        continue;
      }
      if (what !== true) {
        skipped++;
        if (what === 'failed') failedBefore++;
        continue;
      }
      pending.push({ id, input: it.input, source: it.source, out, name: it.name, settings: options.settings, model });
    }
  }
  return { journal, pending, skipped, failedBefore, failed, total: items.length + problems.length, hash, model };
}

/** The journal record of a task's outcome. */
export function itemRecord(spec: Pick<TaskSpec, 'id' | 'input' | 'name'>, outcome: TaskOutcome, attempts: number): ItemRecord {
  const base = { type: 'item' as const, id: spec.id, input: spec.input, name: spec.name, attempts, worker: outcome.worker, ms: Math.round(outcome.ms) };
  return outcome.ok
    ? { ...base, state: 'done', faces: outcome.faces, files: outcome.files }
    : { ...base, state: 'failed', code: outcome.code, reason: outcome.message };
}

/** The summary line printed at the end of a batch. */
export function formatSummary(s: BatchSummary, journalFile: string): string {
  const failed = Object.entries(s.failed);
  const nFailed = failed.reduce((a, [, n]) => a + n, 0);
  const why = failed.length ? ` (${failed.map(([k, n]) => `${k} ${n}`).join(', ')})` : '';
  const load = s.loadMs !== undefined ? `, model loaded in ${(s.loadMs / 1000).toFixed(1)} s` : '';
  return (
    `voxface: ${s.done} done (${s.faces} face${s.faces === 1 ? '' : 's'}), ${nFailed} failed${why}, ${s.skipped} skipped` +
    `${s.failedBefore ? ` (${s.failedBefore} of them failed before: --retry-failed runs them again)` : ''}, ` +
    `${(s.ms / 1000).toFixed(1)} s${load}` +
    `${s.stopped ? `, STOPPED: ${s.stopped} (fix that and run the same command again)` : s.interrupted ? ', INTERRUPTED (run the same command again to go on)' : ''}; journal ${journalFile}\n`
  );
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Runs a batch on this machine (see the module comment). Rejects with BatchModelError when the model cannot load. */
export async function runBatch(inputs: readonly string[], options: BatchOptions, io: BatchIO): Promise<BatchSummary> {
  const t0 = performance.now();
  const prep = await prepareBatch(inputs, options, io);
  const { journal, pending } = prep;
  // temporary files of processes that died mid-write (a killed run): only this machine's processes write here
  const stale = await removeStaleTemps(path.resolve(options.out));
  if (stale.length > 0 && !io.quiet) io.stderr(`voxface: removed ${stale.length} temporary file(s) left by a killed run\n`);
  const attempts = Math.max(1, options.attempts ?? BATCH_DEFAULTS.attempts);
  const backoffMs = options.backoffMs ?? BATCH_DEFAULTS.backoffMs;
  const summary: BatchSummary = { done: 0, failed: { ...prep.failed }, skipped: prep.skipped, failedBefore: prep.failedBefore, faces: 0, ms: 0, interrupted: false };
  let pool: WorkerPool | undefined;
  try {
    if (pending.length > 0) {
      try {
        pool = await WorkerPool.start({ jobs: Math.min(options.jobs ?? POOL_DEFAULTS.jobs(), pending.length), threads: options.threads, model: options.model, fetchTimeoutMs: options.fetchTimeoutMs });
      } catch (e) {
        if (e instanceof PoolStartError) throw new BatchModelError(e.message);
        throw e;
      }
      summary.loadMs = Math.round(Math.max(...pool.loadMs));
      await journal.append({ type: 'run', mode: 'local', optionsHash: prep.hash, inputs: prep.total, pending: pending.length, jobs: pool.jobs, threads: pool.threads });
    }
    const p = pool;
    const bar = !io.quiet && pending.length > 0 ? new BatchProgress(pending.length, io) : undefined;
    // stops on the caller's signal, or on a failure every later photo would share (a full disk)
    const stop = new AbortController();
    const onAbort = () => {
      stop.abort();
      void p?.close(true);
    };
    if (io.signal?.aborted) onAbort();
    io.signal?.addEventListener('abort', onAbort, { once: true });
    let next = 0;
    const lane = async () => {
      while (p && next < pending.length && !stop.signal.aborted) {
        const spec = pending[next++];
        let outcome: TaskOutcome;
        let tries = 0;
        for (;;) {
          tries++;
          outcome = await p.run(spec);
          if (outcome.ok || !outcome.retryable || outcome.fatal || tries >= attempts || stop.signal.aborted) break;
          await sleep(backoffMs * 2 ** (tries - 1), stop.signal);
        }
        if (!outcome.ok && outcome.code === 'INTERRUPTED') continue; // still pending: not recorded
        const halt = (why: string) => {
          if (stop.signal.aborted) return;
          summary.stopped = why;
          (bar ? (s: string) => bar.log(s) : io.stderr)(`voxface: stopping: ${why}\n`);
          onAbort();
        };
        if (!outcome.ok && outcome.fatal) {
          // not recorded either: the photo is fine, the run cannot go on; the same command goes on later
          halt(outcome.message);
          continue;
        }
        const record = itemRecord(spec, outcome, tries);
        try {
          await journal.append(record);
        } catch (e) {
          // without its record the photo counts as pending: it is made again (the same files) next time
          halt(`cannot write the journal ${journal.file}: ${writeError(e, path.dirname(journal.file)).message}`);
          continue;
        }
        if (outcome.ok) {
          summary.done++;
          summary.faces += outcome.faces;
        } else {
          summary.failed[outcome.code] = (summary.failed[outcome.code] ?? 0) + 1;
          const line = `voxface: ${spec.input}: ${outcome.message}${tries > 1 ? ` (after ${tries} tries)` : ''}\n`;
          if (bar) bar.log(line);
          else io.stderr(line);
        }
        bar?.tick(outcome.ok, outcome.ok ? outcome.faces : 0);
        io.onRecord?.(record);
      }
    };
    // Two lanes per process: the pool always has the next photo ready, no process waits for a journal write.
    await Promise.all(Array.from({ length: (p?.jobs ?? 0) * 2 }, lane));
    bar?.stop();
    io.signal?.removeEventListener('abort', onAbort);
    summary.interrupted = stop.signal.aborted;
  } finally {
    await pool?.close(true);
    summary.ms = Math.round(performance.now() - t0);
    await finishJournal(journal, summary, io);
  }
  if (!io.quiet) io.stdout(formatSummary(summary, journal.file));
  return summary;
}

/** Appends the summary and closes the journal; a journal that cannot take it any more (a full disk) is said so. */
export async function finishJournal(journal: Journal, summary: BatchSummary, io: Pick<BatchIO, 'stderr'>): Promise<void> {
  try {
    await journal.append({ type: 'summary', ...summary });
  } catch (e) {
    io.stderr(`voxface: the summary is not in the journal: ${writeError(e, path.dirname(journal.file)).message}\n`);
  }
  await journal.close().catch(() => undefined);
}
