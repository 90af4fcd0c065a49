/**
 * The face detector in the browser: the same multi-pass detector as in Node (src/detect/), on the TF.js
 * WebAssembly backend, its graph models fetched by URL.
 *
 * ```ts
 * const detector = await loadBrowserDetector({ modelsUrl: '/vendor/human-models', wasmUrl: '/vendor/tfjs-wasm/' });
 * const faces = await detector.detect(image);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createFaceDetector } from '../detect/multi.ts';
import type { MultiDetectorOptions, MultiFaceDetector } from '../detect/multi.ts';
import type { GraphModelLoader } from '../detect/models.ts';
import { useTf } from '../detect/tf.ts';
import { cachedFetch } from './cache.ts';
import { VoxfaceError } from '../types.ts';
import { defaultWasmThreads } from './support.ts';

export interface BrowserDetectorOptions extends MultiDetectorOptions {
  /** Where the human-models graph models are served (default '/vendor/human-models'). */
  modelsUrl?: string;
  /** Where the tfjs-backend-wasm .wasm files are served (default '/vendor/tfjs-wasm/'). */
  wasmUrl?: string;
}

useTf(tf);

/**
 * A loader fetching `<baseUrl>/<name>.json` and its weight files over HTTP, through the model cache (./cache.ts).
 *
 *   const load = urlModelLoader('/models/human');
 *   const model = await load('blazeface-back');
 */
export function urlModelLoader(baseUrl: string): GraphModelLoader {
  const base = baseUrl.replace(/\/+$/, '');
  const fetchFunc = (input: RequestInfo | URL): Promise<Response> => cachedFetch(input instanceof Request ? input.url : String(input));
  return (name) => loadGraphModel(`${base}/${name}.json`, { fetchFunc });
}

/** Selects the TF.js WASM backend once (idempotent), with defaultWasmThreads() threads (XNNPACK's own default: every core). */
export async function initWasmBackend(wasmUrl = '/vendor/tfjs-wasm/'): Promise<void> {
  if (tf.getBackend() === 'wasm') return;
  setWasmPaths(wasmUrl.endsWith('/') ? wasmUrl : `${wasmUrl}/`);
  setThreadsCount(defaultWasmThreads());
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch {
    ok = false;
  }
  if (!ok) throw new VoxfaceError('MODEL_ERROR', 'the TF.js WebAssembly backend is unavailable in this browser');
  await tf.ready();
}

/** Loads the detector models (over HTTP) and returns the multi-pass face detector. */
export async function loadBrowserDetector(options: BrowserDetectorOptions = {}): Promise<MultiFaceDetector> {
  await initWasmBackend(options.wasmUrl);
  return createFaceDetector(urlModelLoader(options.modelsUrl ?? '/vendor/human-models'), options);
}
