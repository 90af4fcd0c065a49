/**
 * A pool of worker processes on one machine, each with its own pipeline (model, detectors, onnxruntime session).
 * The JavaScript stages of the pipeline run on one core per process, so N processes use N cores; each process's
 * onnxruntime gets `threads` threads, by default so that jobs × threads = the machine's cores.
 *
 * ```ts
 * const pool = await WorkerPool.start({ jobs: 2 });   // two processes, one onnxruntime thread each on 2 cores
 * const outcome = await pool.run(spec);                // TaskOutcome, never throws
 * await pool.close();
 * ```
 * A process that dies mid-task (killed, out of memory, a native crash) fails that task with WORKER_DIED
 * (retryable) and is replaced; the other tasks go on.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ChildInit, FromChild, ToChild } from './child.ts';
import type { TaskOutcome, TaskSpec } from './task.ts';

export interface PoolOptions {
  /** Worker processes (default: the machine's cores, at most one per GiB of memory). */
  jobs?: number;
  /** onnxruntime threads per process (default: max(1, floor(cores / jobs))). */
  threads?: number;
  /** ONNX model path (default: the package's models/vrn-compact.onnx). */
  model?: string;
  /** Time limit of a URL download (default 30 s). */
  fetchTimeoutMs?: number;
  /** Prefix of the worker names recorded in the journal (default `<hostname>:<pid>`). */
  name?: string;
}

/** The pool's defaults, named. */
export const POOL_DEFAULTS = {
  /** One process per core, at most one per GiB of memory (a process peaks near 0.5 GiB). */
  jobs: (): number => Math.max(1, Math.min(os.availableParallelism(), Math.floor(os.totalmem() / 2 ** 30))),
  threads: (jobs: number): number => Math.max(1, Math.floor(os.availableParallelism() / jobs)),
  fetchTimeoutMs: 30_000,
  /**
   * V8 flags of every worker process. With V8's default heap growing, the old generation's limit sat about 24 MB
   * above the 57 MB a worker keeps live (models, detectors, code), so 2 photos in 3 started a full mark-compact,
   * whose concurrent marking took 25–30 ms of CPU per photo on V8's helper threads: on a machine with one core per
   * job, time taken from the other job. With a limit of twice the live heap: 1 mark-compact in 30 photos instead
   * of 21, 10–13 ms of helper-thread CPU per photo instead of 36–42, peak memory 15–25 MB higher per process
   * (`npm run bench -- --batch` prints the CPU time per photo of each kind of thread).
   */
  v8Flags: ['--heap-growing-percent=100'] as readonly string[],
};

/** The pool could not start: a worker could not load the model or the detectors. */
export class PoolStartError extends Error {}

interface Slot {
  index: number;
  proc: ChildProcess;
  busy?: { spec: TaskSpec; resolve: (o: TaskOutcome) => void };
  ready: boolean;
  /** It could not load its pipeline: not replaced. */
  fatal?: boolean;
}

function childEntry(): { file: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(fromSource ? './child.ts' : './child.js', import.meta.url));
  // Running from the TypeScript sources (tests, npm scripts): the child needs the same loader.
  return { file, execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [] };
}

export class WorkerPool {
  /** Milliseconds each process took to load its pipeline (index = worker). */
  readonly loadMs: number[] = [];
  /** modelDigest() of the loaded model. */
  model = '';
  readonly jobs: number;
  readonly threads: number;
  private readonly slots: Slot[] = [];
  private readonly queue: { spec: TaskSpec; resolve: (o: TaskOutcome) => void }[] = [];
  private closing = false;
  /** Set when no process is left that could load the pipeline: tasks fail at once with MODEL_ERROR. */
  private broken?: string;
  private readonly entry = childEntry();
  private readonly name: string;

  private constructor(private readonly options: PoolOptions) {
    this.jobs = Math.max(1, options.jobs ?? POOL_DEFAULTS.jobs());
    this.threads = Math.max(1, options.threads ?? POOL_DEFAULTS.threads(this.jobs));
    this.name = options.name ?? `${os.hostname()}:${process.pid}`;
  }

  /** Starts the processes and waits until every one has loaded its pipeline (rejects with PoolStartError). */
  static async start(options: PoolOptions = {}): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      await Promise.all(Array.from({ length: pool.jobs }, (_, i) => pool.spawn(i)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Runs a task on the next free process. Resolves with its outcome; never rejects. */
  run(spec: TaskSpec): Promise<TaskOutcome> {
    return new Promise((resolve) => {
      if (this.closing) {
        resolve({ ok: false, id: spec.id, code: 'INTERRUPTED', message: 'the batch is stopping', retryable: true, ms: 0, worker: this.name });
        return;
      }
      if (this.broken) {
        this.failBroken({ spec, resolve });
        return;
      }
      this.queue.push({ spec, resolve });
      this.dispatch();
    });
  }

  /** The process ids (index = worker). */
  get pids(): number[] {
    return this.slots.map((s) => s.proc.pid ?? -1);
  }

  /** Tasks waiting for a free process. */
  get waiting(): number {
    return this.queue.length;
  }

  private failBroken(q: { spec: TaskSpec; resolve: (o: TaskOutcome) => void }): void {
    q.resolve({ ok: false, id: q.spec.id, code: 'MODEL_ERROR', message: `no worker process can start: ${this.broken}`, retryable: true, ms: 0, worker: this.name });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot || !slot.ready || slot.busy || this.queue.length === 0) continue;
      const next = this.queue.shift()!;
      slot.busy = next;
      slot.proc.send({ type: 'task', spec: next.spec } satisfies ToChild);
    }
  }

  private spawn(index: number): Promise<void> {
    const init: ChildInit = {
      model: this.options.model,
      threads: this.threads,
      worker: `${this.name}#${index}`,
      fetchTimeoutMs: this.options.fetchTimeoutMs ?? POOL_DEFAULTS.fetchTimeoutMs,
    };
    const proc = fork(this.entry.file, [], {
      execArgv: [...POOL_DEFAULTS.v8Flags, ...this.entry.execArgv],
      env: {
        ...process.env,
        VOXFACE_CHILD: JSON.stringify(init),
        ORT_DISABLE_TELEMETRY: process.env.ORT_DISABLE_TELEMETRY ?? '1',
        OMP_NUM_THREADS: String(this.threads),
        UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(2, this.threads)),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { index, proc, ready: false };
    this.slots[index] = slot;
    return new Promise((resolve, reject) => {
      let started = false;
      proc.on('message', (m: FromChild) => {
        if (m.type === 'ready') {
          started = true;
          slot.ready = true;
          this.loadMs[index] = m.loadMs;
          this.model = m.model;
          resolve();
          this.dispatch();
        } else if (m.type === 'fatal') {
          started = true;
          slot.fatal = true;
          reject(new PoolStartError(m.message));
        } else if (m.type === 'outcome') {
          const busy = slot.busy;
          slot.busy = undefined;
          busy?.resolve(m.outcome);
          this.dispatch();
        }
      });
      proc.on('error', (e) => {
        if (!started) reject(new PoolStartError(`cannot start a worker process: ${e.message}`));
      });
      proc.on('exit', (code, signal) => {
        const busy = slot.busy;
        slot.busy = undefined;
        slot.ready = false;
        if (!started) {
          slot.fatal = true;
          reject(new PoolStartError(`a worker process exited while loading (${signal ?? `code ${code}`})`));
          return;
        }
        if (busy) {
          busy.resolve({
            ok: false,
            id: busy.spec.id,
            code: 'WORKER_DIED',
            message: `the worker process died (${signal ?? `exit code ${code}`})`,
            retryable: true,
            ms: 0,
            worker: `${this.name}#${index}`,
          });
        }
        // Replace it, unless the pool is stopping; a replacement that cannot load fails what is waiting.
        if (!this.closing && !slot.fatal && this.slots[index] === slot) {
          this.spawn(index).catch((e: Error) => {
            if (this.slots.some((s) => s.ready || !s.fatal)) return;
            this.broken = e.message;
            for (const q of this.queue.splice(0)) this.failBroken(q);
          });
        }
      });
    });
  }

  /**
   * Stops the processes: `graceful` lets the running tasks finish (waiting tasks fail with INTERRUPTED), otherwise
   * they are killed at once.
   */
  async close(graceful = true): Promise<void> {
    this.closing = true;
    for (const q of this.queue.splice(0)) {
      q.resolve({ ok: false, id: q.spec.id, code: 'INTERRUPTED', message: 'the batch is stopping', retryable: true, ms: 0, worker: this.name });
    }
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            if (!slot || slot.proc.exitCode !== null || slot.proc.signalCode !== null) return resolve();
            slot.proc.once('exit', () => resolve());
            if (graceful && slot.proc.connected) slot.proc.send({ type: 'exit' } satisfies ToChild);
            else slot.proc.kill('SIGKILL');
          }),
      ),
    );
  }
}
