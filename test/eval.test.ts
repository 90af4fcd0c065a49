/**
 * Evaluation: NME and yaw binning against hand-computed cases, IoU matching, the surface-depth ray cast, the
 * MATLAB v5 reader (on files written by a minimal v5 writer below), the ground-truth formats and yaw signs,
 * the report and plots from synthetic rows, and `npm run eval` end to end on the 8 dev images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { zlibSync } from 'fflate';
import {
  boxIoU, boxNormaliser, evaluateImage, groundTruthFromAflwMat, INTERIOR_68, landmarkBox, matchFace, matGet,
  nme2d, nme3d, parseGroundTruthJson, readMat, summarise, surfaceDepthAt, surfaceDepthError, yawBin,
} from '../src/metrics/index.ts';
import type { FaceLike, GroundTruth } from '../src/metrics/index.ts';
import type { Vec2, Vec3 } from '../src/types.ts';
import { VoxfaceError } from '../src/types.ts';
import { loadDataset } from '../eval/dataset.ts';
import { cedSvg, yawScatterSvg } from '../eval/plots.ts';
import { PUBLISHED } from '../eval/published.ts';
import { formatTable, markdownReport, summaryLine } from '../eval/report.ts';
import { landmarkDistance, runAgreement } from '../eval/agreement.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(ROOT, '..', 'shared');
const DEV = path.join(SHARED, 'aflw2000-3d-dev');
const MODEL = path.join(ROOT, 'models', 'vrn-compact.onnx');

/** A face-like 68-point set: an ellipse of points in a w×h box with a bumpy z, deterministic. */
function face(x0 = 100, y0 = 50, w = 120, h = 150): Vec3[] {
  return Array.from({ length: 68 }, (_, i): Vec3 => {
    const a = (i / 68) * 2 * Math.PI;
    const r = i % 3 === 0 ? 1 : 0.5;
    return [x0 + w / 2 + (r * w * Math.cos(a)) / 2, y0 + h / 2 + (r * h * Math.sin(a)) / 2, 10 * Math.sin(3 * a) + i * 0.1];
  });
}
/** Makes the box exact: two points on opposite corners. */
function boxed(p: Vec3[], x0 = 100, y0 = 50, w = 120, h = 150): Vec3[] {
  const q = p.map((v): Vec3 => [Math.min(Math.max(v[0], x0), x0 + w), Math.min(Math.max(v[1], y0), y0 + h), v[2]]);
  q[5] = [x0, y0, q[5][2]];
  q[40] = [x0 + w, y0 + h, q[40][2]];
  return q;
}

test('NME 2D: a prediction d pixels off in x everywhere scores d / √(w·h)', () => {
  const gt = boxed(face());
  assert.deepEqual(landmarkBox(gt), [100, 50, 120, 150]);
  const norm = Math.sqrt(120 * 150);
  assert.ok(Math.abs(boxNormaliser(gt) - norm) < 1e-12);
  for (const d of [0, 1, 3.5, -2]) {
    const pred = gt.map(([x, y, z]): Vec3 => [x + d, y, z + 7]);
    assert.ok(Math.abs(nme2d(pred, gt) - Math.abs(d) / norm) < 1e-12, `d=${d}`);
  }
  // half the points 3 px off in y, half 4 px off diagonally (3, 4 → 5): mean 4
  const pred = gt.map(([x, y, z], i): Vec3 => (i % 2 ? [x, y + 3, z] : [x + 3, y + 4, z]));
  assert.ok(Math.abs(nme2d(pred, gt) - 4 / norm) < 1e-12);
  // the normaliser comes from the ground truth, not the prediction
  const big = gt.map(([x, y, z]): Vec3 => [2 * x, 2 * y, z]);
  assert.ok(Math.abs(nme2d(gt, big) - nme2d(big, gt)) > 1e-3);
  assert.throws(() => nme2d(gt.slice(1), gt), /same non-zero number/);
});

test('NME 3D: a constant z offset cancels (z is centred); a z error adds in 3D only', () => {
  const gt = boxed(face());
  const norm = boxNormaliser(gt);
  const shifted = gt.map(([x, y, z]): Vec3 => [x, y, z + 123.4]);
  assert.ok(nme3d(shifted, gt) < 1e-12);
  // +e on even points, −e on odd points: the mean stays, every point is e off in z
  const e = 2.5;
  const zs = gt.map(([x, y, z], i): Vec3 => [x, y, z + (i % 2 ? -e : e) + 40]);
  assert.ok(Math.abs(nme3d(zs, gt) - e / norm) < 1e-12);
  assert.ok(nme2d(zs, gt) < 1e-12);
  // x off by 3 and z off by ±4 → 5 per point
  const both = gt.map(([x, y, z], i): Vec3 => [x + 3, y, z + (i % 2 ? -4 : 4)]);
  assert.ok(Math.abs(nme3d(both, gt) - 5 / norm) < 1e-12);
});

test('yaw bins: |yaw| ≤ 30, (30, 60], > 60 (past 90 too)', () => {
  const cases: [number, number][] = [[0, 0], [29.99, 0], [30, 0], [-30, 0], [30.001, 1], [-45, 1], [60, 1], [-60, 1], [60.01, 2], [90, 2], [-97, 2]];
  for (const [yaw, bin] of cases) assert.equal(yawBin(yaw), bin, `yaw ${yaw}`);
  assert.throws(() => yawBin(NaN), /finite/);
});

test('IoU and face matching: best overlap wins, no overlap = not detected', () => {
  assert.equal(boxIoU([0, 0, 2, 2], [0, 0, 2, 2]), 1);
  assert.ok(Math.abs(boxIoU([0, 0, 2, 2], [1, 0, 2, 2]) - 2 / 6) < 1e-12);
  assert.equal(boxIoU([0, 0, 2, 2], [2, 0, 2, 2]), 0); // touching edges
  assert.equal(boxIoU([0, 0, 2, 2], [5, 5, 1, 1]), 0);
  const m = matchFace([[0, 0, 1, 1], [10, 10, 5, 5], [11, 11, 4, 4]], [11, 11, 4, 4]);
  assert.equal(m.index, 2);
  assert.equal(m.iou, 1);
  assert.deepEqual(matchFace([[0, 0, 1, 1]], [11, 11, 4, 4]), { index: -1, iou: 0 });
  assert.deepEqual(matchFace([], [11, 11, 4, 4]), { index: -1, iou: 0 });
  assert.equal(matchFace([[10, 10, 5, 5]], [11, 11, 4, 4], 0.7).index, -1); // IoU 0.64 below the threshold
});

/** A grid mesh over [x0, x1]×[y0, y1] with z = f(x, y). */
function gridMesh(x0: number, y0: number, x1: number, y1: number, n: number, f: (x: number, y: number) => number) {
  const positions: number[] = [];
  const indices: number[] = [];
  for (let j = 0; j <= n; j++) {
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * j) / n;
      positions.push(x, y, f(x, y));
    }
  }
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const a = j * (n + 1) + i;
      indices.push(a, a + n + 2, a + 1, a, a + n + 1, a + n + 2);
    }
  }
  return { positions: new Float32Array(positions), indices: new Uint32Array(indices) };
}

test('surface depth: ray cast along z is exact on planes, takes the front-most layer, misses are NaN', () => {
  const plane = (x: number, y: number) => 0.25 * x - 0.5 * y + 10;
  const mesh = gridMesh(0, 0, 100, 100, 7, plane);
  const pts: Vec2[] = [[10, 20], [50, 50], [99.5, 0.5], [0, 0], [100, 100], [42.857142, 30], [150, 20], [-1, 5]];
  const z = surfaceDepthAt(mesh, pts);
  pts.slice(0, 6).forEach(([x, y], k) => assert.ok(Math.abs(z[k] - plane(x, y)) < 1e-3, `(${x}, ${y}): ${z[k]} vs ${plane(x, y)}`));
  assert.ok(Number.isNaN(z[6]) && Number.isNaN(z[7]));
  // a second layer behind (z − 50) and one in front (z + 30) over half the area: the front one wins
  const back = gridMesh(0, 0, 100, 100, 3, (x, y) => plane(x, y) - 50);
  const front = gridMesh(0, 0, 50, 100, 3, (x, y) => plane(x, y) + 30);
  const merged = mergeMeshes([back, mesh, front]);
  const z2 = surfaceDepthAt(merged, [[10, 20], [80, 20]]);
  assert.ok(Math.abs(z2[0] - (plane(10, 20) + 30)) < 1e-3);
  assert.ok(Math.abs(z2[1] - plane(80, 20)) < 1e-3);
});

function mergeMeshes(list: { positions: Float32Array; indices: Uint32Array }[]) {
  const positions: number[] = [];
  const indices: number[] = [];
  for (const m of list) {
    const base = positions.length / 3;
    positions.push(...m.positions);
    indices.push(...Array.from(m.indices, (i) => i + base));
  }
  return { positions: new Float32Array(positions), indices: new Uint32Array(indices) };
}

test('surface depth error: 0 for the true surface at any depth offset, the flat-face floor for a flat mesh', () => {
  const f = (x: number, y: number) => 0.3 * x + 0.1 * y - 20;
  const gt = boxed(face()).map(([x, y]): Vec3 => [x, y, f(x, y)]);
  const norm = boxNormaliser(gt);
  const surf = gridMesh(0, 0, 400, 400, 20, (x, y) => f(x, y) + 77);
  const r = surfaceDepthError(surf, gt);
  assert.equal(r.hit, 1);
  assert.ok(r.error < 1e-4, `error ${r.error}`);
  // flat floor by hand
  const mz = gt.reduce((s, p) => s + p[2], 0) / 68;
  const flatHand = gt.reduce((s, p) => s + Math.abs(p[2] - mz), 0) / 68 / norm;
  assert.ok(Math.abs(r.flat - flatHand) < 1e-9);
  const flat = gridMesh(0, 0, 400, 400, 4, () => 5);
  const rf = surfaceDepthError(flat, gt);
  assert.ok(Math.abs(rf.error - flatHand) < 1e-6);
  // a mesh covering only the left half: hit fraction and centring over the points hit
  const half = gridMesh(0, 0, 160, 400, 8, (x, y) => f(x, y) + 3);
  const rh = surfaceDepthError(half, gt, INTERIOR_68);
  const inside = INTERIOR_68.filter((i) => gt[i][0] <= 160).length;
  assert.ok(Math.abs(rh.hit - inside / INTERIOR_68.length) < 1e-12);
  assert.ok(rh.error < 1e-4);
  assert.ok(Number.isNaN(surfaceDepthError(gridMesh(1000, 1000, 1001, 1001, 1, () => 0), gt).error));
});

// ---------------------------------------------------------------- MATLAB v5 writer for the reader's tests

type StoreType = 'double' | 'uint8' | 'int16' | 'single';
interface MatVar {
  name: string;
  dims: number[];
  /** column-major */
  data: number[];
  /** Class: 6 double (default), 4 char, 2 struct (data ignored, one empty field "a"). */
  cls?: number;
  store?: StoreType;
}

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15 };

function writeMat(vars: MatVar[], opts: { compress?: boolean; bigEndian?: boolean; smallNames?: boolean } = {}): Uint8Array {
  const le = !opts.bigEndian;
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(128).fill(32);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, written by test/eval.test.ts'), 0);
  const hv = new DataView(header.buffer);
  hv.setUint32(116, 0);
  hv.setUint32(120, 0);
  hv.setUint16(124, 0x0100, le);
  header[126] = le ? 0x49 : 0x4d; // 'I' 'M' read as the uint16 0x4D49 ('MI') in the file's byte order
  header[127] = le ? 0x4d : 0x49;
  parts.push(header);

  const element = (type: number, body: Uint8Array, small = false): Uint8Array => {
    if (small && body.length <= 4) {
      const b = new Uint8Array(8);
      const dv = new DataView(b.buffer);
      if (le) {
        dv.setUint16(0, type, true);
        dv.setUint16(2, body.length, true);
      } else {
        dv.setUint16(0, body.length, false);
        dv.setUint16(2, type, false);
      }
      b.set(body, 4);
      return b;
    }
    const padded = Math.ceil(body.length / 8) * 8;
    const b = new Uint8Array(8 + padded);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, le);
    dv.setUint32(4, body.length, le);
    b.set(body, 8);
    return b;
  };
  const typed = (type: number, values: number[]): Uint8Array => {
    const size = { [MI.INT8]: 1, [MI.UINT8]: 1, [MI.INT16]: 2, [MI.UINT16]: 2, [MI.INT32]: 4, [MI.UINT32]: 4, [MI.SINGLE]: 4, [MI.DOUBLE]: 8 }[type]!;
    const b = new Uint8Array(values.length * size);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => {
      const o = i * size;
      if (type === MI.INT8) dv.setInt8(o, v);
      else if (type === MI.UINT8) dv.setUint8(o, v);
      else if (type === MI.INT16) dv.setInt16(o, v, le);
      else if (type === MI.UINT16) dv.setUint16(o, v, le);
      else if (type === MI.INT32) dv.setInt32(o, v, le);
      else if (type === MI.UINT32) dv.setUint32(o, v, le);
      else if (type === MI.SINGLE) dv.setFloat32(o, v, le);
      else dv.setFloat64(o, v, le);
    });
    return b;
  };
  const cat = (list: Uint8Array[]) => {
    const out = new Uint8Array(list.reduce((s, a) => s + a.length, 0));
    let o = 0;
    for (const a of list) {
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  const matrix = (v: MatVar): Uint8Array => {
    const cls = v.cls ?? 6;
    const sub: Uint8Array[] = [
      element(MI.UINT32, typed(MI.UINT32, [cls, 0])),
      element(MI.INT32, typed(MI.INT32, v.dims)),
      element(MI.INT8, new TextEncoder().encode(v.name), opts.smallNames),
    ];
    if (cls === 2) {
      sub.push(element(MI.INT32, typed(MI.INT32, [32]), true));
      const names = new Uint8Array(32);
      names[0] = 'a'.charCodeAt(0);
      sub.push(element(MI.INT8, names));
      sub.push(matrix({ name: '', dims: [1, 1], data: [42] }));
    } else if (cls === 4) {
      sub.push(element(MI.UINT16, typed(MI.UINT16, v.data)));
    } else {
      const store = v.store ?? 'double';
      const type = { double: MI.DOUBLE, uint8: MI.UINT8, int16: MI.INT16, single: MI.SINGLE }[store];
      sub.push(element(type, typed(type, v.data), true));
    }
    return element(MI.MATRIX, cat(sub));
  };
  for (const v of vars) {
    const m = matrix(v);
    if (opts.compress) {
      const z = zlibSync(m);
      const tag = new Uint8Array(8);
      new DataView(tag.buffer).setUint32(0, MI.COMPRESSED, le);
      new DataView(tag.buffer).setUint32(4, z.length, le);
      parts.push(tag, z); // compressed elements are not padded
    } else {
      parts.push(m);
    }
  }
  return cat(parts);
}

function aflwLikeVars(): MatVar[] {
  const gt = face();
  const pt: number[] = [];
  for (const p of gt) pt.push(p[0] + 0.5, p[1] + 0.5, p[2]); // column-major 3×68, MATLAB pixel centres
  return [
    { name: 'pt2d', dims: [2, 21], data: Array.from({ length: 42 }, (_, i) => (i % 7 === 0 ? -1 : i * 3)), store: 'int16' },
    { name: 'Pose_Para', dims: [1, 7], data: [0.1, -0.3, 0.05, 220, 230, 10, 0.0011] },
    { name: 'pt3d_68', dims: [3, 68], data: pt },
    { name: 'roi', dims: [1, 4], data: [10, 20, 200, 210], store: 'uint8' },
    { name: 'note', dims: [1, 5], data: [...'hello'].map((c) => c.charCodeAt(0)), cls: 4 },
    { name: 's', dims: [1, 1], data: [], cls: 2 },
  ];
}

test('MATLAB v5 reader: doubles, compressed (v7), big-endian, small elements, narrow storage types, char, struct skipped', () => {
  const vars = aflwLikeVars();
  for (const opts of [{}, { compress: true }, { bigEndian: true }, { compress: true, bigEndian: true, smallNames: true }, { smallNames: true }]) {
    const m = readMat(writeMat(vars, opts));
    const what = JSON.stringify(opts);
    assert.deepEqual(Object.keys(m).sort(), ['Pose_Para', 'note', 'pt2d', 'pt3d_68', 'roi', 's'], what);
    assert.deepEqual(m.pt3d_68.dims, [3, 68]);
    assert.equal(m.pt3d_68.className, 'double');
    assert.deepEqual(Array.from(m.pt3d_68.data), vars[2].data, what);
    assert.deepEqual(Array.from(m.Pose_Para.data), vars[1].data, what);
    assert.deepEqual(Array.from(m.pt2d.data), vars[0].data, what); // stored as int16, class double
    assert.deepEqual(Array.from(m.roi.data), [10, 20, 200, 210], what);
    assert.equal(m.note.text, 'hello');
    assert.equal(m.s.className, 'struct');
    assert.equal(matGet(m.pt3d_68, 2, 30), vars[2].data[2 + 30 * 3]);
  }
  // bad input: a clear VoxfaceError
  assert.throws(() => readMat(new Uint8Array(50)), (e: unknown) => e instanceof VoxfaceError && /shorter than the 128-byte header/.test(e.message));
  const v73 = new Uint8Array(512).fill(32);
  v73.set(new TextEncoder().encode('MATLAB 7.3 MAT-file'), 0);
  assert.throws(() => readMat(v73), /v7.3 files are HDF5/);
  const cut = writeMat(vars).subarray(0, 400);
  assert.throws(() => readMat(cut), (e: unknown) => e instanceof VoxfaceError && /runs past the end/.test(e.message));
  const corrupt = writeMat(vars, { compress: true });
  corrupt.fill(0xff, 140, 160);
  assert.throws(() => readMat(corrupt), (e: unknown) => e instanceof VoxfaceError);
});

test('AFLW2000-3D .mat → ground truth: 1-based pixel centres shifted by −0.5, yaw in degrees with voxface sign', () => {
  const vars = aflwLikeVars();
  const gt = groundTruthFromAflwMat('image00002', readMat(writeMat(vars, { compress: true })));
  const ref = face();
  gt.landmarks3d.forEach((p, i) => p.forEach((v, k) => assert.ok(Math.abs(v - ref[i][k]) < 1e-9)));
  assert.ok(Math.abs(gt.datasetPose.yaw - (-0.3 * 180) / Math.PI) < 1e-9);
  assert.ok(Math.abs(gt.yaw - (0.3 * 180) / Math.PI) < 1e-9); // AFLW's sign is the opposite of ours
  assert.ok(Math.abs(gt.datasetPose.pitch! - (0.1 * 180) / Math.PI) < 1e-9);
  assert.throws(() => groundTruthFromAflwMat('x', readMat(writeMat(vars.filter((v) => v.name !== 'pt3d_68')))), /pt3d_68/);
});

test('ground_truth.json: parsed, yaw sign per convention, bad entries rejected with their name', () => {
  const lm = face();
  const json = { b: { landmarks68_3d: lm, landmarks68_2d_reannotated: lm.map(([x, y]) => [x, y]), yaw_degrees: -16 }, a: { landmarks68_3d: lm, yaw_degrees: 70, pitch_degrees: 3 } };
  const aflw = parseGroundTruthJson(json, 'aflw');
  assert.deepEqual(aflw.map((g) => g.name), ['a', 'b']);
  assert.deepEqual(aflw.map((g) => g.yaw), [-70, 16]);
  assert.equal(aflw[1].landmarks2dReannotated?.length, 68);
  assert.equal(aflw[0].datasetPose.pitch, 3);
  assert.deepEqual(parseGroundTruthJson(json, 'voxface').map((g) => g.yaw), [70, -16]);
  assert.throws(() => parseGroundTruthJson({ x: { landmarks68_3d: lm.slice(3), yaw_degrees: 0 } }, 'aflw'), (e: unknown) => e instanceof VoxfaceError && /"x".*68 points/.test(e.message));
  assert.throws(() => parseGroundTruthJson({ x: { landmarks68_3d: lm } }, 'aflw'), /yaw_degrees/);
  assert.throws(() => parseGroundTruthJson([], 'aflw'), /object of images/);
  assert.throws(() => parseGroundTruthJson({ x: { landmarks68_3d: lm, yaw_degrees: 0, landmarks68_visible: [true] } }, 'aflw'), /landmarks68_visible/);
});

test('visibility flags: the visible-landmark depth error ignores hidden landmarks; without flags it is the all-68 one', () => {
  const f = (x: number, y: number) => 0.2 * x - 0.1 * y;
  const lm = boxed(face()).map(([x, y]): Vec3 => [x, y, f(x, y)]);
  // the right half of the landmarks is "hidden": their ground-truth z lies 60 px behind the surface we meshed
  const cut = (Math.min(...lm.map((p) => p[0])) + Math.max(...lm.map((p) => p[0]))) / 2;
  const hidden = lm.map((p) => p[0] > cut);
  const gtLm = lm.map(([x, y, z], i): Vec3 => [x, y, hidden[i] ? z - 60 : z]);
  const visible = hidden.map((h) => !h);
  const [withFlags] = parseGroundTruthJson({ s: { landmarks68_3d: gtLm, landmarks68_visible: visible, yaw_degrees: 50 } }, 'voxface');
  const [noFlags] = parseGroundTruthJson({ s: { landmarks68_3d: gtLm, yaw_degrees: 50 } }, 'voxface');
  assert.deepEqual(withFlags.visible, visible);
  assert.equal(noFlags.visible, undefined);
  const mesh = gridMesh(0, 0, 400, 400, 20, (x, y) => f(x, y) + 9); // the true visible surface, shifted in z
  const box = landmarkBox(gtLm);
  const faceLike = { box, landmarks68: gtLm, mesh };
  const a = evaluateImage(withFlags, [faceLike]);
  const b = evaluateImage(noFlags, [faceLike]);
  assert.ok(a.depthVisible.error < 1e-4, `visible-only error ${a.depthVisible.error}`);
  assert.ok(a.depthAll68.error > 0.05, `all-68 error ${a.depthAll68.error} includes the hidden landmarks`);
  assert.ok(Math.abs(b.depthVisible.error - b.depthAll68.error) < 1e-12);
  const s = summarise([a]);
  assert.ok(s.all.depthVisible < 1e-4 && s.all.flatVisible > 0);
});

test('dev set: ground_truth.json layout, AFLW yaw sign converted so it agrees with the ground-truth landmarks', { skip: existsSync(DEV) ? false : 'needs ../shared (VOXFACE_SHARED)' }, async () => {
  const ds = await loadDataset(DEV);
  assert.equal(ds.format, 'ground_truth.json');
  assert.equal(ds.convention, 'aflw');
  assert.equal(ds.samples.length, 8);
  for (const { gt } of ds.samples) {
    const row = evaluateImage(gt, []);
    if (Math.abs(gt.yaw) > 3) assert.equal(Math.sign(row.yawFromGt), Math.sign(gt.yaw), `${gt.name}: yaw ${gt.yaw} vs fitted ${row.yawFromGt}`);
  }
});

test('dataset loader: AFLW2000-3D .mat folder', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxface-mat-'));
  try {
    await writeFile(path.join(dir, 'image00002.mat'), writeMat(aflwLikeVars(), { compress: true }));
    await writeFile(path.join(dir, 'image00002.jpg'), new Uint8Array([0xff, 0xd8, 0xff]));
    await writeFile(path.join(dir, 'image00004.mat'), writeMat(aflwLikeVars()));
    const ds = await loadDataset(dir);
    assert.equal(ds.format, 'AFLW2000-3D .mat');
    assert.deepEqual(ds.samples.map((s) => s.gt.name), ['image00002']);
    assert.deepEqual(ds.missing, ['image00004']);
    await mkdir(path.join(dir, 'empty'));
    await assert.rejects(loadDataset(path.join(dir, 'empty')), /neither a ground_truth.json nor/);
    await assert.rejects(loadDataset(path.join(dir, 'nope')), (e: unknown) => e instanceof VoxfaceError && e.code === 'IO_ERROR');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('evaluateImage + summarise: matching, failures apart from NME, bin-balanced mean; report and plots', () => {
  const mk = (name: string, yaw: number, x0 = 100): GroundTruth => ({ name, landmarks3d: boxed(face(x0), x0), yaw, datasetPose: { yaw, convention: 'voxface' } });
  const surface = () => gridMesh(0, 0, 800, 800, 16, (x, y) => 0.2 * x + 0.1 * y);
  const faceAt = (gt: GroundTruth, dx: number): FaceLike => ({
    box: [gt.landmarks3d[5][0] - 10, gt.landmarks3d[5][1] - 30, 140, 180],
    landmarks68: gt.landmarks3d.map(([x, y, z]): Vec3 => [x + dx, y, z]),
    mesh: surface(),
  });
  const norm = Math.sqrt(120 * 150);
  const g0 = mk('a', 10);
  const g1 = mk('b', -45);
  const g2 = mk('c', 75);
  const g3 = mk('d', 20);
  const far: FaceLike = { ...faceAt(g0, 0), box: [600, 600, 50, 50] };
  const rows = [
    evaluateImage(g0, [far, faceAt(g0, 3)]), // picks the overlapping one
    evaluateImage(g1, [faceAt(g1, 6)]),
    evaluateImage(g2, [faceAt(g2, 9)]),
    evaluateImage(g3, [far]), // nothing overlaps: a failure
  ];
  assert.deepEqual(rows.map((r) => r.detected), [true, true, true, false]);
  assert.equal(rows[0].faces, 2);
  assert.ok(Math.abs(rows[0].nme2d - 3 / norm) < 1e-12);
  assert.ok(rows[0].iou > 0.5 && rows[0].iou <= 1);
  assert.ok(Number.isNaN(rows[3].nme2d));
  const s = summarise(rows);
  assert.deepEqual(s.bins.map((b) => [b.images, b.detected]), [[2, 1], [1, 1], [1, 1]]);
  assert.equal(s.bins[0].failureRate, 0.5);
  assert.equal(s.all.failureRate, 0.25);
  assert.ok(Math.abs(s.all.nme2d - 6 / norm) < 1e-12); // (3 + 6 + 9) / 3 over detected faces
  assert.ok(Math.abs(s.balanced.nme2d - 6 / norm) < 1e-12);
  assert.equal(s.balanced.bins, 3);
  // only bin 0 detected: the balanced mean is that bin's
  const s0 = summarise([rows[0], rows[3]]);
  assert.equal(s0.balanced.bins, 1);
  assert.ok(Math.abs(s0.balanced.nme2d - 3 / norm) < 1e-12);
  assert.ok(Number.isNaN(s0.bins[2].nme2d));
  // every landmark lies over the mesh: the depth error is defined
  assert.ok(rows.slice(0, 3).every((r) => Number.isFinite(r.depthAll68.error) && r.depthAll68.hit === 1));

  const report = {
    dataset: 'synthetic-rows', format: 'test', yawConvention: 'voxface', model: 'none', images: rows.length, rows,
    summary: s, missing: [], yawSignMismatches: [], seconds: 1, date: '2025-01-01',
  };
  const table = formatTable(report);
  const last = table.trim().split('\n').at(-1)!;
  assert.match(last, /^NME 2D \d+\.\d{2}%$/);
  assert.equal(last, `NME 2D ${((6 / norm) * 100).toFixed(2)}%`);
  assert.equal(summaryLine(s), last);
  for (const p of PUBLISHED) assert.ok(table.includes(p.method) && table.includes(p.mean.toFixed(2)));
  const md = markdownReport(report, { ced: 'ced.svg', yaw: 'nme-vs-yaw.svg' });
  assert.ok(md.includes('all 2000 AFLW2000-3D images'));
  assert.ok(md.includes('| d |') && md.includes('not detected'));
  const ced = cedSvg([{ label: 'NME 2D', values: rows.map((r) => r.nme2d), color: '#000' }]);
  assert.match(ced, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(ced.includes('NME 2D (3/4)'));
  assert.ok(ced.trim().endsWith('</svg>'));
  const sc = yawScatterSvg(rows, PUBLISHED);
  assert.equal((sc.match(/<circle [^>]*fill="#1f77b4"/g) ?? []).length, 3 + 1); // 3 detected + the legend dot
});

test('npm run eval end to end on the 8 dev images', {
  skip: !existsSync(DEV) ? 'needs ../shared (VOXFACE_SHARED)' : !existsSync(MODEL) ? 'needs models/vrn-compact.onnx' : false,
  timeout: 300_000,
}, async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'voxface-eval-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'eval/eval.ts', DEV, '--out', out, '--threads', '1'], {
      cwd: ROOT,
      maxBuffer: 1 << 24,
    });
    const lines = stdout.trim().split('\n');
    assert.match(lines.at(-1)!, /^NME 2D \d+\.\d{2}%$/, stdout);
    const json = JSON.parse(await readFile(path.join(out, 'eval.json'), 'utf8'));
    assert.equal(json.rows.length, 8);
    for (const r of json.rows) {
      assert.equal(r.detected, true, `${r.name} not detected`);
      assert.ok(Number.isFinite(r.nme2d) && r.nme2d > 0, `${r.name} nme2d ${r.nme2d}`);
      assert.ok(Number.isFinite(r.nme3d) && r.nme3d > 0, `${r.name} nme3d ${r.nme3d}`);
      assert.ok(r.iou > 0);
    }
    assert.equal(json.summary.all.detected, 8);
    assert.equal(lines.at(-1), `NME 2D ${(json.summary.all.nme2d * 100).toFixed(2)}%`);
    const md = await readFile(path.join(out, 'eval.md'), 'utf8');
    assert.ok(md.includes('SynergyNet') && md.includes('image00046'));
    for (const f of ['ced.svg', 'nme-vs-yaw.svg']) assert.match(await readFile(path.join(out, f), 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('agreement: landmark distance is 0 for the same points, d / √(w·h) for a shift of d', () => {
  const a = face();
  assert.equal(landmarkDistance(a, a), 0);
  const b = a.map(([x, y, z]): Vec3 => [x + 3, y - 4, z + 100]); // z is ignored
  const xs = a.map((p) => p[0]), ys = a.map((p) => p[1]);
  const norm = Math.sqrt((Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys)));
  assert.ok(Math.abs(landmarkDistance(a, b) - 5 / norm) < 1e-12);
});

const FACES = path.join(SHARED, 'faces', 'deepface');
test('npm run agreement on 3 real photos: network landmarks near Face Mesh\'s on every compared face', {
  skip: existsSync(FACES) ? false : 'needs ../shared (VOXFACE_SHARED)', timeout: 120_000,
}, async () => {
  const photos = ['img1.jpg', 'img2.jpg', 'img3.jpg'].map((f) => path.join(FACES, f)).filter((f) => existsSync(f));
  const { rows, table } = await runAgreement({ photos, threads: 1 });
  assert.ok(rows.length >= 2, `only ${rows.length} faces compared`);
  for (const r of rows) assert.ok(r.nme > 0 && r.nme < 0.15, `${r.photo}: ${r.nme}`);
  assert.match(table, /\| all \| \d+ \| \d+\.\d\d% \|/);
});
