/**
 * Device mode's Web Worker: the models (onnxruntime-web, TF.js WebAssembly) and the whole pipeline live here,
 * so the page stays responsive while a photo is reconstructed. It answers the messages of web/src/protocol.ts:
 * progress while loading and for every stage (face i of n), then the result's JSON and the viewer's files (GLB) as
 * blob: URLs, then the other formats' files (made after, so the model shows first).
 * Bundled by scripts/build-web.ts as web/dist/worker.js (an ES module worker). The files it loads (models/…,
 * vendor/…) are found relative to the page's address, which 'prepare' gives it.
 *
 * ```ts
 * const worker = new Worker(new URL('dist/worker.js', document.baseURI), { type: 'module' });
 * worker.postMessage({ type: 'prepare', base: document.baseURI });
 * worker.postMessage({ type: 'reconstruct', id: 1, file, base: 'selfie' });
 * ```
 */
import { loadBrowserVoxface } from '../../src/browser/index.ts';
import type { BrowserVoxface } from '../../src/browser/index.ts';
import { exportResult } from '../../src/export/files.ts';
import { pageFormats } from './options.ts';
import { toJSON } from '../../src/export/json.ts';
import type { OptionsInput } from '../../src/options.ts';
import type { ReconstructProgress } from '../../src/pipeline.ts';
import { sniffImage } from '../../src/decode/sniff.ts';
import { VoxfaceError } from '../../src/types.ts';
import type { DeviceFile, FromWorker, ToWorker } from './protocol.ts';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<ToWorker>) => void): void;
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

let loading: Promise<BrowserVoxface> | undefined;
/** The page's address, the files' base (set by 'prepare'; until then the folder above this script's dist/). */
let base = new URL('../', self.location.href).href;

/** Loads the network and the detectors once (a failed load is retried by the next request). */
function prepare(id?: number): Promise<BrowserVoxface> {
  if (!loading) {
    const t0 = performance.now();
    loading = loadBrowserVoxface({
      baseUrl: base,
      limits: { maxBytes: 20 * 1024 * 1024, maxPixels: 40e6 },
      onProgress: (f) => post({ type: 'progress', id, stage: 'load', fraction: f, text: `Loading the model on this device… ${Math.round(f * 100)}%` }),
    });
    loading.then(
      (vox) => {
        post({ type: 'ready', loadMs: performance.now() - t0 });
        void warmUp(vox);
      },
      () => (loading = undefined),
    );
  }
  return loading;
}

/** Whether a photo of the user's has arrived: the warm-up gives way at its next step. */
let asked = false;
/** Runs of the warm-up: after one, the first photo's stages still took 2–10× their steady time (bench/browser.ts). */
const WARMUP_RUNS = 2;
/** Thrown by the warm-up's progress callback to stop it. */
const GIVE_WAY = new Error('the warm-up gave way to a photo');

/**
 * While the user picks a photo: the identity encoder's session, then `WARMUP_RUNS` runs of the whole pipeline and the
 * viewer's files on a small synthetic face (`models/warmup.jpg`, examples/face.jpg), so the first photo does not pay
 * for the JavaScript engine's first compiles and the networks' first runs (on the first photo of a page they made
 * every stage 10–50× slower). It stops at its next step once a photo arrives; a failure only means no warm-up.
 */
async function warmUp(vox: BrowserVoxface): Promise<void> {
  const t0 = performance.now();
  try {
    await vox.prepare();
    if (asked) return;
    const res = await fetch(new URL('models/warmup.jpg', base).href);
    if (!res.ok || asked) return;
    const giveWay = () => {
      if (asked) throw GIVE_WAY;
    };
    const photo = await res.blob();
    for (let run = 0; run < WARMUP_RUNS; run++) {
      const { result, bitmap } = await vox.reconstructBlob(photo, { faces: 'largest', formats: ['glb', 'json'], onProgress: giveWay });
      bitmap.close();
      giveWay();
      exportResult(result, 'warmup', { formats: ['glb', 'json'] });
    }
    post({ type: 'warm', warmMs: performance.now() - t0, runs: WARMUP_RUNS });
  } catch {
    // no warm-up: the first photo pays for it
  }
}

/** The progress line for a pipeline event. */
function progressOf(id: number, p: ReconstructProgress): FromWorker {
  if (p.stage === 'detect') return { type: 'progress', id, stage: 'detect', text: 'Finding faces…' };
  const n = p.total;
  const i = Math.min(p.done, n - 1);
  return {
    type: 'progress',
    id,
    stage: 'face',
    face: i,
    faces: n,
    fraction: p.done / n,
    text: n === 1 ? 'Reconstructing the face…' : `Reconstructing face ${i + 1} of ${n}…`,
  };
}

async function reconstruct(id: number, file: Blob, base: string, options: OptionsInput = {}): Promise<void> {
  const vox = await prepare(id);
  const t0 = performance.now();
  post({ type: 'progress', id, stage: 'decode', text: 'Reading the photo…' });
  // the formats the page offers go to the pipeline too: the volume network runs only for the volume formats
  const formats = pageFormats(options);
  const { result, bitmap } = await vox.reconstructBlob(file, { faces: 'all', ...options, formats, onProgress: (p) => post(progressOf(id, p)) });
  bitmap.close();
  post({ type: 'progress', id, stage: 'export', fraction: 1, text: 'Making the files…' });
  // the viewer's files first (the GLB, and the JSON the page reads), the other formats once the model is shown
  const now = formats.filter((f) => VIEWER_FORMATS.includes(f));
  const later = formats.filter((f) => !VIEWER_FORMATS.includes(f));
  const json = toJSON(result);
  const first = links(exportResult(result, base, { ...options, formats: now }), json.faces.length);
  // the result waits here for the page's 'files' (only the latest: a new photo drops what was not asked for)
  pending.clear();
  if (later.length > 0) {
    pending.set(id, () => {
      try {
        post({ type: 'files', id, ...links(exportResult(result, base, { ...options, formats: later }), json.faces.length) });
      } catch (e) {
        post({ type: 'files', id, faces: json.faces.map(() => []), photoFiles: [], error: (e as Error).message });
      }
    });
  }
  post({ type: 'result', id, json, ...first, ms: performance.now() - t0, more: later.length > 0 });
}

/** The last result's other formats, made when the page asks ('files'). */
const pending = new Map<number, () => void>();

/** The formats the page needs to show a result: the GLB in the viewers, the JSON behind the landmarks and pose. */
const VIEWER_FORMATS: readonly string[] = ['glb', 'json'];

/** Exported files as blob: URLs, per face and for the whole photo. */
function links(files: ReturnType<typeof exportResult>, faceCount: number): { faces: DeviceFile[][]; photoFiles: DeviceFile[] } {
  const faces: DeviceFile[][] = Array.from({ length: faceCount }, () => []);
  const photoFiles: DeviceFile[] = [];
  for (const { name, format, role, face, bytes } of files) {
    const href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    (face === null ? photoFiles : faces[face]).push({ name, format, role, bytes: bytes.byteLength, href });
  }
  return { faces, photoFiles };
}

/** The WebCodecs ImageDecoder, where this browser has it (Chromium, Firefox): it can count an animation's frames. */
interface FrameCounter {
  isTypeSupported(type: string): Promise<boolean>;
  new (init: { data: ReadableStream<Uint8Array>; type: string }): { completed: Promise<void>; tracks: { selectedTrack: { frameCount: number } | null }; close(): void };
}
const MIME: Partial<Record<string, string>> = { gif: 'image/gif', webp: 'image/webp', png: 'image/png', avif: 'image/avif' };

/** How many frames an animated image has (1 for a still one, or where the browser cannot tell). */
async function frameCount(file: Blob): Promise<number> {
  const Decoder = (globalThis as { ImageDecoder?: FrameCounter }).ImageDecoder;
  try {
    const type = MIME[sniffImage(new Uint8Array(await file.arrayBuffer())).format];
    if (!Decoder || !type || !(await Decoder.isTypeSupported(type))) return 1;
    const decoder = new Decoder({ data: file.stream(), type });
    await decoder.completed;
    const n = decoder.tracks.selectedTrack?.frameCount ?? 1;
    decoder.close();
    return n;
  } catch {
    return 1;
  }
}

function errorOf(e: unknown, id?: number): FromWorker {
  if (e instanceof VoxfaceError) return { type: 'error', id, code: e.code, message: e.message };
  return { type: 'error', id, code: 'DEVICE_FAILED', message: (e as Error)?.message ?? String(e) };
}

scope.addEventListener('message', (e) => {
  const m = e.data;
  if (m.type === 'prepare') {
    base = m.base;
    prepare().catch((err: unknown) => post(errorOf(err)));
  }
  else if (m.type === 'release') for (const href of m.hrefs) URL.revokeObjectURL(href);
  else if (m.type === 'files') {
    const make = pending.get(m.id);
    pending.delete(m.id);
    if (make) make();
    else post({ type: 'files', id: m.id, faces: [], photoFiles: [], error: 'this result is gone (a newer photo replaced it)' });
  }
  else if (m.type === 'reconstruct') {
    asked = true;
    reconstruct(m.id, m.file, m.base, m.options).catch(async (err: unknown) => {
      // the browser decodes an animation's first frame only: say so when that frame had no face
      if (err instanceof VoxfaceError && err.code === 'NO_FACE') {
        const n = await frameCount(m.file);
        if (n > 1) err = new VoxfaceError('NO_FACE', `${err.message} in the first of its ${n} frames (this browser reads only the first; the server tries the others)`);
      }
      post(errorOf(err, m.id));
    });
  }
});
