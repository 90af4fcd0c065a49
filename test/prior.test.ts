/**
 * The shape prior: the ICT basis file, the Face Mesh → ICT correspondence, the fit and the posed mesh.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rotationFromAngles } from '../src/landmarks/pose.ts';
import { vertexNormals } from '../src/mesh/normals.ts';
import { FACEMESH_ICT_IDS, FACEMESH_ICT_WEIGHTS, FACEMESH_MIRROR } from '../src/prior/correspondence.ts';
import { createShapePrior, fitPrior, priorLandmarks, priorMesh, shapeVertices } from '../src/prior/index.ts';
import type { PriorFit } from '../src/prior/index.ts';
import type { Vec3 } from '../src/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prior = createShapePrior(readFileSync(path.join(root, 'models', 'ict-face.bin')));
const { basis } = prior;

/** Deterministic normal deviates. */
function gaussian(seed: number): () => number {
  let s = seed;
  const u = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** A known face: identity w, expression e, pose, scale s px/cm, translation t (camera frame, y up). */
function knownFace(seed: number, pose: { yaw: number; pitch: number; roll: number }) {
  const g = gaussian(seed);
  const w = new Float32Array(basis.identityModes);
  for (let k = 0; k < 10; k++) w[k] = g();
  const e = new Float32Array(basis.expressionNames.length);
  e[basis.expressionNames.indexOf('jawOpen')] = 0.35;
  e[basis.expressionNames.indexOf('mouthSmile_L')] = 0.6;
  e[basis.expressionNames.indexOf('mouthSmile_R')] = 0.6;
  const fit: Pick<PriorFit, 'rotation' | 'scale' | 'translation'> = { rotation: rotationFromAngles(pose), scale: 12, translation: [320, -240, 0] };
  return { w, e, fit, g };
}

/** Face Mesh-like points of a known face: photo x, y (y down), MediaPipe z (negative toward the camera), with noise. */
function meshPoints(face: ReturnType<typeof knownFace>, noise: number): Vec3[] {
  const all = shapeVertices(basis, face.w, face.e);
  const { rotation: R, scale: s, translation: t } = face.fit;
  const out: Vec3[] = [];
  for (let i = 0; i < 468; i++) {
    const X = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const v = FACEMESH_ICT_IDS[3 * i + k], wt = FACEMESH_ICT_WEIGHTS[3 * i + k];
      for (let a = 0; a < 3; a++) X[a] += wt * all[3 * v + a];
    }
    const P = [0, 1, 2].map((r) => s * (R[r * 3] * X[0] + R[r * 3 + 1] * X[1] + R[r * 3 + 2] * X[2]) + t[r]);
    out.push([P[0] + noise * face.g(), -P[1] + noise * face.g(), -P[2] + noise * face.g()]);
  }
  return out;
}

test('ICT basis: the file holds the face and head meshes on one linear vertex set', () => {
  assert.equal(basis.identityModes, 100);
  assert.equal(basis.expressionNames.length, 53);
  assert.equal(basis.neutral.length, basis.vertexCount * 3);
  for (const name of ['face', 'head'] as const) {
    const m = basis.meshes[name];
    assert.equal(m.uv.length, m.vertex.length * 2);
    assert.ok(m.uv.every((u) => u >= 0 && u <= 1), `${name}: uvs in the atlas`);
    assert.ok(m.index.every((i) => i < m.vertex.length));
    assert.ok(m.vertex.every((v) => v < basis.vertexCount));
  }
  // the face is cut under the chin: no vertex more than 1.5 cm below the chin landmark, the ears kept (|x| > 8 cm)
  const chinY = basis.neutral[3 * basis.landmarks68[8] + 1];
  let lowest = Infinity, widest = 0;
  for (const v of basis.meshes.face.vertex) {
    lowest = Math.min(lowest, basis.neutral[3 * v + 1]);
    widest = Math.max(widest, Math.abs(basis.neutral[3 * v]));
  }
  assert.ok(lowest > chinY - 1.5 && lowest < chinY, `lowest face vertex ${lowest.toFixed(2)} cm, chin ${chinY.toFixed(2)}`);
  assert.ok(widest > 8, `ears: widest |x| ${widest.toFixed(2)} cm`);
});

test('shapeVertices: the WebAssembly SIMD sum (the modes in its memory) equals the JavaScript loop within 1e-5 cm', async () => {
  const { createFloatArena } = await import('../src/simd/kernels.ts');
  const arena = createFloatArena(64);
  assert.ok(arena, 'Node 20 runs WebAssembly SIMD');
  // the kernels themselves: 8, 4 and 1 modes, a length that is not a multiple of 4, unaligned starts
  const out = arena.alloc(11), a = Array.from({ length: 8 }, () => arena.alloc(11));
  a.forEach((x, k) => x.forEach((_, i) => (x[i] = k + i / 10)));
  arena.kernels.axpy8(out.byteOffset + 4, 10, ...a.map((x) => x.byteOffset + 4) as [number, number, number, number, number, number, number, number], 1, 2, 3, 4, 5, 6, 7, 8);
  arena.kernels.axpy4(out.byteOffset + 4, 10, a[0].byteOffset + 4, a[1].byteOffset + 4, a[2].byteOffset + 4, a[3].byteOffset + 4, 1, 1, 1, 1);
  arena.kernels.axpy1(out.byteOffset, 1, a[7].byteOffset, 2);
  const want = (i: number) => (i === 0 ? 2 * 7 : [1, 2, 3, 4, 5, 6, 7, 8].reduce((acc, c, k) => acc + c * (k + i / 10), 0) + [0, 1, 2, 3].reduce((acc, k) => acc + k + i / 10, 0));
  for (let i = 0; i < 11; i++) assert.ok(Math.abs(out[i] - want(i)) < 1e-3, `out[${i}] ${out[i]} against ${want(i)}`);
  // the basis: its modes are in the arena; a copy of the identity array sends shapeVertices down the JavaScript loop
  assert.ok(!(basis.identity.buffer instanceof ArrayBuffer) || basis.identity.buffer.byteLength > basis.identity.byteLength, 'the modes share a WebAssembly memory');
  const js = { ...basis, identity: basis.identity.slice() };
  const g = gaussian(7);
  for (const vertices of [undefined, basis.meshes.face.vertex, basis.meshes.head.vertex]) {
    const w = Float32Array.from({ length: 100 }, () => 2 * g());
    const e = Float32Array.from({ length: 53 }, (_, k) => (k % 3 === 0 ? 0 : Math.abs(g()) / 3));
    const fast = shapeVertices(basis, w, e, vertices), slow = shapeVertices(js, w, e, vertices);
    assert.equal(fast.length, slow.length);
    let worst = 0;
    for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i] - slow[i]));
    assert.ok(worst < 1e-5, `largest difference ${worst} cm`);
    assert.ok(fast.some((x, i) => x !== slow[i]), 'the two paths ran (their f32 and f64 sums round differently somewhere)');
  }
});

test('the committed WebAssembly kernels are what scripts/build-simd.ts assembles from its text', async () => {
  const { assembleKernels, kernelsModuleSource } = await import('../scripts/build-simd.ts');
  const committed = readFileSync(path.join(root, 'src', 'simd', 'kernels-wasm.ts'), 'utf8');
  assert.equal(kernelsModuleSource(await assembleKernels()), committed, 'rerun: node --import tsx scripts/build-simd.ts');
});

test('ICT basis: the face surface has one open border (eyes and mouth capped), every edge shared by at most two triangles', () => {
  const idx = basis.meshes.face.index;
  const vid = basis.meshes.face.vertex;
  const edges = new Map<string, number>();
  for (let t = 0; t < idx.length; t += 3) {
    for (let k = 0; k < 3; k++) {
      const a = vid[idx[t + k]], b = vid[idx[t + ((k + 1) % 3)]];
      const key = a < b ? `${a},${b}` : `${b},${a}`;
      edges.set(key, (edges.get(key) ?? 0) + 1);
    }
  }
  assert.ok([...edges.values()].every((c) => c <= 2), 'manifold edges');
  // border edges form exactly one loop
  const next = new Map<number, number[]>();
  for (const [key, c] of edges) {
    if (c !== 1) continue;
    const [a, b] = key.split(',').map(Number);
    next.set(a, [...(next.get(a) ?? []), b]);
    next.set(b, [...(next.get(b) ?? []), a]);
  }
  const seen = new Set<number>();
  let loops = 0;
  for (const start of next.keys()) {
    if (seen.has(start)) continue;
    loops++;
    const stack = [start];
    while (stack.length) {
      const v = stack.pop() as number;
      if (seen.has(v)) continue;
      seen.add(v);
      stack.push(...(next.get(v) ?? []));
    }
  }
  assert.equal(loops, 1);
});

test('correspondence: mirrored Face Mesh vertices map to mirrored ICT points', () => {
  let worst = 0;
  for (let i = 0; i < 468; i++) {
    const j = FACEMESH_MIRROR[i];
    assert.equal(FACEMESH_MIRROR[j], i);
    const p = [0, 0, 0], q = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      // the same weights on the mirrored ICT vertices (a midline point is its own mirror: checked by position)
      if (j !== i) {
        assert.equal(FACEMESH_ICT_IDS[3 * j + k], basis.mirror[FACEMESH_ICT_IDS[3 * i + k]]);
        assert.equal(FACEMESH_ICT_WEIGHTS[3 * j + k], FACEMESH_ICT_WEIGHTS[3 * i + k]);
      }
      for (let a = 0; a < 3; a++) {
        p[a] += FACEMESH_ICT_WEIGHTS[3 * i + k] * basis.neutral[3 * FACEMESH_ICT_IDS[3 * i + k] + a];
        q[a] += FACEMESH_ICT_WEIGHTS[3 * j + k] * basis.neutral[3 * FACEMESH_ICT_IDS[3 * j + k] + a];
      }
    }
    worst = Math.max(worst, Math.hypot(p[0] + q[0], p[1] - q[1], p[2] - q[2]));
  }
  assert.ok(worst < 0.01, `mirror mismatch ${worst} cm`);
});

test('fit: recovers a known pose, identity and expression from Face Mesh-like points with noise', () => {
  const face = knownFace(7, { yaw: 25, pitch: -10, roll: 8 });
  // full 3D targets (z counted like x, y) with 0.5 px noise: identity and expression are observable
  const fit = prior.fitter.fit({ mesh468: meshPoints(face, 0.5) }, { depthWeight: 1, identityPrior: 1e-6, expressionPrior: 1e-6, iterations: 10 });
  assert.equal(fit.source, 'facemesh');
  assert.ok(Math.abs(fit.pose.yaw - 25) < 1 && Math.abs(fit.pose.pitch + 10) < 1 && Math.abs(fit.pose.roll - 8) < 1, JSON.stringify(fit.pose));
  assert.ok(Math.abs(fit.scale / 12 - 1) < 0.03, `scale ${fit.scale}`);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(fit.identity[k] - face.w[k]) < 0.35, `identity ${k}: ${fit.identity[k]} vs ${face.w[k]}`);
  const jaw = basis.expressionNames.indexOf('jawOpen');
  assert.ok(Math.abs(fit.expression[jaw] - 0.35) < 0.1, `jawOpen ${fit.expression[jaw]}`);
  assert.ok(fit.expression.every((x) => x >= 0 && x <= 1));
  assert.ok(fit.rms < 1.5, `rms ${fit.rms}`);
  // the dense surface matches: mean vertex distance in the photo frame under 1.5 px (0.5 px noise)
  const truth = priorMesh(basis, { ...face.fit, identity: face.w, expression: face.e } as PriorFit);
  const mesh = priorMesh(basis, fit);
  const dz = mean(truth.positions, 2) - mean(mesh.positions, 2);
  let d = 0;
  for (let i = 0; i < mesh.positions.length; i += 3) {
    d += Math.hypot(mesh.positions[i] - truth.positions[i], mesh.positions[i + 1] - truth.positions[i + 1], mesh.positions[i + 2] + dz - truth.positions[i + 2]);
  }
  assert.ok(d / (mesh.positions.length / 3) < 1.5, `dense error ${(d / (mesh.positions.length / 3)).toFixed(2)} px`);
});

test('fit: from x, y alone the pose and the 2D points are still recovered', () => {
  const face = knownFace(11, { yaw: -35, pitch: 5, roll: -4 });
  const pts = meshPoints(face, 1);
  for (const p of pts) p[2] = 0; // no depth at all
  // weak priors: this checks the fit's recovery; the defaults are chosen for noisy real points
  const fit = prior.fitter.fit({ mesh468: pts }, { depthWeight: 0, identityPrior: 1e-4, expressionPrior: 1e-4 });
  assert.ok(Math.abs(fit.pose.yaw + 35) < 4 && Math.abs(fit.pose.roll + 4) < 2, JSON.stringify(fit.pose));
  assert.ok(fit.rms < 2, `rms ${fit.rms}`);
});

test('fit: identityCenter pulls the identity toward a given one; the pose is unchanged', () => {
  const face = knownFace(23, { yaw: 15, pitch: 5, roll: -3 });
  const pts = meshPoints(face, 1);
  for (const p of pts) p[2] = 0; // x, y only, as the default fit: identity is barely observable
  const opts = { depthWeight: 0, identityPrior: 10 };
  const plain = prior.fitter.fit({ mesh468: pts }, opts);
  const centred = prior.fitter.fit({ mesh468: pts }, { ...opts, identityCenter: face.w });
  const dist = (w: Float32Array) => Math.hypot(...Array.from({ length: 10 }, (_, k) => w[k] - face.w[k]));
  // strong pull, true centre: the fitted identity lands near it; without a centre it stays near the mean
  assert.ok(dist(centred.identity) < 0.25 * dist(plain.identity), `|w − truth| ${dist(centred.identity).toFixed(3)} vs ${dist(plain.identity).toFixed(3)} without a centre`);
  assert.ok(Math.abs(centred.pose.yaw - 15) < 2 && Math.abs(centred.pose.roll + 3) < 2, JSON.stringify(centred.pose));
  assert.ok(centred.rms <= plain.rms + 0.05, `rms ${centred.rms} vs ${plain.rms}`);
  // a centre of zeros is the plain fit
  const zero = prior.fitter.fit({ mesh468: pts }, { ...opts, identityCenter: new Float32Array(60) });
  assert.deepEqual(Array.from(zero.identity), Array.from(plain.identity));
});

test('fit: 68 3D landmarks (the network path), and fitPrior takes them when Face Mesh is missing', () => {
  const face = knownFace(3, { yaw: 70, pitch: 0, roll: 0 });
  const all = poseAll(face);
  const lm68: Vec3[] = Array.from(basis.landmarks68, (v) => [all[3 * v], all[3 * v + 1], all[3 * v + 2]]);
  const fit = fitPrior(prior, { landmarks68: lm68 }, { identityPrior: 1e-4, expressionPrior: 1e-4 });
  assert.equal(fit.source, 'landmarks68');
  assert.ok(Math.abs(fit.pose.yaw - 70) < 2, JSON.stringify(fit.pose));
  // and the fitted landmark vertices land on the targets (the z origin aside)
  const back = priorLandmarks(basis, fit);
  const dz = mean(Float32Array.from(back.flat()), 2) - mean(Float32Array.from(lm68.flat()), 2);
  const err = back.reduce((a, p, i) => a + Math.hypot(p[0] - lm68[i][0], p[1] - lm68[i][1], p[2] - dz - lm68[i][2]), 0) / 68;
  assert.ok(err < 2, `landmark error ${err.toFixed(2)} px`);
  // a face turned past the switch-over uses the landmarks even when Face Mesh points are given
  const fit2 = fitPrior(prior, { mesh468: meshPoints(face, 0), landmarks68: lm68 });
  assert.equal(fit2.source, 'landmarks68');
});

test('posed mesh: photo frame, normals toward the camera on the front of the face, uvs mirror', () => {
  const face = knownFace(5, { yaw: 0, pitch: 0, roll: 0 });
  const mesh = priorMesh(basis, { ...face.fit, identity: face.w, expression: face.e } as PriorFit);
  const n = vertexNormals(mesh);
  // the nose tip: the render vertex of landmark 30
  const nose = basis.meshes.face.vertex.indexOf(basis.landmarks68[30]);
  assert.ok(nose >= 0);
  assert.ok(n[3 * nose + 2] > 0.8, `nose normal z ${n[3 * nose + 2]}`);
  // y down: the chin below the nose in the photo
  const chin = basis.meshes.face.vertex.indexOf(basis.landmarks68[8]);
  assert.ok(mesh.positions[3 * chin + 1] > mesh.positions[3 * nose + 1]);
  // uv of a vertex and of its mirror: (u, v) ↔ (1 − u, v)
  const uv = mesh.uvs as Float32Array;
  const byVertex = new Map<number, number>();
  basis.meshes.face.vertex.forEach((v, i) => byVertex.set(v, i));
  let checked = 0;
  for (let i = 0; i < 2000; i++) {
    const v = basis.meshes.face.vertex[i];
    if (v >= basis.modelVertices) continue;
    const j = byVertex.get(basis.mirror[v]);
    if (j === undefined) continue;
    assert.ok(Math.abs(uv[2 * i] + uv[2 * j] - 1) < 1e-4 || basis.meshes.face.vertex.filter((x) => x === v).length > 1);
    checked++;
  }
  assert.ok(checked > 1000);
});

function mean(a: Float32Array, axis: number): number {
  let s = 0;
  for (let i = axis; i < a.length; i += 3) s += a[i];
  return s / (a.length / 3);
}

function poseAll(face: ReturnType<typeof knownFace>): Float32Array {
  const all = shapeVertices(basis, face.w, face.e);
  const { rotation: R, scale: s, translation: t } = face.fit;
  for (let i = 0; i < all.length; i += 3) {
    const [x, y, z] = [all[i], all[i + 1], all[i + 2]];
    all[i] = s * (R[0] * x + R[1] * y + R[2] * z) + t[0];
    all[i + 1] = -(s * (R[3] * x + R[4] * y + R[5] * z) + t[1]);
    all[i + 2] = s * (R[6] * x + R[7] * y + R[8] * z) + t[2];
  }
  return all;
}

test('solid: the posed prior closed by walls and a flat back (face) or caps (head) is watertight and outward', async () => {
  const { priorSolid } = await import('../src/prior/solid.ts');
  const { edgeReport, signedVolume } = await import('../src/mesh/index.ts');
  const face = knownFace(9, { yaw: 40, pitch: 10, roll: -5 });
  for (const region of ['face', 'head'] as const) {
    const fit = { ...face.fit, identity: face.w, expression: face.e, region } as PriorFit & { region: typeof region };
    const solid = priorSolid(priorMesh(basis, fit, region), fit);
    const report = edgeReport(solid);
    assert.ok(report.watertight && report.nonManifold === 0 && report.misoriented === 0, `${region}: ${JSON.stringify(report)}`);
    assert.ok(signedVolume(solid) > 0, `${region}: inside out`);
  }
});

test('volume from the prior mesh: occupancy 1 behind the surface, its 0.5 level on the surface', async () => {
  const { volumeFromMesh } = await import('../src/volume/from-mesh.ts');
  const { depthMap } = await import('../src/volume/index.ts');
  const face = knownFace(2, { yaw: 0, pitch: 0, roll: 0 });
  const fit = { ...face.fit, identity: face.w, expression: face.e } as PriorFit;
  // the landmarks' mean depth at 0, as the fit puts it (the volume's depth origin)
  const zMean = priorLandmarks(basis, fit).reduce((a, p) => a + p[2], 0) / 68;
  fit.translation = [fit.translation[0], fit.translation[1], -zMean];
  const mesh = priorMesh(basis, fit);
  // a crop over the face, 64³ voxels of 2 crop pixels, 1.5 photo pixels per crop pixel
  const crop = { size: 128, scale: 1.5, offset: [320 - 96, 240 - 96] as [number, number] };
  const vol = volumeFromMesh(mesh, crop, { width: 64, height: 64, depth: 64, voxelSize: 2 });
  const d = depthMap(vol);
  // the nose tip's column: the volume's surface depth matches the mesh's z within a voxel
  const nose = basis.meshes.face.vertex.indexOf(basis.landmarks68[30]);
  const [x, y, z] = [mesh.positions[3 * nose], mesh.positions[3 * nose + 1], mesh.positions[3 * nose + 2]];
  const c = Math.floor((x - crop.offset[0]) / crop.scale / 2), r = Math.floor((y - crop.offset[1]) / crop.scale / 2);
  assert.ok(Math.abs(d[r * 64 + c] * crop.scale - z) < 2 * crop.scale * 1.5, `volume z ${d[r * 64 + c] * crop.scale} vs mesh ${z}`);
  // behind the surface full, in front empty; outside the face empty
  const slice = (dd: number) => vol.data[(dd * 64 + r) * 64 + c];
  assert.equal(slice(0), 1);
  assert.equal(slice(63), 0);
  assert.equal(vol.data[(0 * 64 + 0) * 64 + 0], 0);
});

test('meanFacePose: the mean face laid onto a face\'s benchmark 68 gives its yaw within a few degrees; fitPrior picks Face Mesh by it', async () => {
  const { benchmarkLandmarks } = await import('../src/prior/index.ts');
  for (const yaw of [-70, -35, -10, 0, 20, 45, 80]) {
    const face = knownFace(100 + yaw, { yaw, pitch: 8, roll: -5 });
    const lm = benchmarkLandmarks(basis, { identity: face.w, expression: face.e, ...face.fit });
    const got = prior.fitter.meanFacePose({ aflw68: lm });
    assert.ok(Math.abs(got.yaw - yaw) < 4, `yaw ${yaw}: ${got.yaw.toFixed(1)}`);
    // Face Mesh where the head turns less than 30°, the 68 points elsewhere
    const fit = fitPrior(prior, { aflw68: lm, mesh468: meshPoints(face, 0.3), landmarks68: [] });
    assert.equal(fit.source, Math.abs(yaw) < 30 ? 'facemesh' : 'aflw68', `yaw ${yaw}`);
  }
});
