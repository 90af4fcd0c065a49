/**
 * onnxruntime-web (WebAssembly) adapter for the network stage: the browser twin of src/node/session.ts.
 *
 * ```ts
 * const { session, info } = await loadWebModel('/models/model.onnx', { wasmPaths: '/vendor/ort/' });
 * const out = await runNetwork(session, info, input);
 * ```
 */
import * as ort from 'onnxruntime-web/wasm';
import { lazySession, parseModelInfo } from '../network/index.ts';
import type { ModelInfo } from '../network/index.ts';
import { parseLandmarkModelInfo } from '../landmarks/regressor.ts';
import type { LandmarkModel } from '../landmarks/regressor.ts';
import { VoxfaceError } from '../types.ts';
import type { InferenceSession } from '../types.ts';
import { wrapOrtSession } from '../network/ort.ts';
import { defaultWasmThreads } from './support.ts';
import { cachedFetch } from './cache.ts';

export interface WebModelOptions {
  /** Where ort-wasm-simd-threaded.{mjs,wasm} are served (default '/vendor/ort/'). */
  wasmPaths?: string;
  /** WebAssembly threads (default: defaultWasmThreads(), half the cores, at most 4; 1 when the page is not cross-origin isolated). */
  threads?: number;
  /** Progress of the model download, 0..1. */
  onProgress?: (fraction: number) => void;
  /**
   * Fetch the model now but make its session on its first run (`lazySession`; `prepare()` makes it ahead): the
   * volume network, which a page of the default shape never runs.
   */
  lazy?: boolean;
}

/** Wraps an onnxruntime-web session as a voxface InferenceSession (the same adapter as in Node). */
export function wrapWebSession(s: ort.InferenceSession): InferenceSession {
  return wrapOrtSession(s, ort.Tensor);
}

/** Fetches bytes with download progress, through the model cache (./cache.ts). */
export async function fetchBytes(url: string, onProgress?: (fraction: number) => void): Promise<Uint8Array> {
  const res = await cachedFetch(url);
  if (!res.ok) throw new VoxfaceError('MODEL_ERROR', `cannot load ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || 0;
  if (!res.body || !onProgress || !total) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    onProgress(Math.min(1, got / total));
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Loads `<name>.onnx` and its sidecar `<name>.json` from URLs into an onnxruntime-web session. */
export async function loadWebModel(onnxUrl: string, options: WebModelOptions = {}): Promise<{ session: InferenceSession; info: ModelInfo }> {
  if (!options.lazy) return loadWebOnnx(onnxUrl, parseModelInfo, options);
  const info = await fetchSidecar(onnxUrl, parseModelInfo);
  const bytes = await fetchBytes(onnxUrl, options.onProgress);
  return { session: lazySession(info, () => createWebSession(bytes, options)), info };
}

/** `<name>.onnx` and its sidecar `<name>.json` (checked by `parse`) from URLs into an onnxruntime-web session. */
async function loadWebOnnx<I>(onnxUrl: string, parse: (json: unknown) => I, options: WebModelOptions): Promise<{ session: InferenceSession; info: I }> {
  const info = await fetchSidecar(onnxUrl, parse);
  return { session: await createWebSession(await fetchBytes(onnxUrl, options.onProgress), options), info };
}

/** The sidecar `<name>.json` of `<name>.onnx`, checked by `parse`. Throws VoxfaceError MODEL_ERROR. */
async function fetchSidecar<I>(onnxUrl: string, parse: (json: unknown) => I): Promise<I> {
  const jsonUrl = onnxUrl.replace(/\.onnx$/i, '') + '.json';
  const sidecar = await cachedFetch(jsonUrl);
  if (!sidecar.ok) throw new VoxfaceError('MODEL_ERROR', `cannot load ${jsonUrl}: HTTP ${sidecar.status}`);
  return parse(await sidecar.json());
}

/** An onnxruntime-web (WebAssembly) session on a model's bytes, the runtime's files and threads as `options` say. */
export async function createWebSession(bytes: Uint8Array, options: Pick<WebModelOptions, 'wasmPaths' | 'threads'> = {}): Promise<InferenceSession> {
  ort.env.wasm.wasmPaths = options.wasmPaths ?? '/vendor/ort/';
  ort.env.wasm.numThreads = options.threads ?? defaultWasmThreads();
  return wrapWebSession(await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }));
}

/**
 * Loads the landmark model `<name>.onnx` and its sidecar `<name>.json` from URLs (src/landmarks/regressor.ts).
 *
 * ```ts
 * const landmarks = await loadWebLandmarkModel('/models/landmarks68.onnx');
 * ```
 */
export async function loadWebLandmarkModel(onnxUrl: string, options: WebModelOptions = {}): Promise<LandmarkModel> {
  return loadWebOnnx(onnxUrl, parseLandmarkModelInfo, options);
}
