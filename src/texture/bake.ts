import type { RGBImage } from '../types.ts';
import { TriangleSpans } from '../raster/triangle.ts';
import { rasterizeDepth } from './raster.ts';

/** A texture being baked: linear RGB in [0,1] and a confidence in [0,1] per texel (colour 0 where the confidence is 0). */
export interface BakedTexture {
  /** Texels per row. */
  width: number;
  /** Rows. */
  height: number;
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
  /**
   * Per-vertex angle around the head axis: triangles spanning more than π (the seam at the back of a cylindrical
   * layout) are skipped. Not needed for layouts without such a seam (ICT's atlas).
   */
  theta?: Float32Array;
}

/** Visibility from the normal's z: 0 at or below `NZ_HIDDEN` (≈ 84° from the view axis), 1 from `NZ_SEEN` (≈ 63°). */
const NZ_HIDDEN = 0.1;
const NZ_SEEN = 0.45;

/** Which triangle covers each texel of a layout, and its weights there (see `texelPlan`). */
export interface TexelPlan {
  width: number;
  height: number;
  /** Texel index j · width + i of each covered texel, ascending. */
  texel: Int32Array;
  /** First index (into the mesh's `indices`) of each texel's triangle. */
  triangle: Int32Array;
  /** Barycentric weights of the triangle's first two corners at the texel's centre (the third: 1 − w0 − w1). */
  w0: Float64Array;
  w1: Float64Array;
  /** 1 where a triangle covers the texel centre. */
  covered: Uint8Array;
}

interface KeptPlan {
  uvs: Float32Array;
  indices: Uint32Array;
  plan: TexelPlan;
}
const kept: KeptPlan[] = [];
const PLANS_KEPT = 4;

/** The same 32-bit words (uvs compared by their bits). */
function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const words = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/**
 * The texels a UV layout covers, in texel order, each with the triangle that covers its centre (the last one in
 * index order where several do, as a rasterisation in triangle order leaves it) and that triangle's barycentric
 * weights there (the triangle rasteriser's row spans, src/raster/triangle.ts: texel centres, edges inclusive). A pure
 * function of the uvs, the triangles and the size: without `theta` (a fixed atlas) the plans of the last few layouts
 * are kept, found by their content (every prior mesh carries its own copy of ICT's uvs and triangles).
 *
 * @example
 * const plan = texelPlan(mesh.uvs, mesh.indices, 1024, 512);
 * plan.texel.length;   // texels the layout covers
 */
export function texelPlan(uvs: Float32Array, indices: Uint32Array, width: number, height = width, theta?: Float32Array): TexelPlan {
  if (!theta) {
    const at = kept.findIndex((k) => k.plan.width === width && k.plan.height === height && sameWords(words(k.uvs), words(uvs)) && sameWords(k.indices, indices));
    if (at >= 0) {
      const [hit] = kept.splice(at, 1);
      kept.unshift(hit);
      return hit.plan;
    }
  }
  // the last triangle covering each texel wins: its entry replaces any earlier one
  const owner = new Int32Array(width * height).fill(-1);
  let cap = 1 << 16;
  let tri = new Int32Array(cap), w0s = new Float64Array(cap), w1s = new Float64Array(cap);
  let n = 0;
  const spans = new TriangleSpans();
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t];
    const b = indices[t + 1];
    const c = indices[t + 2];
    if (theta) {
      const tMax = Math.max(theta[a], theta[b], theta[c]);
      const tMin = Math.min(theta[a], theta[b], theta[c]);
      if (tMax - tMin > Math.PI) continue; // straddles the seam behind the head
    }
    const rowsN = spans.set(uvs[2 * a] * width, uvs[2 * a + 1] * height, uvs[2 * b] * width, uvs[2 * b + 1] * height, uvs[2 * c] * width, uvs[2 * c + 1] * height, width, height);
    const { rows, b0, b1 } = spans;
    for (let r = 0; r < rowsN; r++) {
      const row = rows[5 * r] * width;
      const ra0 = rows[5 * r + 3], ra1 = rows[5 * r + 4];
      for (let i = rows[5 * r + 1], i1 = rows[5 * r + 2]; i <= i1; i++) {
        const k = row + i;
        let e = owner[k];
        if (e < 0) {
          if (n === cap) {
            cap *= 2;
            const t2 = new Int32Array(cap), a2 = new Float64Array(cap), b2 = new Float64Array(cap);
            t2.set(tri);
            a2.set(w0s);
            b2.set(w1s);
            tri = t2;
            w0s = a2;
            w1s = b2;
          }
          e = owner[k] = n++;
        }
        tri[e] = t;
        w0s[e] = ra0 + b0 * i;
        w1s[e] = ra1 + b1 * i;
      }
    }
  }
  const texel = new Int32Array(n), triangle = new Int32Array(n), w0 = new Float64Array(n), w1 = new Float64Array(n);
  const covered = new Uint8Array(width * height);
  let m = 0;
  for (let k = 0; k < owner.length; k++) {
    const e = owner[k];
    if (e < 0) continue;
    covered[k] = 1;
    texel[m] = k;
    triangle[m] = tri[e];
    w0[m] = w0s[e];
    w1[m] = w1s[e];
    m++;
  }
  const plan: TexelPlan = { width, height, texel, triangle, w0, w1, covered };
  if (!theta) {
    kept.unshift({ uvs: uvs.slice(), indices: indices.slice(), plan });
    kept.length = Math.min(kept.length, PLANS_KEPT);
  }
  return plan;
}

/**
 * For each texel of the layout (`texelPlan`: the triangle covering it in UV space, kept per layout) interpolates its
 * 3D point and normal, samples the photo at the point's (x, y) and weights the sample by visibility: the normal's z
 * (grazing → 0) times a z-buffer test (occluded by a nearer part of the mesh → 0).
 *
 * @example
 * const baked = bakeFromPhoto({ positions, indices, normals, uvs, theta }, photo, 1024);
 * const atlas = bakeFromPhoto({ positions, indices, normals, uvs }, photo, 2048, 1024);   // a 2:1 texture
 */
export function bakeFromPhoto(input: BakeInput, photo: RGBImage, width: number, height = width): BakedTexture {
  const { positions: p, indices, normals: nrm, uvs, theta } = input;
  const plan = texelPlan(uvs, indices, width, height, theta);
  const colour = new Float32Array(width * height * 3);
  const weight = new Float32Array(width * height);
  const covered = plan.covered.slice();
  const zb = occlusionBuffer(p, indices, photo);
  const { x0: zx0, y0: zy0, width: zw, height: zh, depth } = zb;
  const { width: pw, height: ph, data: px } = photo;
  const { texel, triangle, w0: W0, w1: W1 } = plan;
  for (let e = 0; e < texel.length; e++) {
    const t = triangle[e];
    const a = 3 * indices[t], b = 3 * indices[t + 1], c = 3 * indices[t + 2];
    const w0 = W0[e];
    const w1 = W1[e];
    const w2 = 1 - w0 - w1;
    const x = w0 * p[a] + w1 * p[b] + w2 * p[c];
    const y = w0 * p[a + 1] + w1 * p[b + 1] + w2 * p[c + 1];
    const z = w0 * p[a + 2] + w1 * p[b + 2] + w2 * p[c + 2];
    const nx = w0 * nrm[a] + w1 * nrm[b] + w2 * nrm[c];
    const ny = w0 * nrm[a + 1] + w1 * nrm[b + 1] + w2 * nrm[c + 1];
    const nz0 = w0 * nrm[a + 2] + w1 * nrm[b + 2] + w2 * nrm[c + 2];
    const len2 = nx * nx + ny * ny + nz0 * nz0;
    const nz = len2 > 0 ? nz0 / Math.sqrt(len2) : nz0; // a zero normal keeps nz = 0
    const k = texel[e];
    let w = Math.min(Math.max((nz - NZ_HIDDEN) / (NZ_SEEN - NZ_HIDDEN), 0), 1);
    if (w > 0 && !(x >= 0 && y >= 0 && x <= pw && y <= ph)) w = 0;
    if (w > 0) {
      // occluded when a nearer surface lies in front by more than a slope-aware tolerance
      const zi = Math.floor(x) - zx0;
      const zj = Math.floor(y) - zy0;
      if (zi >= 0 && zj >= 0 && zi < zw && zj < zh) {
        const dz = depth[zj * zw + zi] - z;
        // the slope (≥ 0) only where the nearer surface is more than 1.5 in front (rarely: most texels are the front)
        if (dz > 1.5 && dz > 1.5 + Math.sqrt(Math.max(0, 1 - nz * nz)) / Math.max(nz, NZ_HIDDEN)) w = 0;
      }
    }
    weight[k] = w;
    // A texel of weight 0 never shows its own colour (mirrorComplete and pullPushFill weight it by 0): no photo
    // sample for it.
    if (w === 0) continue;
    // bilinear photo sample (as samplePhoto: pixel centres at +0.5, clamped to the border)
    const fx = Math.min(Math.max(x - 0.5, 0), pw - 1);
    const fy = Math.min(Math.max(y - 0.5, 0), ph - 1);
    const sx0 = Math.floor(fx);
    const sy0 = Math.floor(fy);
    const sx1 = sx0 + 1 < pw ? sx0 + 1 : pw - 1;
    const sy1 = sy0 + 1 < ph ? sy0 + 1 : ph - 1;
    const tx = fx - sx0;
    const ty = fy - sy0;
    const w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty, w11 = tx * ty;
    const i00 = 3 * (sy0 * pw + sx0), i10 = 3 * (sy0 * pw + sx1), i01 = 3 * (sy1 * pw + sx0), i11 = 3 * (sy1 * pw + sx1);
    const o = 3 * k;
    colour[o] = (w00 * px[i00] + w10 * px[i10] + w01 * px[i01] + w11 * px[i11]) / 255;
    colour[o + 1] = (w00 * px[i00 + 1] + w10 * px[i10 + 1] + w01 * px[i01 + 1] + w11 * px[i11 + 1]) / 255;
    colour[o + 2] = (w00 * px[i00 + 2] + w10 * px[i10 + 2] + w01 * px[i01 + 2] + w11 * px[i11 + 2]) / 255;
  }
  return { width, height, colour, weight, covered };
}

/**
 * Z-buffer over the mesh's bounding box (clipped to the photo); the tolerance of the test in
 * `bakeFromPhoto` grows on steep surfaces (within a pixel z varies by the slope).
 */
function occlusionBuffer(p: Float32Array, indices: Uint32Array, photo: RGBImage) {
  let xMin = Infinity, yMin = Infinity, xMax = -Infinity, yMax = -Infinity;
  for (let i = 0; i < p.length; i += 3) {
    const x = p[i], y = p[i + 1];
    if (x < xMin) xMin = x;
    if (x > xMax) xMax = x;
    if (y < yMin) yMin = y;
    if (y > yMax) yMax = y;
  }
  const x0 = Math.max(0, Math.floor(xMin));
  const y0 = Math.max(0, Math.floor(yMin));
  const width = Math.max(1, Math.min(photo.width, Math.ceil(xMax) + 1) - x0);
  const height = Math.max(1, Math.min(photo.height, Math.ceil(yMax) + 1) - y0);
  const depth = rasterizeDepth({ positions: p, indices }, { x0, y0, width, height });
  return { x0, y0, width, height, depth };
}

/**
 * Completes texels the camera saw badly from their mirror image across the mid-sagittal plane:
 * texel (i, j) ↔ (width − 1 − i, j) in the symmetric cylindrical layout, and within each of `tiles` equal tiles side
 * by side in an atlas of mirror-symmetric tiles (ICT's face and head tiles). The result blends own and
 * mirrored colours with α = w / (w + w_m (1 − w)) (own weight w, mirror weight w_m), so a texel seen
 * head-on keeps its own colour and a hidden one takes the mirror's; its confidence becomes max(w, w_m).
 * `inPlace` overwrites `baked` instead of copying it (same result: of each pair only the texel seen
 * worse changes, and it is never read again as the better one).
 *
 * @example
 * const completed = mirrorComplete(baked);
 * mirrorComplete(atlas, true, 2);   // two mirror-symmetric tiles side by side
 */
export function mirrorComplete(baked: BakedTexture, inPlace = false, tiles = 1): BakedTexture {
  const { width, height, colour, weight, covered } = baked;
  const outColour = inPlace ? colour : new Float32Array(colour);
  const outWeight = inPlace ? weight : new Float32Array(weight);
  const tile = width / tiles;
  if (!Number.isInteger(tile)) throw new Error(`mirrorComplete: ${width} texels do not split into ${tiles} tiles`);
  for (let j = 0; j < height; j++) {
    const row = j * width;
    for (let i = 0; i < width; i++) {
      const k = row + i;
      const t0 = i - (i % tile);
      const m = row + t0 + (tile - 1 - (i - t0));
      if (!covered[k] || !covered[m]) continue;
      const w = weight[k];
      const wm = weight[m];
      if (wm <= w) continue;
      const alpha = w / (w + wm * (1 - w));
      const k3 = 3 * k, m3 = 3 * m;
      outColour[k3] = alpha * colour[k3] + (1 - alpha) * colour[m3];
      outColour[k3 + 1] = alpha * colour[k3 + 1] + (1 - alpha) * colour[m3 + 1];
      outColour[k3 + 2] = alpha * colour[k3 + 2] + (1 - alpha) * colour[m3 + 2];
      outWeight[k] = wm;
    }
  }
  return { width, height, colour: outColour, weight: outWeight, covered };
}
