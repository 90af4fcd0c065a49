/**
 * The guided network's second input: the fitted prior rendered into the network's crop — its depth and its mask —
 * exactly as training/render.py renders it (`prior_map`), so training and the pipeline cannot drift (a test renders a
 * shared fixture with both and compares them).
 *
 * ```ts
 * const prior = priorGuide(face.mesh, crop, model);      // Float32Array 2 × S × S
 * const out = await runNetwork(session, model, sampleCrop(levels, crop), { prior });
 * ```
 *
 * Channel 0, per crop pixel: the depth of the prior's front surface at the pixel's centre, in crop pixels ÷ half the
 * volume's depth (`depth · voxelSize / 2`), the volume's z origin (the 68 landmarks' mean depth) at 0; 0 where the
 * prior does not cover the pixel. Channel 1: 1 where it covers the pixel, else 0.
 */
import type { ModelInfo } from '../network/index.ts';
import { rasterizeDepth } from '../texture/raster.ts';
import type { Crop, Mesh } from '../types.ts';

export function priorGuide(mesh: Pick<Mesh, 'positions' | 'indices'>, crop: Crop, model: Pick<ModelInfo, 'inputSize' | 'volume'>): Float32Array {
  const S = model.inputSize;
  const p = mesh.positions;
  const q = new Float32Array(p.length);
  const k = 1 / crop.scale;
  for (let i = 0; i < p.length; i += 3) {
    q[i] = (p[i] - crop.offset[0]) * k;
    q[i + 1] = (p[i + 1] - crop.offset[1]) * k;
    q[i + 2] = p[i + 2] * k;
  }
  const depth = rasterizeDepth({ positions: q, indices: mesh.indices }, { width: S, height: S });
  const half = (model.volume.depth * model.volume.voxelSize) / 2;
  const out = new Float32Array(2 * S * S);
  for (let i = 0; i < S * S; i++) {
    const z = depth[i];
    if (!Number.isFinite(z)) continue;
    out[i] = z / half;
    out[S * S + i] = 1;
  }
  return out;
}
