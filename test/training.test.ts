/**
 * CPU smoke test of the training code (training/, Python + PyTorch): a few steps of the tiny config on
 * freshly rendered data, ONNX export, and the exported file run by onnxruntime-node must match PyTorch.
 */
import '../src/node/telemetry.ts'; // first: no onnxruntime telemetry (it must be set before onnxruntime-node loads)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseModelInfo } from '../src/network/index.ts';

const root = resolve(import.meta.dirname, '..');
const shared = process.env.VOXFACE_SHARED ?? resolve(root, '..', 'shared');
const python = '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch, onnx'], { encoding: 'utf8' }).status === 0;
const skip = !existsSync(join(shared, 'ict-face-model'))
  ? 'needs ../shared/ict-face-model (set VOXFACE_SHARED)'
  : !hasTorch
    ? 'needs /usr/bin/python3 with torch and onnx (Debian python3-torch, python3-onnx)'
    : false;

function readNpy(path: string): { shape: number[]; data: Float32Array } {
  const b = readFileSync(path);
  const headerLen = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + headerLen).toString('latin1');
  assert.match(header, /'descr': '<f4'/);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const raw = Buffer.from(b.subarray(10 + headerLen));
  return { shape, data: new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4) };
}

test('training smoke test: train tiny, export ONNX, onnxruntime-node matches PyTorch', { skip, timeout: 300_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'voxface-train-'));
  try {
    const r = spawnSync(
      python,
      ['training/train.py', '--config=tiny', '--steps=4', '--batch=2', '--val_size=4', '--log_every=1', '--threads=1', `--out=${out}`],
      { cwd: root, encoding: 'utf8', env: { ...process.env, VOXFACE_SHARED: shared, OMP_WAIT_POLICY: 'PASSIVE' } },
    );
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    assert.match(r.stdout, /step 4 loss \d/);
    assert.ok(existsSync(join(out, 'ckpt.pt')) && existsSync(join(out, 'loss.png')));
    const info = parseModelInfo(JSON.parse(readFileSync(join(out, 'vrn-tiny.json'), 'utf8')));
    assert.equal(info.inputSize, 64);
    const session = await ort.InferenceSession.create(join(out, 'vrn-tiny.onnx'));
    const x = readNpy(join(out, 'vrn-tiny.check-input.npy'));
    const res = await session.run({ image: new ort.Tensor('float32', x.data, x.shape) });
    assert.deepEqual([...res.volume.dims], [1, info.volume.depth, info.volume.height, info.volume.width]);
    for (const [name, file] of [['volume', 'vrn-tiny.check-volume.npy'], ['landmarks', 'vrn-tiny.check-landmarks.npy']]) {
      const want = readNpy(join(out, file)).data;
      const got = res[name].data as Float32Array;
      assert.equal(got.length, want.length);
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      assert.ok(maxDiff < 1e-3, `${name}: ONNX differs from PyTorch by ${maxDiff}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('training: background rendering workers train on the same batches as inline rendering', { skip, timeout: 300_000 }, () => {
  const losses = (workers: number): string[] => {
    const out = mkdtempSync(join(tmpdir(), 'voxface-train-'));
    try {
      const r = spawnSync(
        python,
        ['training/train.py', '--config=tiny', '--steps=4', '--batch=2', '--val_size=2', '--log_every=1', '--threads=1',
          '--reuse=2', '--export=0', `--workers=${workers}`, `--out=${out}`],
        { cwd: root, encoding: 'utf8', env: { ...process.env, VOXFACE_SHARED: shared, OMP_WAIT_POLICY: 'PASSIVE' } },
      );
      assert.equal(r.status, 0, r.stderr.slice(-2000));
      return [...r.stdout.matchAll(/^step (\d+) loss (\S+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };
  const inline = losses(0);
  assert.equal(inline.length, 4);
  assert.deepEqual(losses(1), inline);
});

test('guided network: train tiny-guided from an image-only checkpoint, residual starts at zero, ONNX with the prior input matches PyTorch', { skip, timeout: 300_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'voxface-guided-'));
  try {
    const env = { ...process.env, VOXFACE_SHARED: shared, OMP_WAIT_POLICY: 'PASSIVE' };
    const base = ['--config=tiny', '--steps=2', '--batch=2', '--val_size=2', '--threads=1', '--export=0', `--out=${join(out, 'plain')}`];
    assert.equal(spawnSync(python, ['training/train.py', ...base], { cwd: root, encoding: 'utf8', env }).status, 0);
    // an untrained guided network (initialised from the image-only one) returns the prior's base logits exactly
    const zero = spawnSync(python, ['-c', String.raw`
import sys, torch
sys.path.insert(0, 'training')
ck = sys.argv[1]
sys.argv = sys.argv[:1]  # train.py reads its options from the command line when imported
import model as M, train
net = M.VRN(M.CONFIGS['tiny-guided'])
st = torch.load(ck)
net.load_state_dict(train.guided_init(net, st['model']), strict=False)
net.eval()
img = torch.rand(2, 3, 64, 64)
prior = torch.zeros(2, 2, 64, 64)
prior[:, 1, 16:48, 16:48] = 1
prior[:, 0, 16:48, 16:48] = 0.3
vol, _ = net(img, prior)
base = M.prior_base_logits(prior, 32, 32, 64)
print('max', float((vol - base).abs().max()))
`, join(out, 'plain', 'ckpt.pt')], { cwd: root, encoding: 'utf8', env });
    assert.equal(zero.status, 0, zero.stderr.slice(-2000));
    assert.ok(Number(/max (\S+)/.exec(zero.stdout)![1]) < 1e-6, zero.stdout);
    const r = spawnSync(
      python,
      ['training/train.py', '--config=tiny-guided', '--steps=3', '--batch=2', '--val_size=2', '--log_every=1', '--threads=1',
        `--init=${join(out, 'plain', 'ckpt.pt')}`, `--out=${out}`],
      { cwd: root, encoding: 'utf8', env },
    );
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    assert.match(r.stdout, /step 3 loss \d/);
    const info = parseModelInfo(JSON.parse(readFileSync(join(out, 'vrn-tiny-guided.json'), 'utf8')));
    assert.deepEqual(info.guided, { baseSlope: 2, baseClamp: 6 });
    const session = await ort.InferenceSession.create(join(out, 'vrn-tiny-guided.onnx'));
    assert.deepEqual([...session.inputNames].sort(), ['image', 'prior']);
    const x = readNpy(join(out, 'vrn-tiny-guided.check-input.npy'));
    const p = readNpy(join(out, 'vrn-tiny-guided.check-prior.npy'));
    const res = await session.run({ image: new ort.Tensor('float32', x.data, x.shape), prior: new ort.Tensor('float32', p.data, p.shape) });
    for (const [name, file] of [['volume', 'vrn-tiny-guided.check-volume.npy'], ['landmarks', 'vrn-tiny-guided.check-landmarks.npy']]) {
      const want = readNpy(join(out, file)).data;
      const got = res[name].data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      assert.ok(maxDiff < 1e-3, `${name}: ONNX differs from PyTorch by ${maxDiff}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('guided network: the pipeline renders the prior input as training/render.py does (one fixture, both renderers)', { skip, timeout: 120_000 }, async () => {
  const { createShapePrior, priorMesh } = await import('../src/prior/index.ts');
  const { priorGuide } = await import('../src/prior/guide.ts');
  const { rotationFromAngles } = await import('../src/landmarks/pose.ts');
  const { writeFileSync } = await import('node:fs');
  const prior = createShapePrior(readFileSync(join(root, 'models', 'ict-face.bin')));
  const fit = {
    identity: new Float32Array(100).map((_, i) => (i < 3 ? 0.8 : 0)),
    expression: new Float32Array(53),
    rotation: rotationFromAngles({ yaw: 35, pitch: -8, roll: 6 }),
    scale: 9,
    translation: [200, -180, 0] as [number, number, number],
    source: 'facemesh' as const,
    pose: { yaw: 35, pitch: -8, roll: 6 },
    rms: 0,
  };
  const mesh = priorMesh(prior.basis, fit, 'face');
  const model = { inputSize: 128, volume: { width: 64, height: 64, depth: 64, voxelSize: 2 } };
  const crop = { size: 128, scale: 1.7, offset: [95, 70] as [number, number] };
  const ts = priorGuide(mesh, crop, model);
  // the same mesh in crop pixels for the Python side
  const dir = mkdtempSync(join(tmpdir(), 'voxface-guide-'));
  try {
    const q = new Float32Array(mesh.positions.length);
    for (let i = 0; i < q.length; i += 3) {
      q[i] = (mesh.positions[i] - crop.offset[0]) / crop.scale;
      q[i + 1] = (mesh.positions[i + 1] - crop.offset[1]) / crop.scale;
      q[i + 2] = mesh.positions[i + 2] / crop.scale;
    }
    writeFileSync(join(dir, 'points.f32'), q);
    writeFileSync(join(dir, 'tris.u32'), mesh.indices);
    const r = spawnSync(python, ['-c', String.raw`
import sys, numpy as np, torch
sys.path.insert(0, 'training')
import render
d = sys.argv[1]
p = torch.from_numpy(np.fromfile(d + '/points.f32', dtype='<f4').reshape(1, -1, 3).copy())
t = torch.from_numpy(np.fromfile(d + '/tris.u32', dtype='<u4').astype(np.int64).reshape(-1, 3))
m = render.prior_map(p, t, 128, 64, 64)
m[0].numpy().astype('<f4').tofile(d + '/py.f32')
`, dir], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const py = new Float32Array(readFileSync(join(dir, 'py.f32')).buffer.slice(0));
    const N = 128 * 128;
    let both = 0, disagree = 0, maxDiff = 0;
    for (let i = 0; i < N; i++) {
      const a = ts[N + i] > 0.5, b = py[N + i] > 0.5;
      if (a !== b) disagree++;
      if (a && b) {
        both++;
        maxDiff = Math.max(maxDiff, Math.abs(ts[i] - py[i]));
      }
    }
    assert.ok(both > 2000, `${both} covered pixels`);
    assert.ok(disagree / both < 0.005, `masks disagree on ${disagree} of ${both} pixels`);
    assert.ok(maxDiff < 1e-3, `depths differ by up to ${maxDiff}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
