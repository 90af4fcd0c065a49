import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VoxfaceError } from '../src/types.ts';
import {
  blurVolume,
  depthMap,
  gaussianKernel,
  faceLikeField,
  sigmoidInPlace,
  sphereSDF,
  volumeFromLogits,
  voxelizeFaceLike,
  voxelizeHeightField,
  voxelizeSDF,
  volumeCenter,
} from '../src/volume/index.ts';
import { marchingCubes, signedVolume } from '../src/mesh/index.ts';

test('sigmoidInPlace computes the logistic function in place', () => {
  const a = Float32Array.from([-100, -2, 0, 2, 100, NaN]);
  const out = sigmoidInPlace(a);
  assert.equal(out, a);
  const want = [0, 1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-2)), 1];
  want.forEach((w, i) => assert.ok(Math.abs(a[i] - w) < 1e-6, `${i}: ${a[i]} vs ${w}`));
  assert.ok(Number.isNaN(a[5]));
  const xs = Float32Array.from({ length: 40001 }, (_, i) => (i - 20000) / 1000);
  const ys = sigmoidInPlace(new Float32Array(xs));
  let maxErr = 0;
  xs.forEach((x, i) => (maxErr = Math.max(maxErr, Math.abs(ys[i] - 1 / (1 + Math.exp(-x))))));
  assert.ok(maxErr < 1e-6, `max error ${maxErr}`);
});

test('volumeFromLogits reads [1,D,H,W] and [D,H,W], copies unless inPlace', () => {
  const logits = new Float32Array(2 * 3 * 4).map((_, i) => i - 12);
  const vol = volumeFromLogits(logits, [1, 2, 3, 4], 2);
  assert.deepEqual([vol.depth, vol.height, vol.width, vol.voxelSize], [2, 3, 4, 2]);
  assert.equal(logits[0], -12, 'input untouched');
  assert.ok(Math.abs(vol.data[13] - 1 / (1 + Math.exp(-1))) < 1e-6);
  const tensorVol = volumeFromLogits({ data: logits, dims: [2, 3, 4] }, undefined, 1, { inPlace: true });
  assert.equal(tensorVol.data, logits);
  assert.equal(logits[12], 0.5);
});

test('volumeFromLogits rejects inconsistent shapes with a VoxfaceError', () => {
  assert.throws(() => volumeFromLogits(new Float32Array(10), [1, 2, 3, 4], 1), VoxfaceError);
  assert.throws(() => volumeFromLogits(new Float32Array(24), [2, 2, 3, 4], 1), VoxfaceError);
  assert.throws(() => volumeFromLogits(new Float32Array(24), [2, 3, 4], 0), VoxfaceError);
  assert.throws(() => volumeFromLogits(new Float32Array(24), [24], 1), VoxfaceError);
});

test('voxelizeSDF follows the Volume layout and voxel-centre convention', () => {
  // A plane z = 3 (inside below): occupancy 0.5 − (z − 3)/(2v) at voxel centres.
  const dims = { width: 5, height: 4, depth: 8 };
  const v = 1.5;
  const vol = voxelizeSDF(dims, v, (_x, _y, z) => z - 3);
  for (let d = 0; d < 8; d++) {
    const z = (d + 0.5 - 4) * v;
    const want = Math.min(1, Math.max(0, 0.5 - (z - 3) / (2 * v)));
    assert.ok(Math.abs(vol.data[(d * 4 + 2) * 5 + 1] - want) < 1e-6);
  }
  // x, y: a sphere's centre voxel is full, a corner voxel empty.
  const s = voxelizeSDF({ width: 9, height: 7, depth: 5 }, 2, sphereSDF([9, 7, 0], 3));
  assert.equal(s.data[(2 * 7 + 3) * 9 + 4], 1);
  assert.equal(s.data[0], 0);
  assert.throws(() => voxelizeSDF({ width: 0, height: 2, depth: 2 }, 1, () => 0), VoxfaceError);
  assert.throws(() => voxelizeSDF({ width: 2, height: 2, depth: 2 }, -1, () => 0), VoxfaceError);
});

test('depthMap recovers a plane and the face-like height field within a small fraction of a voxel', () => {
  const plane = voxelizeSDF({ width: 6, height: 6, depth: 10 }, 2, (_x, _y, z) => z - 1.3);
  for (const z of depthMap(plane)) assert.ok(Math.abs(z - 1.3) < 1e-4, String(z));

  const dims = { width: 64, height: 64, depth: 64 };
  const v = 2;
  const field = faceLikeField(dims, v);
  const vol = voxelizeFaceLike(dims, v);
  const z = depthMap(vol);
  let inside = 0, maxErr = 0;
  for (let r = 0; r < 64; r++) {
    for (let c = 0; c < 64; c++) {
      const x = (c + 0.5) * v, y = (r + 0.5) * v;
      const rd = field.region!(x, y);
      if (rd > 0.5 * v) assert.ok(Number.isNaN(z[r * 64 + c]), 'outside the face: empty column');
      if (rd < -2 * v) {
        inside++;
        maxErr = Math.max(maxErr, Math.abs(z[r * 64 + c] - field.height(x, y)));
      }
    }
  }
  assert.ok(inside > 1500, `${inside} face columns`);
  assert.ok(maxErr < 0.05 * v, `max depth error ${maxErr}`);
});

test('depthMap: a column full up to the front slice reports the front slice centre', () => {
  const vol = voxelizeSDF({ width: 2, height: 2, depth: 4 }, 1, () => -10);
  for (const z of depthMap(vol)) assert.equal(z, 1.5);
  const empty = voxelizeSDF({ width: 2, height: 2, depth: 4 }, 1, () => 10);
  for (const z of depthMap(empty)) assert.ok(Number.isNaN(z));
});

test('voxelizeHeightField back-fills: 1 behind the surface to the back, 0 in front and outside the region', () => {
  const dims = { width: 16, height: 16, depth: 20 };
  const vol = voxelizeHeightField(dims, 1, {
    height: (x) => x / 4 - 2,
    region: (x, y) => Math.hypot(x - 8, y - 8) - 6,
  });
  const S = 16 * 16;
  for (let i = 0; i < S; i++) {
    for (let d = 1; d < 20; d++) assert.ok(vol.data[d * S + i] <= vol.data[(d - 1) * S + i] + 1e-6, 'non-increasing toward the camera');
  }
  assert.equal(vol.data[8 * 16 + 8], 1, 'back of the centre column is full');
  assert.equal(vol.data[19 * S + 8 * 16 + 8], 0, 'front of the centre column is empty');
  assert.equal(vol.data[0], 0, 'outside the region');
});

test('gaussianKernel is normalised and symmetric; σ ≤ 0 is the identity', () => {
  for (const s of [0.5, 1, 2.3]) {
    const k = gaussianKernel(s);
    assert.equal(k.length % 2, 1);
    assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    for (let i = 0; i < k.length; i++) assert.ok(Math.abs(k[i] - k[k.length - 1 - i]) < 1e-7);
  }
  assert.deepEqual([...gaussianKernel(0)], [1]);
});

test('blurVolume keeps constants and mass, smooths a step, and keeps a sphere\'s isosurface in place', () => {
  const dims = { width: 24, height: 20, depth: 16 };
  const constant = voxelizeSDF(dims, 1, () => -1);
  const c = blurVolume(constant, 1.5);
  assert.ok(c.data.every((v) => Math.abs(v - 1) < 1e-6), 'clamped edges keep a full volume full');
  // a point in the middle spreads out with its mass kept, as a Gaussian (σ² per axis)
  const point = { ...constant, data: new Float32Array(constant.data.length) };
  const at = (x: number, y: number, z: number) => (z * dims.height + y) * dims.width + x;
  point.data[at(12, 10, 8)] = 1;
  const p = blurVolume(point, 1);
  assert.equal(point.data[at(12, 10, 8)], 1, 'the input is not changed');
  let mass = 0, varX = 0;
  for (let z = 0; z < dims.depth; z++) for (let y = 0; y < dims.height; y++) for (let x = 0; x < dims.width; x++) {
    mass += p.data[at(x, y, z)];
    varX += p.data[at(x, y, z)] * (x - 12) ** 2;
  }
  assert.ok(Math.abs(mass - 1) < 1e-5, `mass ${mass}`);
  assert.ok(Math.abs(varX - 1) < 0.05, `variance along x ${varX}`);
  assert.ok(p.data[at(13, 10, 8)] < p.data[at(12, 10, 8)] && p.data[at(12, 10, 8)] < 0.1);
  // a sphere of radius R = 8 voxels: blurring by σ moves the 0.5 isosurface inward by about σ²/R (mean
  // curvature flow), so the enclosed volume scales by (1 − σ²/R²)³ — 4.6% less for σ = 1 — and no more
  const sdims = { width: 32, height: 32, depth: 32 };
  const sphere = voxelizeSDF(sdims, 1, sphereSDF(volumeCenter(sdims, 1), 8));
  const before = signedVolume(marchingCubes(sphere));
  for (const sigma of [1, 1.5]) {
    const after = signedVolume(marchingCubes(blurVolume(sphere, sigma)));
    const expected = (1 - sigma ** 2 / 64) ** 3;
    assert.ok(Math.abs(after / before - expected) < 0.01, `σ ${sigma}: volume ${before.toFixed(1)} → ${after.toFixed(1)}, expected ×${expected.toFixed(3)}`);
  }
});
