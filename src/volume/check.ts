import { VoxfaceError } from '../types.ts';
import type { Volume } from '../types.ts';

/** Grid size of a volume (voxels along x = columns, y = rows, z = depth slices). */
export interface VolumeDims {
  width: number;
  height: number;
  depth: number;
}

/**
 * Throws a `VoxfaceError('BAD_ARGUMENT')` unless `dims` are positive integers.
 *
 * @example checkDims({ width: 64, height: 64, depth: 64 }, 'voxelizeSDF');
 */
export function checkDims(dims: VolumeDims, where: string): void {
  for (const k of ['width', 'height', 'depth'] as const) {
    const n = dims?.[k];
    if (!Number.isInteger(n) || n < 1) {
      throw new VoxfaceError('BAD_ARGUMENT', `${where}: volume ${k} must be a positive integer, got ${String(n)}`);
    }
  }
}

/**
 * Throws a `VoxfaceError('BAD_ARGUMENT')` unless `v` is a well-formed `Volume`
 * (positive integer dims, positive voxel size, data length = width·height·depth).
 *
 * @example checkVolume(volume, 'marchingCubes');
 */
export function checkVolume(v: Volume, where: string): void {
  if (!v || typeof v !== 'object') throw new VoxfaceError('BAD_ARGUMENT', `${where}: expected a Volume`);
  checkDims(v, where);
  if (!(v.voxelSize > 0) || !Number.isFinite(v.voxelSize)) {
    throw new VoxfaceError('BAD_ARGUMENT', `${where}: voxelSize must be a positive number, got ${String(v.voxelSize)}`);
  }
  if (!(v.data instanceof Float32Array)) throw new VoxfaceError('BAD_ARGUMENT', `${where}: volume data must be a Float32Array`);
  const n = v.width * v.height * v.depth;
  if (v.data.length !== n) {
    throw new VoxfaceError(
      'BAD_ARGUMENT',
      `${where}: volume data has ${v.data.length} values, expected ${v.width}×${v.height}×${v.depth} = ${n}`,
    );
  }
}

/** Crop-frame z of the centre of depth slice `d` (see `Volume`). */
export function sliceZ(d: number, depth: number, voxelSize: number): number {
  return (d + 0.5 - depth / 2) * voxelSize;
}
