/**
 * The server's reconstruction threads: `size` worker threads (node:worker_threads), each with its own pipeline
 * (network, detectors, shape prior) loaded once, so reconstructions run off the thread that answers HTTP — `/healthz`
 * and quick refusals answer while every thread works, and the JavaScript stages use one core per thread. The photo
 * is moved to the thread and the result files are moved back (transferred ArrayBuffers, not copied).
 *
 * ```ts
 * const workers = await ReconstructWorkers.start({ size: 2, threads: 1 });  // loads the pipeline in each thread
 * const out = await workers.run({ image: jpegBytes, options, base: 'face' }); // JobOutput, or rejects with VoxfaceError
 * await workers.close();
 * ```
 * A thread that stops in the middle of a job (an uncaught error, out of memory) fails that job (a plain Error: the
 * server answers 500) and is replaced; the other jobs go on. The server's Limiter decides how many jobs run at once
 * (as many as threads); jobs sent beyond that wait here in order.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DecodeLimits } from '../decode/sniff.ts';
import { VoxfaceError } from '../types.ts';
import type { Job, JobOutput } from './job.ts';

/** What each thread is started with (its `workerData`). */
export interface WorkerInit {
  model?: string;
  threads?: number;
  limits?: DecodeLimits;
  /** Added to the thread's nice value on Linux (its onnxruntime threads inherit it): the HTTP thread goes first. */
  nice?: number;
}

/** What a thread reports after loading and after each job. */
export interface WorkerStats {
  /** Live TF.js tensors in the thread (constant between jobs). */
  tensors: number;
  /** The thread's V8 heap in use, MB. */
  heapMB: number;
}

export type ToWorker = { type: 'job'; id: number; job: Job };
export type FromWorker =
  | { type: 'ready'; model: string; loadMs: number; stats: WorkerStats }
  | { type: 'fatal'; message: string }
  | { type: 'done'; id: number; output: JobOutput; stats: WorkerStats }
  | { type: 'failed'; id: number; error: { code?: VoxfaceError['code']; message: string; stack?: string }; stats: WorkerStats };

export interface ReconstructWorkersOptions {
  /** Threads (default 2). */
  size?: number;
  /** ONNX model path (default: the package's models/vrn-compact.onnx). */
  model?: string;
  /** onnxruntime intra-op threads per worker thread (default: max(1, floor(cores / size))). */
  threads?: number;
  /** Decode limits. */
  limits?: DecodeLimits;
  /**
   * How much lower the threads' scheduling priority is than the HTTP thread's (Linux nice steps, default 0): with 5,
   * `/healthz` answered at p50 5.6–5.8 ms instead of 8.1–9.2 on a machine busy with other work, but the threads then
   * also yield to every other process of the machine (docs/api.md, "Load test").
   */
  nice?: number;
  /** The thread's module (default ./worker.ts, or worker.js when built): another module that speaks the same messages. */
  entry?: URL;
  /** Told when a thread stops unexpectedly and is replaced. */
  log?: (line: string) => void;
}

interface Pending {
  id: number;
  job: Job;
  resolve: (out: JobOutput) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  busy?: Pending;
  stats: WorkerStats;
}

/** The thread's code: from the TypeScript sources, tsx's loader is registered in the thread first. */
function threadCode(entry: URL): { code: string | URL; evaluate: boolean } {
  if (!entry.pathname.endsWith('.ts')) return { code: entry, evaluate: false };
  // Node 20's worker threads do not inherit the `--import tsx` hooks of the main thread.
  const api = import.meta.resolve('tsx/esm/api');
  return { code: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`, evaluate: true };
}

/** The default thread count's onnxruntime threads: the cores shared out. */
export function defaultThreads(size: number): number {
  return Math.max(1, Math.floor(os.availableParallelism() / size));
}

export class ReconstructWorkers {
  /** The loaded model's name (its sidecar's). */
  model = '';
  /** Milliseconds each thread took to load its pipeline (index = thread). */
  readonly loadMs: number[] = [];
  /** Threads replaced after stopping unexpectedly. */
  restarts = 0;
  readonly size: number;
  readonly threads: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closing = false;
  /** Set when a replacement thread cannot load the pipeline: jobs fail at once with MODEL_ERROR. */
  private broken?: string;
  private readonly entry: URL;

  private constructor(private readonly options: ReconstructWorkersOptions) {
    this.size = Math.max(1, Math.floor(options.size ?? 2));
    this.threads = Math.max(1, options.threads ?? defaultThreads(this.size));
    this.entry = options.entry ?? new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
  }

  /** Starts the threads and waits until each has loaded its pipeline; rejects with VoxfaceError MODEL_ERROR. */
  static async start(options: ReconstructWorkersOptions = {}): Promise<ReconstructWorkers> {
    // sharp (libvips) must be loaded by the main thread before worker threads use it (sharp's documentation, glibc)
    await import('sharp');
    const pool = new ReconstructWorkers(options);
    try {
      await Promise.all(Array.from({ length: pool.size }, (_, i) => pool.spawn(i)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Runs a job on the next free thread. The photo's buffer is moved to the thread when it can be (else copied). */
  run(job: Job): Promise<JobOutput> {
    if (this.closing) return Promise.reject(new Error('the reconstruction threads are stopping'));
    if (this.broken) return Promise.reject(new VoxfaceError('MODEL_ERROR', `no reconstruction thread can start: ${this.broken}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  /** Threads, busy ones, the live TF.js tensors and the V8 heap of all threads (as each last reported). */
  get stats(): { threads: number; busy: number; restarts: number; tensors: number; heapMB: number } {
    const live = this.slots.filter((s) => s?.ready);
    return {
      threads: live.length,
      busy: this.slots.filter((s) => s?.busy).length,
      restarts: this.restarts,
      tensors: live.reduce((n, s) => n + s.stats.tensors, 0),
      heapMB: live.reduce((n, s) => n + s.stats.heapMB, 0),
    };
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot?.ready || slot.busy || this.queue.length === 0) continue;
      const next = this.queue.shift()!;
      slot.busy = next;
      const { image } = next.job;
      // move the photo's bytes when they own their whole buffer; otherwise a copy moves
      const own = image.byteOffset === 0 && image.byteLength === image.buffer.byteLength && image.buffer instanceof ArrayBuffer;
      const bytes = own ? image : image.slice();
      const message: ToWorker = { type: 'job', id: next.id, job: { ...next.job, image: bytes } };
      try {
        slot.worker.postMessage(message, [bytes.buffer as ArrayBuffer]);
      } catch (e) {
        if ((e as Error).name !== 'DataCloneError') throw e;
        slot.worker.postMessage(message);
      }
    }
  }

  private spawn(index: number): Promise<void> {
    const init: WorkerInit = { model: this.options.model, threads: this.threads, limits: this.options.limits, nice: this.options.nice ?? 0 };
    const { code, evaluate } = threadCode(this.entry);
    const worker = new Worker(code, {
      eval: evaluate,
      workerData: init,
      env: { ...process.env, ORT_DISABLE_TELEMETRY: process.env.ORT_DISABLE_TELEMETRY ?? '1' },
    });
    const slot: Slot = { worker, ready: false, stats: { tensors: 0, heapMB: 0 } };
    this.slots[index] = slot;
    return new Promise((resolve, reject) => {
      let started = false;
      let fatal: string | undefined;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          started = true;
          slot.ready = true;
          slot.stats = m.stats;
          this.loadMs[index] = m.loadMs;
          this.model = m.model;
          resolve();
          this.dispatch();
        } else if (m.type === 'fatal') {
          fatal = m.message;
          void worker.terminate();
        } else if (m.type === 'done' || m.type === 'failed') {
          slot.stats = m.stats;
          const busy = slot.busy;
          slot.busy = undefined;
          if (busy && busy.id === m.id) {
            if (m.type === 'done') busy.resolve(m.output);
            else if (m.error.code) busy.reject(new VoxfaceError(m.error.code, m.error.message));
            else busy.reject(Object.assign(new Error(m.error.message), { stack: m.error.stack ?? m.error.message }));
          }
          this.dispatch();
        }
      });
      let lastError: Error | undefined;
      worker.on('error', (e) => (lastError = e));
      worker.on('exit', (code) => {
        const busy = slot.busy;
        slot.busy = undefined;
        slot.ready = false;
        const why = fatal ?? lastError?.message ?? `exit code ${code}`;
        if (!started) {
          reject(new VoxfaceError('MODEL_ERROR', `a reconstruction thread could not load the pipeline: ${why}`));
          return;
        }
        if (this.closing || this.slots[index] !== slot) return;
        busy?.reject(Object.assign(new Error(`the reconstruction thread stopped: ${why}`), { stack: lastError?.stack ?? why }));
        this.options.log?.(`reconstruction thread ${index} stopped (${why}); starting another`);
        this.restarts++;
        this.spawn(index).catch((e: Error) => {
          this.options.log?.(e.message);
          if (this.slots.some((s) => s?.ready)) return;
          this.broken = e.message;
          for (const q of this.queue.splice(0)) q.reject(e);
        });
      });
    });
  }

  /** Stops every thread at once; jobs still waiting or running are rejected. */
  async close(): Promise<void> {
    this.closing = true;
    const gone = new Error('the reconstruction threads are stopping');
    for (const q of this.queue.splice(0)) q.reject(gone);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (!slot) return;
        slot.busy?.reject(gone);
        slot.busy = undefined;
        await slot.worker.terminate();
      }),
    );
  }
}
