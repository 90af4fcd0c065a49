/**
 * A stand-in for the server's reconstruction thread (src/server/worker.ts) that speaks its messages but, given a job,
 * blocks its thread synchronously (Atomics.wait) until the test opens a gate, then answers NO_FACE. A server whose
 * reconstructions ran on its HTTP thread could answer nothing while such a job runs; one with worker threads answers.
 *
 * The gate is a SharedArrayBuffer this thread broadcasts on the BroadcastChannel 'voxface-test-gate' when it starts:
 * Int32Array [0]: 1 = open; [1]: jobs that have started blocking. A job whose base name is "exit" ends the thread
 * instead (exit code 3), as a crash would.
 */
import { BroadcastChannel, parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from '../src/server/workers.ts';

const gate = new Int32Array(new SharedArrayBuffer(8));
const channel = new BroadcastChannel('voxface-test-gate');
channel.postMessage(gate.buffer);
channel.close();

const stats = { tensors: 0, heapMB: 0 };
parentPort!.on('message', (m: ToWorker) => {
  if (m.type !== 'job') return;
  if (m.job.base === 'exit') process.exit(3);
  Atomics.add(gate, 1, 1);
  while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0, 1000);
  parentPort!.postMessage({ type: 'failed', id: m.id, error: { code: 'NO_FACE', message: 'no face found (stand-in)' }, stats } satisfies FromWorker);
});
parentPort!.postMessage({ type: 'ready', model: 'blocking stand-in', loadMs: 0, stats } satisfies FromWorker);
