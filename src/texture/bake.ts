import type { RGBImage } from '../types.ts';
import { rasterizeDepth, rasterizeTriangle } from './raster.ts';
import { samplePhoto } from './sample.ts';

/** A texture being baked: linear RGB in [0,1] and a confidence in [0,1] per texel. */
export interface BakedTexture {
  size: number;
  /** 3 floats per texel, row-major, row 0 = v 0. */
  colour: Float32Array;
  /** 0 = unknown, 1 = seen head-on by the camera. */
  weight: Float32Array;
  /** 1 where a triangle covers the texel centre. */
  covered: Uint8Array;
}

export interface BakeInput {
  positions: Float32Array;
  indices: Uint32Array;
  normals: Float32Array;
  uvs: Float32Array;
  /** Per-vertex angle around the head axis: triangles spanning more than π (the seam at the back) are skipped. */
  theta: Float32Array;
}

/** Visibility from the normal's z: 0 at or below `NZ_HIDDEN` (≈ 84° from the view axis), 1 from `NZ_SEEN` (≈ 63°). */
const NZ_HIDDEN = 0.1;
const NZ_SEEN = 0.45;

/**
 * Rasterises every triangle in UV space; for each covered texel interpolates its 3D point and normal,
 * samples the photo at the point's (x, y) and weights the sample by visibility: the normal's z
 * (grazing → 0) times a z-buffer test (occluded by a nearer part of the mesh → 0).
 *
 * @example
 * const baked = bakeFromPhoto({ positions, indices, normals, uvs, theta }, photo, 1024);
 */
export function bakeFromPhoto(input: BakeInput, photo: RGBImage, size: number): BakedTexture {
  const { positions: p, indices, normals: nrm, uvs, theta } = input;
  const colour = new Float32Array(size * size * 3);
  const weight = new Float32Array(size * size);
  const covered = new Uint8Array(size * size);
  const zbuf = occlusionBuffer(p, indices, photo);
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t];
    const b = indices[t + 1];
    const c = indices[t + 2];
    const tMax = Math.max(theta[a], theta[b], theta[c]);
    const tMin = Math.min(theta[a], theta[b], theta[c]);
    if (tMax - tMin > Math.PI) continue; // straddles the seam behind the head
    rasterizeTriangle(
      uvs[2 * a] * size, uvs[2 * a + 1] * size,
      uvs[2 * b] * size, uvs[2 * b + 1] * size,
      uvs[2 * c] * size, uvs[2 * c + 1] * size,
      size, size,
      (i, j, w0, w1, w2) => {
        const x = w0 * p[3 * a] + w1 * p[3 * b] + w2 * p[3 * c];
        const y = w0 * p[3 * a + 1] + w1 * p[3 * b + 1] + w2 * p[3 * c + 1];
        const z = w0 * p[3 * a + 2] + w1 * p[3 * b + 2] + w2 * p[3 * c + 2];
        const nx = w0 * nrm[3 * a] + w1 * nrm[3 * b] + w2 * nrm[3 * c];
        const ny = w0 * nrm[3 * a + 1] + w1 * nrm[3 * b + 1] + w2 * nrm[3 * c + 1];
        const nz0 = w0 * nrm[3 * a + 2] + w1 * nrm[3 * b + 2] + w2 * nrm[3 * c + 2];
        const nz = nz0 / (Math.hypot(nx, ny, nz0) || 1);
        const k = j * size + i;
        covered[k] = 1;
        samplePhoto(photo, x, y, colour, 3 * k);
        let w = Math.min(Math.max((nz - NZ_HIDDEN) / (NZ_SEEN - NZ_HIDDEN), 0), 1);
        if (w > 0 && !(x >= 0 && y >= 0 && x <= photo.width && y <= photo.height)) w = 0;
        if (w > 0 && zbuf.occluded(x, y, z, nz)) w = 0;
        weight[k] = w;
      },
    );
  }
  return { size, colour, weight, covered };
}

/** Z-buffer over the mesh's bounding box (clipped to the photo), with a slope-aware depth tolerance. */
function occlusionBuffer(p: Float32Array, indices: Uint32Array, photo: RGBImage) {
  let xMin = Infinity, yMin = Infinity, xMax = -Infinity, yMax = -Infinity;
  for (let i = 0; i < p.length; i += 3) {
    xMin = Math.min(xMin, p[i]);
    xMax = Math.max(xMax, p[i]);
    yMin = Math.min(yMin, p[i + 1]);
    yMax = Math.max(yMax, p[i + 1]);
  }
  const x0 = Math.max(0, Math.floor(xMin));
  const y0 = Math.max(0, Math.floor(yMin));
  const width = Math.max(1, Math.min(photo.width, Math.ceil(xMax) + 1) - x0);
  const height = Math.max(1, Math.min(photo.height, Math.ceil(yMax) + 1) - y0);
  const depth = rasterizeDepth({ positions: p, indices }, { x0, y0, width, height });
  return {
    /** True when a nearer surface hides (x, y, z); the tolerance grows on steep surfaces (within a pixel z varies by the slope). */
    occluded(x: number, y: number, z: number, nz: number): boolean {
      const i = Math.floor(x) - x0;
      const j = Math.floor(y) - y0;
      if (i < 0 || j < 0 || i >= width || j >= height) return false;
      const front = depth[j * width + i];
      const slope = Math.sqrt(Math.max(0, 1 - nz * nz)) / Math.max(nz, NZ_HIDDEN);
      return front - z > 1.5 + slope;
    },
  };
}

/**
 * Completes texels the camera saw badly from their mirror image across the mid-sagittal plane:
 * texel (i, j) ↔ (size − 1 − i, j) in the symmetric cylindrical layout. The result blends own and
 * mirrored colours with α = w / (w + w_m (1 − w)) (own weight w, mirror weight w_m), so a texel seen
 * head-on keeps its own colour and a hidden one takes the mirror's; its confidence becomes max(w, w_m).
 *
 * @example
 * const completed = mirrorComplete(baked);
 */
export function mirrorComplete(baked: BakedTexture): BakedTexture {
  const { size, colour, weight, covered } = baked;
  const outColour = new Float32Array(colour);
  const outWeight = new Float32Array(weight);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const k = j * size + i;
      const m = j * size + (size - 1 - i);
      if (!covered[k] || !covered[m]) continue;
      const w = weight[k];
      const wm = weight[m];
      if (wm <= w) continue;
      const alpha = w / (w + wm * (1 - w));
      for (let ch = 0; ch < 3; ch++) {
        outColour[3 * k + ch] = alpha * colour[3 * k + ch] + (1 - alpha) * colour[3 * m + ch];
      }
      outWeight[k] = wm;
    }
  }
  return { size, colour: outColour, weight: outWeight, covered };
}
