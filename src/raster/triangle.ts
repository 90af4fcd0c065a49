/**
 * The triangle rasteriser: which pixels of a `width` × `height` grid a triangle covers (pixel centres at
 * (i + 0.5, j + 0.5), edges inclusive, either winding; zero-area triangles cover nothing) and the barycentric
 * weights there. Every rasterising stage uses it — the texture bake (UV space), the z-buffers of the occlusion
 * test and the depth map (photo space), the software renderer of the scripts.
 *
 * It answers in row spans, not per pixel, so callers keep their per-pixel work in their own loop (no call
 * per pixel): in row `j` the covered columns are `i0 … i1`, and at column `i` the weights are
 * `w0 = a0 + b0·i`, `w1 = a1 + b1·i`, `w2 = 1 − w0 − w1`.
 *
 * ```ts
 * const image = new Float32Array(16 * 16);
 * const spans = new TriangleSpans();
 * const n = spans.set(0, 0, 8, 0, 0, 8, 16, 16);     // a triangle on a 16 × 16 grid
 * const { rows, b0, b1 } = spans;
 * for (let r = 0; r < n; r++) {
 *   const [j, i0, i1, a0, a1] = rows.subarray(5 * r, 5 * r + 5);
 *   for (let i = i0; i <= i1; i++) image[j * 16 + i] = a0 + b0 * i;   // w0 at the pixel
 * }
 * ```
 */

/** Weights below this count as outside (so pixel centres on an edge are inside from both sides). */
const EPS = -1e-7;

/** Whether column `i` of a row with weights w0 = a0 + b0·i, w1 = a1 + b1·i is inside the triangle. */
function inside(a0: number, b0: number, a1: number, b1: number, i: number): boolean {
  const w0 = a0 + b0 * i;
  if (w0 < EPS) return false;
  const w1 = a1 + b1 * i;
  return w1 >= EPS && 1 - w0 - w1 >= EPS;
}

/** A triangle's covered rows; reuse one object for many triangles (it allocates only when a triangle is taller). */
export class TriangleSpans {
  /** Per covered row r: `rows[5r … 5r+4]` = row j, first column i0, last column i1, a0, a1. */
  rows = new Float64Array(5 * 64);
  /** Change of w0 and w1 per column (the same in every row). */
  b0 = 0;
  b1 = 0;

  /** Rasterises the triangle (x0, y0), (x1, y1), (x2, y2) on a width × height grid; returns the number of rows. */
  set(x0: number, y0: number, x1: number, y1: number, x2: number, y2: number, width: number, height: number): number {
    const area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
    if (!(Math.abs(area) > 1e-12)) return 0;
    const inv = 1 / area;
    const iMin = Math.max(0, Math.ceil(Math.min(x0, x1, x2) - 0.5));
    const iMax = Math.min(width - 1, Math.floor(Math.max(x0, x1, x2) - 0.5));
    const jMin = Math.max(0, Math.ceil(Math.min(y0, y1, y2) - 0.5));
    const jMax = Math.min(height - 1, Math.floor(Math.max(y0, y1, y2) - 0.5));
    if (iMin > iMax || jMin > jMax) return 0;
    if (this.rows.length < 5 * (jMax - jMin + 1)) this.rows = new Float64Array(5 * (jMax - jMin + 1));
    const rows = this.rows;
    // w0 at (px, py) = ((x1 − px)(y2 − py) − (x2 − px)(y1 − py)) / area: linear in the column
    const b0 = (y1 - y2) * inv;
    const b1 = (y2 - y0) * inv;
    this.b0 = b0;
    this.b1 = b1;
    let n = 0;
    for (let j = jMin; j <= jMax; j++) {
      const py = j + 0.5;
      const a0 = (x1 * (y2 - py) - x2 * (y1 - py)) * inv + 0.5 * b0;
      const a1 = (x2 * (y0 - py) - x0 * (y2 - py)) * inv + 0.5 * b1;
      // the covered columns of a row are one interval (a triangle is convex): trim the box to it
      let lo = iMin;
      let hi = iMax;
      while (lo <= hi && !inside(a0, b0, a1, b1, lo)) lo++;
      while (hi > lo && !inside(a0, b0, a1, b1, hi)) hi--;
      if (lo > hi) continue;
      const o = 5 * n++;
      rows[o] = j;
      rows[o + 1] = lo;
      rows[o + 2] = hi;
      rows[o + 3] = a0;
      rows[o + 4] = a1;
    }
    return n;
  }
}

/** Called for each covered pixel (column i, row j) with the barycentric weights of the triangle's corners. */
export type PixelVisitor = (i: number, j: number, w0: number, w1: number, w2: number) => void;

const shared = new TriangleSpans();

/**
 * The same coverage one pixel at a time, for code where a call per pixel does not matter (tests, tools).
 *
 * ```ts
 * rasterizeTriangle(0, 0, 8, 0, 0, 8, 16, 16, (i, j, w0, w1, w2) => { image[j * 16 + i] = 1; });
 * ```
 */
export function rasterizeTriangle(x0: number, y0: number, x1: number, y1: number, x2: number, y2: number, width: number, height: number, visit: PixelVisitor): void {
  const n = shared.set(x0, y0, x1, y1, x2, y2, width, height);
  const { b0, b1 } = shared;
  const rows = shared.rows.slice(0, 5 * n); // the visitor may rasterise too
  for (let r = 0; r < n; r++) {
    const o = 5 * r;
    const j = rows[o];
    const a0 = rows[o + 3];
    const a1 = rows[o + 4];
    for (let i = rows[o + 1]; i <= rows[o + 2]; i++) {
      const w0 = a0 + b0 * i;
      const w1 = a1 + b1 * i;
      visit(i, j, w0, w1, 1 - w0 - w1);
    }
  }
}
