/**
 * The one triangle rasteriser (src/raster/triangle.ts): its row spans cover exactly the pixels whose centres a
 * per-pixel barycentric test puts inside (edges inclusive, either winding, clipped to the grid), and its weights
 * reproduce the corners' coordinates at every covered pixel centre.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rasterizeTriangle, TriangleSpans } from '../src/raster/triangle.ts';

/** The reference: every pixel of the grid tested on its own with the edge functions. */
function bruteForce(x: number[], y: number[], w: number, h: number): Set<number> {
  const out = new Set<number>();
  const area = (x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0]);
  if (!(Math.abs(area) > 1e-12)) return out;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const px = i + 0.5, py = j + 0.5;
      const w0 = ((x[1] - px) * (y[2] - py) - (x[2] - px) * (y[1] - py)) / area;
      const w1 = ((x[2] - px) * (y[0] - py) - (x[0] - px) * (y[2] - py)) / area;
      if (w0 >= -1e-7 && w1 >= -1e-7 && 1 - w0 - w1 >= -1e-7) out.add(j * w + i);
    }
  }
  return out;
}

test('spans = the per-pixel test, for random, tiny, huge, clipped, degenerate and edge-on-centre triangles', () => {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const W = 37, H = 29;
  const cases: [number[], number[]][] = [
    [[0.5, 10.5, 0.5], [0.5, 0.5, 10.5]], // corners on pixel centres: edges through centres are inside
    [[10.5, 0.5, 0.5], [0.5, 10.5, 0.5]], // the other winding
    [[-20, 60, 10], [-5, 3, 50]], // clipped on three sides
    [[3, 3, 3], [1, 5, 9]], // zero area
    [[5.2, 5.3, 5.25], [5.2, 5.2, 5.4]], // smaller than a pixel
  ];
  for (let k = 0; k < 300; k++) cases.push([[rnd() * 50 - 6, rnd() * 50 - 6, rnd() * 50 - 6], [rnd() * 40 - 5, rnd() * 40 - 5, rnd() * 40 - 5]]);
  const spans = new TriangleSpans();
  for (const [x, y] of cases) {
    const n = spans.set(x[0], y[0], x[1], y[1], x[2], y[2], W, H);
    const got = new Set<number>();
    const { rows, b0, b1 } = spans;
    for (let r = 0; r < n; r++) {
      const [j, i0, i1, a0, a1] = rows.subarray(5 * r, 5 * r + 5);
      for (let i = i0; i <= i1; i++) {
        got.add(j * W + i);
        // the weights interpolate the corners to the pixel centre
        const w0 = a0 + b0 * i, w1 = a1 + b1 * i, w2 = 1 - w0 - w1;
        assert.ok(Math.abs(w0 * x[0] + w1 * x[1] + w2 * x[2] - (i + 0.5)) < 1e-6);
        assert.ok(Math.abs(w0 * y[0] + w1 * y[1] + w2 * y[2] - (j + 0.5)) < 1e-6);
      }
    }
    const want = bruteForce(x, y, W, H);
    assert.deepEqual([...got].sort((p, q) => p - q), [...want].sort((p, q) => p - q), `triangle ${x} / ${y}`);
  }
});

test('rasterizeTriangle visits the same pixels, and a visitor may rasterise another triangle meanwhile', () => {
  const seen: number[] = [];
  rasterizeTriangle(0, 0, 8, 0, 0, 8, 16, 16, (i, j, w0, w1, w2) => {
    seen.push(j * 16 + i);
    assert.ok(Math.abs(w0 + w1 + w2 - 1) < 1e-12);
    if (seen.length === 1) rasterizeTriangle(0, 0, 1, 0, 0, 1, 4, 4, () => {});
  });
  assert.deepEqual(seen.sort((a, b) => a - b), [...bruteForce([0, 8, 0], [0, 0, 8], 16, 16)].sort((a, b) => a - b));
  assert.equal(seen.length, 36); // centres with (i + 0.5) + (j + 0.5) ≤ 8: 8 + 7 + … + 1
});

test('one list of image endings for every folder scan', async () => {
  const { IMAGE_EXTENSIONS, isImageFile } = await import('../src/decode/extensions.ts');
  for (const f of ['a.jpg', 'B.JPEG', 'c.png', 'd.webp', 'e.avif', 'f.heic', 'g.tif', 'h.TIFF', 'i.gif', 'j.bmp', 'k.ppm', 'l.pgm', 'm.pnm']) assert.ok(isImageFile(f), f);
  for (const f of ['notes.txt', 'model.onnx', 'jpg', 'a.jpg.json', '.png.txt']) assert.ok(!isImageFile(f), f);
  assert.equal(new Set(IMAGE_EXTENSIONS).size, IMAGE_EXTENSIONS.length);
  // no front-end keeps a list of its own
  const { readFileSync } = await import('node:fs');
  for (const file of ['src/cli/main.ts', 'src/batch/plan.ts', 'eval/agreement.ts', 'eval/dataset.ts', 'bench/bench.ts', 'scripts/load.ts']) {
    const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    assert.ok(!/jpe\?g|'\.jpe?g'/.test(text), `${file} has its own list of image endings`);
    assert.ok(text.includes('isImageFile'), `${file} does not use isImageFile`);
  }
});
