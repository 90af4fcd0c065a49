import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VoxfaceError, type RGBImage, type Vec2 } from '../src/types.ts';
import {
  cropFromBox,
  cropFromLandmarkBox,
  cropFromLandmarks,
  cropToPhoto,
  landmarkBoxFromDetection,
  photoToCrop,
} from '../src/align/crop.ts';
import { BOX_CALIBRATION } from '../src/align/calibration.ts';
import { downscale, prefilterFactor, sampleAffine, sampleCrop } from '../src/align/sample.ts';

/** A photo whose red = x, green = y (pixel indices, < 256), blue = 100: bilinear sampling of it is exact. */
function ramp(w: number, h: number): RGBImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x, y, 100], (y * w + x) * 3);
  return { width: w, height: h, data };
}

test('crop pixel (i, j) equals the photo at the crop→photo mapping (bilinear, no prefilter)', () => {
  const photo = ramp(200, 180);
  const crop = { size: 32, scale: 1.37, offset: [41.3, 27.9] as Vec2 };
  assert.equal(prefilterFactor(crop.scale), 1);
  const { data } = sampleCrop(photo, crop);
  const plane = 32 * 32;
  for (const [i, j] of [[0, 0], [5, 17], [31, 31], [12, 3]]) {
    const [x, y] = cropToPhoto(crop, [j + 0.5, i + 0.5]);
    // Pixel k's centre is at k + 0.5, so the ramp's value at continuous x is x − 0.5.
    assert.ok(Math.abs(data[i * 32 + j] * 255 - (x - 0.5)) < 1e-3, `R at (${i},${j})`);
    assert.ok(Math.abs(data[plane + i * 32 + j] * 255 - (y - 0.5)) < 1e-3, `G at (${i},${j})`);
    assert.ok(Math.abs(data[2 * plane + i * 32 + j] * 255 - 100) < 1e-3, `B at (${i},${j})`);
  }
});

test('downscaled crops (scale > 1.5) are box-filtered: ramps stay exact, fine checkers turn grey', () => {
  const photo = ramp(250, 250);
  const crop = { size: 20, scale: 4, offset: [30, 50] as Vec2 };
  assert.equal(prefilterFactor(4), 4);
  const { data } = sampleCrop(photo, crop);
  for (const [i, j] of [[0, 0], [10, 7], [19, 19]]) {
    const [x, y] = cropToPhoto(crop, [j + 0.5, i + 0.5]);
    // The box filter averages whole pixels and rounds to 8 bits: within one level of the ramp.
    assert.ok(Math.abs(data[i * 20 + j] * 255 - (x - 0.5)) <= 1, `R at (${i},${j}): ${data[i * 20 + j] * 255} vs ${x - 0.5}`);
    assert.ok(Math.abs(data[400 + i * 20 + j] * 255 - (y - 0.5)) <= 1, `G at (${i},${j})`);
  }
  // A 1-pixel checkerboard would alias to pure black/white without the prefilter.
  const n = 128;
  const checker = new Uint8Array(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) checker.fill((x + y) % 2 ? 255 : 0, (y * n + x) * 3, (y * n + x) * 3 + 3);
  const grey = sampleCrop({ width: n, height: n, data: checker }, { size: 16, scale: 8, offset: [0, 0] }).data;
  for (const v of grey) assert.ok(Math.abs(v - 0.5) < 0.02, `aliasing: ${v}`);
});

test('outside the photo: mid-grey by default, edge pixels with outside=clamp', () => {
  const photo = ramp(50, 40);
  const crop = { size: 10, scale: 1, offset: [-20, -20] as Vec2 };
  const grey = sampleCrop(photo, crop).data;
  assert.equal(grey[0], 0.5);
  assert.equal(grey[100], 0.5);
  const clamped = sampleCrop(photo, crop, { outside: 'clamp' }).data;
  assert.equal(clamped[0], 0); // red = x = 0 at the left edge
  assert.equal(clamped[100], 0); // green = y = 0 at the top edge
  assert.ok(Math.abs(clamped[200] - 100 / 255) < 1e-6);
});

test('sampleAffine: hwc layout, normalisation and a quarter-turn rotation', () => {
  const photo = ramp(64, 64);
  // Output (u, v) → photo (x, y) = (v, 63.5 − u + 0.5)... a rotation by 90° about the photo centre.
  const m = { a: 0, b: 1, c: 0, d: -1, e: 0, f: 64 };
  const out = sampleAffine(photo, m, 64, 64, { mul: 2, add: -1 });
  const at = (u: number, v: number, ch: number) => out[(v * 64 + u) * 3 + ch];
  // Output pixel (u, v) centre → photo (v + 0.5, 63.5 − u) → ramp R = v, G = 63 − u.
  assert.ok(Math.abs((at(10, 20, 0) + 1) / 2 - 20 / 255) < 1e-6);
  assert.ok(Math.abs((at(10, 20, 1) + 1) / 2 - 53 / 255) < 1e-6);
});

test('downscale averages whole blocks and keeps partial edge blocks', () => {
  const img = { width: 3, height: 1, data: new Uint8Array([0, 0, 0, 100, 100, 100, 51, 51, 51]) };
  const half = downscale(img, 2);
  assert.equal(half.width, 2);
  assert.deepEqual(Array.from(half.data), [50, 50, 50, 51, 51, 51]);
});

test('downscale equals the plain mean of each block (rounded) for any size and factor', () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  // [30, 20, 2]: the even 2 × 2 case, summed block by block
  for (const [w, h, k] of [[1, 1, 3], [7, 5, 2], [30, 20, 2], [31, 17, 4], [64, 9, 7], [10, 40, 10], [13, 13, 20]]) {
    const data = new Uint8Array(w * h * 3).map(() => Math.floor(rnd() * 256));
    const out = downscale({ width: w, height: h, data }, k);
    const W = Math.ceil(w / k), H = Math.ceil(h / k);
    assert.equal(out.width, W);
    assert.equal(out.height, H);
    for (let Y = 0; Y < H; Y++) {
      for (let X = 0; X < W; X++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0, n = 0;
          for (let y = Y * k; y < Math.min(h, (Y + 1) * k); y++) {
            for (let x = X * k; x < Math.min(w, (X + 1) * k); x++, n++) sum += data[(y * w + x) * 3 + c];
          }
          assert.equal(out.data[(Y * W + X) * 3 + c], Math.round(sum / n), `${w}×${h}/${k} (${X}, ${Y}) channel ${c}`);
        }
      }
    }
  }
});

test('cropFromLandmarks follows models/README.md and round-trips', () => {
  const pts: Vec2[] = [
    [100, 120],
    [300, 150],
    [180, 330],
  ];
  const spec = { scale: 1.6, shiftY: 0.05 };
  const crop = cropFromLandmarks(pts, spec, 128);
  const side = 1.6 * Math.max(200, 210);
  assert.equal(crop.size, 128);
  assert.ok(Math.abs(crop.scale - side / 128) < 1e-9);
  // Centre of the crop = box centre + (0, shiftY · side).
  const [cx, cy] = cropToPhoto(crop, [64, 64]);
  assert.ok(Math.abs(cx - 200) < 1e-9 && Math.abs(cy - (225 + 0.05 * side)) < 1e-9);
  for (const p of [...pts, [0, 0] as Vec2, [-50.5, 1234.25] as Vec2]) {
    const q = cropToPhoto(crop, photoToCrop(crop, p));
    assert.ok(Math.abs(q[0] - p[0]) < 1e-9 && Math.abs(q[1] - p[1]) < 1e-9);
  }
  // The landmark box spans 1/1.6 of the crop along its longer side.
  const top = photoToCrop(crop, [200, 120])[1], bottom = photoToCrop(crop, [200, 330])[1];
  assert.ok(Math.abs((bottom - top) / 128 - 1 / 1.6) < 1e-9);
  assert.deepEqual(cropFromLandmarkBox([100, 120, 200, 210], spec, 128), crop);
});

test('cropFromBox: landmarks when present, else the calibrated box, turning with the roll', () => {
  const spec = { scale: 1.6, shiftY: 0 };
  const lm: Vec2[] = [
    [10, 10],
    [50, 60],
  ];
  const withLm = cropFromBox({ box: [0, 0, 500, 500], source: 'blazeface-back', landmarks68: lm }, spec, 64);
  assert.deepEqual(withLm, cropFromLandmarks(lm, spec, 64));

  const user = cropFromBox({ box: [10, 20, 100, 80], source: 'user' }, spec, 64);
  assert.deepEqual(user, cropFromLandmarkBox([10, 20, 100, 80], spec, 64));

  // blazeface-back at roll 0: side = ratio · √(w·h), centre shifted down by offY · √(w·h).
  const [, ratio, , offY] = BOX_CALIBRATION['blazeface-back'].knots[0];
  const b0 = landmarkBoxFromDetection({ box: [100, 100, 200, 200], source: 'blazeface-back', roll: 0 });
  assert.ok(Math.abs(b0[2] - ratio * 200) < 1e-9);
  assert.ok(Math.abs(b0[1] + b0[3] / 2 - (200 + offY * 200)) < 1e-9);
  // At roll 90° the face's "down" points to the photo's −x.
  const b90 = landmarkBoxFromDetection({ box: [100, 100, 200, 200], source: 'blazeface-back', roll: 90 });
  const off90 = BOX_CALIBRATION['blazeface-back'].knots.at(-1)![3];
  assert.ok(Math.abs(b90[0] + b90[2] / 2 - (200 - off90 * 200)) < 1e-9);
  assert.ok(Math.abs(b90[1] + b90[3] / 2 - 200) < 1e-9);
  // Upside down behaves like upright (mirrored roll), with the offset pointing up.
  const b180 = landmarkBoxFromDetection({ box: [100, 100, 200, 200], source: 'blazeface-back', roll: 180 });
  assert.ok(Math.abs(b180[2] - b0[2]) < 1e-9);
  assert.ok(Math.abs(b180[1] + b180[3] / 2 - (200 - offY * 200)) < 1e-9);
});

test('bad crops are VoxfaceError BAD_ARGUMENT', () => {
  assert.throws(() => cropFromLandmarks([[1, 1]], { scale: 1.6, shiftY: 0 }, 128), VoxfaceError);
  assert.throws(() => cropFromLandmarks([[1, 1], [1, 1]], { scale: 1.6, shiftY: 0 }, 128), /no area/);
  assert.throws(() => cropFromLandmarkBox([0, 0, NaN, 10], { scale: 1.6, shiftY: 0 }, 128), VoxfaceError);
  assert.throws(() => sampleCrop(ramp(4, 4), { size: 0, scale: 1, offset: [0, 0] }), VoxfaceError);
});
