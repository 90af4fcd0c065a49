import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitView, hstack, renderMeshes, resizeImage, rotateAbout, rotationMatrix } from '../scripts/render/index.ts';
import type { Mesh, RGBImage } from '../src/types.ts';
import { VoxfaceError } from '../src/types.ts';
import { closedSphere } from './_meshes.ts';

const SIZE = 128;
const R = 50;
const centred = { scale: 1, offset: [SIZE / 2, SIZE / 2] as [number, number] };
const black: [number, number, number] = [0, 0, 0];

/** Brightness (sum of RGB) of pixel (i, j). */
const lum = (im: RGBImage, i: number, j: number) => im.data[3 * (j * im.width + i)] + im.data[3 * (j * im.width + i) + 1] + im.data[3 * (j * im.width + i) + 2];

/** Pixels that differ from the black background. */
function mask(im: RGBImage): boolean[] {
  return Array.from({ length: im.width * im.height }, (_, k) => lum(im, k % im.width, Math.floor(k / im.width)) > 0);
}

test('a sphere renders as a disc of its radius', () => {
  const sphere = closedSphere([0, 0, 0], R, 96, 48);
  const im = renderMeshes([{ mesh: sphere }], { width: SIZE, height: SIZE, view: centred, background: black, ambient: 0.2, supersample: 1 });
  const m = mask(im);
  const area = m.filter(Boolean).length;
  const radius = Math.sqrt(area / Math.PI);
  assert.ok(Math.abs(radius - R) < 0.5, `disc radius ${radius.toFixed(2)} vs ${R}`);
  assert.ok(Math.abs(im.coverage - area / (SIZE * SIZE)) < 1e-9);
  // every pixel well inside is drawn, every pixel well outside is not
  for (let j = 0; j < SIZE; j++) {
    for (let i = 0; i < SIZE; i++) {
      const d = Math.hypot(i + 0.5 - SIZE / 2, j + 0.5 - SIZE / 2);
      if (d < R - 1.5) assert.ok(m[j * SIZE + i], `pixel ${i},${j} (r = ${d.toFixed(1)}) should be covered`);
      if (d > R + 1.5) assert.ok(!m[j * SIZE + i], `pixel ${i},${j} (r = ${d.toFixed(1)}) should be empty`);
    }
  }
});

test('Lambert shading: brighter toward the light, brightest where the normal points at it', () => {
  const sphere = closedSphere([0, 0, 0], R, 96, 48);
  const light: [number, number, number] = [-1, -1, 1.2]; // upper left, in front
  const im = renderMeshes([{ mesh: sphere }], { width: SIZE, height: SIZE, view: centred, background: black, light, ambient: 0, supersample: 1 });
  let upperLeft = 0, lowerRight = 0;
  let best = -1, bi = 0, bj = 0;
  for (let j = 0; j < SIZE; j++) {
    for (let i = 0; i < SIZE; i++) {
      const v = lum(im, i, j);
      if (i < SIZE / 2 && j < SIZE / 2) upperLeft += v;
      if (i >= SIZE / 2 && j >= SIZE / 2) lowerRight += v;
      if (v > best) [best, bi, bj] = [v, i, j];
    }
  }
  assert.ok(upperLeft > 3 * lowerRight, `upper left ${upperLeft} vs lower right ${lowerRight}`);
  // on a sphere the normal equals the light direction at (x, y) = R · (Lx, Ly) / |L|
  const l = Math.hypot(...light);
  const ex = SIZE / 2 + (R * light[0]) / l, ey = SIZE / 2 + (R * light[1]) / l;
  assert.ok(Math.hypot(bi + 0.5 - ex, bj + 0.5 - ey) < 6, `brightest pixel at ${bi},${bj}, expected near ${ex.toFixed(1)},${ey.toFixed(1)}`);
  // the centre (normal toward the viewer) is lit by L·z / |L|
  const centre = lum(im, SIZE / 2, SIZE / 2) / 3 / 255;
  assert.ok(Math.abs(centre - (0.8 * light[2]) / l) < 0.03, `centre brightness ${centre}`);
});

test('a rotation by 90° shows the side: colours and silhouette', () => {
  // Left half (x < 0) blue, right half red.
  const sphere = closedSphere([0, 0, 0], R, 96, 48);
  const colors = new Float32Array(sphere.positions.length);
  for (let v = 0; v < colors.length; v += 3) colors.set(sphere.positions[v] < 0 ? [0, 0, 1] : [1, 0, 0], v);
  const coloured: Mesh = { ...sphere, colors };
  const opts = { width: SIZE, height: SIZE, view: centred, background: black, light: [0, 0, 1] as [number, number, number], supersample: 1 };
  const redness = (im: RGBImage) => {
    let red = 0, blue = 0;
    for (let k = 0; k < SIZE * SIZE; k++) {
      red += im.data[3 * k];
      blue += im.data[3 * k + 2];
    }
    return red / (red + blue);
  };
  const front = renderMeshes([{ mesh: coloured, albedo: 'vertex' }], opts);
  assert.ok(Math.abs(redness(front) - 0.5) < 0.05, `frontal view: half red, got ${redness(front)}`);
  assert.ok(front.data[3 * (64 * SIZE + 30) + 2] > 0 && front.data[3 * (64 * SIZE + 98)] > 0, 'blue on the left, red on the right');
  // yaw +90: the front (+z) turns to +x, so the viewer faces what was the −x (blue) side
  assert.ok(redness(renderMeshes([{ mesh: coloured, albedo: 'vertex', rotation: { yaw: 90 } }], opts)) < 0.05);
  assert.ok(redness(renderMeshes([{ mesh: coloured, albedo: 'vertex', rotation: { yaw: -90 } }], opts)) > 0.95);

  // An ellipsoid twice as deep (z) as wide: its width on screen doubles after a quarter turn.
  const deep = closedSphere([0, 0, 0], 25, 96, 48);
  for (let v = 2; v < deep.positions.length; v += 3) deep.positions[v] *= 2;
  const width = (im: RGBImage) => {
    const m = mask(im);
    const cols = Array.from({ length: SIZE }, (_, i) => m.some((on, k) => on && k % SIZE === i));
    return cols.filter(Boolean).length;
  };
  const w0 = width(renderMeshes([{ mesh: deep }], opts));
  const w90 = width(renderMeshes([{ mesh: deep, rotation: { yaw: 90 }, centre: [0, 0, 0] }], opts));
  assert.ok(Math.abs(w0 - 50) <= 2, `frontal width ${w0}`);
  assert.ok(Math.abs(w90 - 100) <= 2, `side width ${w90}`);
});

test('rotation matrices follow the pose convention (yaw → +x, pitch → down, roll counter-clockwise)', () => {
  const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-12);
  assert.ok(close(rotateAbout([0, 0, 1], rotationMatrix({ yaw: 90 }), [0, 0, 0]), [1, 0, 0]));
  assert.ok(close(rotateAbout([0, 0, 1], rotationMatrix({ pitch: 90 }), [0, 0, 0]), [0, 1, 0]));
  assert.ok(close(rotateAbout([1, 0, 0], rotationMatrix({ roll: 90 }), [0, 0, 0]), [0, -1, 0]));
  // about a centre: the centre stays, lengths are kept
  const c: [number, number, number] = [3, -2, 5];
  assert.ok(close(rotateAbout(c, rotationMatrix({ yaw: 30, pitch: 20, roll: 10 }), c), c));
  const q = rotateAbout([4, 1, 2], rotationMatrix({ yaw: 30, pitch: 20, roll: 10 }), c);
  assert.ok(Math.abs(Math.hypot(q[0] - 3, q[1] + 2, q[2] - 5) - Math.hypot(1, 3, -3)) < 1e-12);
});

test('fitted view, overlay blending over an image, hstack and resize', () => {
  const sphere = closedSphere([500, 300, 0], 40, 48, 24);
  const fitted = renderMeshes([{ mesh: sphere }], { width: 100, height: 60, margin: 0.1, background: black, supersample: 1 });
  const v = fitView([460, 260, 540, 340], 100, 60, 0.1);
  assert.ok(Math.abs(v.scale - 48 / 80) < 1e-12 && Math.abs(v.offset[0] + v.scale * 500 - 50) < 1e-9);
  assert.ok(Math.abs(Math.sqrt((fitted.coverage * 6000) / Math.PI) - 24) < 1, 'the disc fills the height minus the margins');

  const photo: RGBImage = { width: 40, height: 40, data: new Uint8Array(40 * 40 * 3).fill(200) };
  const small = closedSphere([20, 20, 0], 10, 48, 24);
  const over = renderMeshes([{ mesh: small, albedo: [0, 0, 0] }], { width: 40, height: 40, view: { scale: 1, offset: [0, 0] }, background: photo, opacity: 0.5, supersample: 1 });
  assert.equal(over.data[0], 200, 'outside the mesh the photo is unchanged');
  assert.equal(over.data[3 * (20 * 40 + 20)], 100, 'a black mesh at 50% halves the photo');

  const row = hstack([photo, over], { gap: 3, background: [9, 9, 9] });
  assert.equal(row.width, 83);
  assert.equal(row.data[3 * 41], 9);
  assert.deepEqual(Array.from(row.data.subarray(3 * 43, 3 * 44)), [200, 200, 200]);
  const half = resizeImage(photo, 20, 20);
  assert.ok(half.data.every((x) => x === 200));
  const grad: RGBImage = { width: 4, height: 1, data: new Uint8Array([0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40]) };
  assert.deepEqual(Array.from(resizeImage(grad, 2, 1).data), [50, 50, 50, 120, 120, 120]);
});

test('bad input raises VoxfaceError', () => {
  const sphere = closedSphere([0, 0, 0], 10);
  assert.throws(() => renderMeshes([{ mesh: sphere }], { width: 0, height: 10 }), VoxfaceError);
  assert.throws(() => renderMeshes([{ mesh: sphere }], { width: 10, height: 10, supersample: 0 }), VoxfaceError);
  assert.throws(() => renderMeshes([{ mesh: sphere, albedo: 'vertex' }], { width: 10, height: 10 }), VoxfaceError);
  assert.throws(() => renderMeshes([{ mesh: sphere, albedo: 'texture' }], { width: 10, height: 10 }), VoxfaceError);
  assert.throws(() => renderMeshes([{ mesh: { positions: sphere.positions, indices: new Uint32Array([0, 1, 1e6]) } }], { width: 10, height: 10 }), VoxfaceError);
  const photo: RGBImage = { width: 5, height: 5, data: new Uint8Array(75) };
  assert.throws(() => renderMeshes([{ mesh: sphere }], { width: 10, height: 10, background: photo }), VoxfaceError);
  assert.throws(() => renderMeshes([{ mesh: sphere }], { width: 10, height: 10, light: [0, 0, 0] }), VoxfaceError);
});
