/**
 * The identity encoder in the browser, the twin of src/node/identity.ts: `models/identity-encoder.onnx` in an
 * onnxruntime-web session (fetched through the model cache on the first face that needs it) and the map
 * `models/identity-map.json` (fetched now).
 *
 * ```ts
 * const model = await loadWebIdentityModel('/models/identity-map.json', '/models/identity-encoder.onnx');
 * ```
 */
import { lazyEncoder, lazyShapeNet, parseIdentityMap, type IdentityModel } from '../identity/index.ts';
import type { LazySession } from '../network/index.ts';
import { VoxfaceError } from '../types.ts';
import { createWebSession, fetchBytes, type WebModelOptions } from './session.ts';

/**
 * Loads the map now, and the encoder (and the shape-identity network, where the map asks for it) on the first face
 * (or `encoder.prepare()`, `shape.prepare()`). Throws VoxfaceError MODEL_ERROR.
 */
export async function loadWebIdentityModel(mapUrl: string, encoderUrl: string, options: Pick<WebModelOptions, 'wasmPaths' | 'threads'> & { shapeUrl?: string } = {}): Promise<IdentityModel & { encoder: LazySession; shape?: LazySession }> {
  const res = await fetch(mapUrl);
  if (!res.ok) throw new VoxfaceError('MODEL_ERROR', `cannot load ${mapUrl}: HTTP ${res.status}`);
  const map = parseIdentityMap(await res.json());
  const creator = (what: string, url: string) => async () => {
    const bytes = await fetchBytes(url);
    try {
      return await createWebSession(bytes, options);
    } catch (e) {
      throw new VoxfaceError('MODEL_ERROR', `cannot load the identity ${what} ${url}: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  const encoder = lazyEncoder(creator('encoder', encoderUrl));
  if (!map.shape) return { encoder, map };
  const shapeUrl = options.shapeUrl ?? new URL('identity-shape.onnx', new URL(encoderUrl, globalThis.location?.href ?? 'http://localhost/')).href;
  return { encoder, map, shape: lazyShapeNet(creator('shape network', shapeUrl)) };
}
