/**
 * A photo-frame surface voxelised into a network volume's grid: the same occupancy convention as the network's
 * (1 on and behind the surface the camera sees, 0 in front of it and outside the face), so the two volumes of a
 * face can be compared voxel by voxel.
 *
 * ```ts
 * const priorVolume = volumeFromMesh(face.mesh, face.crop, face.volume);   // same width, height, depth, voxelSize
 * ```
 */
import { rasterizeDepth } from '../texture/raster.ts';
import type { Crop, Mesh, Volume } from '../types.ts';

/**
 * Voxelises the front surface of `mesh` (photo frame) into the grid of `like` (crop frame through `crop`). Each
 * column takes the nearest surface's depth at its centre; occupancy ramps over one voxel across it, so the 0.5
 * isosurface lies on the surface.
 */
export function volumeFromMesh(mesh: Pick<Mesh, 'positions' | 'indices'>, crop: Crop, like: Pick<Volume, 'width' | 'height' | 'depth' | 'voxelSize'>): Volume {
  const { width: W, height: H, depth: D, voxelSize: v } = like;
  // the mesh in voxel units: column = x_crop / v − 0.5 … so that a voxel centre is a raster pixel centre
  const p = mesh.positions;
  const q = new Float32Array(p.length);
  const k = 1 / (crop.scale * v);
  for (let i = 0; i < p.length; i += 3) {
    q[i] = (p[i] - crop.offset[0]) * k;
    q[i + 1] = (p[i + 1] - crop.offset[1]) * k;
    q[i + 2] = p[i + 2] * k; // z in voxels, 0 = the middle of the depth axis
  }
  const depth = rasterizeDepth({ positions: q, indices: mesh.indices }, { width: W, height: H });
  const data = new Float32Array(W * H * D);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const zs = depth[r * W + c];
      if (!Number.isFinite(zs)) continue;
      for (let d = 0; d < D; d++) {
        const z = d + 0.5 - D / 2;
        const o = 0.5 + (zs - z);
        if (o <= 0) break; // in front of the surface from here on
        data[(d * H + r) * W + c] = o >= 1 ? 1 : o;
      }
    }
  }
  return { width: W, height: H, depth: D, voxelSize: v, data };
}
