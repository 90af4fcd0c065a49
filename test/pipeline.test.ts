/**
 * The whole pipeline on real photos (../shared): faces found, landmarks near the AFLW2000-3D ground truth,
 * a face-shaped surface (nose in front of the eyes), mesh and landmarks aligned with the photo, several faces
 * in a group photo. Skips with a message when ../shared is absent.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ImageLevels } from '../src/align/sample.ts';
import { decodeImage, loadVoxface } from '../src/node/index.ts';
import { reconstruct } from '../src/pipeline.ts';
import type { Voxface } from '../src/node/index.ts';
import type { FaceDetector, FaceResult, RGBImage, Vec3 } from '../src/types.ts';

const root = resolve(import.meta.dirname, '..');
const shared = process.env.VOXFACE_SHARED ?? resolve(root, '..', 'shared');
const dev = join(shared, 'aflw2000-3d-dev');
const skip = existsSync(join(dev, 'ground_truth.json')) ? false : 'needs ../shared/aflw2000-3d-dev (set VOXFACE_SHARED)';

/**
 * The NME 2D this test holds the shipped model's own landmarks (`landmarks: 'network'`) to on the 8 dev photos
 * (mean; see models/README.md for the measured value). A regression guard for the CPU-trained model, not the
 * v1 goal of 4.5%.
 */
const MAX_DEV_NME2D = 0.08;
/** The same for the default landmarks ('fused': Face Mesh x, y on these near-frontal faces; measured 3.57%). */
const MAX_DEV_NME2D_FUSED = 0.05;

let vox: Voxface;
before(async () => {
  if (!skip) vox = await loadVoxface({ threads: 2 });
});

function nme2d(pred: Vec3[], gt: number[][]): number {
  const xs = gt.map((p) => p[0]);
  const ys = gt.map((p) => p[1]);
  const norm = Math.sqrt((Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys)));
  let e = 0;
  for (let i = 0; i < 68; i++) e += Math.hypot(pred[i][0] - gt[i][0], pred[i][1] - gt[i][1]);
  return e / 68 / norm;
}

/** Front-most mesh z under (x, y) by brute-force ray casting along z, or NaN. */
function meshZ(face: FaceResult, x: number, y: number): number {
  const p = face.mesh.positions;
  const t = face.mesh.indices;
  let best = -Infinity;
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i] * 3, b = t[i + 1] * 3, c = t[i + 2] * 3;
    const d = (p[b + 1] - p[c + 1]) * (p[a] - p[c]) + (p[c] - p[b]) * (p[a + 1] - p[c + 1]);
    if (Math.abs(d) < 1e-12) continue;
    const w0 = ((p[b + 1] - p[c + 1]) * (x - p[c]) + (p[c] - p[b]) * (y - p[c + 1])) / d;
    const w1 = ((p[c + 1] - p[a + 1]) * (x - p[c]) + (p[a] - p[c]) * (y - p[c + 1])) / d;
    const w2 = 1 - w0 - w1;
    if (w0 < 0 || w1 < 0 || w2 < 0) continue;
    best = Math.max(best, w0 * p[a + 2] + w1 * p[b + 2] + w2 * p[c + 2]);
  }
  return best === -Infinity ? NaN : best;
}

test('AFLW2000-3D dev photos: one face each, landmarks near the ground truth, nose in front of the eyes, mesh on the face', { skip, timeout: 300_000 }, async () => {
  const gt = JSON.parse(readFileSync(join(dev, 'ground_truth.json'), 'utf8')) as Record<string, { landmarks68_3d: number[][] }>;
  const errs: number[] = [];
  const errsFused: number[] = [];
  const hitRates: number[] = [];
  for (const [name, g] of Object.entries(gt)) {
    const { result } = await vox.reconstructFile(join(dev, `${name}.jpg`), { textureSize: 64, landmarks: 'network' });
    assert.equal(result.faces.length, 1, `${name}: ${result.faces.length} faces`);
    const face = result.faces[0];
    assert.equal(face.landmarks68.length, 68);
    errs.push(nme2d(face.landmarks68, g.landmarks68_3d));
    const fused = (await vox.reconstructFile(join(dev, `${name}.jpg`), { textureSize: 64 })).result.faces[0];
    errsFused.push(nme2d(fused.landmarks68, g.landmarks68_3d));
    // a face shape: the nose tip is closer to the camera than the outer eye corners (their mean: under a yaw
    // the near corner may come forward, the pair's midpoint stays behind the nose)
    const lm = face.landmarks68;
    const eyes = (lm[36][2] + lm[45][2]) / 2;
    assert.ok(lm[30][2] > eyes, `${name}: nose z ${lm[30][2]} vs eye corners ${lm[36][2]}, ${lm[45][2]}`);
    // the mesh lies over the face in the photo frame: most interior ground-truth landmarks (brows, eyes, nose,
    // mouth) fall on it (hair or a hand over an eye may leave a hole)
    let hits = 0;
    for (let k = 17; k < 68; k++) if (Number.isFinite(meshZ(face, g.landmarks68_3d[k][0], g.landmarks68_3d[k][1]))) hits++;
    hitRates.push(hits / 51);
    assert.ok(Number.isFinite(meshZ(face, g.landmarks68_3d[30][0], g.landmarks68_3d[30][1])), `${name}: no mesh under the nose tip`);
    // visible landmarks sit on the surface (same frame, same z)
    const z = meshZ(face, lm[30][0], lm[30][1]);
    assert.ok(Math.abs(z - lm[30][2]) < 0.05 * face.box[2], `${name}: nose landmark z ${lm[30][2]} vs mesh ${z}`);
  }
  const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
  const hitRate = hitRates.reduce((a, b) => a + b, 0) / hitRates.length;
  assert.ok(hitRate > 0.9, `only ${(hitRate * 100).toFixed(0)}% of interior landmarks lie over the mesh`);
  assert.ok(mean < MAX_DEV_NME2D, `mean NME 2D ${(mean * 100).toFixed(2)}% ≥ ${MAX_DEV_NME2D * 100}%`);
  const meanFused = errsFused.reduce((a, b) => a + b, 0) / errsFused.length;
  assert.ok(meanFused < MAX_DEV_NME2D_FUSED, `mean NME 2D (fused) ${(meanFused * 100).toFixed(2)}% ≥ ${MAX_DEV_NME2D_FUSED * 100}%`);
});

test('a group photo gives several faces, largest first', { skip, timeout: 120_000 }, async () => {
  const file = join(shared, 'faces', 'dlib-faces', '2008_002506.jpg');
  if (!existsSync(file)) return;
  const { result } = await vox.reconstructFile(file, { textureSize: 64 });
  assert.ok(result.faces.length >= 3, `${result.faces.length} faces`);
  const areas = result.faces.map((f) => f.box[2] * f.box[3]);
  assert.deepEqual(areas, [...areas].sort((a, b) => b - a));
  for (const f of result.faces) assert.ok(f.mesh.indices.length > 0);
});

test('the detector gets the pipeline\'s levels of this photo; the result is the same as with levels of its own', { skip, timeout: 120_000 }, async () => {
  const file = join(shared, 'faces', 'dlib-faces', '2008_002506.jpg');
  if (!existsSync(file)) return;
  const image = await decodeImage(readFileSync(file));
  const given: (ImageLevels | undefined)[] = [];
  const detector = (share: boolean): FaceDetector => ({
    name: 'spy',
    detect: (img: RGBImage, levels?: ImageLevels) => {
      given.push(levels);
      return vox.deps.detector.detect(img, share ? levels : undefined);
    },
  });
  const options = { textureSize: 64 };
  const common = await reconstruct(image, { ...vox.deps, detector: detector(true) }, options);
  const own = await reconstruct(image, { ...vox.deps, detector: detector(false) }, options);
  assert.equal(given.length, 2);
  for (const levels of given) {
    assert.ok(levels instanceof ImageLevels);
    assert.equal(levels.image, image);
  }
  assert.notEqual(given[0], given[1], 'levels are made per call, never kept');
  assert.ok(common.faces.length >= 3);
  assert.equal(common.faces.length, own.faces.length);
  common.faces.forEach((f, i) => {
    assert.deepEqual(f.box, own.faces[i].box);
    assert.deepEqual(f.mesh.positions, own.faces[i].mesh.positions);
    assert.deepEqual(f.mesh.texture?.data, own.faces[i].mesh.texture?.data);
  });
});

/** The interior depth error this test holds the default shape (the fitted prior) to on the dev photos (measured 2.76%). */
const MAX_DEV_INTERIOR_DEPTH = 0.035;

test('shapes: the prior is the ICT face over the photo (interior depth error on the dev photos), the network shape still meshes its volume', { skip, timeout: 300_000 }, async () => {
  const { surfaceDepthError, INTERIOR_68 } = await import('../src/metrics/index.ts');
  const gt = JSON.parse(readFileSync(join(dev, 'ground_truth.json'), 'utf8')) as Record<string, { landmarks68_3d: Vec3[] }>;
  const depth = { prior: [] as number[], network: [] as number[] };
  for (const [name, g] of Object.entries(gt)) {
    for (const shape of ['prior', 'network'] as const) {
      const face = (await vox.reconstructFile(join(dev, `${name}.jpg`), { textureSize: 32, shape })).result.faces[0];
      assert.equal(face.shape, shape);
      if (shape === 'prior') {
        // ICT's topology and atlas: the template's triangles, uvs in [0, 1], the fit's pose beside the result
        assert.equal(face.mesh.indices.length, vox.deps.prior!.basis.meshes.face.index.length);
        assert.ok(face.prior && face.prior.scale > 0 && face.mesh.uvs.every((u) => u >= 0 && u <= 1));
        assert.deepEqual(face.pose, face.prior.pose);
      }
      depth[shape].push(surfaceDepthError(face.mesh, g.landmarks68_3d, INTERIOR_68).error);
    }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(mean(depth.prior) < MAX_DEV_INTERIOR_DEPTH, `prior interior depth ${(mean(depth.prior) * 100).toFixed(2)}%`);
  assert.ok(mean(depth.prior) < mean(depth.network), `prior ${mean(depth.prior)} vs network ${mean(depth.network)}`);
});

test('surface landmarks: the nose and lips move out, the fit and the texture stay those of ICT\'s fitted surface', { skip, timeout: 120_000 }, async () => {
  const image = await decodeImage(readFileSync(join(root, 'examples', 'profile.jpg')));
  const [on] = (await vox.reconstruct(image, { faces: 'largest', textureSize: 64 })).faces;
  const [off] = (await vox.reconstruct(image, { faces: 'largest', textureSize: 64, surfaceLandmarks: 'off' })).faces;
  assert.deepEqual(Array.from(on.prior!.identity), Array.from(off.prior!.identity));
  assert.deepEqual(on.landmarks68, off.landmarks68);
  let moved = 0;
  for (let i = 0; i < on.mesh.positions.length; i++) moved = Math.max(moved, Math.abs(on.mesh.positions[i] - off.mesh.positions[i]));
  assert.ok(moved > 1, `the surface moves (${moved.toFixed(2)} px at most)`);
  assert.deepEqual(on.mesh.texture.data, off.mesh.texture.data, 'the texture is sampled on the fitted surface either way');
  assert.deepEqual(on.mesh.colors, off.mesh.colors);
});

test('the landmark network: one pass where the head turns little and Face Mesh is fitted, the refining pass (with its mirror) where it is turned', { skip, timeout: 120_000 }, async () => {
  const lm = vox.deps.landmarks!;
  const batches: number[] = [];
  const counting = { ...lm, session: { ...lm.session, run: (feeds: Parameters<typeof lm.session.run>[0]) => (batches.push(Object.values(feeds)[0].dims[0]), lm.session.run(feeds)) } };
  // the examples' yaws: face.jpg about −25° (Face Mesh), profile.jpg +82° (the network's points)
  for (const [file, source, runs] of [['face.jpg', 'facemesh', [1]], ['profile.jpg', 'aflw68', [1, 2]]] as const) {
    batches.length = 0;
    const image = await decodeImage(readFileSync(join(root, 'examples', file)));
    const [face] = (await reconstruct(image, { ...vox.deps, landmarks: counting }, { faces: 'largest', textureSize: 32 })).faces;
    assert.equal(face.prior?.source, source, file);
    assert.deepEqual(batches, runs, `${file}: landmark network batches`);
  }
});
