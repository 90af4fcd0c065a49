import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rotationFromAngles } from '../src/landmarks/pose.ts';
import { benchmarkLandmarks, createShapePrior, fitSilhouette, priorMesh, profileEdges, SILHOUETTE_DEFAULTS } from '../src/prior/index.ts';
import { surfacePositions } from '../src/prior/mesh.ts';
import type { PriorFit } from '../src/prior/index.ts';
import { rasterizeTriangle } from '../src/raster/triangle.ts';
import type { Mesh, RGBImage, Vec3 } from '../src/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prior = createShapePrior(readFileSync(path.join(root, 'models', 'ict-face.bin')));
const { basis } = prior;
const SIZE = 400;

/** A face turned `yaw` degrees with identity weights `w`, 12 px per cm, in the middle of a 400² photo. */
function faceAt(yaw: number, w: Record<number, number>): PriorFit {
  const identity = new Float32Array(60);
  for (const [k, v] of Object.entries(w)) identity[Number(k)] = v;
  const rotation = rotationFromAngles({ yaw, pitch: 0, roll: 0 });
  return { identity, expression: new Float32Array(53), rotation, scale: 12, translation: [SIZE / 2, -SIZE / 2, 0] as Vec3, pose: { yaw, pitch: 0, roll: 0 } } as unknown as PriorFit;
}

/** Which pixels the mesh covers. */
function maskOf(mesh: Mesh): Uint8Array {
  const m = new Uint8Array(SIZE * SIZE);
  const P = mesh.positions, I = mesh.indices;
  for (let t = 0; t < I.length; t += 3) {
    const [a, b, c] = [3 * I[t], 3 * I[t + 1], 3 * I[t + 2]];
    rasterizeTriangle(P[a], P[a + 1], P[b], P[b + 1], P[c], P[c + 1], SIZE, SIZE, (i, j) => {
      m[j * SIZE + i] = 1;
    });
  }
  return m;
}

/** A photo of the mask: skin on a blue background, or all one colour (`flat`). */
function photoOf(mask: Uint8Array, flat = false): RGBImage {
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let p = 0; p < SIZE * SIZE; p++) data.set(mask[p] || flat ? [205, 160, 130] : [40, 90, 160], 3 * p);
  return { width: SIZE, height: SIZE, data };
}

/** Pixels where two masks differ, on the side the face looks toward (x right of the landmarks' middle for yaw > 0). */
function profileDisagreement(a: Uint8Array, b: Uint8Array, fromX: number): number {
  let n = 0;
  for (let j = 0; j < SIZE; j++) for (let i = Math.ceil(fromX); i < SIZE; i++) if (a[j * SIZE + i] !== b[j * SIZE + i]) n++;
  return n;
}

test('profile edges: the outline vertices on the side the face looks toward find the photo\'s edge where it is', () => {
  const truth = faceAt(70, { 0: 2, 1: -1.5, 3: 1.5 });
  const photo = photoOf(maskOf(priorMesh(basis, truth, 'face', { surfaceLandmarks: true })));
  // the fitted face is the truth itself: every edge lies on the outline (within a pixel and a half)
  const mesh = priorMesh(basis, truth, 'face', { surfaceLandmarks: true });
  const lm = benchmarkLandmarks(basis, truth);
  const e = profileEdges(mesh, photo, { scale: truth.scale, landmarks68: lm });
  assert.ok(e.ids.length > 40, `${e.ids.length} outline vertices found an edge`);
  const off = e.t.filter((t) => Math.abs(t) > 1.5).length;
  assert.ok(off <= e.ids.length * 0.1, `${off} of ${e.ids.length} edges more than 1.5 px from the outline: ${e.t.join(' ')}`);
  // and on average within a third of a pixel: the photo is read at the frame's pixel centres (i + 0.5), as the mask
  // was rasterised (half a pixel off, the mean is 0.5–0.7 px)
  const meanOff = e.t.reduce((s, t) => s + Math.abs(t), 0) / e.t.length;
  assert.ok(meanOff < 0.3, `edges ${meanOff.toFixed(2)} px from the outline on average`);
  // on the side the face looks toward (the nose's, +x for yaw 70), between chin and brows
  const mid = lm.reduce((s, p) => s + p[0], 0) / 68;
  for (const v of e.ids) assert.ok(mesh.positions[3 * v] > mid, `outline vertex ${v} at x ${mesh.positions[3 * v]} behind the middle ${mid}`);
  // the fit's rounds read the surface without making a whole mesh: the same floats as priorMesh's
  assert.deepEqual(surfacePositions(basis, truth, 'face'), mesh.positions);
  // a photo of one colour has no edge
  assert.equal(profileEdges(mesh, photoOf(new Uint8Array(SIZE * SIZE), true), { scale: truth.scale, landmarks68: lm }).ids.length, 0);
});

test('silhouette fit: a face fitted to a turned person\'s 68 points moves its profile onto the photo\'s, the landmarks stay', () => {
  for (const [yaw, w] of [[70, { 0: 2, 1: -1.5, 3: 1.5 }], [-60, { 0: -1.5, 2: 2, 5: -1 }]] as const) {
    const truth = faceAt(yaw, w);
    const trueMask = maskOf(priorMesh(basis, truth, 'face', { surfaceLandmarks: true }));
    const photo = photoOf(trueMask);
    // the fit to the person's 68 points: its identity held near the mean face, its profile short of the photo's
    const mean = prior.fitter.fit({ aflw68: benchmarkLandmarks(basis, truth) });
    const refit = fitSilhouette(basis, mean, 'face', photo);
    const lm0 = benchmarkLandmarks(basis, mean);
    const mid = lm0.reduce((s, p) => s + p[0], 0) / 68;
    // the profile side only: mirror x for a face looking left
    const side = (m: Uint8Array) => (yaw > 0 ? m : Uint8Array.from({ length: m.length }, (_, p) => m[Math.floor(p / SIZE) * SIZE + SIZE - 1 - (p % SIZE)]));
    const from = yaw > 0 ? mid : SIZE - 1 - mid;
    const before = profileDisagreement(side(maskOf(priorMesh(basis, mean, 'face', { surfaceLandmarks: true }))), side(trueMask), from);
    const after = profileDisagreement(side(maskOf(priorMesh(basis, refit, 'face', { surfaceLandmarks: true }))), side(trueMask), from);
    assert.ok(after < 0.85 * before, `yaw ${yaw}: ${before} profile pixels wrong before, ${after} after`);
    // pose, scale and expression are the fit's; the 68 points move little (cm)
    assert.deepEqual(refit.rotation, mean.rotation);
    assert.equal(refit.scale, mean.scale);
    // of the expression weights only the lips' and the jaw's thrust may move, within [0, 1]
    const free = new Set(SILHOUETTE_DEFAULTS.expressions.map((n) => basis.expressionNames.indexOf(n)));
    refit.expression.forEach((x, j) => {
      if (!free.has(j)) assert.equal(x, mean.expression[j], `expression ${basis.expressionNames[j]} moved`);
      assert.ok(x >= 0 && x <= 1);
    });
    const lm1 = benchmarkLandmarks(basis, refit);
    const moved = lm1.map((p, k) => Math.hypot(p[0] - lm0[k][0], p[1] - lm0[k][1], p[2] - lm0[k][2]) / mean.scale);
    const meanMove = moved.reduce((s, x) => s + x, 0) / 68;
    assert.ok(meanMove < 0.15, `yaw ${yaw}: the landmarks moved ${meanMove.toFixed(3)} cm on average`);
    assert.ok(refit.identity.some((x, j) => x !== mean.identity[j]), 'the identity moved');
    // a photo without edges changes nothing
    const still = fitSilhouette(basis, mean, 'face', photoOf(trueMask, true));
    assert.deepEqual([still.identity, still.expression], [mean.identity, mean.expression]);
  }
});
