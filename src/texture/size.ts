/**
 * A texture side that suits the face's size in the photo: texels beyond the photo's own pixels add
 * bytes and milliseconds, not detail. Measured on real photos (bench/stages.ts, renders of the textured
 * mesh at 1 photo pixel per screen pixel): for faces up to ≈ 400 px a 512² texture renders within
 * 46–48 dB PSNR of a 1024² one (no visible difference); a ≈ 480 px face loses fine wrinkles at 512²;
 * 256² is visibly soft above ≈ 200 px.
 *
 * @example
 * const size = textureSizeFor(Math.max(det.box[2], det.box[3])); // 476 px → 1024, 350 px → 512, 150 px → 256
 */
export function textureSizeFor(faceSidePx: number, limits: { min?: number; max?: number } = {}): number {
  const min = limits.min ?? 256;
  const max = limits.max ?? 1024;
  if (!(faceSidePx > 0) || !Number.isFinite(faceSidePx)) return max;
  // the face's front spans about half the layout's width: ≈ 1 texel per photo pixel at 1.2 × its side
  const want = 2 ** Math.ceil(Math.log2(1.2 * faceSidePx));
  return Math.min(Math.max(want, min), max);
}
