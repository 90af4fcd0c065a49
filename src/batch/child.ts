/**
 * A batch worker process (started by WorkerPool, never by hand): loads its own pipeline once, then runs the tasks
 * its parent sends over IPC, one at a time. It exits when its parent goes away (the IPC channel closes, or its parent
 * pid changes: a parent killed with SIGKILL, as by the OOM killer): a running task starts no new stage and renames
 * none of its files (src/batch/task.ts), and the process removes its own temporary files as it exits.
 *
 * Messages in: `{ type: 'task', spec }`, `{ type: 'exit' }`. Out: `{ type: 'ready', loadMs, model }`,
 * `{ type: 'fatal', message }` (the model could not be loaded), `{ type: 'outcome', outcome }`.
 */
import { removeLiveTemps } from '../node/write.ts';
import { modelDigest } from './plan.ts';
import { runTask } from './task.ts';
import type { TaskSpec, TaskOutcome } from './task.ts';

export interface ChildInit {
  model?: string;
  threads: number;
  worker: string;
  fetchTimeoutMs?: number;
}

export type ToChild = { type: 'task'; spec: TaskSpec } | { type: 'exit' };
export type FromChild =
  | { type: 'ready'; loadMs: number; model: string }
  | { type: 'fatal'; message: string }
  | { type: 'outcome'; outcome: TaskOutcome };

/** How often the parent pid is checked (the IPC channel's 'disconnect' usually comes first). */
const PARENT_POLL_MS = 200;

const send = (m: FromChild) => {
  if (process.connected) process.send?.(m);
};

/** Set when the parent is gone: the running task stops before its renames, no other task starts. */
const orphaned = new AbortController();
let running = false;

/** The parent is gone: exit now when idle, else as soon as the running task has stopped. */
function leave(): void {
  if (orphaned.signal.aborted) return;
  orphaned.abort();
  if (!running) process.exit(0);
}

async function start(): Promise<void> {
  const init = JSON.parse(process.env.VOXFACE_CHILD ?? '{}') as ChildInit;
  // whatever ends this process, its own temporary files go with it
  process.on('exit', () => removeLiveTemps());
  process.on('disconnect', leave);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) leave();
  }, PARENT_POLL_MS).unref();
  const t0 = performance.now();
  let vox;
  let model: string;
  try {
    const { loadVoxface, defaultModelPath } = await import('../node/index.ts');
    const sharp = (await import('sharp')).default;
    sharp.concurrency(init.threads);
    const modelPath = init.model ?? defaultModelPath();
    [vox, model] = await Promise.all([loadVoxface({ model: modelPath, threads: init.threads }), modelDigest(modelPath)]);
  } catch (e) {
    send({ type: 'fatal', message: (e as Error).message.split('\n')[0] });
    process.exit(3);
  }
  const v = vox;
  let chain = Promise.resolve();
  process.on('message', (m: ToChild) => {
    if (m.type === 'exit') {
      chain.then(() => process.exit(0));
      return;
    }
    chain = chain.then(async () => {
      if (orphaned.signal.aborted) return;
      running = true;
      const c0 = process.cpuUsage();
      const outcome = await runTask(v, m.spec, { worker: init.worker, fetchTimeoutMs: init.fetchTimeoutMs, signal: orphaned.signal });
      running = false;
      if (orphaned.signal.aborted) process.exit(0);
      const c = process.cpuUsage(c0);
      // CPU time of this process (every thread) during the task: the bench tells contention from work with it
      send({ type: 'outcome', outcome: { ...outcome, cpuMs: (c.user + c.system) / 1000 } });
    });
  });
  send({ type: 'ready', loadMs: performance.now() - t0, model });
}

await start();
