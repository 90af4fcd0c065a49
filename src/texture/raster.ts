import type { Mesh } from '../types.ts';

/** Called for each covered pixel (column i, row j) with the barycentric weights of the triangle's corners. */
export type PixelVisitor = (i: number, j: number, w0: number, w1: number, w2: number) => void;

/**
 * Software triangle rasteriser on a `width` × `height` grid: visits every pixel whose centre
 * (i + 0.5, j + 0.5) lies inside the triangle (edges inclusive, either winding). Degenerate
 * (zero-area) triangles visit nothing.
 *
 * @example
 * rasterizeTriangle(0, 0, 8, 0, 0, 8, 16, 16, (i, j, w0, w1, w2) => { image[j * 16 + i] = 1; });
 */
export function rasterizeTriangle(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  width: number,
  height: number,
  visit: PixelVisitor,
): void {
  const area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
  if (!(Math.abs(area) > 1e-12)) return;
  const inv = 1 / area;
  const iMin = Math.max(0, Math.ceil(Math.min(x0, x1, x2) - 0.5));
  const iMax = Math.min(width - 1, Math.floor(Math.max(x0, x1, x2) - 0.5));
  const jMin = Math.max(0, Math.ceil(Math.min(y0, y1, y2) - 0.5));
  const jMax = Math.min(height - 1, Math.floor(Math.max(y0, y1, y2) - 0.5));
  const eps = -1e-7;
  for (let j = jMin; j <= jMax; j++) {
    const py = j + 0.5;
    for (let i = iMin; i <= iMax; i++) {
      const px = i + 0.5;
      const w0 = ((x1 - px) * (y2 - py) - (x2 - px) * (y1 - py)) * inv;
      if (w0 < eps) continue;
      const w1 = ((x2 - px) * (y0 - py) - (x0 - px) * (y2 - py)) * inv;
      if (w1 < eps) continue;
      const w2 = 1 - w0 - w1;
      if (w2 < eps) continue;
      visit(i, j, w0, w1, w2);
    }
  }
}

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
  const eps = -1e-7;
  // The loop of rasterizeTriangle, inlined (same pixel coverage and weights).
  for (let t = 0; t < indices.length; t += 3) {
    const a = 3 * indices[t];
    const b = 3 * indices[t + 1];
    const c = 3 * indices[t + 2];
    const x0 = p[a] - ox, y0 = p[a + 1] - oy, za = p[a + 2];
    const x1 = p[b] - ox, y1 = p[b + 1] - oy, zb = p[b + 2];
    const x2 = p[c] - ox, y2 = p[c + 1] - oy, zc = p[c + 2];
    const area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
    if (!(Math.abs(area) > 1e-12)) continue;
    const inv = 1 / area;
    const iMin = Math.max(0, Math.ceil(Math.min(x0, x1, x2) - 0.5));
    const iMax = Math.min(width - 1, Math.floor(Math.max(x0, x1, x2) - 0.5));
    const jMin = Math.max(0, Math.ceil(Math.min(y0, y1, y2) - 0.5));
    const jMax = Math.min(height - 1, Math.floor(Math.max(y0, y1, y2) - 0.5));
    for (let j = jMin; j <= jMax; j++) {
      const py = j + 0.5;
      for (let i = iMin; i <= iMax; i++) {
        const px = i + 0.5;
        const w0 = ((x1 - px) * (y2 - py) - (x2 - px) * (y1 - py)) * inv;
        if (w0 < eps) continue;
        const w1 = ((x2 - px) * (y0 - py) - (x0 - px) * (y2 - py)) * inv;
        if (w1 < eps) continue;
        const w2 = 1 - w0 - w1;
        if (w2 < eps) continue;
        const z = w0 * za + w1 * zb + w2 * zc;
        const k = j * width + i;
        const old = depth[k];
        if (!(old >= z)) depth[k] = z; // NaN compares false: the first triangle always writes
      }
    }
  }
  return depth;
}
