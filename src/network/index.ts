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
import type { InferenceSession, NetworkInput, NetworkOutput, Vec3, Volume } from '../types.ts';

/** The sidecar JSON of a model: its input size, volume grid and crop rule. */
export interface ModelInfo {
  name: string;
  inputSize: number;
  volume: { width: number; height: number; depth: number; voxelSize: number };
  crop: { scale: number; shiftY: number };
  landmarks: number;
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
  if (Math.abs(info.volume.width * info.volume.voxelSize - info.inputSize) > 1e-6) bad('volume.width × voxelSize must equal inputSize');
  return info;
}

/** Runs the network on one crop. The volume's logits are turned into probabilities in place. */
export async function runNetwork(session: InferenceSession, info: ModelInfo, input: NetworkInput): Promise<NetworkOutput> {
  const S = info.inputSize;
  if (input.crop.size !== S || input.data.length !== 3 * S * S) {
    throw new VoxfaceError('MODEL_ERROR', `network input must be 3×${S}×${S}, got crop size ${input.crop.size}`);
  }
  const outputs = await session.run({ image: { data: input.data, dims: [1, 3, S, S] } });
  const vol = outputs.volume;
  const lm = outputs.landmarks;
  const { width, height, depth, voxelSize } = info.volume;
  if (!vol || vol.data.length !== width * height * depth) {
    throw new VoxfaceError('MODEL_ERROR', `model output "volume" must hold ${depth}×${height}×${width} values`);
  }
  if (!lm || lm.data.length !== info.landmarks * 3) {
    throw new VoxfaceError('MODEL_ERROR', `model output "landmarks" must hold ${info.landmarks}×3 values`);
  }
  const data = vol.data;
  for (let i = 0; i < data.length; i++) data[i] = 1 / (1 + Math.exp(-data[i]));
  const volume: Volume = { width, height, depth, voxelSize, data };
  const landmarks: Vec3[] = [];
  for (let i = 0; i < info.landmarks; i++) landmarks.push([lm.data[i * 3], lm.data[i * 3 + 1], lm.data[i * 3 + 2]]);
  return { volume, landmarks };
}
