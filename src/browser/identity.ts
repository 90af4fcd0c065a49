/**
 * The identity encoder in the browser, the twin of src/node/identity.ts: `models/identity-encoder.onnx` in an
 * onnxruntime-web session (fetched through the model cache on the first face that needs it) and the map
 * `models/identity-map.json` (fetched now).
 *
 * ```ts
 * const model = await loadWebIdentityModel('/models/identity-map.json', '/models/identity-encoder.onnx');
 * ```
 */
import * as ort from 'onnxruntime-web/wasm';
import { lazyEncoder, parseIdentityMap, type IdentityModel } from '../identity/index.ts';
import { VoxfaceError } from '../types.ts';
import { fetchBytes, wrapWebSession, type WebModelOptions } from './session.ts';
import { defaultWasmThreads } from './support.ts';

/** Loads the map now and the encoder on its first face. Throws VoxfaceError MODEL_ERROR. */
export async function loadWebIdentityModel(mapUrl: string, encoderUrl: string, options: Pick<WebModelOptions, 'wasmPaths' | 'threads'> = {}): Promise<IdentityModel> {
  const res = await fetch(mapUrl);
  if (!res.ok) throw new VoxfaceError('MODEL_ERROR', `cannot load ${mapUrl}: HTTP ${res.status}`);
  const map = parseIdentityMap(await res.json());
  const encoder = lazyEncoder(async () => {
    ort.env.wasm.wasmPaths = options.wasmPaths ?? '/vendor/ort/';
    ort.env.wasm.numThreads = options.threads ?? defaultWasmThreads();
    const bytes = await fetchBytes(encoderUrl);
    try {
      return wrapWebSession(await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }));
    } catch (e) {
      throw new VoxfaceError('MODEL_ERROR', `cannot load the identity encoder ${encoderUrl}: ${(e as Error).message.split('\n')[0]}`);
    }
  });
  return { encoder, map };
}
