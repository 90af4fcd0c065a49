/**
 * The benchmark's 68 landmarks on ICT's face (src/prior/landmarks68-aflw.ts), the prior fitted to them, and the
 * landmark stage (src/landmarks/regressor.ts) with a stand-in session and with the shipped model on real photos.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImageLevels } from '../src/align/sample.ts';
import { rotationFromAngles } from '../src/landmarks/pose.ts';
import { cropAroundBox, firstLandmarkCrop, parseLandmarkModelInfo, regressLandmarks } from '../src/landmarks/regressor.ts';
import type { LandmarkModel, LandmarkModelInfo } from '../src/landmarks/regressor.ts';
import { decodeImage, loadFaceDetector, loadLandmarkModel } from '../src/node/index.ts';
import { LANDMARKS68_AFLW } from '../src/prior/landmarks68-aflw.ts';
import { benchmarkLandmarks, createShapePrior, fitPrior, landmarkSurfaceField, priorLandmarks, priorMesh } from '../src/prior/index.ts';
import { surfaceDepthAt } from '../src/metrics/surface.ts';
import type { PriorFit } from '../src/prior/index.ts';
import { MIRROR68 } from '../src/network/index.ts';
import { VoxfaceError } from '../src/types.ts';
import type { InferenceSession, Tensor, Vec3 } from '../src/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prior = createShapePrior(readFileSync(path.join(root, 'models', 'ict-face.bin')));
const { basis } = prior;
const info: LandmarkModelInfo = { kind: 'landmarks68', inputSize: 112, crop: { k: 1.5, dx: 0, dy: 0.05 }, input: 'crop', output: 'landmarks' };

test('benchmark 68: vertices of the face, offsets of a few cm at most, the jaw contour inside the head', () => {
  assert.equal(LANDMARKS68_AFLW.vertex.length, 68);
  assert.equal(LANDMARKS68_AFLW.offset.length, 204);
  const face = new Set(basis.meshes.face.vertex);
  for (const v of LANDMARKS68_AFLW.vertex) assert.ok(face.has(v), `vertex ${v} is on the face mesh`);
  for (const x of LANDMARKS68_AFLW.offset) assert.ok(Math.abs(x) < 4, `offset ${x} cm`);
  // the mean face, front on: the benchmark's jaw corners (0, 16) lie nearer the face's centre line than ICT's
  const fit: Pick<PriorFit, 'identity' | 'expression' | 'rotation' | 'scale' | 'translation'> = {
    identity: new Float32Array(60), expression: new Float32Array(53), rotation: rotationFromAngles({ yaw: 0, pitch: 0, roll: 0 }), scale: 10, translation: [0, 0, 0],
  };
  const ours = benchmarkLandmarks(basis, fit), ict = priorLandmarks(basis, fit as PriorFit);
  assert.ok(ours[16][0] - ours[0][0] < ict[16][0] - ict[0][0], 'jaw narrower than ICT’s outline');
  // left/right order of the iBUG 68: point 36 (the photo's left eye corner) is left of 45, the nose tip in front
  assert.ok(ours[36][0] < ours[45][0]);
  assert.ok(ours[30][2] > ours[36][2]);
});

test('surface field: the face passes through the benchmark\'s interior 68 points, a profile keeps its nose, the rest stays', () => {
  const w = new Float32Array(60);
  w[0] = 1; w[2] = -0.7;
  const e = new Float32Array(53);
  e[basis.expressionNames.indexOf('jawOpen')] = 0.25;
  const fit = { identity: w, expression: e, rotation: rotationFromAngles({ yaw: 80, pitch: 0, roll: 0 }), scale: 10, translation: [300, -200, 0] as Vec3 } as unknown as PriorFit;
  const pts = benchmarkLandmarks(basis, fit);
  const on = priorMesh(basis, fit, 'face', { surfaceLandmarks: true });
  const off = priorMesh(basis, fit, 'face');
  const at = (m: typeof on, k: number) => {
    const i = basis.meshes.face.vertex.indexOf(LANDMARKS68_AFLW.vertex[k]);
    return Math.hypot(m.positions[3 * i] - pts[k][0], m.positions[3 * i + 1] - pts[k][1], m.positions[3 * i + 2] - pts[k][2]) / fit.scale;
  };
  // cm: each interior landmark vertex within 1 mm of its point (the ridge lets it miss a little); without, the nose tip 5 mm
  for (let k = 17; k < 68; k++) assert.ok(at(on, k) < 0.1, `landmark ${k}: ${at(on, k).toFixed(3)} cm from the surface`);
  assert.ok(at(off, 30) > 0.4, `ICT's own surface: nose tip ${at(off, 30).toFixed(3)} cm behind the point`);
  // turned 60° and 70°, the nose and lips stand out of ICT's outline: the camera's rays through the points miss it;
  // on the moved surface nearly all of them meet the face
  for (const yaw of [60, 70]) {
    const turned = { ...fit, rotation: rotationFromAngles({ yaw, pitch: 0, roll: 0 }) } as PriorFit;
    const xy = benchmarkLandmarks(basis, turned).slice(17).map(([x, y]): [number, number] => [x, y]);
    const misses = (m: typeof on) => Array.from(surfaceDepthAt(m, xy)).filter((z) => !Number.isFinite(z)).length;
    const [before, after] = [misses(priorMesh(basis, turned, 'face')), misses(priorMesh(basis, turned, 'face', { surfaceLandmarks: true }))];
    assert.ok(before >= 10 && after <= 4, `yaw ${yaw}: ${before} of 51 points off ICT's surface, ${after} off the moved one`);
  }
  // nothing moves further than the largest offset, and the forehead's top, the ears and the neck do not move at all
  const d = landmarkSurfaceField(basis);
  const longest = Math.max(...Array.from({ length: 51 }, (_, j) => Math.hypot(...Array.from(LANDMARKS68_AFLW.offset.slice(3 * (j + 17), 3 * (j + 18))))));
  let still = 0;
  for (let v = 0; v < basis.vertexCount; v++) {
    const m = Math.hypot(d[3 * v], d[3 * v + 1], d[3 * v + 2]);
    assert.ok(m <= longest + 1e-5, `vertex ${v} moves ${m} cm`);
    if (m === 0) still++;
  }
  assert.ok(still > 0.4 * basis.vertexCount, `${still} of ${basis.vertexCount} vertices unmoved`);
});

test('prior fit from a start: the second fit of the same points (a new identity centre) lands where a cold fit does, in two steps', () => {
  const w = new Float32Array(60);
  w[0] = 1.5; w[2] = -1; w[5] = 0.8;
  const e = new Float32Array(53);
  e[basis.expressionNames.indexOf('jawOpen')] = 0.2;
  const truth = { identity: w, expression: e, rotation: rotationFromAngles({ yaw: 35, pitch: -8, roll: 4 }), scale: 9, translation: [300, -200, 0] as Vec3 };
  const aflw68 = benchmarkLandmarks(basis, truth);
  const first = prior.fitter.fit({ aflw68 });
  const centre = Array.from(w, (v) => 0.8 * v);
  const cold = prior.fitter.fit({ aflw68 }, { identityCenter: centre });
  const warm = prior.fitter.fit({ aflw68 }, { identityCenter: centre, start: first, iterations: 2 });
  const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.hypot(...Array.from(a, (v, k) => v - b[k]));
  assert.ok(dist(first.identity, cold.identity) > 0.3, `the centre moves the fit: ${dist(first.identity, cold.identity)}`);
  assert.ok(dist(warm.identity, cold.identity) < 0.05, `identity: warm ${dist(warm.identity, cold.identity)} from cold`);
  assert.ok(Math.abs(warm.pose.yaw - cold.pose.yaw) < 0.2 && Math.abs(warm.scale / cold.scale - 1) < 1e-3);
  // no steps: the start itself comes back (its pose and weights)
  const none = prior.fitter.fit({ aflw68 }, { start: first, iterations: 0 });
  assert.ok(dist(none.identity, first.identity) < 1e-6 && Math.abs(none.pose.yaw - first.pose.yaw) < 1e-9);
});

test('prior fit to the benchmark 68: a noise-free face is recovered (pose within 1°, points within 0.5 px)', () => {
  const w = new Float32Array(60);
  w[0] = 1.2; w[1] = -0.8; w[3] = 0.5;
  const e = new Float32Array(53);
  e[basis.expressionNames.indexOf('jawOpen')] = 0.3;
  for (const pose of [{ yaw: 0, pitch: 5, roll: 0 }, { yaw: 55, pitch: -10, roll: 8 }, { yaw: -80, pitch: 0, roll: 0 }]) {
    const truth = { identity: w, expression: e, rotation: rotationFromAngles(pose), scale: 9, translation: [300, -200, 0] as Vec3 };
    const pts = benchmarkLandmarks(basis, truth);
    const fit = prior.fitter.fit({ aflw68: pts }, { iterations: 10, identityPrior: 1e-9, expressionPrior: 1e-9 });
    assert.equal(fit.source, 'aflw68');
    assert.ok(Math.abs(fit.pose.yaw - pose.yaw) < 1, `yaw ${fit.pose.yaw} for ${pose.yaw}`);
    const back = benchmarkLandmarks(basis, fit);
    const err = Math.max(...back.map((p, i) => Math.hypot(p[0] - pts[i][0], p[1] - pts[i][1])));
    assert.ok(err < 0.5, `max 2D error ${err} px at yaw ${pose.yaw}`);
  }
});

test('fitPrior: the landmark network decides the yaw; Face Mesh is fitted only for faces it judges near-frontal', () => {
  const truth = (yaw: number) => ({ identity: new Float32Array(60), expression: new Float32Array(53), rotation: rotationFromAngles({ yaw, pitch: 0, roll: 0 }), scale: 9, translation: [300, -200, 0] as Vec3 });
  const mesh468 = Array.from({ length: 468 }, (_, i): Vec3 => [300 + (i % 20), 200 + Math.floor(i / 20), 0]);
  const landmarks68 = priorLandmarks(basis, truth(0) as PriorFit);
  assert.equal(fitPrior(prior, { mesh468, landmarks68, aflw68: benchmarkLandmarks(basis, truth(10)) }).source, 'facemesh');
  assert.equal(fitPrior(prior, { mesh468, landmarks68, aflw68: benchmarkLandmarks(basis, truth(70)) }).source, 'aflw68');
  assert.equal(fitPrior(prior, { landmarks68, aflw68: benchmarkLandmarks(basis, truth(10)) }).source, 'aflw68');
});

test('landmark sidecar: a bad one is a MODEL_ERROR naming the field', () => {
  assert.deepEqual(parseLandmarkModelInfo(JSON.parse(JSON.stringify(info))), info);
  for (const [bad, word] of [[{ ...info, kind: 'vrn' }, 'kind'], [{ ...info, inputSize: 0 }, 'inputSize'], [{ ...info, crop: { k: -1, dx: 0, dy: 0 } }, 'crop'], [{ ...info, output: 3 }, 'output']] as const) {
    assert.throws(() => parseLandmarkModelInfo(bad), (e: unknown) => e instanceof VoxfaceError && e.code === 'MODEL_ERROR' && e.message.includes(word));
  }
});

test('landmark stage: crop units → photo pixels, and a second pass on the crop its points give', async () => {
  // a stand-in network that always answers the same crop-unit points: a box from (0.2, 0.25) to (0.8, 0.85)
  const out = new Float32Array(204);
  for (let i = 0; i < 68; i++) {
    out[3 * i] = 0.2 + (0.6 * (i % 17)) / 16;
    out[3 * i + 1] = 0.25 + (0.6 * Math.floor(i / 17)) / 3;
    out[3 * i + 2] = (i % 5) * 0.01;
  }
  // its answer on a mirrored crop: the same face mirrored (landmark MIRROR68[i] at 1 − x), so the flip's average is `out`
  const mirrored = new Float32Array(204);
  for (let i = 0; i < 68; i++) {
    const j = MIRROR68[i];
    mirrored[3 * j] = 1 - out[3 * i];
    mirrored[3 * j + 1] = out[3 * i + 1];
    mirrored[3 * j + 2] = out[3 * i + 2];
  }
  const seen: number[][] = [];
  const session: InferenceSession = {
    inputNames: ['crop'], outputNames: ['landmarks'],
    async run(feeds: Record<string, Tensor>) {
      seen.push(feeds.crop.dims);
      const n = feeds.crop.dims[0];
      // the mirrored half of the batch is the first half flipped left to right
      if (n === 2) {
        const d = feeds.crop.data, half = d.length / 2, w = 112;
        for (const k of [0, 5000, 20000]) assert.equal(d[half + k], d[k - (k % w) + w - 1 - (k % w)]);
      }
      return { landmarks: { data: n === 2 ? Float32Array.from([...out, ...mirrored]) : out, dims: [n, 68, 3] } };
    },
  };
  const model: LandmarkModel = { session, info };
  const image = { width: 400, height: 300, data: new Uint8Array(400 * 300 * 3).fill(128) };
  const levels = new ImageLevels(image);
  const first = cropAroundBox([100, 80, 120, 120], info);
  assert.equal(first.size * first.scale, 180); // k · √(w·h)
  assert.deepEqual(first.offset, [70, 80 + 60 + 0.05 * 120 - 90]);
  const { landmarks, crop } = await regressLandmarks(levels, first, model, 2);
  assert.deepEqual(seen, [[1, 3, 112, 112], [2, 3, 112, 112]]); // the last pass with its mirror
  // the second crop is the rule applied to the first pass's points (a 0.6 × 0.6 box of the 180 px crop = 108 px)
  assert.ok(Math.abs(crop.size * crop.scale - 1.5 * 108) < 1e-3); // float32 outputs
  const side = crop.size * crop.scale;
  assert.ok(Math.abs(landmarks[0][0] - (crop.offset[0] + 0.2 * side)) < 1e-3);
  assert.ok(Math.abs(landmarks[67][1] - (crop.offset[1] + 0.85 * side)) < 1e-3);
  assert.ok(Math.abs(landmarks[3][2] - 0.03 * side) < 1e-3);
});

test('landmark model on real photos: the 68 points lie on the face, in order, turned the right way', async () => {
  const model = await loadLandmarkModel(path.join(root, 'models', 'landmarks68.onnx'));
  const detector = await loadFaceDetector();
  // the examples' true yaws (examples/README.md): face.jpg about −25°, profile.jpg +82°
  for (const [file, lo, hi] of [['face.jpg', -40, -10], ['profile.jpg', 60, 100]] as const) {
    const image = await decodeImage(readFileSync(path.join(root, 'examples', file)));
    const levels = new ImageLevels(image);
    const [det] = await detector.detect(image, levels);
    const { landmarks } = await regressLandmarks(levels, firstLandmarkCrop(det, model.info), model);
    const [x, y, w, h] = det.box;
    const inside = landmarks.filter(([px, py]) => px > x - 0.3 * w && px < x + 1.3 * w && py > y - 0.3 * h && py < y + 1.3 * h).length;
    assert.ok(inside >= 66, `${file}: ${inside} of 68 points near the face box`);
    // eyes (36–47) above the mouth (48–67), brows above the eyes
    const meanY = (a: number, b: number) => landmarks.slice(a, b).reduce((s, p) => s + p[1], 0) / (b - a);
    assert.ok(meanY(17, 27) < meanY(36, 48) && meanY(36, 48) < meanY(48, 68), `${file}: brows, eyes, mouth top to bottom`);
    const fit = prior.fitter.fit({ aflw68: landmarks });
    assert.ok(fit.pose.yaw > lo && fit.pose.yaw < hi, `${file}: yaw ${fit.pose.yaw}, expected between ${lo} and ${hi}`);
    // the pipeline's order: the first pass alone judges the yaw, the refining pass continues it to the same points
    const quick = await regressLandmarks(levels, firstLandmarkCrop(det, model.info), model, 1, false);
    const resumed = await regressLandmarks(levels, firstLandmarkCrop(det, model.info), model, 2, true, quick.landmarks);
    assert.deepEqual(resumed.landmarks, landmarks);
    const yaw = prior.fitter.meanFacePose({ aflw68: quick.landmarks }).yaw;
    assert.ok(yaw > lo && yaw < hi, `${file}: first-pass yaw ${yaw}, expected between ${lo} and ${hi}`);
  }
});
