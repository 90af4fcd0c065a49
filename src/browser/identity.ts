/**
 * The identity encoder in the browser, the twin of src/node/identity.ts: `@vladmandic/face-api`'s
 * `FaceRecognitionNet` (its ES module without a bundled TF.js, so it runs on the page's TF.js and WASM backend),
 * its weights and the map fetched from this site (`vendor/face-api/`, `models/identity-map.json`), the weights on the
 * first face that needs them.
 *
 * ```ts
 * const model = await loadWebIdentityModel('/models/identity-map.json', '/vendor/face-api/');
 * ```
 */
import type * as TF from '@tensorflow/tfjs-core';
import { tf } from '../detect/tf.ts';
import { parseIdentityMap, type IdentityModel, type IdentityNet } from '../identity/index.ts';
import { VoxfaceError } from '../types.ts';
import { fetchBytes } from './session.ts';

/** Loads the map now and the encoder's weights on its first face. Throws VoxfaceError MODEL_ERROR. */
export async function loadWebIdentityModel(mapUrl: string, weightsUrl: string): Promise<IdentityModel> {
  const res = await fetch(mapUrl);
  if (!res.ok) throw new VoxfaceError('MODEL_ERROR', `cannot load ${mapUrl}: HTTP ${res.status}`);
  const map = parseIdentityMap(await res.json());
  const base = weightsUrl.endsWith('/') ? weightsUrl : `${weightsUrl}/`;
  const loadNet = async (): Promise<IdentityNet> => {
    const m = await fetch(`${base}face_recognition_model-weights_manifest.json`);
    if (!m.ok) throw new VoxfaceError('MODEL_ERROR', `cannot load the identity encoder from ${base}: HTTP ${m.status}`);
    const manifest = (await m.json()) as { paths: string[]; weights: TF.io.WeightsManifestEntry[] }[];
    const parts = await Promise.all(manifest.flatMap((g) => g.paths.map((p) => fetchBytes(`${base}${p}`))));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    const weights = tf().io.decodeWeights(all.buffer, manifest.flatMap((g) => g.weights));
    const { FaceRecognitionNet, env } = await import('@vladmandic/face-api/dist/face-api.esm-nobundle.js');
    // in a worker face-api finds neither a browser (no DOM) nor Node and sets no environment; its inputs here are
    // always tensors, so an environment of media classes nothing is an instance of is enough
    if (!env.isBrowser() && !env.isNodejs()) {
      class None {}
      const none = () => {
        throw new VoxfaceError('BAD_ARGUMENT', 'the identity encoder takes tensors only');
      };
      env.setEnv({
        Canvas: None, CanvasRenderingContext2D: None, Image: None, ImageData: None, Video: None,
        createCanvasElement: none, createImageElement: none, createVideoElement: none, fetch: (u: string, i?: RequestInit) => fetch(u, i),
        readFile: none,
      } as unknown as Parameters<typeof env.setEnv>[0]);
    }
    // face-api's types name its own bundled TF.js; at run time this build uses the page's
    const net = new FaceRecognitionNet() as unknown as IdentityNet & { loadFromWeightMap(m: TF.NamedTensorMap): void };
    net.loadFromWeightMap(weights);
    return net;
  };
  let pending: Promise<IdentityNet> | undefined;
  return { net: { forward: async (x) => (await (pending ??= loadNet())).forward(x) }, map };
}
