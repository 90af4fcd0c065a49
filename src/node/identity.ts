/**
 * Node adapter for the identity encoder (src/identity/index.ts): `models/identity-encoder.onnx` (dlib's
 * face-recognition ResNet with `@vladmandic/face-api`'s weights, made by scripts/identity-onnx.py) in an
 * onnxruntime-node session, and the map `models/identity-map.json`. Nothing is downloaded.
 *
 * ```ts
 * const model = await loadIdentityModel();
 * const [embedding] = await embedFaces(model, image, [landmarks68]);
 * ```
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { lazyEncoder, lazyShapeNet, parseIdentityMap, type IdentityModel } from '../identity/index.ts';
import { VoxfaceError } from '../types.ts';
import type { InferenceSession } from '../types.ts';
import { MODELS_DIR as MODELS, sessionOptions, wrapNodeSession } from './session.ts';

/** The identity map of this package (models/identity-map.json). */
export function defaultIdentityMapPath(): string {
  return path.join(MODELS, 'identity-map.json');
}

/** The shape-identity network of this package (models/identity-shape.onnx; read where the map asks for it). */
export function defaultIdentityShapePath(): string {
  return path.join(MODELS, 'identity-shape.onnx');
}

/** The identity encoder of this package (models/identity-encoder.onnx). */
export function defaultIdentityEncoderPath(): string {
  return path.join(MODELS, 'identity-encoder.onnx');
}

export interface LoadIdentityOptions {
  /** models/identity-map.json by default. */
  map?: string;
  /** models/identity-encoder.onnx by default. */
  encoder?: string;
  /** models/identity-shape.onnx by default (read on the first face of the `identity: 'shape'` option, always lazily). */
  shape?: string;
  /** onnxruntime's intra-op threads (default: its choice). */
  threads?: number;
  /** Read the encoder and make its session on the first face that needs it (default false: now). */
  lazy?: boolean;
}

/**
 * Loads the identity map (now) and the encoder (now, or on its first face with `lazy`). Throws VoxfaceError
 * MODEL_ERROR when a file is missing or malformed (with `lazy`, an encoder that fails to load fails its first face).
 *
 * ```ts
 * const model = await loadIdentityModel({ lazy: true });   // the encoder on its first face
 * ```
 */
export async function loadIdentityModel(options: LoadIdentityOptions = {}): Promise<IdentityModel> {
  const mapPath = options.map ?? defaultIdentityMapPath();
  const encoderPath = options.encoder ?? defaultIdentityEncoderPath();
  const shapePath = options.shape ?? defaultIdentityShapePath();
  const fail = (what: string, file: string) => (e: unknown): never => {
    if (e instanceof VoxfaceError) throw e;
    throw new VoxfaceError('MODEL_ERROR', `cannot load the identity ${what} ${file}: ${(e as Error).message.split('\n')[0]}`);
  };
  const map = await readFile(mapPath, 'utf8').then((t) => parseIdentityMap(JSON.parse(t)), fail('map', mapPath));
  const creator = (what: string, file: string) => async (): Promise<InferenceSession> => {
    try {
      return wrapNodeSession(await ort.InferenceSession.create(await readFile(file), sessionOptions(options.threads)));
    } catch (e) {
      return fail(what, file)(e);
    }
  };
  const create = creator('encoder', encoderPath);
  const encoder = options.lazy ? lazyEncoder(create) : await create();
  if (!map.shape) return { encoder, map };
  const createShape = creator('shape network', shapePath);
  // opt-in (`identity: 'shape'`): made on the first face that asks for it, whatever `lazy` says
  return { encoder, map, shape: lazyShapeNet(createShape) };
}
