/**
 * The face detector in the browser: the same multi-pass detector as in Node (src/detect/). As in Node, BlazeFace and
 * Face Mesh run on onnxruntime (onnxruntime-web's WebAssembly, `models/<name>.onnx`: the runtime the page loads for
 * its other networks anyway) and FaceBoxes on TF.js' WebAssembly backend, which is set up only when a photo needs
 * FaceBoxes (nothing else found a face); `runtime: 'tfjs'` runs every detector network on TF.js as before.
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
import { graphNets, mixedNets, sessionNet } from '../detect/models.ts';
import type { DetectorNetLoader, GraphModelLoader } from '../detect/models.ts';
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
  /** 'onnx' (default): BlazeFace and Face Mesh on onnxruntime-web, FaceBoxes on TF.js; 'tfjs': all on TF.js. */
  runtime?: 'onnx' | 'tfjs';
  /** Where `blazeface-front.onnx`, `blazeface-back.onnx` and `facemesh.onnx` are served (default '/models/'). */
  onnxUrl?: string;
  /** Where onnxruntime-web's WebAssembly files are served (default '/vendor/ort/'). */
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
 * Loads the detector models (over HTTP) and returns the multi-pass face detector: the first look's networks now (Face
 * Mesh and BlazeFace front, `createFaceDetector`), the others on their first use; with the default runtime 'onnx',
 * TF.js' backend only once a photo needs FaceBoxes.
 */
export async function loadBrowserDetector(options: BrowserDetectorOptions = {}): Promise<MultiFaceDetector> {
  const wasmUrl = options.wasmUrl;
  const urls = urlModelLoader(options.modelsUrl ?? '/vendor/human-models');
  if ((options.runtime ?? 'onnx') === 'tfjs') {
    await initWasmBackend(wasmUrl);
    return createFaceDetector(urls, options);
  }
  const graphs: GraphModelLoader = async (name) => {
    await initWasmBackend(wasmUrl);
    return urls(name);
  };
  const base = (options.onnxUrl ?? '/models/').replace(/\/*$/, '/');
  const onnx: DetectorNetLoader = async (name) => {
    const url = `${base}${name}.onnx`;
    try {
      return sessionNet(await createWebSession(await fetchBytes(url), { wasmPaths: options.ortWasmPaths }));
    } catch (e) {
      if (e instanceof VoxfaceError) throw e;
      throw new VoxfaceError('MODEL_ERROR', `cannot load detector model ${url}: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  return createFaceDetector(graphs, { ...options, nets: mixedNets(graphNets(graphs), onnx) });
}
