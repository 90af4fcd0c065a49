/**
 * onnxruntime-node adapter for the network stage.
 *
 * ```ts
 * const { session, info } = await loadModel('models/vrn-compact.onnx', { threads: 2 });
 * const out = await runNetwork(session, info, input);
 * ```
 */
import './telemetry.ts'; // first: ORT_DISABLE_TELEMETRY must be set before onnxruntime-node initialises
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { lazySession, parseModelInfo } from '../network/index.ts';
import type { ModelInfo } from '../network/index.ts';
import { VoxfaceError } from '../types.ts';
import type { InferenceSession } from '../types.ts';
import { wrapOrtSession } from '../network/ort.ts';
import { parseLandmarkModelInfo } from '../landmarks/regressor.ts';
import type { LandmarkModel } from '../landmarks/regressor.ts';

/** This package's models folder (src/node or dist/node → ../../models): the default of every Node loader. */
export const MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');

export interface LoadModelOptions {
  /** Intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

export interface LoadVolumeModelOptions extends LoadModelOptions {
  /**
   * Read the files now and make the onnxruntime session on the network's first run (`lazySession`): a process whose
   * photos never need the volume network (the default shape) never makes it. Default false.
   */
  lazy?: boolean;
}

/** Wraps an onnxruntime-node session as a voxface InferenceSession. */
export function wrapNodeSession(s: ort.InferenceSession): InferenceSession {
  return wrapOrtSession(s, ort.Tensor);
}

/**
 * onnxruntime session options. The intra-op threads spin while a run lasts (a network of many small operators waits
 * less for its threads) and stop spinning when it ends (`force_spinning_stop`): threads left spinning after a run
 * slow every JavaScript stage after it on a few shared cores. On the 2-core machine, 40 `fit/` photos × 3, four runs
 * alternating with no spinning at all: the identity encoder's minimum 5.6 → 5.1 ms, the total's 47.4 → 44.0 ms.
 */
export function sessionOptions(threads?: number): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '0' }, force_spinning_stop: '1' } },
  };
  if (threads && threads > 0) {
    opts.intraOpNumThreads = threads;
    opts.interOpNumThreads = 1;
  }
  return opts;
}

/**
 * Loads the landmark model `<name>.onnx` and its sidecar `<name>.json` (models/landmarks68; src/landmarks/regressor.ts).
 *
 * ```ts
 * const model = await loadLandmarkModel('models/landmarks68.onnx');
 * ```
 */
export async function loadLandmarkModel(onnxPath: string, options: LoadModelOptions = {}): Promise<LandmarkModel> {
  const { info, bytes } = await readModelFiles(onnxPath, parseLandmarkModelInfo, 'landmark model');
  const s = await ort.InferenceSession.create(bytes, sessionOptions(options.threads));
  return { session: wrapNodeSession(s), info };
}

/** Reads `<name>.onnx` and its sidecar `<name>.json` (checked by `parse`); throws VoxfaceError MODEL_ERROR naming `what`. */
async function readModelFiles<I>(onnxPath: string, parse: (json: unknown) => I, what: string): Promise<{ info: I; bytes: Uint8Array }> {
  const jsonPath = onnxPath.replace(/\.onnx$/i, '') + '.json';
  try {
    const info = parse(JSON.parse(await readFile(jsonPath, 'utf8')));
    return { info, bytes: await readFile(onnxPath) };
  } catch (e) {
    if (e instanceof VoxfaceError) throw e;
    throw new VoxfaceError('MODEL_ERROR', `cannot load ${what} ${onnxPath}: ${(e as Error).message}`);
  }
}

/**
 * Loads `<name>.onnx` and its sidecar `<name>.json` (with `lazy`, the files now and the session on its first run; a
 * missing or unreadable file or a bad sidecar fail here either way, a bad ONNX graph then on the first run).
 */
export async function loadModel(onnxPath: string, options: LoadVolumeModelOptions = {}): Promise<{ session: InferenceSession; info: ModelInfo }> {
  const { info, bytes } = await readModelFiles(onnxPath, parseModelInfo, 'model');
  const create = async () => {
    try {
      return wrapNodeSession(await ort.InferenceSession.create(bytes, sessionOptions(options.threads)));
    } catch (e) {
      if (!options.lazy) throw e;
      throw new VoxfaceError('MODEL_ERROR', `cannot load model ${onnxPath}: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  return { session: options.lazy ? lazySession(info, create) : await create(), info };
}
