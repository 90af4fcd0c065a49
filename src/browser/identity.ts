/**
 * The identity encoder in the browser, the twin of src/node/identity.ts: `models/identity-encoder.onnx` in an
 * onnxruntime-web session (fetched through the model cache on the first face that needs it) and the map
 * `models/identity-map.json` (fetched now).
 *
 * ```ts
 * const model = await loadWebIdentityModel('/models/identity-map.json', '/models/identity-encoder.onnx');
 * ```
 */
import { lazyEncoder, parseIdentityMap, type IdentityModel } from '../identity/index.ts';
import type { LazySession } from '../network/index.ts';
import { VoxfaceError } from '../types.ts';
import { createWebSession, fetchBytes, type WebModelOptions } from './session.ts';

/** Loads the map now and the encoder on its first face (or `encoder.prepare()`). Throws VoxfaceError MODEL_ERROR. */
export async function loadWebIdentityModel(mapUrl: string, encoderUrl: string, options: Pick<WebModelOptions, 'wasmPaths' | 'threads'> = {}): Promise<IdentityModel & { encoder: LazySession }> {
  const res = await fetch(mapUrl);
  if (!res.ok) throw new VoxfaceError('MODEL_ERROR', `cannot load ${mapUrl}: HTTP ${res.status}`);
  const map = parseIdentityMap(await res.json());
  const encoder = lazyEncoder(async () => {
    const bytes = await fetchBytes(encoderUrl);
    try {
      return await createWebSession(bytes, options);
    } catch (e) {
      throw new VoxfaceError('MODEL_ERROR', `cannot load the identity encoder ${encoderUrl}: ${(e as Error).message.split('\n')[0]}`);
    }
  });
  return { encoder, map };
}
