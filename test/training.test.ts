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
