/**
 * The volume network (VRN) runs only where its output is used (the `volume` option, src/pipeline.ts
 * `volumeNeeds`): not for the default shape, whose mesh, landmarks and texture are the same without it; for the
 * volume formats, the network shape, the synthetic landmark source and the network's landmarks; never with
 * `volume: 'off'`, which then says what needed it. The exporters and the page handle a face without a volume.
 * On examples/face.jpg with the shipped models, the network's runs counted through its session.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cropFromBox } from '../src/align/crop.ts';
import { exportFace, exportResult } from '../src/export/files.ts';
import { FORMATS, VOLUME_FORMATS } from '../src/export/formats.ts';
import { decodeImage, loadVoxface } from '../src/node/index.ts';
import type { Voxface } from '../src/node/index.ts';
import { resolveOptions } from '../src/options.ts';
import { lazySession, parseModelInfo } from '../src/network/index.ts';
import { reconstruct, volumeNeeds } from '../src/pipeline.ts';
import type { ReconstructOptions } from '../src/pipeline.ts';
import { VoxfaceError } from '../src/types.ts';
import type { InferenceSession, ReconstructionResult, RGBImage } from '../src/types.ts';
import { pageFormats } from '../web/src/options.ts';

const root = resolve(import.meta.dirname, '..');
let vox: Voxface;
let photo: RGBImage;
/** Runs of the volume network's session since the last `counted()`. */
let runs = 0;
let session: InferenceSession;

before(async () => {
  vox = await loadVoxface({ threads: 2 });
  photo = await decodeImage(readFileSync(join(root, 'examples', 'face.jpg')));
  const inner = vox.deps.session;
  session = {
    inputNames: inner.inputNames,
    outputNames: inner.outputNames,
    run: (feeds) => {
      runs++;
      return inner.run(feeds);
    },
  };
});

/** The photo reconstructed with these options, and how many times the volume network ran. */
async function counted(options: ReconstructOptions): Promise<{ result: ReconstructionResult; runs: number }> {
  runs = 0;
  const result = await reconstruct(photo, { ...vox.deps, session }, { textureSize: 64, ...options });
  return { result, runs };
}

const isBadArgument = (pattern: RegExp) => (e: unknown) => e instanceof VoxfaceError && e.code === 'BAD_ARGUMENT' && pattern.test(e.message);

test('volumeNeeds: auto for the volume formats, the network shape and a guided network; on always; off never', () => {
  const plain = { guided: undefined };
  const guided = { guided: { baseSlope: 1, baseClamp: 4 } };
  const needs = (o: Parameters<typeof resolveOptions>[0], model: { guided?: { baseSlope: number; baseClamp: number } } = plain) =>
    volumeNeeds(resolveOptions(o), model);
  assert.equal(needs({}), undefined);
  assert.equal(needs({ formats: ['glb', 'obj', 'ply', 'stl', 'depth', 'json'] }), undefined);
  assert.equal(needs({ formats: ['glb', 'nrrd'] }), 'the nrrd format');
  assert.equal(needs({ formats: ['volume'] }), 'the volume format');
  assert.equal(needs({ shape: 'network' }), 'shape network');
  assert.equal(needs({}, guided), 'a guided network');
  assert.equal(needs({ volume: 'on' }), 'volume on');
  assert.equal(needs({ volume: 'off', shape: 'network' }, guided), undefined);
  assert.throws(() => needs({ volume: 'off', formats: ['glb', 'volume'] }), isBadArgument(/the volume format needs the volume network, and volume is off/));
  assert.throws(() => resolveOptions({ volume: 'sometimes' as 'on' }), isBadArgument(/volume must be one of auto, on, off, got "sometimes"/));
  assert.deepEqual(VOLUME_FORMATS, ['volume', 'nrrd']);
});

test('the default shape runs no volume network, and is the same face as with it (mesh, texture, landmarks, fit)', { timeout: 120_000 }, async () => {
  const none = await counted({});
  assert.equal(none.runs, 0);
  const face = none.result.faces[0];
  assert.equal(face.volume, undefined);
  assert.equal(face.timings.network, undefined);
  assert.equal(face.prior?.source === 'facemesh' || face.prior?.source === 'aflw68', true, `fitted to ${face.prior?.source}`);
  // its crop is the first crop, made from the detection
  const [det] = await vox.deps.detector.detect(photo);
  assert.deepEqual(face.crop, cropFromBox(det, vox.deps.model.crop, vox.deps.model.inputSize));

  const on = await counted({ volume: 'on' });
  assert.equal(on.runs, 3, 'first pass, refined pass and its mirror');
  const withVolume = on.result.faces[0];
  assert.ok(withVolume.volume && withVolume.volume.data.length === 64 ** 3);
  assert.notDeepEqual(withVolume.crop, face.crop, 'the refined crop');
  assert.deepEqual(withVolume.mesh.positions, face.mesh.positions);
  assert.deepEqual(withVolume.mesh.indices, face.mesh.indices);
  assert.deepEqual(withVolume.mesh.texture.data, face.mesh.texture.data);
  assert.deepEqual(withVolume.landmarks68, face.landmarks68);
  assert.deepEqual(withVolume.pose, face.pose);
  assert.deepEqual(withVolume.prior?.identity, face.prior?.identity);
  // and its GLB and JSON too (the JSON apart from the crop and the timings)
  const strip = (r: ReconstructionResult) => {
    const files = exportResult(r, 'face', { formats: ['glb', 'json'] });
    const json = JSON.parse(new TextDecoder().decode(files[0].bytes)) as { faces: Record<string, unknown>[] };
    for (const f of json.faces) {
      delete f.crop;
      delete f.timings;
    }
    return { json, glb: files[1].bytes };
  };
  const a = strip(none.result), b = strip(on.result);
  assert.deepEqual(a.json, b.json);
  assert.deepEqual(a.glb, b.glb);
});

test('the volume network runs where its output is used: volume formats, network shape, synthetic landmarks, network landmarks', { timeout: 120_000 }, async () => {
  for (const f of VOLUME_FORMATS) {
    const r = await counted({ formats: ['glb', f] });
    assert.equal(r.runs, 3, f);
    assert.ok(r.result.faces[0].volume);
    assert.ok(exportResult(r.result, 'face', { formats: ['glb', f] }).some((x) => x.format === f));
  }
  const flipOff = await counted({ formats: ['nrrd'], flip: false });
  assert.equal(flipOff.runs, 2, 'first and refined pass');
  for (const options of [{ shape: 'network' }, { shape: 'network', mesh: 'isosurface' }, { landmarkSource: 'synthetic' }, { landmarks: 'network' }] as const) {
    const r = await counted(options);
    assert.equal(r.runs, 3, JSON.stringify(options));
    assert.ok(r.result.faces[0].volume, JSON.stringify(options));
  }
  // without the landmark network the prior is fitted to the volume network's points
  runs = 0;
  const noLandmarks = await reconstruct(photo, { ...vox.deps, session, landmarks: undefined }, { textureSize: 64 });
  assert.equal(runs, 3);
  assert.ok(noLandmarks.faces[0].volume);
});

test('volume off: what needs the volume network fails with a message that names it', { timeout: 120_000 }, async () => {
  await assert.rejects(counted({ volume: 'off', shape: 'network' }), isBadArgument(/^shape network needs the volume network, and volume is off/));
  await assert.rejects(counted({ volume: 'off', landmarkSource: 'synthetic' }), isBadArgument(/^landmark source synthetic needs the volume network/));
  await assert.rejects(counted({ volume: 'off', landmarks: 'network' }), isBadArgument(/^landmarks network needs the volume network/));
  await assert.rejects(counted({ volume: 'off', formats: ['nrrd'] }), isBadArgument(/^the nrrd format needs the volume network/));
  const r = await counted({ volume: 'off' });
  assert.equal(r.runs, 0);
  assert.equal(r.result.faces[0].volume, undefined);
});

test('exporting a face without a volume: the volume formats refuse it and say why, the others are written', { timeout: 120_000 }, async () => {
  const { result } = await counted({});
  const face = result.faces[0];
  for (const f of VOLUME_FORMATS) {
    assert.throws(() => exportFace(face, result.image, 'face', { formats: [f] }), isBadArgument(/^face 0 has no volume for the .* format: the volume network did not run/));
  }
  const rest = FORMATS.filter((f) => !VOLUME_FORMATS.includes(f));
  const files = exportResult(result, 'face', { formats: rest });
  assert.deepEqual([...new Set(files.map((f) => f.format))].sort(), [...rest].sort());
});

test('loadVoxface makes the volume network\'s session on its first run: not for the default shape', { timeout: 120_000 }, async () => {
  const fresh = await loadVoxface({ threads: 1 });
  const created = () => (fresh.deps.session as { created?: boolean }).created;
  assert.equal(created(), false);
  assert.deepEqual([fresh.deps.session.inputNames, fresh.deps.session.outputNames], [['image'], ['volume', 'landmarks']]);
  await fresh.reconstruct(photo, { textureSize: 16 });
  assert.equal(created(), false);
  const { faces } = await fresh.reconstruct(photo, { textureSize: 16, formats: ['nrrd'] });
  assert.equal(created(), true);
  assert.ok(faces[0].volume);
});

/** A lazy session whose creation fails while `state.fail` is set; `state.creations` counts the attempts. */
function flakyLazySession() {
  const info = parseModelInfo({ inputSize: 8, volume: { width: 4, height: 4, depth: 4, voxelSize: 2 }, crop: { scale: 1.6 } });
  const state = { creations: 0, fail: true };
  const session = lazySession(info, async () => {
    state.creations++;
    if (state.fail) throw new VoxfaceError('MODEL_ERROR', 'cannot load model x.onnx: bad graph');
    return { inputNames: ['image'], outputNames: ['volume', 'landmarks'], run: async (feeds) => ({ volume: feeds.image }) };
  });
  return { session, state, feeds: { image: { data: new Float32Array(3), dims: [3] } } };
}

test('lazySession: one creation for concurrent first runs, tried again after a failure', async () => {
  const { session, state, feeds } = flakyLazySession();
  await assert.rejects(session.run(feeds), /bad graph/);
  assert.equal(session.created, false);
  state.fail = false;
  const outs = await Promise.all([session.run(feeds), session.run(feeds), session.run(feeds)]);
  assert.equal(state.creations, 2);
  assert.equal(session.created, true);
  for (const o of outs) assert.equal(o.volume, feeds.image);
});

test('lazySession.prepare: makes the session ahead of its first run, once; a failure never throws there and is tried again by the run', async () => {
  const { session, state, feeds } = flakyLazySession();
  await session.prepare(); // fails quietly
  assert.equal(session.created, false);
  state.fail = false;
  await Promise.all([session.prepare(), session.prepare()]);
  assert.equal(session.created, true);
  assert.equal(state.creations, 2);
  assert.equal((await session.run(feeds)).volume, feeds.image);
  assert.equal(state.creations, 2, 'the run used the prepared session');
});

test('the page offers the volume formats where the volume network runs anyway', () => {
  assert.deepEqual(pageFormats({}), ['glb', 'obj', 'ply', 'stl', 'depth', 'json']);
  assert.deepEqual(pageFormats({ volume: 'on' }), [...FORMATS]);
  assert.deepEqual(pageFormats({ shape: 'network' }), [...FORMATS]);
  assert.deepEqual(pageFormats({ shape: 'network', volume: 'off' }), ['glb', 'obj', 'ply', 'stl', 'depth', 'json']);
});
