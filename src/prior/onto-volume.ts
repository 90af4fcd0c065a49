/**
 * The network's surface on ICT's topology (`--shape network --mesh template`): each prior vertex the camera sees is
 * moved along the view direction (z, the camera being orthographic) onto the network volume's isosurface; vertices
 * seen at a grazing angle and hidden ones stay where the prior has them, blended smoothly, and the displacement is
 * smoothed over the mesh so voxel-scale steps do not show.
 *
 * ```ts
 * const mesh = priorOntoVolume(priorMesh(basis, fit), basis.meshes.face.vertex, field, crop);
 * ```
 */
import { vertexNormals } from '../mesh/normals.ts';
import type { Crop, Mesh, Volume } from '../types.ts';
import { depthMap } from '../volume/depth-map.ts';

export interface OntoVolumeOptions {
  /** Normal z (photo frame) from which a vertex follows the volume fully (default 0.6)… */
  followFrom?: number;
  /** …and below which it keeps the prior's place (default 0.25); smoothly in between. */
  keepBelow?: number;
  /** Largest move, in voxels (default 6): the volume's surface farther than that is not this vertex's. */
  maxVoxels?: number;
  /** Smoothing passes of the displacement over the mesh (default 4). */
  smooth?: number;
}

/**
 * `mesh`: the posed prior (photo frame) on the template whose render vertex i is model vertex `vertexOf[i]` (seam
 * copies of a vertex move together); `volume` in the crop frame of `crop`. Returns a new mesh (positions, normals).
 */
export function priorOntoVolume(mesh: Mesh, vertexOf: ArrayLike<number>, volume: Volume, crop: Crop, options: OntoVolumeOptions = {}): Mesh {
  const from = options.keepBelow ?? 0.25, to = options.followFrom ?? 0.6;
  const maxShift = (options.maxVoxels ?? 6) * volume.voxelSize * crop.scale;
  const { width: W, height: H, voxelSize: v } = volume;
  const depth = depthMap(volume);
  const p = mesh.positions;
  const n = p.length / 3;
  const normals = mesh.normals ?? vertexNormals(mesh);
  // one displacement per model vertex
  let models = 0;
  for (let i = 0; i < n; i++) models = Math.max(models, vertexOf[i] + 1);
  const dz = new Float64Array(models);
  const wsum = new Float64Array(models);
  for (let i = 0; i < n; i++) {
    const nz = normals[3 * i + 2];
    const w = nz <= from ? 0 : nz >= to ? 1 : smooth((nz - from) / (to - from));
    if (w === 0) continue;
    // the volume column under the vertex: bilinear over the valid neighbouring column depths
    const cx = (p[3 * i] - crop.offset[0]) / crop.scale / v - 0.5;
    const cy = (p[3 * i + 1] - crop.offset[1]) / crop.scale / v - 0.5;
    const c0 = Math.floor(cx), r0 = Math.floor(cy);
    let z = 0, ws = 0;
    for (let dr = 0; dr <= 1; dr++) {
      for (let dc = 0; dc <= 1; dc++) {
        const c = c0 + dc, r = r0 + dr;
        if (c < 0 || r < 0 || c >= W || r >= H) continue;
        const zz = depth[r * W + c];
        if (!Number.isFinite(zz)) continue;
        const k = (dc ? cx - c0 : 1 - (cx - c0)) * (dr ? cy - r0 : 1 - (cy - r0));
        z += k * zz;
        ws += k;
      }
    }
    if (ws < 0.5) continue;
    const shift = (z / ws) * crop.scale - p[3 * i + 2];
    if (!(Math.abs(shift) <= maxShift)) continue;
    const m = vertexOf[i];
    dz[m] += w * shift;
    wsum[m] += 1;
  }
  for (let m = 0; m < models; m++) if (wsum[m] > 0) dz[m] /= wsum[m];
  // smooth the displacement over the model-vertex graph (edges of the triangles)
  const passes = options.smooth ?? 4;
  if (passes > 0) {
    const edges: number[] = [];
    const idx = mesh.indices;
    for (let t = 0; t < idx.length; t += 3) {
      for (let k = 0; k < 3; k++) edges.push(vertexOf[idx[t + k]], vertexOf[idx[t + ((k + 1) % 3)]]);
    }
    const acc = new Float64Array(models), cnt = new Float64Array(models);
    for (let pass = 0; pass < passes; pass++) {
      acc.fill(0);
      cnt.fill(0);
      for (let e = 0; e < edges.length; e += 2) {
        const a = edges[e], b = edges[e + 1];
        acc[a] += dz[b];
        cnt[a]++;
        acc[b] += dz[a];
        cnt[b]++;
      }
      for (let m = 0; m < models; m++) if (cnt[m] > 0) dz[m] = 0.5 * dz[m] + (0.5 * acc[m]) / cnt[m];
    }
  }
  const positions = new Float32Array(p);
  for (let i = 0; i < n; i++) positions[3 * i + 2] += dz[vertexOf[i]];
  const out: Mesh = { ...mesh, positions };
  return { ...out, normals: vertexNormals(out) };
}

const smooth = (t: number) => t * t * (3 - 2 * t);
