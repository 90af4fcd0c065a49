/**
 * A reconstruction worker thread of the server (started by `ReconstructWorkers`, ./workers.ts, never by hand): loads
 * its own pipeline once (network, detectors, shape prior), then runs the jobs its parent posts, one at a time, off
 * the thread that answers HTTP. The photo arrives as a transferred ArrayBuffer; the result files go back the same
 * way (moved, not copied).
 *
 * Messages in: `{ type: 'job', id, job }`. Out: `{ type: 'ready', model, loadMs, stats }`, `{ type: 'fatal',
 * message }` (the pipeline could not be loaded), `{ type: 'done', id, output, stats }`, `{ type: 'failed', id, error,
 * stats }` (`error.code`: a VoxfaceError's code; none for a bug).
 */
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { VoxfaceError } from '../types.ts';
import { runJob } from './job.ts';
import type { FromWorker, ToWorker, WorkerInit, WorkerStats } from './workers.ts';

const port = parentPort;
if (!port) throw new Error('src/server/worker.ts runs as a worker thread of the voxface server');
const init = workerData as WorkerInit;
const MB = 1024 * 1024;
/** How long a thread waits without a job before it collects its garbage. */
const IDLE_GC_MS = 2000;

/** Posts a message, moving the listed buffers; copies them instead if one cannot be moved. */
function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  try {
    port!.postMessage(message, transfer);
  } catch (e) {
    if ((e as Error).name !== 'DataCloneError') throw e;
    port!.postMessage(message);
  }
}

/**
 * Lowers this thread's scheduling priority (Linux: a thread has its own nice value, and the threads it starts —
 * onnxruntime's — inherit it), so the HTTP thread is scheduled first when it wakes; elsewhere nothing.
 */
function lowerPriority(nice: number): void {
  if (process.platform !== 'linux' || nice <= 0) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + nice));
  } catch {
    // not permitted or no /proc: the thread keeps the process's priority
  }
}

async function start(): Promise<void> {
  lowerPriority(init.nice ?? 0);
  const t0 = performance.now();
  let vox;
  try {
    const { loadVoxface } = await import('../node/index.ts');
    vox = await loadVoxface({ model: init.model, threads: init.threads, limits: init.limits });
  } catch (e) {
    post({ type: 'fatal', message: (e as Error).message.split('\n')[0] });
    return;
  }
  const { loadedTf } = await import('../detect/tf.ts');
  // TF.js is loaded only where a photo needed one of its graphs (FaceBoxes): no tensors before
  const stats = (): WorkerStats => ({ tensors: loadedTf()?.memory().numTensors ?? 0, heapMB: Math.round(process.memoryUsage().heapUsed / MB) });
  const v = vox;
  let chain = Promise.resolve();
  // Idle for a while after a job: a full garbage collection, so the heap the job grew shrinks again (where `gc` is
  // exposed, as the server's main.ts does; one collection takes tens of ms, never during a job).
  const gc = (globalThis as { gc?: () => void }).gc;
  let idle: NodeJS.Timeout | undefined;
  port!.on('message', (m: ToWorker) => {
    if (m.type !== 'job') return;
    clearTimeout(idle);
    chain = chain.then(async () => {
      try {
        const output = await runJob(v, m.job);
        // each file's buffer moves to the parent (a buffer shared by several files moves once)
        const buffers = [...new Set(output.files.map((f) => f.bytes.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
        post({ type: 'done', id: m.id, output, stats: stats() }, buffers);
      } catch (e) {
        const error = e instanceof VoxfaceError ? { code: e.code, message: e.message } : { message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack };
        post({ type: 'failed', id: m.id, error, stats: stats() });
      }
      if (gc) {
        clearTimeout(idle);
        idle = setTimeout(gc, IDLE_GC_MS);
        idle.unref();
      }
    });
  });
  post({ type: 'ready', model: v.deps.model.name, loadMs: performance.now() - t0, stats: stats() });
}

await start();
