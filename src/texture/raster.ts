import { TriangleSpans } from '../raster/triangle.ts';
import type { Mesh } from '../types.ts';

// The triangle rasteriser lives in src/raster/triangle.ts (one for every stage); re-exported for this stage's users.
export { rasterizeTriangle, TriangleSpans } from '../raster/triangle.ts';
export type { PixelVisitor } from '../raster/triangle.ts';

/** A depth window: which photo pixels the depth buffer covers. */
export interface DepthWindow {
  /** First photo column / row of the window (default 0). */
  x0?: number;
  y0?: number;
  width: number;
  height: number;
}

/**
 * Z-buffer of a photo-frame mesh: for every pixel of the window, the largest z (nearest the camera)
 * of the triangles covering its centre, NaN where no triangle does. Orthographic along z, so each
 * vertex lands on the photo pixel (x, y) it came from. Layout `depth[row * width + column]`.
 *
 * @example
 * const depth = rasterizeDepth(mesh, { width: photo.width, height: photo.height });
 */
export function rasterizeDepth(mesh: Pick<Mesh, 'positions' | 'indices'>, window: DepthWindow): Float32Array {
  const { positions: p, indices } = mesh;
  const { width, height } = window;
  const ox = window.x0 ?? 0;
  const oy = window.y0 ?? 0;
  const depth = new Float32Array(width * height).fill(NaN);
  const spans = new TriangleSpans();
  for (let t = 0; t < indices.length; t += 3) {
    const a = 3 * indices[t];
    const b = 3 * indices[t + 1];
    const c = 3 * indices[t + 2];
    const za = p[a + 2], zb = p[b + 2], zc = p[c + 2];
    const n = spans.set(p[a] - ox, p[a + 1] - oy, p[b] - ox, p[b + 1] - oy, p[c] - ox, p[c + 1] - oy, width, height);
    const { rows, b0, b1 } = spans;
    for (let r = 0; r < n; r++) {
      const o = 5 * r;
      const row = rows[o] * width;
      const a0 = rows[o + 3], a1 = rows[o + 4];
      for (let i = rows[o + 1], i1 = rows[o + 2]; i <= i1; i++) {
        const w0 = a0 + b0 * i;
        const w1 = a1 + b1 * i;
        const z = w0 * za + w1 * zb + (1 - w0 - w1) * zc;
        const k = row + i;
        const old = depth[k];
        if (!(old >= z)) depth[k] = z; // NaN compares false: the first triangle always writes
      }
    }
  }
  return depth;
}
