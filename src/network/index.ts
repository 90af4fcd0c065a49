/**
 * The network stage: runs a VRN model (models/README.md) on one crop and returns its volume (occupancy
 * probabilities) and 68 landmarks, both in the crop frame.
 *
 * ```ts
 * const info = parseModelInfo(JSON.parse(sidecarText));       // models/vrn-compact.json
 * const out = await runNetwork(session, info, sampleCrop(photo, crop)); // session: onnxruntime-node or -web
 * out.volume.data;   // Float32Array, D × R × R probabilities
 * out.landmarks[30]; // nose tip [x, y, z] in crop pixels
 * ```
 */
import { VoxfaceError } from '../types.ts';
import { sigmoidInPlace } from '../volume/logits.ts';
import type { InferenceSession, NetworkInput, NetworkOutput, Tensor, Vec3, Volume } from '../types.ts';

/** The sidecar JSON of a model: its input size, volume grid and crop rule. */
export interface ModelInfo {
  name: string;
  inputSize: number;
  volume: { width: number; height: number; depth: number; voxelSize: number };
  crop: { scale: number; shiftY: number };
  landmarks: number;
  /**
   * A guided model (its sidecar has `inputs.prior`): a second input `prior` [1, 2, S, S] — the shape prior's depth in
   * the crop ÷ half the volume's depth (0 at the landmarks' mean depth), and its mask — turned into base logits
   * inside the graph (`baseSlope` per voxel of distance to the prior's surface, clamped to ±`baseClamp`) to which the
   * network adds its residual. A zero prior (mask 0) is the image-only path.
   */
  guided?: { baseSlope: number; baseClamp: number };
}

/**
 * A session made on its first run, once (concurrent first runs share it; a failed creation is tried again on the next
 * run): the volume network runs only where its output is used (the pipeline's `volume` option), so a process that
 * never needs it never pays for making it. Its input and output names are the model contract's (models/README.md:
 * `image`, with `prior` for a guided model; `volume`, `landmarks`) until the session exists, then the session's.
 *
 * ```ts
 * const session = lazySession(info, async () => wrapNodeSession(await ort.InferenceSession.create(bytes)));
 * session.created; // false until its first run
 * ```
 */
export function lazySession(info: ModelInfo, create: () => Promise<InferenceSession>): LazySession {
  return lazyNamedSession(info.guided ? ['image', 'prior'] : ['image'], ['volume', 'landmarks'], create);
}

/**
 * `lazySession` for any model: `inputs` and `outputs` are its names until the session exists (`create` is called on
 * the first run, once; a failed creation is tried again on the next run).
 *
 * ```ts
 * const encoder = lazyNamedSession(['faces'], ['embedding'], async () => wrapNodeSession(await ort.InferenceSession.create(bytes)));
 * ```
 */
export function lazyNamedSession(inputs: readonly string[], outputs: readonly string[], create: () => Promise<InferenceSession>): LazySession {
  let made: Promise<InferenceSession> | undefined;
  let session: InferenceSession | undefined;
  const make = (): Promise<InferenceSession> =>
    (made ??= create().then(
      (s) => (session = s),
      (e: unknown) => {
        made = undefined;
        throw e;
      },
    ));
  return {
    get inputNames() {
      return session?.inputNames ?? inputs;
    },
    get outputNames() {
      return session?.outputNames ?? outputs;
    },
    get created() {
      return session !== undefined;
    },
    async run(feeds) {
      return (await make()).run(feeds);
    },
    async prepare() {
      await make().catch(() => undefined);
    },
  };
}

/** A session made on its first run (`lazyNamedSession`), or ahead of it with `prepare`. */
export interface LazySession extends InferenceSession {
  /** Whether the session exists yet. */
  readonly created: boolean;
  /**
   * Makes the session now, ahead of its first run (a page with time to spare: the user is still choosing a photo);
   * resolves once it is made or has failed (a failure is thrown by the next run, which tries again).
   */
  prepare(): Promise<void>;
}

/** Validates a model sidecar (throws MODEL_ERROR with the offending field). */
export function parseModelInfo(json: unknown): ModelInfo {
  const bad = (what: string): never => {
    throw new VoxfaceError('MODEL_ERROR', `model description: ${what}`);
  };
  if (typeof json !== 'object' || json === null) bad('not an object');
  const j = json as Record<string, unknown>;
  const num = (v: unknown, what: string): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : bad(what));
  const vol = (j.volume ?? bad('missing volume')) as Record<string, unknown>;
  const crop = (j.crop ?? bad('missing crop')) as Record<string, unknown>;
  const info: ModelInfo = {
    name: typeof j.name === 'string' ? j.name : 'vrn',
    inputSize: num(j.inputSize, 'inputSize'),
    volume: {
      width: num(vol.width, 'volume.width'),
      height: num(vol.height, 'volume.height'),
      depth: num(vol.depth, 'volume.depth'),
      voxelSize: num(vol.voxelSize, 'volume.voxelSize'),
    },
    crop: { scale: num(crop.scale, 'crop.scale'), shiftY: typeof crop.shiftY === 'number' ? crop.shiftY : 0 },
    landmarks: typeof j.landmarks === 'number' ? j.landmarks : 68,
  };
  const inputs = (j.inputs ?? {}) as Record<string, unknown>;
  if (inputs.prior !== undefined) {
    const g = (j.guided ?? {}) as Record<string, unknown>;
    info.guided = { baseSlope: num(g.baseSlope, 'guided.baseSlope'), baseClamp: num(g.baseClamp, 'guided.baseClamp') };
  }
  if (Math.abs(info.volume.width * info.volume.voxelSize - info.inputSize) > 1e-6) bad('volume.width × voxelSize must equal inputSize');
  return info;
}

/**
 * iBUG 68-point mirror: landmark i of a horizontally mirrored face is landmark `MIRROR68[i]` of the original
 * (jaw 0–16 reversed, brows, nose wings, eyes and lips swapped left for right).
 */
export const MIRROR68: readonly number[] = [
  ...Array.from({ length: 17 }, (_, i) => 16 - i),
  ...Array.from({ length: 10 }, (_, i) => 26 - i),
  27, 28, 29, 30, 35, 34, 33, 32, 31,
  45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
  54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55,
  64, 63, 62, 61, 60, 67, 66, 65,
];

/** Options of `runNetwork`. */
export interface RunNetworkOptions {
  /**
   * Test-time flip: also run the horizontally mirrored crop and average both answers (volume mirrored back,
   * landmarks mirrored back and re-indexed with `MIRROR68`). Twice the network time; default false.
   */
  flip?: boolean;
  /** A guided model's prior input (2 × S × S: depth, mask; see `ModelInfo.guided`); default none (zeros). */
  prior?: Float32Array;
}

/**
 * Runs the network on one crop. Returns the volume as occupancy probabilities (sigmoid of the logits) and the
 * 68 landmarks, both in the crop frame.
 */
export async function runNetwork(
  session: InferenceSession,
  info: ModelInfo,
  input: NetworkInput,
  options: RunNetworkOptions = {},
): Promise<NetworkOutput> {
  const S = info.inputSize;
  if (input.crop.size !== S || input.data.length !== 3 * S * S) {
    throw new VoxfaceError('MODEL_ERROR', `network input must be 3×${S}×${S}, got crop size ${input.crop.size}`);
  }
  let prior: Float32Array | undefined;
  if (info.guided) {
    prior = options.prior ?? new Float32Array(2 * S * S);
    if (prior.length !== 2 * S * S) throw new VoxfaceError('MODEL_ERROR', `the prior input must be 2×${S}×${S}`);
  }
  const a = await runOnce(session, info, input.data, prior);
  if (!options.flip) return a;
  const mirror = (src: Float32Array) => {
    const m = new Float32Array(src.length);
    for (let row = 0; row < src.length / S; row++) {
      const o = row * S;
      for (let x = 0; x < S; x++) m[o + x] = src[o + S - 1 - x];
    }
    return m;
  };
  const b = await runOnce(session, info, mirror(input.data), prior && mirror(prior));
  const { width, height, depth } = info.volume;
  const va = a.volume.data, vb = b.volume.data;
  for (let dr = 0; dr < depth * height; dr++) {
    const o = dr * width;
    for (let c = 0; c < width; c++) va[o + c] = 0.5 * (va[o + c] + vb[o + width - 1 - c]);
  }
  if (info.landmarks === 68) {
    for (let i = 0; i < 68; i++) {
      const m = b.landmarks[i];
      const t = a.landmarks[MIRROR68[i]];
      a.landmarks[MIRROR68[i]] = [0.5 * (t[0] + S - m[0]), 0.5 * (t[1] + m[1]), 0.5 * (t[2] + m[2])];
    }
  }
  return a;
}

async function runOnce(session: InferenceSession, info: ModelInfo, data: Float32Array, prior?: Float32Array): Promise<NetworkOutput> {
  const S = info.inputSize;
  const feeds: Record<string, Tensor> = { image: { data, dims: [1, 3, S, S] } };
  if (prior) feeds.prior = { data: prior, dims: [1, 2, S, S] };
  const outputs = await session.run(feeds);
  const vol = outputs.volume;
  const lm = outputs.landmarks;
  const { width, height, depth, voxelSize } = info.volume;
  if (!vol || vol.data.length !== width * height * depth) {
    throw new VoxfaceError('MODEL_ERROR', `model output "volume" must hold ${depth}×${height}×${width} values`);
  }
  if (!lm || lm.data.length !== info.landmarks * 3) {
    throw new VoxfaceError('MODEL_ERROR', `model output "landmarks" must hold ${info.landmarks}×3 values`);
  }
  const out = sigmoidInPlace(vol.data); // tabulated: 1.5 ms for 64³ instead of 5.6 with Math.exp (README, Speed)
  const volume: Volume = { width, height, depth, voxelSize, data: out };
  const landmarks: Vec3[] = [];
  for (let i = 0; i < info.landmarks; i++) landmarks.push([lm.data[i * 3], lm.data[i * 3 + 1], lm.data[i * 3 + 2]]);
  return { volume, landmarks };
}
