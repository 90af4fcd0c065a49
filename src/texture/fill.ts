import { scratchArena } from '../simd/kernels.ts';

/**
 * Pull-push hole filling (Gortler et al. 1996, "The Lumigraph"): every texel becomes
 *   w · own colour + (1 − w) · (colour extrapolated from the confident texels around it),
 * where w ∈ [0,1] is its confidence. Texels with w = 0 — outside the UV islands, or on surfaces no
 * camera ray nor mirror saw — are filled from their neighbourhood at the finest level that has data,
 * which dilates the islands' colours outward (no dark seams when the texture is filtered or
 * mip-mapped) and replaces stretched samples by smooth ones.
 *
 * `inPlace` fills `colour` itself (and overwrites `weight`) instead of copies: the same result, and two
 * buffers of the texture's size fewer, for a caller that owns both and needs neither afterwards.
 *
 * @example
 * const rgb = pullPushFill(colour, weight, 1024, 1024); // colour: 3 floats per texel, weight: 1 per texel
 * pullPushFill(baked.colour, baked.weight, 1024, 1024, true); // === baked.colour, filled
 */
export function pullPushFill(colour: Float32Array, weight: Float32Array, width: number, height: number, inPlace = false): Float32Array {
  // Pull: build a pyramid of premultiplied colours and clamped weight sums, halving the size each level.
  const levels: Level[] = [];
  const c0 = inPlace ? colour : new Float32Array(colour.length);
  const a0 = inPlace ? weight : new Float32Array(weight.length);
  for (let k = 0; k < weight.length; k++) {
    const w = Math.min(Math.max(weight[k], 0), 1);
    a0[k] = w;
    if (w === 0) {
      if (inPlace) c0[3 * k] = c0[3 * k + 1] = c0[3 * k + 2] = 0; // a copy is zero already
      continue;
    }
    c0[3 * k] = w * colour[3 * k];
    c0[3 * k + 1] = w * colour[3 * k + 1];
    c0[3 * k + 2] = w * colour[3 * k + 2];
  }
  levels.push({ w: width, h: height, c: c0, a: a0 });
  while (levels[levels.length - 1].w > 1 || levels[levels.length - 1].h > 1) levels.push(pull(levels[levels.length - 1]));
  const top = levels[levels.length - 1];
  for (let k = 0; k < top.a.length; k++) {
    for (let ch = 0; ch < 3; ch++) top.c[3 * k + ch] = top.a[k] > 0 ? top.c[3 * k + ch] / top.a[k] : 0;
    top.a[k] = 1;
  }
  // Push: from the coarsest level down, fill each level's missing confidence with the coarser level,
  // sampled bilinearly at the fine texel's centre.
  for (let l = levels.length - 2; l >= 0; l--) push(levels[l], levels[l + 1]);
  return levels[0].c;
}

/** One pyramid level: premultiplied colour (3 per texel) and confidence. */
interface Level {
  w: number;
  h: number;
  c: Float32Array;
  a: Float32Array;
}

/** The next coarser level: each texel sums its 2×2 children (those inside the fine level). */
function pull(fine: Level): Level {
  const w = Math.ceil(fine.w / 2);
  const h = Math.ceil(fine.h / 2);
  const c = new Float32Array(w * h * 3);
  const a = new Float32Array(w * h);
  const fa = fine.a, fc = fine.c, fw = fine.w;
  for (let j = 0; j < h; j++) {
    const r0 = 2 * j * fw;
    const hasRow1 = 2 * j + 1 < fine.h;
    for (let i = 0; i < w; i++) {
      const hasCol1 = 2 * i + 1 < fw;
      // children in the order (0,0), (1,0), (0,1), (1,1) as (di, dj)
      const f00 = r0 + 2 * i;
      let sa = fa[f00];
      let s0 = fc[3 * f00];
      let s1 = fc[3 * f00 + 1];
      let s2 = fc[3 * f00 + 2];
      if (hasCol1) {
        const f = f00 + 1;
        sa += fa[f]; s0 += fc[3 * f]; s1 += fc[3 * f + 1]; s2 += fc[3 * f + 2];
      }
      if (hasRow1) {
        const f = f00 + fw;
        sa += fa[f]; s0 += fc[3 * f]; s1 += fc[3 * f + 1]; s2 += fc[3 * f + 2];
        if (hasCol1) {
          const g = f + 1;
          sa += fa[g]; s0 += fc[3 * g]; s1 += fc[3 * g + 1]; s2 += fc[3 * g + 2];
        }
      }
      // Normalise to a weighted mean, keep a confidence capped at 1 (premultiplied again).
      const k = j * w + i;
      const conf = Math.min(sa, 1);
      const norm = sa > 0 ? conf / sa : 0;
      a[k] = conf;
      c[3 * k] = s0 * norm;
      c[3 * k + 1] = s1 * norm;
      c[3 * k + 2] = s2 * norm;
    }
  }
  return { w, h, c, a };
}

/** Fills the missing confidence of `fine` from `coarse`, bilinearly at each fine texel's centre. */
function push(fine: Level, coarse: Level): void {
  const cw = coarse.w, cc = coarse.c, fc = fine.c, fa = fine.a;
  // per fine column: the two coarse columns and the weight of the second
  const cx0 = new Int32Array(fine.w), cx1 = new Int32Array(fine.w), ctx = new Float64Array(fine.w);
  for (let i = 0; i < fine.w; i++) {
    const cx = Math.min(Math.max((i + 0.5) / 2 - 0.5, 0), cw - 1);
    cx0[i] = Math.floor(cx);
    cx1[i] = Math.min(cx0[i] + 1, cw - 1);
    ctx[i] = cx - cx0[i];
  }
  for (let j = 0; j < fine.h; j++) {
    const cy = Math.min(Math.max((j + 0.5) / 2 - 0.5, 0), coarse.h - 1);
    const y0 = Math.floor(cy);
    const y1 = Math.min(y0 + 1, coarse.h - 1);
    const ty = cy - y0;
    const row = j * fine.w;
    const r0 = y0 * cw, r1 = y1 * cw, uy = 1 - ty;
    for (let i = 0; i < fine.w; i++) {
      const k = row + i;
      const missing = 1 - fa[k];
      if (missing <= 0) continue;
      const x0 = cx0[i], x1 = cx1[i], tx = ctx[i], ux = 1 - tx;
      const k00 = 3 * (r0 + x0);
      const k10 = 3 * (r0 + x1);
      const k01 = 3 * (r1 + x0);
      const k11 = 3 * (r1 + x1);
      // the three channels written out (the same sums in the same order)
      const o = 3 * k;
      fc[o] += missing * (uy * (ux * cc[k00] + tx * cc[k10]) + ty * (ux * cc[k01] + tx * cc[k11]));
      fc[o + 1] += missing * (uy * (ux * cc[k00 + 1] + tx * cc[k10 + 1]) + ty * (ux * cc[k01 + 1] + tx * cc[k11 + 1]));
      fc[o + 2] += missing * (uy * (ux * cc[k00 + 2] + tx * cc[k10 + 2]) + ty * (ux * cc[k01 + 2] + tx * cc[k11 + 2]));
      fa[k] = 1;
    }
  }
}

/** Texels up to which `pullPushBytes` runs on the WebAssembly SIMD kernels (in their kept arena, `scratchArena`). */
export const SIMD_MAX_TEXELS = 2048 * 1024;

/**
 * `pullPushFill` and the texture's bytes in one: the filled colours × 255, rounded half to even and clamped as a
 * `Uint8ClampedArray` does, 3 bytes per texel. `colour` and `weight` may be overwritten. On the WebAssembly SIMD
 * kernels (src/simd/kernels.ts) up to `SIMD_MAX_TEXELS`: the levels as RGBA texels, summed in f32 (the JavaScript
 * path sums in f64: the bytes differ by at most 1 in a few texels, test/texture.test.ts); else the JavaScript path.
 *
 * @example
 * const rgb = pullPushBytes(baked.colour, baked.weight, 256, 256);   // Uint8Array, 3 × 256 × 256
 */
export function pullPushBytes(colour: Float32Array, weight: Float32Array, width: number, height: number): Uint8Array {
  const n = width * height;
  const dims: [number, number][] = [[width, height]];
  while (dims[dims.length - 1][0] > 1 || dims[dims.length - 1][1] > 1) {
    const [w, h] = dims[dims.length - 1];
    dims.push([Math.ceil(w / 2), Math.ceil(h / 2)]);
  }
  const floats = dims.reduce((a, [w, h]) => a + 4 * w * h + 4, 0) + 3 * width + 4 + Math.ceil((3 * n + 4) / 4) + 4;
  const arena = n <= SIMD_MAX_TEXELS ? scratchArena(floats) : undefined;
  if (!arena) {
    const rgb = pullPushFill(colour, weight, width, height, true);
    const clamped = new Uint8ClampedArray(n * 3);
    for (let i = 0; i < clamped.length; i++) clamped[i] = rgb[i] * 255;
    return new Uint8Array(clamped.buffer);
  }
  const K = arena.kernels;
  const levels = dims.map(([w, h]) => ({ w, h, d: arena.alloc(4 * w * h) }));
  // level 0: premultiplied colour, confidence clamped to [0, 1] (as pullPushFill)
  const d0 = levels[0].d;
  for (let k = 0; k < n; k++) {
    const w = Math.min(Math.max(weight[k], 0), 1);
    const o = 4 * k;
    d0[o + 3] = w;
    if (w === 0) {
      d0[o] = d0[o + 1] = d0[o + 2] = 0;
      continue;
    }
    d0[o] = w * colour[3 * k];
    d0[o + 1] = w * colour[3 * k + 1];
    d0[o + 2] = w * colour[3 * k + 2];
  }
  for (let l = 0; l + 1 < levels.length; l++) {
    const f = levels[l], c = levels[l + 1];
    if (f.w % 2 === 0 && f.h % 2 === 0) K.pull(f.d.byteOffset, f.w, f.h, c.d.byteOffset);
    else pullRGBA(f, c);
  }
  const top = levels[levels.length - 1].d;
  for (let ch = 0; ch < 3; ch++) top[ch] = top[3] > 0 ? top[ch] / top[3] : 0;
  top[3] = 1;
  const cols = arena.alloc(3 * width);
  const colsI = new Int32Array(cols.buffer, cols.byteOffset, cols.length);
  for (let l = levels.length - 2; l >= 0; l--) {
    const f = levels[l], c = levels[l + 1];
    for (let i = 0; i < f.w; i++) {
      const cx = Math.min(Math.max((i + 0.5) / 2 - 0.5, 0), c.w - 1);
      const x0 = Math.floor(cx);
      colsI[3 * i] = 16 * x0;
      colsI[3 * i + 1] = 16 * Math.min(x0 + 1, c.w - 1);
      cols[3 * i + 2] = cx - x0;
    }
    K.push(f.d.byteOffset, f.w, f.h, c.d.byteOffset, c.w, c.h, cols.byteOffset);
  }
  const out = arena.alloc(Math.ceil((3 * n + 4) / 4));
  K.bytes(d0.byteOffset, n, out.byteOffset);
  return new Uint8Array(out.buffer, out.byteOffset, 3 * n).slice();
}

/** `pull` on RGBA texels, for a level with an odd side. */
function pullRGBA(fine: { w: number; h: number; d: Float32Array }, coarse: { w: number; h: number; d: Float32Array }): void {
  const { w: fw, h: fh, d: f } = fine;
  const { w, h, d: c } = coarse;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      let s0 = 0, s1 = 0, s2 = 0, sa = 0;
      for (let dj = 0; dj < 2; dj++) {
        for (let di = 0; di < 2; di++) {
          const x = 2 * i + di, y = 2 * j + dj;
          if (x >= fw || y >= fh) continue;
          const o = 4 * (y * fw + x);
          s0 += f[o]; s1 += f[o + 1]; s2 += f[o + 2]; sa += f[o + 3];
        }
      }
      const conf = Math.min(sa, 1);
      const norm = sa > 0 ? conf / sa : 0;
      const o = 4 * (j * w + i);
      c[o] = s0 * norm; c[o + 1] = s1 * norm; c[o + 2] = s2 * norm; c[o + 3] = conf;
    }
  }
}
