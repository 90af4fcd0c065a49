/**
 * The face detector in the browser: the same multi-pass detector as in Node (src/detect/), BlazeFace and Face Mesh on
 * onnxruntime-web (models/<name>.onnx, scripts/tfjs-onnx.py), FaceBoxes on the TF.js WebAssembly backend, every
 * model fetched by URL through the model cache.
 *
 * ```ts
 * const detector = await loadBrowserDetector({ modelsUrl: '/vendor/human-models', wasmUrl: '/vendor/tfjs-wasm/', onnxUrl: '/models/' });
 * const faces = await detector.detect(image);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createFaceDetector } from '../detect/multi.ts';
import type { MultiDetectorOptions, MultiFaceDetector } from '../detect/multi.ts';
import { graphNets, mixedNets, sessionNet, type DetectorNetLoader, type GraphModelLoader } from '../detect/models.ts';
import { useTf } from '../detect/tf.ts';
import { cachedFetch } from './cache.ts';
import { createWebSession, fetchBytes } from './session.ts';
import { VoxfaceError } from '../types.ts';
import { defaultWasmThreads } from './support.ts';

export interface BrowserDetectorOptions extends MultiDetectorOptions {
  /** Where the human-models graph models are served (default '/vendor/human-models'). */
  modelsUrl?: string;
  /** Where the tfjs-backend-wasm .wasm files are served (default '/vendor/tfjs-wasm/'). */
  wasmUrl?: string;
  /**
   * Where the ONNX detector networks are served (`<onnxUrl>/<name>.onnx`, default '/models/'); null: BlazeFace and
   * Face Mesh on TF.js like FaceBoxes.
   */
  onnxUrl?: string | null;
  /** onnxruntime-web's wasm files (default '/vendor/ort/'). */
  ortWasmPaths?: string;
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

/**
 * Detector networks `<baseUrl>/<name>.onnx` on onnxruntime-web, fetched through the model cache.
 *
 *   const nets = urlOnnxNetLoader('/models/');
 */
export function urlOnnxNetLoader(baseUrl: string, wasmPaths?: string): DetectorNetLoader {
  const base = baseUrl.replace(/\/+$/, '');
  return async (name) => sessionNet(await createWebSession(await fetchBytes(`${base}/${name}.onnx`), { wasmPaths }));
}

/** Loads the detector models (over HTTP) and returns the multi-pass face detector. */
export async function loadBrowserDetector(options: BrowserDetectorOptions = {}): Promise<MultiFaceDetector> {
  await initWasmBackend(options.wasmUrl);
  const graphs = urlModelLoader(options.modelsUrl ?? '/vendor/human-models');
  const onnx = options.onnxUrl === null ? undefined : urlOnnxNetLoader(options.onnxUrl ?? '/models/', options.ortWasmPaths);
  return createFaceDetector(graphs, { ...options, nets: options.nets ?? (onnx ? mixedNets(graphNets(graphs), onnx) : graphNets(graphs)) });
}
