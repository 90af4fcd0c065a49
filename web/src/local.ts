/**
 * Device mode, the page's side: the pipeline and the models run in a Web Worker (web/src/worker.ts, bundled as
 * dist/worker.js beside the page); this module only starts it, forwards its progress, and hands on its files (blob: URLs made there).
 * Nothing is uploaded, and the page keeps painting while the worker computes.
 *
 * ```ts
 * const local = await import('./local.ts');
 * await local.prepare(onProgress);                 // starts the worker; it downloads and compiles the models once
 * const result = await local.reconstructOnDevice(file, 'selfie', onProgress);
 * ```
 */
import type { OptionsInput } from '../../src/options.ts';
import type { Progress } from './api.ts';
import type { DeviceFile, FromWorker, ToWorker } from './protocol.ts';
import { PageError } from './result.ts';
import type { PageFile, PageResult } from './result.ts';

/**
 * Where the worker's bundle is (scripts/build-web.ts writes it beside main.js), relative to the page: the page may
 * live under any path prefix (`npm run build:site`), so nothing is looked up from the site's root.
 */
export const WORKER_PATH = 'dist/worker.js';

let worker: Worker | undefined;
let ready: Promise<number> | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve: (m: FromWorker & { type: 'result' }) => void; reject: (e: PageError) => void; onProgress: Progress }>();
/** Results whose other files are still being made: what to do with them when they come. */
const later = new Map<number, (m: FromWorker & { type: 'files' }) => void>();
let loadProgress: Progress | undefined;
/** Rejects the pending prepare() when the worker fails before it is ready. */
let failPrepare: ((e: PageError) => void) | undefined;

function send(m: ToWorker): void {
  worker!.postMessage(m);
}

function onMessage(m: FromWorker): void {
  if (m.type === 'progress') {
    const w = m.id === undefined ? undefined : waiting.get(m.id);
    (w?.onProgress ?? loadProgress)?.(m.fraction, m.text);
  } else if (m.type === 'result') {
    waiting.get(m.id)?.resolve(m);
    waiting.delete(m.id);
  } else if (m.type === 'files') {
    later.get(m.id)?.(m);
    later.delete(m.id);
  } else if (m.type === 'error') {
    const err = new PageError(m.code, m.message);
    if (m.id === undefined) failPrepare?.(err);
    else {
      waiting.get(m.id)?.reject(err);
      waiting.delete(m.id);
    }
  }
}

/** The worker died (a load error of its script, or out of memory): everything pending fails, the next call starts a new one. */
function onCrash(message: string): void {
  const err = new PageError('DEVICE_FAILED', `this browser could not run the reconstruction: ${message}`);
  failPrepare?.(err);
  for (const w of waiting.values()) w.reject(err);
  waiting.clear();
  for (const [id, then] of later) then({ type: 'files', id, faces: [], photoFiles: [], error: err.message });
  later.clear();
  worker?.terminate();
  worker = undefined;
  ready = undefined;
}

/** Starts the worker and has it load the network and detectors (later calls reuse them). Resolves with the load time in ms. */
export function prepare(onProgress?: Progress): Promise<number> {
  loadProgress = onProgress;
  if (!ready) {
    ready = new Promise<number>((resolve, reject) => {
      try {
        worker = new Worker(new URL(WORKER_PATH, document.baseURI), { type: 'module', name: 'voxface' });
      } catch (e) {
        reject(new PageError('DEVICE_FAILED', `this browser cannot start a worker: ${(e as Error).message}`));
        return;
      }
      failPrepare = reject;
      worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
        if (e.data.type === 'ready') {
          failPrepare = undefined;
          resolve(e.data.loadMs);
        } else onMessage(e.data);
      });
      worker.addEventListener('error', (e) => {
        e.preventDefault();
        onCrash(e.message || 'the worker could not start');
      });
      worker.addEventListener('messageerror', () => onCrash('a message from the worker could not be read'));
      send({ type: 'prepare', base: document.baseURI });
    });
    ready.catch(() => {
      worker?.terminate();
      worker = undefined;
      ready = undefined;
    });
  }
  return ready;
}

/** Reconstructs a photo in the worker. Rejects with a PageError. */
export async function reconstructOnDevice(file: Blob, base: string, onProgress: Progress, options: OptionsInput = {}): Promise<PageResult> {
  const t0 = performance.now();
  await prepare(onProgress);
  const id = nextId++;
  const answer = await new Promise<FromWorker & { type: 'result' }>((resolve, reject) => {
    waiting.set(id, { resolve, reject, onProgress });
    send({ type: 'reconstruct', id, file, base, options });
  });
  const entry = (f: DeviceFile): PageFile => ({ name: f.name, format: f.format, role: f.role, bytes: f.bytes, href: f.href });
  const faces = answer.faces.map((list) => list.map(entry));
  const photoFiles = answer.photoFiles.map(entry);
  const w = worker;
  let disposed = false;
  const release = (hrefs: string[]) => w?.postMessage({ type: 'release', hrefs } satisfies ToWorker);
  // the other formats' files, asked for once the page shows the model, appended where they come (released at once if
  // the page has let go of this result by then)
  let more: Promise<void> | undefined;
  const moreFiles = () =>
    (more ??= new Promise<void>((resolve, reject) => {
      later.set(id, (m) => {
        if (disposed) release([...m.faces.flat(), ...m.photoFiles].map((f) => f.href));
        else {
          m.faces.forEach((list, i) => faces[i]?.push(...list.map(entry)));
          photoFiles.push(...m.photoFiles.map(entry));
        }
        if (m.error) reject(new PageError('EXPORT_FAILED', `the other files could not be made: ${m.error}`));
        else resolve();
      });
      w?.postMessage({ type: 'files', id } satisfies ToWorker);
    }));
  return {
    mode: 'device',
    json: answer.json,
    faces,
    photoFiles,
    ms: performance.now() - t0,
    ...(answer.more ? { moreFiles } : {}),
    async glb(i) {
      const f = faces[i]?.find((x) => x.format === 'glb');
      if (!f) throw new PageError('NO_GLB', 'no GLB for this face');
      const res = await fetch(f.href).catch(() => undefined);
      if (!res?.ok) throw new PageError('EXPIRED', 'this result is gone (the page restarted its worker); reconstruct the photo again');
      return res.arrayBuffer();
    },
    dispose() {
      // the URLs belong to the worker that made them
      disposed = true;
      release([...faces.flat(), ...photoFiles].map((f) => f.href));
    },
  };
}
