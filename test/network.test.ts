/**
 * The network stage with fake sessions (no model file): input checks, sigmoid, and the test-time flip.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIRROR68, parseModelInfo, runNetwork } from '../src/network/index.ts';
import type { Crop, InferenceSession, NetworkInput, Tensor } from '../src/types.ts';

const S = 8;
const info = parseModelInfo({
  name: 'fake',
  inputSize: S,
  volume: { width: 4, height: 4, depth: 3, voxelSize: 2 },
  crop: { scale: 1.6, shiftY: 0 },
  landmarks: 68,
});
const crop: Crop = { offset: [0, 0], scale: 1, size: S };

/** A fake network: logit of voxel (d, r, c) = red channel at pixel (2r, 2c) − d; landmark i = the brightest red pixel + i/100. */
function fakeSession(calls: Float32Array[]): InferenceSession {
  return {
    inputNames: ['image'],
    outputNames: ['volume', 'landmarks'],
    async run(feeds: Record<string, Tensor>) {
      const x = feeds.image.data as Float32Array;
      calls.push(x.slice());
      const vol = new Float32Array(3 * 4 * 4);
      for (let d = 0; d < 3; d++) for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) vol[(d * 4 + r) * 4 + c] = x[2 * r * S + 2 * c] - d;
      let best = 0;
      for (let i = 1; i < S * S; i++) if (x[i] > x[best]) best = i;
      const lm = new Float32Array(68 * 3);
      for (let i = 0; i < 68; i++) {
        lm[i * 3] = (best % S) + 0.5 + i / 100;
        lm[i * 3 + 1] = Math.floor(best / S) + 0.5;
        lm[i * 3 + 2] = i;
      }
      return { volume: { data: vol, dims: [1, 3, 4, 4] }, landmarks: { data: lm, dims: [1, 68, 3] } };
    },
  };
}

function input(): NetworkInput {
  const data = new Float32Array(3 * S * S);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 11) / 10;
  data[2 * S + 1] = 5; // the brightest red pixel: row 2, column 1
  return { crop, data };
}

test('MIRROR68 is an involution that swaps left and right features and keeps the midline', () => {
  assert.equal(MIRROR68.length, 68);
  assert.deepEqual([...MIRROR68].sort((a, b) => a - b), Array.from({ length: 68 }, (_, i) => i));
  for (let i = 0; i < 68; i++) assert.equal(MIRROR68[MIRROR68[i]], i);
  const pairs: [number, number][] = [[0, 16], [8, 8], [17, 26], [30, 30], [31, 35], [36, 45], [39, 42], [48, 54], [51, 51], [57, 57], [60, 64], [62, 62], [66, 66]];
  for (const [a, b] of pairs) assert.equal(MIRROR68[a], b, `mirror of ${a}`);
});

test('runNetwork applies the sigmoid and rejects inputs of the wrong size', async () => {
  const calls: Float32Array[] = [];
  const out = await runNetwork(fakeSession(calls), info, input());
  assert.equal(calls.length, 1);
  const x = input().data;
  assert.ok(Math.abs(out.volume.data[0] - 1 / (1 + Math.exp(-x[0]))) < 1e-6);
  assert.deepEqual(out.landmarks[0], [1.5, 2.5, 0]);
  await assert.rejects(runNetwork(fakeSession([]), info, { crop, data: new Float32Array(5) }), /network input must be/);
});

test('test-time flip runs the mirrored crop and averages both answers in the original frame', async () => {
  const calls: Float32Array[] = [];
  const plain = await runNetwork(fakeSession([]), info, input());
  const flipped = await runNetwork(fakeSession(calls), info, input(), { flip: true });
  assert.equal(calls.length, 2);
  // the second call saw every channel mirrored left-right
  for (let ch = 0; ch < 3; ch++) {
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) assert.equal(calls[1][(ch * S + y) * S + x], calls[0][(ch * S + y) * S + S - 1 - x]);
  }
  // volume: the mean of the plain answer and the mirrored answer mirrored back
  const x = input().data;
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  for (let d = 0; d < 3; d++) {
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) {
        const a = sig(x[2 * r * S + 2 * c] - d);
        const b = sig(x[2 * r * S + (S - 1 - (2 * (3 - c)))] - d); // mirrored crop's voxel (r, 3 − c)
        assert.ok(Math.abs(flipped.volume.data[(d * 4 + r) * 4 + c] - (a + b) / 2) < 1e-6);
      }
    }
  }
  // landmarks: the mirrored run finds the bright pixel at column S−1−1 = 6; mirrored back it is column 1 again,
  // and its landmark i lands on index MIRROR68[i]
  for (let i = 0; i < 68; i++) {
    const j = MIRROR68[i];
    const fromMirror = [S - (6 + 0.5 + i / 100), 2.5, i];
    const expected = [(plain.landmarks[j][0] + fromMirror[0]) / 2, 2.5, (plain.landmarks[j][2] + fromMirror[2]) / 2];
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(flipped.landmarks[j][k] - expected[k]) < 1e-5, `landmark ${j}[${k}]`);
  }
});
