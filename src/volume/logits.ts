import { VoxfaceError } from '../types.ts';
import type { Tensor, Volume } from '../types.ts';

/** Sigmoid sampled every 1/STEPS on [−RANGE, RANGE], for linear interpolation. */
const RANGE = 17;
const STEPS = 128;
const TABLE = (() => {
  const n = 2 * RANGE * STEPS + 2;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = 1 / (1 + Math.exp(-(i / STEPS - RANGE)));
  return t;
})();

/**
 * Replaces every value x by the logistic sigmoid 1 / (1 + e^-x), in place; returns the same array.
 * Interpolated from a table (absolute error < 1e-6, about 10× faster than Math.exp on large
 * volumes); |x| > 17 saturates to 0 or 1 (error < 5e-8). NaN stays NaN.
 *
 * @example const occ = sigmoidInPlace(Float32Array.from([-2, 0, 2])); // [0.119, 0.5, 0.881]
 */
export function sigmoidInPlace(data: Float32Array): Float32Array {
  const n = data.length;
  const lo = -RANGE, hi = RANGE;
  for (let i = 0; i < n; i++) {
    const x = data[i];
    if (x >= hi) data[i] = 1;
    else if (x <= lo) data[i] = 0;
    else if (x === x) {
      const f = (x - lo) * STEPS;
      const k = f | 0;
      const a = TABLE[k];
      data[i] = a + (f - k) * (TABLE[k + 1] - a);
    }
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
