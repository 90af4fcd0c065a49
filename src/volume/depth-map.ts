import type { Volume } from '../types.ts';
import { checkVolume } from './check.ts';

/**
 * Depth of the surface the camera sees, per volume column: for column (r, c) the crop-frame z of the
 * front-most iso crossing (scanning from the front slice d = depth−1 toward the back), placed between
 * voxel centres by linear interpolation exactly as marching cubes places its vertices on z edges.
 * NaN where the column holds no voxel ≥ iso. A column whose front slice is already inside gets the
 * z of that slice's centre. Result index: r·width + c.
 *
 * @example
 * const z = depthMap(volume);            // Float32Array(width·height)
 * const noseZ = z[row * volume.width + col];
 */
export function depthMap(volume: Volume, iso = 0.5): Float32Array {
  checkVolume(volume, 'depthMap');
  const { width: W, height: H, depth: D, voxelSize: v, data } = volume;
  const S = W * H;
  const z = new Float32Array(S).fill(NaN);
  const found = new Uint8Array(S);
  let left = S;
  // Walk slices front to back (sequential memory), settling each column at its first inside voxel.
  for (let d = D - 1; d >= 0 && left > 0; d--) {
    const base = d * S;
    const zc = (d + 0.5 - D / 2) * v;
    for (let i = 0; i < S; i++) {
      if (found[i] !== 0) continue;
      const a = data[base + i];
      if (!(a >= iso)) continue;
      found[i] = 1;
      left--;
      if (d === D - 1) {
        z[i] = zc;
      } else {
        const b = data[base + S + i];
        const s = a - b > 0 ? (a - iso) / (a - b) : 0;
        z[i] = zc + s * v;
      }
    }
  }
  return z;
}
