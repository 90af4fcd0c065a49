import { VoxfaceError } from '../types.ts';
import type { Mesh, Volume } from '../types.ts';
import { checkVolume } from '../volume/check.ts';
import { largestComponent } from './components.ts';
import { marchingCubes } from './marching-cubes.ts';

/** Options of `closedSolid`. */
export interface ClosedSolidOptions {
  /** Iso level (default 0.5). */
  iso?: number;
  /**
   * Crop-frame z of the flat back: voxels behind it are emptied, for a thinner print.
   * Default: the back of the volume (−depth·voxelSize/2).
   */
  backZ?: number;
  /** Keep only the largest connected solid (default true). */
  largestComponent?: boolean;
}

/**
 * A closed, printable solid from a back-filled volume: the volume is padded with one layer of empty
 * voxels on every side, so marching cubes closes the surface where the occupancy meets the border:
 * the face in front, side walls, a flat back. Watertight, outward-facing, crop-frame positions
 * (STL wants millimetres: scale it yourself).
 *
 * @example const solid = closedSolid(volume, { backZ: -20 });
 */
export function closedSolid(volume: Volume, options: ClosedSolidOptions = {}): Mesh {
  checkVolume(volume, 'closedSolid');
  const { width: W, height: H, depth: D, voxelSize: v, data } = volume;
  const backZ = options.backZ ?? -Infinity;
  if (Number.isNaN(backZ)) throw new VoxfaceError('BAD_ARGUMENT', 'closedSolid: backZ must be a number');
  const PW = W + 2, PH = H + 2, PD = D + 2;
  const padded = new Float32Array(PW * PH * PD);
  for (let d = 0; d < D; d++) {
    if ((d + 0.5 - D / 2) * v < backZ) continue;
    for (let r = 0; r < H; r++) {
      const src = (d * H + r) * W;
      padded.set(data.subarray(src, src + W), ((d + 1) * PH + r + 1) * PW + 1);
    }
  }
  const mesh = marchingCubes(
    { width: PW, height: PH, depth: PD, voxelSize: v, data: padded },
    { iso: options.iso ?? 0.5, origin: [-0.5 * v, -0.5 * v, (-0.5 - D / 2) * v] },
  );
  return options.largestComponent === false ? mesh : largestComponent(mesh);
}
