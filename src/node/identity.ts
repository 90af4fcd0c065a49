/**
 * Node adapter for the identity encoder (src/identity/index.ts): `@vladmandic/face-api`'s `FaceRecognitionNet`
 * (dlib's face-recognition ResNet; its Node WASM build, which shares this process's `@tensorflow/tfjs`) with the
 * weights shipped in that package's `model/` folder, and the map `models/identity-map.json`. Nothing is downloaded.
 *
 * ```ts
 * const model = await loadIdentityModel();
 * ```
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TF from '@tensorflow/tfjs-core';
import { tf } from '../detect/tf.ts';
import { parseIdentityMap, type IdentityModel, type IdentityNet } from '../identity/index.ts';
import { VoxfaceError } from '../types.ts';
import { initTfBackend } from './detectors.ts';

/** The folder of `@vladmandic/face-api`'s weights. */
export function faceApiModelDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

/** The identity map of this package (models/identity-map.json). */
export function defaultIdentityMapPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'models', 'identity-map.json');
}

interface FaceApiModule {
  FaceRecognitionNet: new () => IdentityNet & { loadFromWeightMap(m: TF.NamedTensorMap): void };
}

/**
 * Loads the identity encoder and map. Throws VoxfaceError MODEL_ERROR when a file is missing or malformed.
 *
 * ```ts
 * const model = await loadIdentityModel({ map: 'models/identity-map.json', lazy: true }); // the net on its first face
 * ```
 */
export async function loadIdentityModel(options: { map?: string; weights?: string; lazy?: boolean } = {}): Promise<IdentityModel> {
  const mapPath = options.map ?? defaultIdentityMapPath();
  const dir = options.weights ?? faceApiModelDir();
  const fail = (e: unknown): never => {
    if (e instanceof VoxfaceError) throw e;
    throw new VoxfaceError('MODEL_ERROR', `cannot load the identity encoder (${dir}, ${mapPath}): ${(e as Error).message.split('\n')[0]}`);
  };
  const map = await readFile(mapPath, 'utf8').then((t) => parseIdentityMap(JSON.parse(t)), fail);
  const loadNet = async (): Promise<IdentityNet> => {
    try {
      const manifest = JSON.parse(await readFile(path.join(dir, 'face_recognition_model-weights_manifest.json'), 'utf8')) as { paths: string[]; weights: TF.io.WeightsManifestEntry[] }[];
      const chunks = await Promise.all(manifest.flatMap((g) => g.paths.map((p) => readFile(path.join(dir, p)))));
      const all = Buffer.concat(chunks);
      await initTfBackend();
      const weights = tf().io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer, manifest.flatMap((g) => g.weights));
      const require = createRequire(import.meta.url);
      const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
      const net = new faceapi.FaceRecognitionNet();
      net.loadFromWeightMap(weights);
      return net;
    } catch (e) {
      return fail(e);
    }
  };
  if (!options.lazy) return { net: await loadNet(), map };
  await initTfBackend(); // the inputs are tensors made before the net loads
  // lazy: the weights are read and the net built on the first face (a process that never needs it never pays)
  let pending: Promise<IdentityNet> | undefined;
  return { net: { forward: async (x) => (await (pending ??= loadNet())).forward(x) }, map };
}
