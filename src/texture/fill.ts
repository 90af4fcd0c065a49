/**
 * Pull-push hole filling (Gortler et al. 1996, "The Lumigraph"): every texel becomes
 *   w · own colour + (1 − w) · (colour extrapolated from the confident texels around it),
 * where w ∈ [0,1] is its confidence. Texels with w = 0 — outside the UV islands, or on surfaces no
 * camera ray nor mirror saw — are filled from their neighbourhood at the finest level that has data,
 * which dilates the islands' colours outward (no dark seams when the texture is filtered or
 * mip-mapped) and replaces stretched samples by smooth ones.
 *
 * @example
 * const rgb = pullPushFill(colour, weight, 1024, 1024); // colour: 3 floats per texel, weight: 1 per texel
 */
export function pullPushFill(colour: Float32Array, weight: Float32Array, width: number, height: number): Float32Array {
  // Pull: build a pyramid of premultiplied colours and clamped weight sums, halving the size each level.
  const levels: { w: number; h: number; c: Float32Array; a: Float32Array }[] = [];
  const c0 = new Float32Array(colour.length);
  const a0 = new Float32Array(weight.length);
  for (let k = 0; k < weight.length; k++) {
    const w = Math.min(Math.max(weight[k], 0), 1);
    a0[k] = w;
    for (let ch = 0; ch < 3; ch++) c0[3 * k + ch] = w * colour[3 * k + ch];
  }
  levels.push({ w: width, h: height, c: c0, a: a0 });
  while (levels[levels.length - 1].w > 1 || levels[levels.length - 1].h > 1) {
    const fine = levels[levels.length - 1];
    const w = Math.ceil(fine.w / 2);
    const h = Math.ceil(fine.h / 2);
    const c = new Float32Array(w * h * 3);
    const a = new Float32Array(w * h);
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        let sa = 0;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        for (let dj = 0; dj < 2; dj++) {
          for (let di = 0; di < 2; di++) {
            const fi = 2 * i + di;
            const fj = 2 * j + dj;
            if (fi >= fine.w || fj >= fine.h) continue;
            const f = fj * fine.w + fi;
            sa += fine.a[f];
            s0 += fine.c[3 * f];
            s1 += fine.c[3 * f + 1];
            s2 += fine.c[3 * f + 2];
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
    levels.push({ w, h, c, a });
  }
  const top = levels[levels.length - 1];
  for (let k = 0; k < top.a.length; k++) {
    for (let ch = 0; ch < 3; ch++) top.c[3 * k + ch] = top.a[k] > 0 ? top.c[3 * k + ch] / top.a[k] : 0;
    top.a[k] = 1;
  }
  // Push: from the coarsest level down, fill each level's missing confidence with the coarser level,
  // sampled bilinearly at the fine texel's centre.
  for (let l = levels.length - 2; l >= 0; l--) {
    const fine = levels[l];
    const coarse = levels[l + 1];
    for (let j = 0; j < fine.h; j++) {
      const cy = Math.min(Math.max((j + 0.5) / 2 - 0.5, 0), coarse.h - 1);
      const y0 = Math.floor(cy);
      const y1 = Math.min(y0 + 1, coarse.h - 1);
      const ty = cy - y0;
      for (let i = 0; i < fine.w; i++) {
        const k = j * fine.w + i;
        const missing = 1 - fine.a[k];
        if (missing <= 0) continue;
        const cx = Math.min(Math.max((i + 0.5) / 2 - 0.5, 0), coarse.w - 1);
        const x0 = Math.floor(cx);
        const x1 = Math.min(x0 + 1, coarse.w - 1);
        const tx = cx - x0;
        const k00 = y0 * coarse.w + x0;
        const k10 = y0 * coarse.w + x1;
        const k01 = y1 * coarse.w + x0;
        const k11 = y1 * coarse.w + x1;
        for (let ch = 0; ch < 3; ch++) {
          const v =
            (1 - ty) * ((1 - tx) * coarse.c[3 * k00 + ch] + tx * coarse.c[3 * k10 + ch]) +
            ty * ((1 - tx) * coarse.c[3 * k01 + ch] + tx * coarse.c[3 * k11 + ch]);
          fine.c[3 * k + ch] += missing * v;
        }
        fine.a[k] = 1;
      }
    }
  }
  return levels[0].c;
}
