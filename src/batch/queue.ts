/**
 * The batch fanned out over machines through BullMQ on Redis. The producer (`voxface batch … --queue redis://…`)
 * enqueues one job per photo and waits, writing the same journal as a local batch; workers (`voxface worker
 * --queue redis://…`, on any number of machines) run the jobs on their own process pools. Inputs and outputs are
 * paths on a filesystem every machine sees (or http(s) URLs for inputs).
 *
 * ```ts
 * import { enqueueBatch, runQueueWorker } from './queue.ts';
 * const queue = { url: 'redis://127.0.0.1:6379' };
 * // on each worker machine (resolves when io.signal aborts):
 * await runQueueWorker({ queue, jobs: 2 }, { ...io, signal });
 * // on one machine:
 * const summary = await enqueueBatch(['/shared/photos/'], { out: '/shared/out/', settings: jobSettings(), queue }, io);
 * ```
 * Guarantees: a job's id is its input's id (input path + options hash), so enqueueing the same inputs again adds
 * nothing (while Redis keeps the finished jobs: `keepS`). A job whose worker dies is taken over by another one when
 * its lock runs out (BullMQ's stalled-job check), so every photo is processed at least once; failures that may pass
 * are retried with exponential backoff, the others fail at once with their reason. A worker whose model differs
 * from the producer's refuses the job (MODEL_MISMATCH), so every output was made with the same model and options.
 */
import path from 'node:path';
import { Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import { Redis } from 'ioredis';
import { writeError } from '../node/write.ts';
import { BATCH_DEFAULTS, BatchModelError, finishJournal, formatSummary, itemRecord, prepareBatch } from './run.ts';
import type { BatchIO, BatchOptions, BatchSummary } from './run.ts';
import { BatchProgress } from './progress.ts';
import { PoolStartError, WorkerPool } from './pool.ts';
import type { TaskOutcome, TaskSpec } from './task.ts';

export interface QueueOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** BullMQ queue name (default 'voxface'). */
  name?: string;
  /** A worker's lock on a job lasts this long unless renewed (renewed every half of it while the job runs), ms. */
  lockMs?: number;
  /** How often workers look for jobs whose lock ran out (their worker died), ms. */
  stallMs?: number;
  /** Times a job may be taken over from a dead worker before it fails with STALLED. */
  maxStalls?: number;
  /** How long Redis keeps finished jobs (and so ignores the same input enqueued again), seconds. */
  keepS?: number;
  /** The producer checks the state of the jobs it waits for when no event came for this long, ms. */
  pollMs?: number;
}

/** The queue's defaults, named. */
export const QUEUE_DEFAULTS = { name: 'voxface', lockMs: 30_000, stallMs: 30_000, maxStalls: 1, keepS: 7 * 24 * 3600, pollMs: 5_000 } as const;

/** Redis could not be reached (exit code 5). */
export class QueueUnreachableError extends Error {}

/** ioredis options from a redis:// or rediss:// URL (throws on anything else). */
export function redisOptions(url: string): { host: string; port: number; username?: string; password?: string; db?: number; tls?: object } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue needs a redis://host:port URL, got "${url}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue needs a redis://host:port URL, got "${url}"`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`--queue: the database in "${url}" must be a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== '' ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Shows a URL without its password. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Checks that Redis answers (one PING, `timeoutMs`); throws QueueUnreachableError. */
export async function pingRedis(url: string, timeoutMs = 5_000): Promise<void> {
  const r = new Redis({ ...redisOptions(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    throw new QueueUnreachableError(`cannot reach the queue at ${safeUrl(url)}: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    r.disconnect();
  }
}

function connection(url: string): ConnectionOptions {
  // null: BullMQ's blocking commands wait through reconnections instead of failing
  return { ...redisOptions(url), maxRetriesPerRequest: null };
}

/** A worker's failure reason is "CODE: message"; BullMQ's own reasons get codes too. */
export function parseReason(reason: string | undefined): { code: string; message: string } {
  const r = reason ?? 'unknown failure';
  const m = /^([A-Z][A-Z0-9_]+): (.*)$/s.exec(r);
  if (m) return { code: m[1], message: m[2] };
  if (/stalled more than allowable limit/i.test(r)) return { code: 'STALLED', message: 'the job was taken over from dead workers too often' };
  return { code: 'FAILED', message: r };
}

export interface QueueBatchOptions extends BatchOptions {
  queue: QueueOptions;
}

/**
 * The producer: enqueues the pending inputs of a batch as BullMQ jobs, waits for them with a progress bar, and
 * records every result and failure in the journal. Interrupted (`io.signal`), it leaves the jobs to the workers;
 * run again, it records what finished meanwhile and waits for the rest, redoing nothing.
 */
export async function enqueueBatch(inputs: readonly string[], options: QueueBatchOptions, io: BatchIO): Promise<BatchSummary> {
  const t0 = performance.now();
  const q = { ...QUEUE_DEFAULTS, ...options.queue };
  const attempts = Math.max(1, options.attempts ?? BATCH_DEFAULTS.attempts);
  const backoffMs = options.backoffMs ?? BATCH_DEFAULTS.backoffMs;
  await pingRedis(q.url);
  const prep = await prepareBatch(inputs, options, io);
  const { journal } = prep;
  const summary: BatchSummary = { done: 0, failed: { ...prep.failed }, skipped: prep.skipped, failedBefore: prep.failedBefore, faces: 0, ms: 0, interrupted: false };
  const pending = new Map(prep.pending.map((s) => [s.id, s]));
  const conn = connection(q.url);
  const queue = new Queue(q.name, { connection: conn });
  const events = new QueueEvents(q.name, { connection: conn });
  let bar: BatchProgress | undefined;
  let lastEvent = Date.now();
  let wake: () => void = () => undefined;
  const writes: Promise<void>[] = [];
  let journalError: string | undefined;
  const settle = (id: string, outcome: TaskOutcome & { attempts?: number }) => {
    const spec = pending.get(id);
    if (!spec) return;
    pending.delete(id);
    if (outcome.ok) {
      summary.done++;
      summary.faces += outcome.faces;
    } else {
      summary.failed[outcome.code] = (summary.failed[outcome.code] ?? 0) + 1;
      const line = `voxface: ${spec.input}: ${outcome.message}\n`;
      if (bar) bar.log(line);
      else io.stderr(line);
    }
    bar?.tick(outcome.ok, outcome.ok ? outcome.faces : 0);
    const record = itemRecord(spec, outcome, outcome.attempts ?? 1);
    writes.push(
      journal.append(record).then(
        () => io.onRecord?.(record),
        (e: unknown) => {
          // the journal cannot take records (a full disk): stop waiting; the jobs stay in Redis for the next run
          journalError ??= `cannot write the journal ${journal.file}: ${writeError(e, path.dirname(journal.file)).message}`;
          wake();
        },
      ),
    );
    if (pending.size === 0) wake();
  };
  const failedOutcome = (id: string, reason: string | undefined, job?: Job): TaskOutcome & { attempts?: number } => ({
    ok: false,
    id,
    ...parseReason(reason),
    retryable: false,
    ms: 0,
    worker: '',
    attempts: job?.attemptsMade,
  });
  const retried = new Set<string>();
  /** Looks up jobs in Redis: finished ones are settled, failed ones retried once with retryFailed, lost ones re-added. */
  const reconcile = async (ids: string[], retry: boolean) => {
    const CHUNK = 100;
    for (let i = 0; i < ids.length; i += CHUNK) {
      await Promise.all(
        ids.slice(i, i + CHUNK).map(async (id) => {
          const spec = pending.get(id);
          if (!spec) return;
          // the state first, then the job: a job read before its state could predate its result
          const state = await queue.getJobState(id);
          if (state === 'unknown') {
            await add([spec]); // removed from Redis (kept too short, or flushed): enqueue it again
            return;
          }
          if (state !== 'completed' && state !== 'failed') return;
          const job = await queue.getJob(id);
          if (!job) return; // removed just now: the next look re-adds it
          if (state === 'completed' && job.returnvalue) settle(id, job.returnvalue as TaskOutcome);
          else if (state === 'failed') {
            if (retry && !retried.has(id)) {
              retried.add(id);
              await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
            } else settle(id, failedOutcome(id, job.failedReason, job));
          }
        }),
      );
    }
  };
  const add = async (specs: TaskSpec[]) => {
    await queue.addBulk(
      specs.map((spec) => ({
        name: 'photo',
        data: spec,
        opts: {
          jobId: spec.id,
          attempts,
          backoff: { type: 'exponential', delay: backoffMs },
          removeOnComplete: { age: q.keepS },
          removeOnFail: { age: q.keepS },
        },
      })),
    );
  };
  try {
    events.on('completed', ({ jobId, returnvalue }) => {
      lastEvent = Date.now();
      const v = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as TaskOutcome | null;
      if (v && typeof v.ok === 'boolean') settle(jobId, v); // anything else: the next look at Redis decides
    });
    events.on('failed', ({ jobId, failedReason }) => {
      lastEvent = Date.now();
      if (!pending.has(jobId)) return;
      void queue.getJob(jobId).then(
        (job) => settle(jobId, failedOutcome(jobId, failedReason, job ?? undefined)),
        () => settle(jobId, failedOutcome(jobId, failedReason)),
      );
    });
    events.on('error', (e) => io.stderr(`voxface: queue events: ${e.message}\n`));
    queue.on('error', (e) => io.stderr(`voxface: queue: ${e.message}\n`));
    await events.waitUntilReady();
    await journal.append({ type: 'run', mode: 'queue', optionsHash: prep.hash, inputs: prep.total, pending: pending.size, queue: `${safeUrl(q.url)} ${q.name}` });
    const all = [...pending.values()];
    if (!io.quiet && all.length > 0) bar = new BatchProgress(all.length, io);
    for (let i = 0; i < all.length && !io.signal?.aborted; i += 500) await add(all.slice(i, i + 500));
    // Jobs already finished (a run interrupted before, the same inputs enqueued by someone else) give no event.
    if (!io.signal?.aborted) await reconcile(all.map((s) => s.id), options.retryFailed === true);
    while (pending.size > 0 && !io.signal?.aborted && !journalError) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        const t = setTimeout(resolve, q.pollMs);
        io.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (pending.size > 0 && !io.signal?.aborted && Date.now() - lastEvent >= q.pollMs) {
        await reconcile([...pending.keys()], false);
        lastEvent = Date.now();
      }
    }
    summary.interrupted = pending.size > 0;
  } finally {
    bar?.stop();
    await Promise.all(writes);
    if (journalError) {
      summary.stopped = journalError;
      summary.interrupted = true;
      io.stderr(`voxface: stopping: ${journalError}\n`);
    }
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    summary.ms = Math.round(performance.now() - t0);
    await finishJournal(journal, summary, io);
  }
  if (!io.quiet) io.stdout(formatSummary(summary, journal.file));
  return summary;
}

export interface QueueWorkerOptions {
  queue: QueueOptions;
  /** Worker processes on this machine (default: its cores). */
  jobs?: number;
  /** onnxruntime threads per process (default: cores / jobs). */
  threads?: number;
  model?: string;
  fetchTimeoutMs?: number;
}

/**
 * A queue worker: a process pool on this machine taking jobs from the queue until `io.signal` aborts; then the
 * running jobs finish and it resolves. Prints one line per job started and finished unless `io.quiet`.
 * Rejects with BatchModelError (model) or QueueUnreachableError (Redis).
 */
export async function runQueueWorker(options: QueueWorkerOptions, io: BatchIO): Promise<void> {
  const q = { ...QUEUE_DEFAULTS, ...options.queue };
  await pingRedis(q.url);
  let pool: WorkerPool;
  try {
    pool = await WorkerPool.start({ jobs: options.jobs, threads: options.threads, model: options.model, fetchTimeoutMs: options.fetchTimeoutMs });
  } catch (e) {
    if (e instanceof PoolStartError) throw new BatchModelError(e.message);
    throw e;
  }
  const say = (s: string) => {
    if (!io.quiet) io.stdout(`voxface worker: ${s}\n`);
  };
  const worker = new Worker(
    q.name,
    async (job: Job) => {
      const spec = job.data as TaskSpec;
      const attempt = job.attemptsMade + 1;
      if (spec.model !== pool.model) {
        throw new UnrecoverableError(`MODEL_MISMATCH: the job was made for model ${spec.model}, this worker has ${pool.model}`);
      }
      say(`started ${spec.input} (job ${job.id}, attempt ${attempt})`);
      const outcome = await pool.run(spec);
      if (outcome.ok) {
        say(`done ${spec.input} (job ${job.id}, ${outcome.faces} face${outcome.faces === 1 ? '' : 's'}, ${Math.round(outcome.ms)} ms)`);
        return { ...outcome, attempts: attempt };
      }
      say(`failed ${spec.input} (job ${job.id}): ${outcome.code}: ${outcome.message}`);
      const reason = `${outcome.code}: ${outcome.message}`;
      throw outcome.retryable ? new Error(reason) : new UnrecoverableError(reason);
    },
    {
      connection: connection(q.url),
      concurrency: pool.jobs,
      lockDuration: q.lockMs,
      stalledInterval: q.stallMs,
      maxStalledCount: q.maxStalls,
      autorun: false,
    },
  );
  worker.on('error', (e) => io.stderr(`voxface worker: ${e.message.split('\n')[0]}\n`));
  const stopped = new Promise<void>((resolve) => {
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  const running = worker.run();
  await worker.waitUntilReady();
  say(`${pool.jobs} process${pool.jobs === 1 ? '' : 'es'} × ${pool.threads} onnxruntime thread${pool.threads === 1 ? '' : 's'}, model ${pool.model}, waiting for jobs on ${safeUrl(q.url)} (queue ${q.name})`);
  try {
    await Promise.race([stopped, running]);
  } finally {
    await worker.close();
    await running.catch(() => undefined);
    await pool.close(true);
  }
}
