import { VoxfaceError } from '../types.ts';
import type { Tensor, Volume } from '../types.ts';

/**
 * Replaces every value x by the logistic sigmoid 1 / (1 + e^-x), in place; returns the same array.
 * NaN stays NaN; ±Infinity gives 1 / 0.
 *
 * @example const occ = sigmoidInPlace(Float32Array.from([-2, 0, 2])); // [0.119, 0.5, 0.881]
 */
export function sigmoidInPlace(data: Float32Array): Float32Array {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const x = data[i];
    // Saturated logits are the common case (empty space and solid interior): skip the exp.
    data[i] = x > 20 ? 1 : x < -20 ? 0 : 1 / (1 + Math.exp(-x));
  }
  return data;
}

/** Options of `volumeFromLogits`. */
export interface VolumeFromLogitsOptions {
  /** Overwrite `logits` with the occupancies instead of copying (saves 4 bytes per voxel). Default false. */
  inPlace?: boolean;
}

/**
 * Turns the network's `volume` output (logits, shape [1, D, H, W] or [D, H, W]) into an occupancy
 * `Volume` (sigmoid applied). Note: marching cubes at iso 0 on the raw logits gives the same surface
 * as iso 0.5 on the occupancies, often with better sub-voxel placement.
 *
 * @example
 * const out = await session.run({ image });
 * const volume = volumeFromLogits(out.volume.data, out.volume.dims, 2); // 64³ voxels of 2 crop px
 */
export function volumeFromLogits(
  logits: Float32Array | Tensor,
  dims: readonly number[] = (logits as Tensor).dims,
  voxelSize: number = 1,
  options: VolumeFromLogitsOptions = {},
): Volume {
  const data = logits instanceof Float32Array ? logits : logits?.data;
  if (!(data instanceof Float32Array)) throw new VoxfaceError('BAD_ARGUMENT', 'volumeFromLogits: logits must be a Float32Array');
  if (!Array.isArray(dims) || dims.length < 3) {
    throw new VoxfaceError('BAD_ARGUMENT', `volumeFromLogits: dims must be [1, D, H, W] or [D, H, W], got ${JSON.stringify(dims)}`);
  }
  const n = dims.length;
  const [depth, height, width] = [dims[n - 3], dims[n - 2], dims[n - 1]];
  const lead = dims.slice(0, n - 3).reduce((a, b) => a * b, 1);
  if (lead !== 1 || ![depth, height, width].every((k) => Number.isInteger(k) && k > 0)) {
    throw new VoxfaceError('BAD_ARGUMENT', `volumeFromLogits: dims must be [1, D, H, W] or [D, H, W], got ${JSON.stringify(dims)}`);
  }
  if (data.length !== depth * height * width) {
    throw new VoxfaceError('BAD_ARGUMENT', `volumeFromLogits: ${data.length} logits do not match dims ${JSON.stringify(dims)}`);
  }
  if (!(voxelSize > 0) || !Number.isFinite(voxelSize)) {
    throw new VoxfaceError('BAD_ARGUMENT', `volumeFromLogits: voxelSize must be a positive number, got ${String(voxelSize)}`);
  }
  const out = options.inPlace ? data : new Float32Array(data);
  sigmoidInPlace(out);
  return { width, height, depth, voxelSize, data: out };
}
