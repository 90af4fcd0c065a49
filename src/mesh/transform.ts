import { VoxfaceError } from '../types.ts';
import type { Crop, Mesh } from '../types.ts';

/**
 * Maps a crop-frame mesh into the photo frame: x, y → crop·scale + offset, z → z·scale.
 * Normals are unchanged (a similarity with positive scale); uvs, colors and indices are shared.
 *
 * @example const photoMesh = transformMesh(marchingCubes(volume), face.crop);
 */
export function transformMesh(mesh: Mesh, crop: Crop): Mesh {
  const { scale, offset } = crop ?? ({} as Crop);
  if (!(scale > 0) || !Number.isFinite(scale) || !offset || !Number.isFinite(offset[0]) || !Number.isFinite(offset[1])) {
    throw new VoxfaceError('BAD_ARGUMENT', 'transformMesh: crop needs a positive scale and a finite offset');
  }
  const p = mesh.positions;
  const out = new Float32Array(p.length);
  const [ox, oy] = offset;
  for (let i = 0; i < p.length; i += 3) {
    out[i] = p[i] * scale + ox;
    out[i + 1] = p[i + 1] * scale + oy;
    out[i + 2] = p[i + 2] * scale;
  }
  const res: Mesh = { ...mesh, positions: out };
  if (mesh.normals) res.normals = new Float32Array(mesh.normals);
  return res;
}
