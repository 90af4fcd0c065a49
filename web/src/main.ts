/**
 * The voxface page: pick, drop, paste or shoot a photo; reconstruct it on this device (WebAssembly, the
 * photo stays here) or on the server; show every face in a 3D viewer and over the photo, with pose,
 * landmarks and downloads.
 *
 * Bundled by scripts/build-web.ts into web/dist/main.js; device mode is a separate chunk loaded on demand.
 * `?mode=server` or `?mode=device` in the URL preselects the mode. Every URL the page uses is relative to its own
 * address, so a static copy (`npm run build:site`) works under any path prefix; such a copy has no server, which its
 * `<meta name="voxface-api" content="off">` says: then the page runs on this device only.
 */
import type * as THREE from 'three';
import { browserSupport } from '../../src/browser/support.ts';
import { baseName } from '../../src/export/names.ts';
import type { OptionsInput } from '../../src/options.ts';
import { reconstructOnServer } from './api.ts';
import type { Progress } from './api.ts';
import { cameraAvailable, openCamera } from './camera.ts';
import type { Camera } from './camera.ts';
import { Overlay } from './overlay.ts';
import { explain, formatBytes, PageError } from './result.ts';
import type { PageResult } from './result.ts';
import { pageOptions as readPageOptions } from './options.ts';
import { disposeObject, parseGLB, Viewer } from './viewer.ts';
import type { Surface } from './viewer.ts';

type Mode = 'device' | 'server';
const MAX_BYTES = 20 * 1024 * 1024;
/** Whether the HTTP API is beside the page (`npm start`); a static copy says "off" (scripts/build-site.ts writes it). */
const hasServer = document.querySelector<HTMLMetaElement>('meta[name="voxface-api"]')?.content.trim() !== 'off';
const PREPARE_TIMEOUT_MS = 120_000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  modeServer: $<HTMLLabelElement>('mode-server'),
  modeNote: $<HTMLParagraphElement>('mode-note'),
  threadsNote: $<HTMLParagraphElement>('threads-note'),
  apiLink: $<HTMLSpanElement>('api-link'),
  drop: $<HTMLDivElement>('drop'),
  file: $<HTMLInputElement>('file'),
  cameraOpen: $<HTMLButtonElement>('camera-open'),
  camera: $<HTMLDivElement>('camera'),
  cameraVideo: $<HTMLVideoElement>('camera-video'),
  cameraShoot: $<HTMLButtonElement>('camera-shoot'),
  cameraClose: $<HTMLButtonElement>('camera-close'),
  progress: $<HTMLDivElement>('progress'),
  progressBar: $<HTMLProgressElement>('progress-bar'),
  progressText: $<HTMLSpanElement>('progress-text'),
  progressElapsed: $<HTMLSpanElement>('progress-elapsed'),
  status: $<HTMLParagraphElement>('status'),
  error: $<HTMLParagraphElement>('error'),
  result: $<HTMLElement>('result'),
  resultMode: $<HTMLParagraphElement>('result-mode'),
  faceList: $<HTMLDivElement>('face-list'),
  viewer: $<HTMLCanvasElement>('viewer'),
  light: $<HTMLInputElement>('light'),
  opacity: $<HTMLInputElement>('opacity'),
  showLandmarks: $<HTMLInputElement>('show-landmarks'),
  resetView: $<HTMLButtonElement>('reset-view'),
  pose: $<HTMLDListElement>('pose'),
  downloads: $<HTMLUListElement>('downloads'),
};

const viewer = new Viewer(ui.viewer);
const overlay = new Overlay($('overlay-photo'), $('overlay-mesh'), $('overlay-marks'), (i) => void selectFace(i));
let current: { result: PageResult; photo?: ImageBitmap; models: Map<number, THREE.Object3D>; selected: number } | undefined;
let busy = false;
let camera: Camera | undefined;
let lastFile: File | undefined;

// ---- mode: on this device or on the server ------------------------------------------------------

const modeInputs = [...document.querySelectorAll<HTMLInputElement>('input[name="mode"]')];
const deviceInput = modeInputs.find((i) => i.value === 'device')!;
const mode = (): Mode => (modeInputs.find((i) => i.checked)?.value as Mode) ?? 'server';

function setMode(m: Mode, note?: string): void {
  for (const i of modeInputs) i.checked = i.value === m;
  ui.modeNote.hidden = !note;
  ui.modeNote.textContent = note ?? '';
  showThreads();
}

/**
 * Says when device mode runs on one thread: multi-threaded WebAssembly needs a cross-origin isolated page (the
 * COOP/COEP headers, which `npm start` sends and many static hosts do not), else each runtime gets one thread
 * (defaultWasmThreads()).
 */
function showThreads(): void {
  ui.threadsNote.hidden = globalThis.crossOriginIsolated || mode() !== 'device' || deviceInput.disabled;
  ui.threadsNote.textContent =
    'The model runs on one thread here: this host does not send the two cross-origin isolation headers (COOP and COEP) that multi-threaded WebAssembly needs, so a photo takes longer.';
}

/** Why this browser cannot run the pipeline itself (undefined when it can). */
function deviceUnsupported(): string | undefined {
  if (typeof Worker !== 'function') return 'Web Workers are not available';
  return browserSupport().why;
}

let preparing: Promise<unknown> | undefined;
/** Where model download progress goes (the running reconstruction's progress bar, if any). */
let progressSink: Progress | undefined;
/** Starts loading the device-mode chunk and models in the background; switches to the server if that fails. */
function prepareDevice(): Promise<unknown> {
  if (!preparing) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('loading the models took over 2 minutes')), PREPARE_TIMEOUT_MS);
    });
    const load = import('./local.ts').then((local) => local.prepare((f, text) => progressSink?.(f, text)));
    preparing = Promise.race([load, timeout])
      .finally(() => clearTimeout(timer))
      .catch((e: unknown) => {
        preparing = undefined;
        const why = (e as Error)?.message ?? String(e);
        if (hasServer) {
          deviceInput.disabled = true;
          setMode('server', `This browser cannot run the model itself (${why}), so photos go to the server.`);
        } else {
          // nowhere else to go: the next photo tries again
          setMode('device', `This browser could not run the model itself (${why}), and this copy of voxface has no server to send photos to.`);
        }
        throw new PageError('DEVICE_UNAVAILABLE', why);
      });
  }
  return preparing;
}

const wanted = new URLSearchParams(location.search).get('mode');
/** Pipeline options from the page's URL (`?landmarks=network&flip=off`, web/src/options.ts); a bad one is said and ignored. */
let pageOptions: OptionsInput = {};
try {
  pageOptions = readPageOptions(location.search);
} catch (e) {
  showError(`The page address has a bad option, so none are used: ${(e as Error).message}`);
}
const unsupported = deviceUnsupported();
if (!hasServer) {
  // a static copy (npm run build:site): no API beside the page, so no server option
  ui.modeServer.hidden = true;
  modeInputs.find((i) => i.value === 'server')!.disabled = true;
  ui.apiLink.hidden = true;
  if (unsupported) {
    deviceInput.disabled = true;
    setMode('device', `This browser cannot run the model itself (${unsupported}), and this copy of voxface has no server to send photos to.`);
  } else setMode('device', 'This copy of voxface is a static site without a server, so photos are reconstructed on this device only.');
} else if (unsupported) {
  deviceInput.disabled = true;
  setMode('server', `Running on this device is not possible: ${unsupported}. Photos go to the server.`);
} else if (wanted === 'server' || wanted === 'device') {
  setMode(wanted);
} else showThreads();
for (const i of modeInputs) {
  i.addEventListener('change', () => {
    showThreads();
    if (mode() === 'device') void prepareDevice().catch(() => {});
  });
}
if (mode() === 'device' && !deviceInput.disabled) {
  const idle = window.requestIdleCallback ?? ((f: () => void) => setTimeout(f, 500));
  idle(() => void prepareDevice().catch(() => {}));
}

// ---- input: file picker, drag and drop, paste, camera -------------------------------------------

ui.file.addEventListener('change', () => {
  const f = ui.file.files?.[0];
  ui.file.value = '';
  if (f) void run(f);
});
for (const type of ['dragenter', 'dragover'] as const) {
  ui.drop.addEventListener(type, (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
}
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  const f = e.dataTransfer?.files?.[0];
  if (f) void run(f);
});
// a photo dropped next to the zone should not navigate away
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());
window.addEventListener('paste', (e) => {
  const f = [...(e.clipboardData?.files ?? [])].find((x) => x.type.startsWith('image/'));
  if (f) void run(f);
});

if (!cameraAvailable()) {
  ui.cameraOpen.hidden = true;
}
ui.cameraOpen.addEventListener('click', async () => {
  clearError();
  try {
    ui.camera.hidden = false;
    camera = await openCamera(ui.cameraVideo);
    ui.cameraShoot.focus();
  } catch (e) {
    ui.camera.hidden = true;
    showError((e as Error).message);
  }
});
function closeCamera(): void {
  camera?.close();
  camera = undefined;
  ui.camera.hidden = true;
}
ui.cameraClose.addEventListener('click', () => {
  closeCamera();
  ui.cameraOpen.focus();
});
ui.cameraShoot.addEventListener('click', async () => {
  if (!camera) return;
  const f = await camera.capture();
  closeCamera();
  void run(f);
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && camera) closeCamera();
});

// ---- running ------------------------------------------------------------------------------------

/** When the running reconstruction started (the user's action), for the elapsed time shown while it runs. */
let startedAt = 0;
let ticker: ReturnType<typeof setInterval> | undefined;
/** The last step announced in the status line. */
let lastText = '';
/** Whether the running reconstruction reached the screen (then the page scrolls to it). */
let shown = false;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function setBusy(on: boolean): void {
  busy = on;
  document.body.classList.toggle('busy', on);
  ui.file.disabled = on;
  ui.cameraOpen.disabled = on;
  ui.progress.hidden = !on;
  document.body.setAttribute('aria-busy', String(on));
  clearInterval(ticker);
  ticker = undefined;
  lastText = '';
  ui.progressElapsed.textContent = '';
  if (on) {
    startedAt = performance.now();
    // the worker computes, the page paints: the clock keeps running (a frozen clock means a frozen page)
    ticker = setInterval(() => (ui.progressElapsed.textContent = seconds(performance.now() - startedAt)), 100);
  }
}

const progress: Progress = (fraction, text) => {
  if (fraction === undefined) ui.progressBar.removeAttribute('value');
  else ui.progressBar.value = fraction;
  ui.progressText.textContent = text;
  // the live region hears each step once, not every percent of a download
  const step = text.replace(/\s*\d+%$/, '');
  if (step !== lastText) ui.status.textContent = lastText = step;
};

function clearError(): void {
  ui.error.hidden = true;
  ui.error.replaceChildren();
}

function showError(message: string, action?: { label: string; run: () => void }): void {
  ui.error.hidden = false;
  ui.error.replaceChildren(document.createTextNode(message));
  if (action) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'button';
    b.textContent = action.label;
    b.style.marginLeft = '8px';
    b.addEventListener('click', action.run);
    ui.error.append(b);
  }
  ui.status.textContent = '';
}

/** Reconstructs one photo in the chosen mode and shows it. */
async function run(file: File, forced?: Mode): Promise<void> {
  if (busy) return;
  clearError();
  lastFile = file;
  if (file.size === 0) return showError(explain('EMPTY_BODY', ''));
  if (file.size > MAX_BYTES) return showError(explain('IMAGE_TOO_LARGE', `${formatBytes(file.size)}, the limit is ${formatBytes(MAX_BYTES)}`));
  const m = forced ?? mode();
  if (m === 'device' && unsupported) return showError(`This browser cannot run the model itself (${unsupported}).`);
  setBusy(true);
  progress(undefined, m === 'device' ? 'Preparing…' : 'Uploading…');
  const base = baseName(file.name);
  try {
    let result: PageResult;
    let loadingMs = 0;
    shown = false;
    if (m === 'device') {
      progressSink = progress;
      const t = performance.now();
      await prepareDevice();
      loadingMs = performance.now() - t;
      const local = await import('./local.ts');
      result = await local.reconstructOnDevice(file, base, progress, pageOptions);
    } else {
      result = await reconstructOnServer(file, file.name || 'photo.jpg', progress, undefined, pageOptions);
    }
    progress(undefined, 'Showing the model…');
    await show(result, file);
    shown = true;
    // device mode makes the other formats' files once the model is on screen: their links when they come
    const shownResult = result;
    shownResult.moreFiles?.().then(
      () => current?.result === shownResult && renderDownloads(current.selected),
      (e: unknown) => current?.result === shownResult && showError(e instanceof PageError ? explain(e.code, e.message) : String(e)),
    );
    const faces = result.json.faces.length;
    // the time the user waited: from their action until the model is on screen, model loading included
    const waited = performance.now() - startedAt;
    const loading = loadingMs >= 100 ? ` (${seconds(loadingMs)} of it loading the model)` : '';
    const where = m === 'server' ? 'on the server' : globalThis.crossOriginIsolated ? 'on this device' : 'on this device (one thread)';
    ui.status.textContent = `Done in ${seconds(waited)}${loading}: ${faces} face${faces === 1 ? '' : 's'}, ${where}.`;
  } catch (e) {
    const err = e instanceof PageError ? e : new PageError('UNKNOWN', (e as Error)?.message ?? String(e));
    if (err.code === 'DEVICE_UNAVAILABLE' && lastFile && hasServer) {
      showError(`This browser could not run the model itself (${err.message}).`, {
        label: 'Send this photo to the server instead',
        run: () => void run(lastFile!, 'server'),
      });
    } else if (err.code === 'DEVICE_UNAVAILABLE') showError(`This browser could not run the model itself (${err.message}).`);
    else showError(explain(err.code, err.message));
  } finally {
    progressSink = undefined;
    setBusy(false);
    // after the progress bar is gone (it shifts the page): the result's top at the top of the screen
    if (shown) revealResult();
  }
}

// ---- showing a result ---------------------------------------------------------------------------

/** Scrolls the result into view when it starts below the fold (phones: it sits under the input). */
function revealResult(): void {
  const top = ui.result.getBoundingClientRect().top;
  if (top >= 0 && top < window.innerHeight * 0.5) return;
  const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  ui.result.scrollIntoView({ behavior: smooth ? 'smooth' : 'auto', block: 'start' });
}

async function show(result: PageResult, file: File): Promise<void> {
  current?.result.dispose();
  current?.photo?.close();
  for (const model of current?.models.values() ?? []) disposeObject(model);
  let photo: ImageBitmap | undefined;
  try {
    photo = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    photo = undefined; // the server read a format this browser cannot show: the overlay goes without the photo
  }
  current = { result, photo, models: new Map(), selected: 0 };
  ui.resultMode.textContent = result.mode === 'device' ? 'Made on this device: the photo was not uploaded' : 'Made on the server (in memory; links expire)';
  ui.resultMode.classList.toggle('server', result.mode === 'server');
  overlay.setPhoto(photo, result.json.image.width, result.json.image.height);

  ui.faceList.replaceChildren(
    ...result.json.faces.map((f, i) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      Object.assign(input, { type: 'radio', name: 'face', value: String(i), checked: i === 0 });
      input.addEventListener('change', () => input.checked && void selectFace(i));
      const yaw = f.pose.yaw === null ? '' : `, yaw ${Math.round(f.pose.yaw)}°`;
      label.append(input, ` Face ${i + 1}${i === 0 ? ' (largest)' : ''}${yaw}`);
      return label;
    }),
  );
  await selectFace(0);
}

async function selectFace(i: number): Promise<void> {
  if (!current) return;
  const c = current;
  c.selected = i;
  for (const input of ui.faceList.querySelectorAll<HTMLInputElement>('input')) input.checked = input.value === String(i);
  const face = c.result.json.faces[i];
  overlay.setFaces(c.result.json.faces, i, ui.showLandmarks.checked);
  renderPose(face.pose, face.score, face.mesh);
  renderDownloads(i);
  try {
    let model = c.models.get(i);
    if (!model) {
      model = await parseGLB(await c.result.glb(i));
      c.models.set(i, model);
    }
    if (current !== c || c.selected !== i) return;
    // the result appears with its model: shown earlier, its first frame (layout, two WebGL canvases resized, the
    // photo drawn) held the GLB's fetch and parse back by 50–80 ms (software WebGL, bench/browser.ts)
    ui.result.hidden = false;
    viewer.show(model, face.landmarks68);
    applyControls();
    // the overlay's mesh a frame later: two first WebGL draws in one frame would hold the page twice as long
    // (software WebGL, no GPU: scripts/frame-gaps.ts)
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    if (current !== c || c.selected !== i) return;
    overlay.setMesh(model.clone());
    applyControls();
  } catch (e) {
    ui.result.hidden = false; // the photo, its landmarks and the files still
    showError(e instanceof PageError ? explain(e.code, e.message) : `The model cannot be shown: ${(e as Error).message}`);
  }
}

function renderPose(pose: { yaw: number | null; pitch: number | null; roll: number | null }, score: number | null, mesh: { vertices: number; triangles: number }): void {
  const deg = (x: number | null) => (x === null ? '–' : `${x.toFixed(1)}°`);
  const rows: [string, string][] = [
    ['Yaw', deg(pose.yaw)],
    ['Pitch', deg(pose.pitch)],
    ['Roll', deg(pose.roll)],
    ['Detector score', score === null ? '–' : score.toFixed(2)],
    ['Mesh', `${mesh.vertices.toLocaleString()} vertices, ${mesh.triangles.toLocaleString()} triangles`],
  ];
  ui.pose.replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

const FORMAT_LABELS: Record<string, string> = {
  glb: 'GLB',
  obj: 'OBJ',
  ply: 'PLY',
  stl: 'STL',
  volume: 'Volume',
  nrrd: 'NRRD',
  depth: 'Depth map',
  json: 'JSON',
};

function renderDownloads(i: number): void {
  if (!current) return;
  const files = [...current.result.faces[i], ...current.result.photoFiles];
  ui.downloads.replaceChildren(
    ...files.map((f) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.className = 'button';
      a.href = f.href;
      a.download = f.name;
      a.dataset.format = f.format;
      a.textContent = `${FORMAT_LABELS[f.format] ?? f.format} · ${f.name}`;
      const small = document.createElement('small');
      small.textContent = formatBytes(f.bytes);
      a.append(small);
      li.append(a);
      return li;
    }),
  );
}

// ---- view controls ------------------------------------------------------------------------------

const surfaceInputs = [...document.querySelectorAll<HTMLInputElement>('input[name="surface"]')];
function applyControls(): void {
  const surface = (surfaceInputs.find((s) => s.checked)?.value ?? 'textured') as Surface;
  viewer.setSurface(surface);
  overlay.setSurface(surface);
  viewer.setLight(Number(ui.light.value));
  overlay.setLight(Number(ui.light.value));
  overlay.setOpacity(Number(ui.opacity.value));
  viewer.setLandmarksVisible(ui.showLandmarks.checked);
  if (current) overlay.setFaces(current.result.json.faces, current.selected, ui.showLandmarks.checked);
}
for (const el of [...surfaceInputs, ui.light, ui.opacity, ui.showLandmarks]) el.addEventListener('input', applyControls);
ui.resetView.addEventListener('click', () => viewer.reset());
applyControls();
