/**
 * Identity from the image (issue 18, models/README.md "Identity map"): a face-recognition embedding of the face,
 * mapped linearly to ICT's identity weights, which the prior's fit is then pulled toward
 * (`PriorFitOptions.identityCenter`).
 *
 * The encoder is dlib's face-recognition ResNet (128-d; released into the public domain by its author, Davis King)
 * with the weights `@vladmandic/face-api` (MIT) ships, as an ONNX graph (`models/identity-encoder.onnx`, written by
 * scripts/identity-onnx.py from face-api's forward pass; the same embeddings to 4e-6) run by onnxruntime like every
 * other network: the platform adapters make its session on the first face that needs it (src/node/identity.ts
 * `loadIdentityModel`, src/browser/identity.ts). The map
 * (`models/identity-map.json`, trained by training/identity_map.py on renders of random ICT identities with real
 * skin textures) already holds the domain alignment of real photos' embeddings to the renders'.
 *
 * ```ts
 * const model = await loadIdentityModel();                      // Node
 * const [emb] = await embedFaces(model, levels, [landmarks68]); // 128-d, landmarks in photo pixels
 * const centre = regressIdentity(model.map, emb);               // ICT identity weights
 * ```
 */
import { ImageLevels, sampleAffine, type Affine } from '../align/sample.ts';
import type { InferenceSession, RGBImage, Vec2, Vec3 } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { lazyNamedSession, type LazySession } from '../network/index.ts';

/**
 * The shape-identity network's input (`models/identity-shape.onnx`, training/identity_model.py): its crop is cut like
 * the encoder's (`identityCrop`) at its own scale and size.
 */
export interface IdentityShapeSpec {
  /** Input side in pixels (112). */
  size: number;
  /** Crop side = `cropScale` × the larger side of the 68 landmarks' box. */
  cropScale: number;
  /** Outputs (ICT identity weights, 60). */
  outputs: number;
}

/**
 * The map of the `identity: 'shape'` option: the encoder's embedding followed by the shape-identity network's
 * outputs (x of `embedding + outputs` features) → identity weights, y = b + M x.
 */
export interface IdentityShapeMap extends IdentityShapeSpec {
  /** Row-major modes × (embedding + outputs). */
  M: Float32Array;
  b: Float32Array;
}

/** `models/identity-map.json`: embedding → identity weights, y = b + M x (domain alignment folded in). */
export interface IdentityMap {
  /** Embedding size (128). */
  embedding: number;
  /** Identity modes regressed (the first `modes` of ICT's). */
  modes: number;
  /** Row-major modes × embedding. */
  M: Float32Array;
  b: Float32Array;
  /** The crop: side = `cropScale` × the larger side of the 68 landmarks' box (upright, see `identityCrop`). */
  cropScale: number;
  /** λ_id of the fit when centred on the regressed identity (chosen on renders). */
  identityPrior: number;
  /**
   * The shape-identity network's crop and the map that takes its outputs beside the embedding (`identity: 'shape'`;
   * absent: that option falls back to the embedding's map).
   */
  shape?: IdentityShapeMap;
}

/**
 * The encoder (`models/identity-encoder.onnx`, made by scripts/identity-onnx.py: dlib's face-recognition ResNet with
 * the weights of `@vladmandic/face-api`): input `faces` (N, 150, 150, 3), RGB 0–255, HWC; output `embedding` (N, 128).
 */
export interface IdentityModel {
  encoder: InferenceSession;
  map: IdentityMap;
  /**
   * The shape-identity network (`models/identity-shape.onnx`, training/identity_train.py): input `faces`
   * (N, 3, S, S), RGB 0–1, CHW; output `identity` (N, outputs). Needed where `map.shape` is given.
   */
  shape?: InferenceSession;
}

/** The encoder's input and output names. */
export const IDENTITY_IO = { input: 'faces', output: 'embedding' } as const;

/** The shape-identity network's input and output names. */
export const IDENTITY_SHAPE_IO = { input: 'faces', output: 'identity' } as const;

/** The shape-identity network's session, made on its first run. */
export function lazyShapeNet(create: () => Promise<InferenceSession>): LazySession {
  return lazyNamedSession([IDENTITY_SHAPE_IO.input], [IDENTITY_SHAPE_IO.output], create);
}

/** The encoder's session, made on its first run (`lazyNamedSession`): a process whose faces never need it never loads it. */
export function lazyEncoder(create: () => Promise<InferenceSession>): LazySession {
  return lazyNamedSession([IDENTITY_IO.input], [IDENTITY_IO.output], create);
}

/** The encoder's input side in pixels. */
export const IDENTITY_INPUT = 150;

/** Checks and reads `models/identity-map.json`. Throws VoxfaceError MODEL_ERROR on a malformed file. */
export function parseIdentityMap(json: unknown): IdentityMap {
  const j = json as Record<string, unknown>;
  const bad = (why: string): never => {
    throw new VoxfaceError('MODEL_ERROR', `identity map: ${why}`);
  };
  if (!j || typeof j !== 'object') bad('not an object');
  const embedding = Number(j.embedding), modes = Number(j.modes);
  if (!(Number.isInteger(embedding) && embedding > 0 && Number.isInteger(modes) && modes > 0)) bad('bad embedding or modes');
  if (!Array.isArray(j.M) || j.M.length !== modes * embedding) bad(`M must hold ${modes} × ${embedding} numbers`);
  if (!Array.isArray(j.b) || j.b.length !== modes) bad(`b must hold ${modes} numbers`);
  const cropScale = Number(j.cropScale), identityPrior = Number(j.identityPrior);
  if (!(cropScale > 0) || !(identityPrior > 0)) bad('bad cropScale or identityPrior');
  const M = Float32Array.from(j.M as number[]), b = Float32Array.from(j.b as number[]);
  if (!M.every(Number.isFinite) || !b.every(Number.isFinite)) bad('non-finite weights');
  if (j.shape === undefined) return { embedding, modes, M, b, cropScale, identityPrior };
  const sh = (j.shape ?? {}) as Record<string, unknown>;
  const size = Number(sh.size), shapeCrop = Number(sh.cropScale), outputs = Number(sh.outputs);
  if (!(Number.isInteger(size) && size > 0 && shapeCrop > 0 && Number.isInteger(outputs) && outputs > 0)) bad('bad shape block (size, cropScale, outputs)');
  const n = modes * (embedding + outputs);
  if (!Array.isArray(sh.M) || sh.M.length !== n || !Array.isArray(sh.b) || sh.b.length !== modes) bad(`shape block: M must hold ${modes} × ${embedding + outputs} numbers, b ${modes}`);
  const sM = Float32Array.from(sh.M as number[]), sb = Float32Array.from(sh.b as number[]);
  if (!sM.every(Number.isFinite) || !sb.every(Number.isFinite)) bad('non-finite weights in the shape block');
  return { embedding, modes, M, b, cropScale, identityPrior, shape: { size, cropScale: shapeCrop, outputs, M: sM, b: sb } };
}

/**
 * The encoder's crop from 68 landmarks (iBUG order, photo pixels): centred on their box, upright (the eyes' midpoint
 * above the mouth's), side
 * `scale` × the box's larger side. Returns the affine output pixel → photo pixel for a `size`² crop.
 */
export function identityCrop(points: readonly (Vec2 | Vec3)[], scale: number, size = IDENTITY_INPUT): Affine {
  if (points.length !== 68) throw new VoxfaceError('BAD_ARGUMENT', `identity crop: need 68 landmarks, got ${points.length}`);
  const mean = (a: number, b: number): Vec2 => {
    let x = 0, y = 0;
    for (let i = a; i < b; i++) {
      x += points[i][0];
      y += points[i][1];
    }
    return [x / (b - a), y / (b - a)];
  };
  // upright: the eyes' midpoint straight above the mouth's (holds in profile, where the eye line does not)
  const eyes = mean(36, 48), mouth = mean(48, 68);
  const angle = Math.atan2(mouth[1] - eyes[1], mouth[0] - eyes[0]) - Math.PI / 2;
  const c = Math.cos(angle), s = Math.sin(angle);
  // the box in the frame rotated by −angle (eyes level)
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of points) {
    const u = c * p[0] + s * p[1], v = -s * p[0] + c * p[1];
    x0 = Math.min(x0, u);
    x1 = Math.max(x1, u);
    y0 = Math.min(y0, v);
    y1 = Math.max(y1, v);
  }
  const side = scale * Math.max(x1 - x0, y1 - y0);
  if (!(side > 0)) throw new VoxfaceError('BAD_ARGUMENT', 'identity crop: degenerate landmarks');
  const k = side / size;
  const cu = (x0 + x1) / 2, cv = (y0 + y1) / 2;
  // output (i, j) → rotated frame (cu + k(i − size/2), cv + k(j − size/2)) → photo
  const u0 = cu - (k * size) / 2, v0 = cv - (k * size) / 2;
  return { a: c * k, b: -s * k, c: c * u0 - s * v0, d: s * k, e: c * k, f: s * u0 + c * v0 };
}

/** The encoder's input pixels (150 × 150 × 3, HWC, 0–255) for one face. */
export function identityInput(image: RGBImage | ImageLevels, landmarks68: readonly (Vec2 | Vec3)[], map: Pick<IdentityMap, 'cropScale'>): Float32Array {
  const m = identityCrop(landmarks68, map.cropScale);
  return sampleAffine(image, m, IDENTITY_INPUT, IDENTITY_INPUT, { layout: 'hwc', outside: 'clamp', mul: 255 });
}

/** 128-d embeddings of faces given as encoder inputs (`identityInput`), in batches of `batch`. */
export async function embedInputs(encoder: InferenceSession, inputs: readonly Float32Array[], batch = 8): Promise<Float32Array[]> {
  const S = IDENTITY_INPUT, size = S * S * 3;
  const out: Float32Array[] = [];
  for (let i = 0; i < inputs.length; i += batch) {
    const part = inputs.slice(i, i + batch);
    const data = new Float32Array(part.length * size);
    part.forEach((p, k) => {
      if (p.length !== size) throw new VoxfaceError('BAD_ARGUMENT', `identity encoder: an input of ${p.length} values, not ${S} × ${S} × 3`);
      data.set(p, k * size);
    });
    const y = (await encoder.run({ [IDENTITY_IO.input]: { data, dims: [part.length, S, S, 3] } }))[IDENTITY_IO.output];
    if (!y || y.dims.length !== 2 || y.dims[0] !== part.length) throw new VoxfaceError('MODEL_ERROR', `identity encoder: output ${y ? `[${y.dims.join(', ')}]` : 'missing'}`);
    const d = y.dims[1];
    for (let k = 0; k < part.length; k++) out.push(y.data.slice(k * d, (k + 1) * d));
  }
  return out;
}

/** The shape-identity network's input pixels (S × S × 3, CHW, 0–1) for one face. */
export function identityShapeInput(image: RGBImage | ImageLevels, landmarks68: readonly (Vec2 | Vec3)[], spec: IdentityShapeSpec): Float32Array {
  const m = identityCrop(landmarks68, spec.cropScale, spec.size);
  return sampleAffine(image, m, spec.size, spec.size, { layout: 'chw', outside: 'clamp' });
}

/** The shape-identity network's outputs for faces given as its inputs (`identityShapeInput`), in one batch. */
export async function shapeInputs(net: InferenceSession, inputs: readonly Float32Array[], spec: IdentityShapeSpec): Promise<Float32Array[]> {
  const S = spec.size, size = 3 * S * S;
  const data = new Float32Array(inputs.length * size);
  inputs.forEach((p, k) => {
    if (p.length !== size) throw new VoxfaceError('BAD_ARGUMENT', `identity shape network: an input of ${p.length} values, not 3 × ${S} × ${S}`);
    data.set(p, k * size);
  });
  const y = (await net.run({ [IDENTITY_SHAPE_IO.input]: { data, dims: [inputs.length, 3, S, S] } }))[IDENTITY_SHAPE_IO.output];
  if (!y || y.dims.length !== 2 || y.dims[0] !== inputs.length || y.dims[1] !== spec.outputs) {
    throw new VoxfaceError('MODEL_ERROR', `identity shape network: output ${y ? `[${y.dims.join(', ')}]` : 'missing'}, expected [${inputs.length}, ${spec.outputs}]`);
  }
  return inputs.map((_, k) => y.data.slice(k * spec.outputs, (k + 1) * spec.outputs));
}

/**
 * The map's features of faces given by their 68 landmarks (photo pixels) in one photo: the encoder's embedding,
 * followed, with `withShape` (the `identity: 'shape'` option) and a map that has a `shape` block, by the
 * shape-identity network's outputs.
 */
export async function embedFaces(model: IdentityModel, image: RGBImage | ImageLevels, faces: readonly (readonly (Vec2 | Vec3)[])[], withShape = false): Promise<Float32Array[]> {
  const levels = image instanceof ImageLevels ? image : new ImageLevels(image);
  const emb = await embedInputs(model.encoder, faces.map((lm) => identityInput(levels, lm, model.map)));
  const spec = model.map.shape;
  if (!withShape || !spec || faces.length === 0) return emb;
  if (!model.shape) throw new VoxfaceError('MODEL_ERROR', 'identity map: it asks for the shape-identity network, which is not loaded');
  const shape = await shapeInputs(model.shape, faces.map((lm) => identityShapeInput(levels, lm, spec)), spec);
  return emb.map((e, k) => {
    const x = new Float32Array(e.length + spec.outputs);
    x.set(e);
    x.set(shape[k], e.length);
    return x;
  });
}

/**
 * ICT identity weights (the first `map.modes`) regressed from an embedding, or from an embedding followed by the
 * shape-identity network's outputs (`embedFaces` with `withShape`: the map's `shape` block).
 */
export function regressIdentity(map: IdentityMap, embedding: ArrayLike<number>): Float32Array {
  const withShape = map.shape !== undefined && embedding.length === map.embedding + map.shape.outputs;
  if (embedding.length !== map.embedding && !withShape) throw new VoxfaceError('BAD_ARGUMENT', `identity map: embedding of ${embedding.length}, expected ${map.embedding}`);
  const { M, b } = withShape ? map.shape! : map;
  const n = embedding.length;
  const y = new Float32Array(map.modes);
  for (let k = 0; k < map.modes; k++) {
    let s = b[k];
    const row = k * n;
    for (let i = 0; i < n; i++) s += M[row + i] * embedding[i];
    y[k] = s;
  }
  return y;
}
