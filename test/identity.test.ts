/**
 * Identity from the image (src/identity/, issue 18): the encoder's crop, the map file, the regression, the ONNX
 * encoder against `@vladmandic/face-api`'s own TF.js net (whose weights it holds), and — with the shipped map — the
 * encoder on real photos of the same and of different people, and the pipeline's `identity` option.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { embedInputs, identityCrop, identityInput, identityShapeInput, parseIdentityMap, regressIdentity, shapeInputs, IDENTITY_INPUT } from '../src/identity/index.ts';
import { defaultIdentityEncoderPath, defaultIdentityMapPath, loadIdentityModel } from '../src/node/identity.ts';
import { initTfBackend } from '../src/node/detectors.ts';
import { embedFaces } from '../src/identity/index.ts';
import { decodeImage, loadShapePrior, loadVoxface } from '../src/node/index.ts';
import { shapeVertices } from '../src/prior/index.ts';
import { FRONT_VERTICES } from '../eval/dense.ts';
import { ImageLevels } from '../src/align/sample.ts';
import { firstLandmarkCrop, regressLandmarks } from '../src/landmarks/regressor.ts';
import { VoxfaceError } from '../src/types.ts';
import type { InferenceSession, Vec2 } from '../src/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(root, '..', 'shared');
const JOHNS = path.join(SHARED, 'faces', 'dlib-johns');

/** 68 points of an upright face in a unit box: the eyes (36–47) at y 0.35, the mouth (48–67) at y 0.75, jaw around. */
function face68(): Vec2[] {
  const p: Vec2[] = [];
  for (let i = 0; i < 68; i++) {
    if (i >= 36 && i < 48) p.push([i < 42 ? 0.3 + 0.01 * (i - 36) : 0.65 + 0.01 * (i - 42), 0.35]);
    else if (i >= 48) p.push([0.4 + (0.2 * (i - 48)) / 19, 0.75]);
    else p.push([(i % 17) / 16, i < 17 ? 0.2 + (0.8 * (i % 17)) / 16 : 0.25]);
  }
  return p;
}

const apply = (m: ReturnType<typeof identityCrop>, u: number, v: number): Vec2 => [m.a * u + m.b * v + m.c, m.d * u + m.e * v + m.f];

test('identity crop: centred on the landmarks, upright however the face is rolled, side = scale × the box', () => {
  const base = face68().map(([x, y]): Vec2 => [100 + 200 * x, 50 + 200 * y]);
  const upright = identityCrop(base, 1.25);
  // no roll: an axis-aligned square of side 1.25 × 200 around the box centre (x 100–300, y 90–250)
  assert.ok(Math.abs(upright.b) < 1e-9 && Math.abs(upright.d) < 1e-9);
  assert.ok(Math.abs(upright.a * IDENTITY_INPUT - 250) < 1e-6);
  const c = apply(upright, IDENTITY_INPUT / 2, IDENTITY_INPUT / 2);
  assert.ok(Math.hypot(c[0] - 200, c[1] - 170) < 1e-6, `centre ${c}`);
  // rolled by 40° about (200, 150): the crop turns with the face, so each point lands on the same crop pixel
  const t = (40 * Math.PI) / 180;
  const rolled = base.map(([x, y]): Vec2 => [200 + Math.cos(t) * (x - 200) - Math.sin(t) * (y - 150), 150 + Math.sin(t) * (x - 200) + Math.cos(t) * (y - 150)]);
  const m = identityCrop(rolled, 1.25);
  for (const [u, v] of [[0, 0], [75, 40], [150, 150]]) {
    const [x0, y0] = apply(upright, u, v);
    const [x1, y1] = apply(m, u, v);
    const xr = 200 + Math.cos(t) * (x0 - 200) - Math.sin(t) * (y0 - 150), yr = 150 + Math.sin(t) * (x0 - 200) + Math.cos(t) * (y0 - 150);
    assert.ok(Math.hypot(x1 - xr, y1 - yr) < 1e-6, `crop pixel ${u},${v}`);
  }
  assert.throws(() => identityCrop(base.slice(0, 5), 1.25), VoxfaceError);
});

test('identity map: parsed and checked; y = b + M x', () => {
  const map = parseIdentityMap({ embedding: 3, modes: 2, M: [1, 0, 2, 0, -1, 0], b: [0.5, -0.5], cropScale: 1.25, identityPrior: 0.06 });
  assert.deepEqual(Array.from(regressIdentity(map, [1, 2, 3])), [0.5 + 1 + 6, -0.5 - 2]);
  assert.throws(() => regressIdentity(map, [1, 2]), VoxfaceError);
  assert.throws(() => parseIdentityMap({ embedding: 3, modes: 2, M: [1, 2], b: [0, 0], cropScale: 1, identityPrior: 1 }), /M must hold/);
  assert.throws(() => parseIdentityMap({ embedding: 1, modes: 1, M: [NaN], b: [0], cropScale: 1, identityPrior: 1 }), /non-finite/);
  assert.throws(() => parseIdentityMap(null), VoxfaceError);
});

test('identity map with a shape block: the shape network\'s outputs follow the embedding, on its own crop', async () => {
  const base = { embedding: 3, modes: 1, M: [0, 0, 0], b: [0], cropScale: 1.25, identityPrior: 0.06 };
  assert.throws(() => parseIdentityMap({ ...base, shape: { size: 8, cropScale: 1.3, outputs: 2, M: [1, 2], b: [0] } }), /shape block/);
  assert.throws(() => parseIdentityMap({ ...base, shape: { size: 0, cropScale: 1.3, outputs: 2, M: [0, 0, 0, 0, 0], b: [0] } }), /shape block/);
  const map = parseIdentityMap({ ...base, shape: { size: 8, cropScale: 1.3, outputs: 2, M: [1, 0, 0, 10, 100], b: [0.5] } });
  assert.equal(map.shape?.size, 8);
  // stand-in sessions: the encoder answers 3 numbers per face, the shape network the mean of each input channel 0, 1
  const seen: number[][] = [];
  const fake = (input: string, output: string, f: (x: Float32Array, dims: readonly number[]) => number[]): InferenceSession => ({
    inputNames: [input],
    outputNames: [output],
    async run(feeds) {
      const t = feeds[input];
      seen.push([...t.dims]);
      const per = t.data.length / t.dims[0];
      const rows = Array.from({ length: t.dims[0] }, (_, k) => f(t.data.subarray(k * per, (k + 1) * per) as Float32Array, t.dims));
      return { [output]: { data: Float32Array.from(rows.flat()), dims: [t.dims[0], rows[0].length] } };
    },
  });
  const encoder = fake('faces', 'embedding', () => [1, 2, 3]);
  const shape = fake('faces', 'identity', (x, dims) => {
    const plane = dims[2] * dims[3];
    const mean = (c: number) => x.subarray(c * plane, (c + 1) * plane).reduce((a, v) => a + v, 0) / plane;
    return [mean(0), mean(1)];
  });
  // a red photo: channel 0 is 1, channel 1 is 0 everywhere (CHW, 0–1)
  const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).map((_, i) => (i % 3 === 0 ? 255 : 0)) };
  const lm = face68().map(([x, y]): Vec2 => [16 + 32 * x, 16 + 32 * y]);
  // without the shape option: the embedding alone, and the network never runs
  const [e] = await embedFaces({ encoder, map, shape }, image, [lm]);
  assert.deepEqual(Array.from(e), [1, 2, 3]);
  assert.equal(regressIdentity(map, e)[0], 0);
  const [x] = await embedFaces({ encoder, map, shape }, image, [lm], true);
  assert.deepEqual(Array.from(x).map((v) => Math.round(v * 1e5) / 1e5), [1, 2, 3, 1, 0]);
  assert.deepEqual(seen, [[1, IDENTITY_INPUT, IDENTITY_INPUT, 3], [1, IDENTITY_INPUT, IDENTITY_INPUT, 3], [1, 3, 8, 8]]);
  // the shape block's map: 0.5 + 1·1 + 10·1 + 100·0
  assert.ok(Math.abs(regressIdentity(map, x)[0] - 11.5) < 1e-4);
  assert.throws(() => regressIdentity(map, [1, 2, 3, 4]), VoxfaceError);
  // the map asks for the network: without it, a clear error
  await assert.rejects(embedFaces({ encoder, map }, image, [lm], true), /shape-identity network/);
});

test('identity encoder: the ONNX graph (scripts/identity-onnx.py) gives face-api\'s own embeddings', { skip: !existsSync(defaultIdentityEncoderPath()) ? 'models/identity-encoder.onnx is missing' : false }, async () => {
  // face-api's FaceRecognitionNet on TF.js (a dev dependency), built from the weights the ONNX file was made from
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  await initTfBackend();
  const dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const manifest = JSON.parse(readFileSync(path.join(dir, 'face_recognition_model-weights_manifest.json'), 'utf8')) as { paths: string[]; weights: Parameters<typeof tf.io.decodeWeights>[1] }[];
  const bin = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p)))));
  const weights = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer, manifest.flatMap((g) => g.weights));
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as { FaceRecognitionNet: new () => { loadFromWeightMap(w: unknown): void; forward(x: unknown): Promise<{ data(): Promise<Float32Array>; dispose(): void }> } };
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(weights);
  // three real crops of the example photo (its face, shifted and scaled) and one of flat grey
  const image = await decodeImage(readFileSync(path.join(root, 'examples', 'face.jpg')));
  const base = face68().map(([x, y]): Vec2 => [image.width * (0.3 + 0.4 * x), image.height * (0.2 + 0.5 * y)]);
  const inputs = [1, 1.25, 1.6].map((s) => identityInput(image, base, { cropScale: s }));
  inputs.push(new Float32Array(IDENTITY_INPUT * IDENTITY_INPUT * 3).fill(128));
  const { encoder } = await loadIdentityModel();
  const ours = await embedInputs(encoder, inputs, 3); // two batches: 3 + 1
  for (const [i, x] of inputs.entries()) {
    const t = tf.tensor3d(x, [IDENTITY_INPUT, IDENTITY_INPUT, 3]);
    const y = await net.forward([t]);
    const ref = await y.data();
    y.dispose();
    t.dispose();
    const diff = Math.max(...ref.map((v, k) => Math.abs(v - ours[i][k])));
    assert.ok(diff < 1e-4, `input ${i}: largest difference ${diff} (embedding values up to ${Math.max(...ref.map(Math.abs))})`);
  }
  // the crops differ: the test would not pass with an encoder that ignores its input
  assert.ok(Math.hypot(...ours[0].map((v, k) => v - ours[3][k])) > 0.1);
  await assert.rejects(embedInputs(encoder, [new Float32Array(10)]), VoxfaceError);
});

const shipped = existsSync(defaultIdentityMapPath());

test('identity encoder on real photos: the same person nearer than another (dlib-johns)', { skip: !shipped ? 'models/identity-map.json is missing' : !existsSync(JOHNS) ? `${JOHNS} is missing (../shared)` : false }, async () => {
  const model = await loadIdentityModel();
  assert.equal(model.map.embedding, 128);
  const vox = await loadVoxface({ threads: 1, identityMap: null });
  const files = readdirSync(JOHNS).filter((f) => f.endsWith('.jpg')).sort();
  const people = [...new Set(files.map((f) => f.split('_0')[0]))].slice(0, 2);
  const pick = people.flatMap((p) => files.filter((f) => f.startsWith(p)).slice(0, 2));
  const emb: Float32Array[] = [];
  for (const f of pick) {
    const image = await decodeImage(readFileSync(path.join(JOHNS, f)));
    const { faces } = await vox.reconstruct(image, { faces: 'largest', landmarks: 'fit', textureSize: 16 });
    const [e] = await embedFaces(model, image, [faces[0].landmarks68]);
    assert.equal(e.length, 128);
    emb.push(e);
  }
  const d = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((v, i) => v - b[i]));
  // photos 0, 1 one person, 2, 3 another: dlib's ResNet puts the same person within 0.6
  assert.ok(d(emb[0], emb[1]) < 0.6 && d(emb[2], emb[3]) < 0.6, `same: ${d(emb[0], emb[1])}, ${d(emb[2], emb[3])}`);
  assert.ok(d(emb[0], emb[2]) > d(emb[0], emb[1]) && d(emb[1], emb[3]) > d(emb[2], emb[3]));
  // the regressed identities: finite, and of the size the map gave on renders (not extrapolated far beyond)
  for (const e of emb) {
    const y = regressIdentity(model.map, e);
    const n = Math.hypot(...y);
    assert.ok(Number.isFinite(n) && n > 0.3 && n < 8, `identity norm ${n}`);
  }
});

test('pipeline: identity on pulls the fit toward the regressed identity, off keeps the mean-face prior', { skip: !shipped ? 'models/identity-map.json is missing' : false }, async () => {
  const vox = await loadVoxface({ threads: 1 });
  const image = await decodeImage(readFileSync(path.join(root, 'examples', 'face.jpg')));
  const off = (await vox.reconstruct(image, { identity: 'off', textureSize: 16 })).faces[0];
  const on = (await vox.reconstruct(image, { identity: 'on', textureSize: 16 })).faces[0];
  const norm = (f: typeof on) => Math.hypot(...f.prior!.identity);
  assert.equal(off.timings.identity, undefined);
  assert.ok((on.timings.identity ?? 0) > 0, 'the identity stage is timed');
  assert.ok(norm(on) > 3 * norm(off), `identity norm on ${norm(on)} vs off ${norm(off)}`);
  // the regressed identity is the centre: the fit lands near it. A face Face Mesh fits (this one, turned 25°) is cut
  // around the landmark network's first pass (src/pipeline.ts, fitNow)
  assert.equal(on.prior!.source, 'facemesh');
  const model = await loadIdentityModel();
  const levels = new ImageLevels(image);
  const [det] = await vox.deps.detector.detect(image);
  const lm = vox.deps.landmarks!;
  const quick = await regressLandmarks(levels, firstLandmarkCrop(det, lm.info), lm, 1, false);
  const [e] = await embedFaces(model, levels, [quick.landmarks]);
  const centre = regressIdentity(model.map, e);
  let d = 0;
  for (let k = 0; k < centre.length; k++) d += (on.prior!.identity[k] - centre[k]) ** 2;
  assert.ok(Math.sqrt(d) < 0.5 * Math.hypot(...centre), `fit ${Math.sqrt(d)} from its centre of norm ${Math.hypot(...centre)}`);
  // the pose and expression still come from the fit: the same head turn within a few degrees
  assert.ok(Math.abs(on.pose.yaw - off.pose.yaw) < 5);
});

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const ICT = path.join(SHARED, 'ict-face-model');

test('shape-identity network: on renders of known ICT people, nearer their identity than the mean face', {
  skip: !shipped ? 'models/identity-map.json is missing' : !hasTorch ? 'needs /usr/bin/python3 with torch (Debian python3-torch)' : !existsSync(ICT) ? `${ICT} is missing (../shared)` : false,
}, async () => {
  const model = await loadIdentityModel();
  const spec = model.map.shape;
  assert.ok(spec && model.shape, 'the shipped map uses the shape network');
  // 24 renders of random ICT people (procedural skin, every yaw), by the renderer the network was trained with, at
  // a seed none of its training sets used
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voxface-id-'));
  try {
    const r = spawnSync('/usr/bin/python3', ['training/identity_data.py', '--n=24', '--seed=4242', '--size=160', '--real=0', '--tex=/nonexistent', `--out=${dir}/r`, '--threads=1'], { cwd: root, encoding: 'utf8', env: { ...process.env, VOXFACE_SHARED: SHARED } });
    assert.equal(r.status, 0, r.stderr);
    const u8 = readFileSync(`${dir}/r.u8`), lm = new Float32Array(readFileSync(`${dir}/r.lm.f32`).buffer.slice(0));
    const truth = new Float32Array(readFileSync(`${dir}/r.id.f32`).buffer.slice(0));
    const S = 160, n = 24;
    const inputs = Array.from({ length: n }, (_, k) => {
      const image = { width: S, height: S, data: u8.subarray(k * S * S * 3, (k + 1) * S * S * 3) };
      const pts = Array.from({ length: 68 }, (_, p): Vec2 => [lm[(k * 68 + p) * 2], lm[(k * 68 + p) * 2 + 1]]);
      return identityShapeInput(image, pts, spec);
    });
    const out = await shapeInputs(model.shape, inputs, spec);
    const { basis } = await loadShapePrior();
    const none = new Float32Array(0);
    const mean = shapeVertices(basis, new Float32Array(basis.identityModes), none);
    // identity-only mean vertex distance over the front of the face, mm
    const err = (a: Float32Array, b: Float32Array) => {
      let d = 0;
      for (let v = 0; v < FRONT_VERTICES; v++) d += Math.hypot(a[3 * v] - b[3 * v], a[3 * v + 1] - b[3 * v + 1], a[3 * v + 2] - b[3 * v + 2]);
      return (10 * d) / FRONT_VERTICES;
    };
    let net = 0, flat = 0;
    for (let k = 0; k < n; k++) {
      const w = new Float32Array(basis.identityModes);
      w.set(truth.subarray(k * 100, k * 100 + Math.min(60, basis.identityModes)));
      const t = shapeVertices(basis, w, none);
      const p = new Float32Array(basis.identityModes);
      p.set(out[k].subarray(0, Math.min(spec.outputs, basis.identityModes)));
      net += err(shapeVertices(basis, p, none), t) / n;
      flat += err(mean, t) / n;
    }
    assert.ok(net < flat - 0.2, `network ${net.toFixed(3)} mm against the mean face's ${flat.toFixed(3)} mm`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shape-identity training: two live steps on the CPU, resumed once, exported mirror-averaged to ONNX that onnxruntime runs', {
  skip: !hasTorch ? 'needs /usr/bin/python3 with torch (Debian python3-torch)' : !existsSync(ICT) ? `${ICT} is missing (../shared)` : false,
}, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voxface-idtrain-'));
  try {
    const env = { ...process.env, VOXFACE_SHARED: SHARED };
    const run = (...args: string[]) => spawnSync('/usr/bin/python3', ['training/identity_train.py', ...args], { cwd: root, encoding: 'utf8', env });
    const base = ['--live=1', '--live_test=4', '--batch=2', '--threads=1', '--eval_every=1000', `--out=${dir}/run`, '--init='];
    const first = run(...base, '--steps=1');
    assert.equal(first.status, 0, first.stderr);
    const again = run(...base, '--steps=2');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /resumed at step 1/);
    const exp = run(`--out=${dir}/run`, `--export=${dir}/net.onnx`, '--init=');
    assert.equal(exp.status, 0, exp.stderr);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(readFileSync(`${dir}/net.onnx`));
    const x = new Float32Array(2 * 3 * 112 * 112).map((_, i) => (i % 251) / 251);
    const y = (await session.run({ faces: new ort.Tensor('float32', x, [2, 3, 112, 112]) })).identity;
    assert.deepEqual(y.dims, [2, 60]);
    assert.ok((y.data as Float32Array).every(Number.isFinite));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
