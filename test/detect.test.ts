import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { VoxfaceError, type Detection, type RGBImage, type Vec2, type Vec3 } from '../src/types.ts';
import { decodeImage } from '../src/node/decode.ts';
import { loadFaceDetector } from '../src/node/detectors.ts';
import { boxDetector, parseBox } from '../src/detect/box.ts';
import { iou, nms, weightedNms } from '../src/detect/nms.ts';
import { ssdAnchors, BLAZE_SPECS } from '../src/detect/blazeface.ts';
import { MESH_TO_IBUG68 } from '../src/detect/mesh68.ts';
import { FaceMesh, isSettled, MAX_SETTLED_NOSE_OFFSET, noseOffset, roiFromLandmarkBox, roiFromMesh, settledRoiFromLandmarkBox, SETTLED_ROI } from '../src/detect/facemesh.ts';
import { sampleAffine } from '../src/align/sample.ts';

const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const absent = !existsSync(path.join(SHARED, 'faces')) || !existsSync(path.join(SHARED, 'aflw2000-3d-dev'));
const skip = absent ? 'needs ../shared (VOXFACE_SHARED)' : false;

// Models are loaded once for the whole file.
const detectorP = loadFaceDetector();
const photo = async (rel: string): Promise<RGBImage> => decodeImage(readFileSync(path.join(SHARED, rel)));
const inBox = (p: Vec2, b: Detection['box']) => p[0] >= b[0] && p[0] <= b[0] + b[2] && p[1] >= b[1] && p[1] <= b[1] + b[3];
const mean = (pts: Vec2[]): Vec2 => [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];

/** The photo turned clockwise by a quarter or half turn, and where a photo point lands. */
function turn(img: RGBImage, quarterTurns: 1 | 2): { image: RGBImage; map: (p: Vec2) => Vec2 } {
  const W = quarterTurns === 1 ? img.height : img.width, H = quarterTurns === 1 ? img.width : img.height;
  const m =
    quarterTurns === 1
      ? { a: 0, b: 1, c: 0, d: -1, e: 0, f: img.height } // output (u, v) ← photo (v, H0 − u)
      : { a: -1, b: 0, c: img.width, d: 0, e: -1, f: img.height };
  const f = sampleAffine(img, m, W, H, { mul: 255 });
  const data = Uint8Array.from(f, (v) => Math.round(v));
  const map = (p: Vec2): Vec2 => (quarterTurns === 1 ? [img.height - p[1], p[0]] : [img.width - p[0], img.height - p[1]]);
  return { image: { width: W, height: H, data }, map };
}

function mirror(img: RGBImage): RGBImage {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      out.set(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3), (y * img.width + img.width - 1 - x) * 3);
    }
  }
  return { ...img, data: out };
}

test('every AFLW2000-3D dev photo: exactly one face, around the ground truth, with 68 landmarks', { skip }, async () => {
  const detector = await detectorP;
  const gt = JSON.parse(readFileSync(path.join(SHARED, 'aflw2000-3d-dev', 'ground_truth.json'), 'utf8'));
  for (const [name, g] of Object.entries<{ landmarks68_2d_reannotated: Vec2[] }>(gt)) {
    const faces = await detector.detect(await photo(`aflw2000-3d-dev/${name}.jpg`));
    assert.equal(faces.length, 1, `${name}: ${faces.length} faces`);
    const truth = g.landmarks68_2d_reannotated;
    assert.ok(inBox(mean(truth), faces[0].box), `${name}: box misses the face`);
    assert.match(faces[0].source, /^(blazeface-(back|front|full)|faceboxes)$/);
    // Face Mesh → 68 points: mean error under 8% of the ground-truth box size (measured: ~3.3%).
    const lm = faces[0].landmarks68;
    assert.ok(lm && lm.length === 68, `${name}: no landmarks68`);
    const xs = truth.map((p) => p[0]), ys = truth.map((p) => p[1]);
    const norm = Math.sqrt((Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys)));
    const nme = lm.reduce((s, p, i) => s + Math.hypot(p[0] - truth[i][0], p[1] - truth[i][1]), 0) / 68 / norm;
    assert.ok(nme < 0.08, `${name}: landmark error ${(nme * 100).toFixed(1)}%`);
  }
});

test('a group photo in dlib-faces gives several faces, largest first', { skip }, async () => {
  const detector = await detectorP;
  const faces = await detector.detect(await photo('faces/dlib-faces/2008_002470.jpg'));
  assert.ok(faces.length >= 5, `${faces.length} faces`);
  for (let i = 1; i < faces.length; i++) assert.ok(faces[i - 1].box[2] * faces[i - 1].box[3] >= faces[i].box[2] * faces[i].box[3]);
  for (let i = 0; i < faces.length; i++) for (let j = i + 1; j < faces.length; j++) assert.ok(iou(faces[i].box, faces[j].box) < 0.3);
});

test('turned faces (the most turned of the shared photos, yaw 35–50°) are found, also mirrored', { skip }, async () => {
  // deepface/ holds no true profiles; 3ddfa-v2/emma.jpg shows three faces turned 35–50° away.
  const detector = await detectorP;
  const img = await photo('faces/3ddfa-v2/emma.jpg');
  const faces = await detector.detect(img);
  assert.equal(faces.length, 3);
  const flipped = await detector.detect(mirror(img));
  assert.equal(flipped.length, 3);
  for (const f of faces) {
    const c: Vec2 = [img.width - (f.box[0] + f.box[2] / 2), f.box[1] + f.box[3] / 2];
    assert.ok(flipped.some((g) => inBox(c, g.box)), 'the mirrored face is found at the mirrored place');
  }
});

test('a photo turned by 90° and one upside down: the face is still found', { skip }, async () => {
  const detector = await detectorP;
  const gt = JSON.parse(readFileSync(path.join(SHARED, 'aflw2000-3d-dev', 'ground_truth.json'), 'utf8'));
  const name = 'image00302';
  const img = await photo(`aflw2000-3d-dev/${name}.jpg`);
  const centre = mean(gt[name].landmarks68_2d_reannotated);
  for (const q of [1, 2] as const) {
    const { image, map } = turn(img, q);
    const faces = await detector.detect(image);
    assert.ok(faces.length >= 1, `turned ${q * 90}°: no face`);
    assert.ok(inBox(map(centre), faces[0].box), `turned ${q * 90}°: wrong place`);
    if (q === 1) {
      // Quarter turns are measured correctly; upside-down faces may be fitted upright (roll unknown).
      const roll = faces[0].roll ?? 0;
      assert.ok(Math.abs(roll - 90) < 30, `turned 90°: roll ${roll.toFixed(0)}`);
    }
  }
});

test('random noise and a smooth gradient contain no face', async () => {
  const detector = await detectorP;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 255;
  const noise: RGBImage = { width: 320, height: 240, data: Uint8Array.from({ length: 320 * 240 * 3 }, rand) };
  assert.deepEqual(await detector.detect(noise), []);
  const grad = new Uint8Array(300 * 300 * 3);
  for (let i = 0; i < 300 * 300; i++) grad.fill(Math.round(((i % 300) + Math.floor(i / 300)) / 2.35), i * 3, i * 3 + 3);
  assert.deepEqual(await detector.detect({ width: 300, height: 300, data: grad }), []);
  // A tiny photo is no error either.
  assert.deepEqual(await detector.detect({ width: 4, height: 3, data: new Uint8Array(36) }), []);
});

test('the cascade: a portrait stops after the first look, a group photo looks again; both find what every detector at once finds', { skip }, async () => {
  const cascade = await detectorP;
  const all = await loadFaceDetector({ cascade: false });
  const same = (p: Detection[], q: Detection[]) =>
    p.length === q.length && p.every((d, i) => d.source === q[i].source && d.box.every((v, k) => Math.abs(v - q[i].box[k]) < 1e-9));
  // a portrait: BlazeFace-front alone and Face Mesh, the back model never runs
  const portrait = await photo('aflw2000-3d-dev/image00046.jpg');
  const found = await cascade.detect(portrait);
  assert.equal(found.length, 1);
  assert.ok(!('blazeface-back' in cascade.lastTimings), JSON.stringify(cascade.lastTimings));
  assert.ok('blazeface-front' in cascade.lastTimings);
  assert.equal((await all.detect(portrait)).length, 1);
  assert.ok('blazeface-back' in all.lastTimings);
  // small faces: the first look's faces do not explain the photo, so every detector looks, as without the cascade
  for (const rel of ['faces/dlib-faces/2008_002470.jpg', 'faces/dlib-faces/2008_004176.jpg']) {
    const img = await photo(rel);
    const a = await cascade.detect(img);
    assert.ok('blazeface-back' in cascade.lastTimings, rel);
    assert.ok(same(a, await all.detect(img)), rel);
    assert.ok(a.length >= 5, `${rel}: ${a.length} faces`);
  }
});

test('one Face Mesh pass for a settled face: a portrait gets one (within 2% of the face size from the points of the two passes); a profile is found as without it', { skip }, async () => {
  const settled = await detectorP;
  const twice = await loadFaceDetector({ settled: false });
  let runs = 0;
  const run = FaceMesh.prototype.run;
  FaceMesh.prototype.run = function (this: FaceMesh, ...a: Parameters<FaceMesh['run']>) {
    runs++;
    return run.apply(this, a);
  };
  try {
    const portrait = await photo('aflw2000-3d-dev/image00046.jpg');
    runs = 0;
    const [one] = await settled.detect(portrait);
    assert.equal(runs, 1, 'one Face Mesh pass');
    runs = 0;
    const [two] = await twice.detect(portrait);
    assert.equal(runs, 2, 'two passes without it');
    const side = Math.max(one.box[2], one.box[3]);
    const dist = one.landmarks68!.reduce((s, p, i) => s + Math.hypot(p[0] - two.landmarks68![i][0], p[1] - two.landmarks68![i][1]), 0) / 68;
    assert.ok(dist < 0.02 * side, `mean landmark distance ${dist.toFixed(2)} px of a ${side.toFixed(0)} px face`);
    // a profile (examples/profile.jpg, an ICT render at 82°): BlazeFace's keypoints show it turned (noseOffset), so no
    // candidate tries the settled pass (it would not settle): the same passes from the box as without it
    const turned = await decodeImage(readFileSync(path.join(import.meta.dirname, '..', 'examples', 'profile.jpg')));
    runs = 0;
    const t1 = await settled.detect(turned);
    const r1 = runs;
    runs = 0;
    const t2 = await twice.detect(turned);
    assert.equal(r1, runs, `${r1} passes against ${runs}`);
    assert.equal(t1.length, 1);
    assert.deepEqual(t1, t2, 'an unsettled face: the same detection as without it');
  } finally {
    FaceMesh.prototype.run = run;
  }
});

test('noseOffset: the nose tip from the eyes\' middle along their line, in eye distances, at any roll; undefined without keypoints', () => {
  const eyes = (t: number, nose: number): Vec2[] => {
    const c = Math.cos(t), s = Math.sin(t);
    const at = (x: number, y: number): Vec2 => [100 + c * x - s * y, 80 + s * x + c * y];
    return [at(-20, 0), at(20, 0), at(nose * 40, 15), at(0, 30), at(-35, 5), at(35, 5)];
  };
  for (const t of [0, 0.4, -1.2, Math.PI]) {
    assert.ok(Math.abs(noseOffset(eyes(t, 0))!) < 1e-12);
    assert.ok(Math.abs(noseOffset(eyes(t, 0.3))! - 0.3) < 1e-12);
    assert.ok(Math.abs(noseOffset(eyes(t, -0.6))! + 0.6) < 1e-12);
  }
  assert.equal(noseOffset(undefined), undefined);
  assert.equal(noseOffset([[1, 1], [1, 1], [2, 2]]), undefined, 'eyes on one point');
  assert.ok(MAX_SETTLED_NOSE_OFFSET > 0.3 && MAX_SETTLED_NOSE_OFFSET < 1);
});

test('settledRoiFromLandmarkBox moves the region toward the top of the rolled face; isSettled wants a sure pass whose own region agrees', async () => {
  const box: Detection['box'] = [100, 200, 80, 80];
  const up = SETTLED_ROI.up * 80;
  const r0 = settledRoiFromLandmarkBox(box, 0);
  assert.ok(Math.abs(r0.cx - 140) < 1e-9 && Math.abs(r0.cy - (240 - up)) < 1e-9 && Math.abs(r0.size - SETTLED_ROI.size * 80) < 1e-9);
  const r90 = settledRoiFromLandmarkBox(box, 90); // turned a quarter clockwise: the top of the face points to +x
  assert.ok(Math.abs(r90.cx - (140 + up)) < 1e-9 && Math.abs(r90.cy - 240) < 1e-9);
  assert.deepEqual(roiFromLandmarkBox(box, 7), { cx: 140, cy: 240, size: 120, roll: 7 });
  // a real portrait's pass where ../shared is here (settled), else a cloud of points (the gates below hold for any)
  const pts: Vec3[] = Array.from({ length: 468 }, (_, i) => [Math.cos(i) * 40 + 300 + (i % 7), Math.sin(i * 1.3) * 50 + 300, 0]);
  const portrait = await detectorP.then(async (d) => (skip ? undefined : (await d.detect(await photo('aflw2000-3d-dev/image00046.jpg')))[0]));
  const points = portrait?.mesh468 ?? pts;
  const roi = roiFromMesh(points);
  const pass = { points, score: 0.999, roi };
  if (portrait) assert.equal(isSettled(pass), true);
  assert.equal(isSettled({ ...pass, score: 0.9 }), false, 'unsure');
  assert.equal(isSettled({ ...pass, roi: { ...roi, cx: roi.cx + 0.2 * roi.size } }), false, 'moved');
  assert.equal(isSettled({ ...pass, roi: { ...roi, size: roi.size * 1.3 } }), false, 'larger');
  assert.equal(isSettled({ ...pass, roi: { ...roi, roll: roi.roll + 20 } }), false, 'rolled');
  assert.equal(isSettled({ ...pass, roi: { ...roi, roll: roi.roll + 360 } }), isSettled(pass), 'a whole turn is no roll');
});

test('boxDetector: the user box bypasses detection', async () => {
  const img: RGBImage = { width: 100, height: 80, data: new Uint8Array(100 * 80 * 3) };
  assert.deepEqual(await boxDetector(parseBox('10, 20, 30,40')).detect(img), [{ box: [10, 20, 30, 40], score: 1, source: 'user' }]);
  assert.throws(() => parseBox('10,20,30'), VoxfaceError);
  assert.throws(() => parseBox('10,20,0,5'), /positive/);
  await assert.rejects(boxDetector([200, 10, 20, 20]).detect(img), /outside/);
});

test('anchors, NMS and the 468→68 table are well formed', () => {
  assert.equal(ssdAnchors(128, BLAZE_SPECS.front.layers).length, 896 * 2);
  assert.equal(ssdAnchors(256, BLAZE_SPECS.back.layers).length, 896 * 2);
  assert.equal(ssdAnchors(192, BLAZE_SPECS.full.layers).length, 2304 * 2);
  const a = ssdAnchors(128, BLAZE_SPECS.front.layers);
  assert.deepEqual([a[0], a[1], a[2], a[3], a[4]], [0.5 / 16, 0.5 / 16, 0.5 / 16, 0.5 / 16, 1.5 / 16]);
  const dets: Detection[] = [
    { box: [0, 0, 10, 10], score: 0.9, source: 't', keypoints: [[1, 1]] },
    { box: [1, 1, 10, 10], score: 0.6, source: 't', keypoints: [[2, 2]] },
    { box: [50, 50, 10, 10], score: 0.7, source: 't', keypoints: [[55, 55]] },
  ];
  assert.equal(nms(dets, 0.3).length, 2);
  const w = weightedNms(dets, 0.3);
  assert.equal(w.length, 2);
  assert.ok(Math.abs(w[0].box[0] - 0.6 / 1.5) < 1e-9 && w[0].score === 0.9);
  assert.ok(Math.abs(w[0].keypoints![0][0] - (0.9 + 1.2) / 1.5) < 1e-9);
  assert.equal(MESH_TO_IBUG68.length, 68);
  assert.equal(new Set(MESH_TO_IBUG68).size, 68);
  assert.ok(MESH_TO_IBUG68.every((i) => Number.isInteger(i) && i >= 0 && i < 468));
});

test('detector networks on onnxruntime (scripts/tfjs-onnx.py): the committed graphs are what the script writes, and answer as TF.js does', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { fileModelLoader, initTfBackend, onnxNetLoader } = await import('../src/node/detectors.ts');
  const { graphNets, ONNX_DETECTOR_NETS } = await import('../src/detect/models.ts');
  const models = path.resolve(import.meta.dirname, '..', 'models');
  const python = existsSync('/usr/bin/python3') && execFileSync('/usr/bin/python3', ['-c', 'import onnx; print(1)'], { encoding: 'utf8' }).trim() === '1';
  await initTfBackend();
  const tfjs = graphNets(fileModelLoader());
  const onnx = onnxNetLoader(models, 1);
  const sizes: Record<string, number> = { facemesh: 192, 'blazeface-front': 128, 'blazeface-back': 256 };
  const dir = mkdtempSync(path.join(tmpdir(), 'voxface-onnx-'));
  try {
    for (const name of ONNX_DETECTOR_NETS) {
      await t.test(name, async () => {
        if (python) {
          const out = path.join(dir, `${name}.onnx`);
          execFileSync('/usr/bin/python3', ['scripts/tfjs-onnx.py', name, out], { cwd: path.resolve(import.meta.dirname, '..'), stdio: 'pipe' });
          assert.ok(readFileSync(out).equals(readFileSync(path.join(models, `${name}.onnx`))), `models/${name}.onnx is not what scripts/tfjs-onnx.py writes`);
        }
        // a smooth image with edges (a photo-like input) in the model's range: Face Mesh [0, 1], BlazeFace [−1, 1]
        const S = sizes[name];
        const lo = name === 'facemesh' ? 0 : -1;
        const x = new Float32Array(S * S * 3);
        for (let j = 0; j < S; j++) for (let i = 0; i < S; i++) for (let c = 0; c < 3; c++) {
          const v = 0.5 + 0.35 * Math.sin((i * (c + 1)) / 9) * Math.cos(j / 13) + (Math.hypot(i - S / 2, j - S / 2) < S / 4 ? 0.15 : 0);
          x[(j * S + i) * 3 + c] = lo + (1 - lo) * v;
        }
        const a = await (await tfjs(name))(x, [1, S, S, 3]);
        const b = await (await onnx(name))(x, [1, S, S, 3]);
        assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
        for (const [k, ta] of a) {
          const tb = b.get(k)!;
          assert.deepEqual(tb.data.length, ta.data.length, k);
          let scale = 0, diff = 0;
          for (let i = 0; i < ta.data.length; i++) {
            scale = Math.max(scale, Math.abs(ta.data[i]));
            diff = Math.max(diff, Math.abs(ta.data[i] - tb.data[i]));
          }
          assert.ok(diff <= 1e-5 * Math.max(scale, 1), `${name} ${k}: differs by ${diff} (values up to ${scale})`);
        }
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fresh processes: the default detector never loads TF.js for a portrait; on TF.js alone its graphs load together on one backend', async () => {
  const { execFileSync } = await import('node:child_process');
  const root = path.resolve(import.meta.dirname, '..');
  const run = (runtime: 'onnx' | 'tfjs') => {
    const script = `
      import { readFileSync } from 'node:fs';
      import { loadFaceDetector } from './src/node/detectors.ts';
      import { decodeImage } from './src/node/decode.ts';
      import { loadedTf } from './src/detect/tf.ts';
      const before = loadedTf() !== undefined;
      const detector = await loadFaceDetector({ runtime: '${runtime}' });
      const faces = await detector.detect(await decodeImage(readFileSync('examples/face.jpg')));
      console.log(JSON.stringify({ before, after: loadedTf() !== undefined, boxes: faces.map((d) => d.box) }));`;
    const lines = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }).trim().split('\n');
    return JSON.parse(lines[lines.length - 1]) as { before: boolean; after: boolean; boxes: number[][] };
  };
  const onnx = run('onnx');
  const tfjs = run('tfjs');
  assert.equal(onnx.before, false, 'importing the Node adapter does not load TF.js');
  assert.equal(onnx.after, false, 'a portrait on the default (onnxruntime) detector never loads TF.js');
  assert.equal(tfjs.after, true);
  assert.equal(onnx.boxes.length, 1);
  assert.equal(tfjs.boxes.length, 1);
  onnx.boxes[0].forEach((v, i) => assert.ok(Math.abs(v - tfjs.boxes[0][i]) < 0.5, `box ${onnx.boxes[0]} vs ${tfjs.boxes[0]}`));
});
