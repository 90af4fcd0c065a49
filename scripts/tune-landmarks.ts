/**
 * `node --import tsx scripts/tune-landmarks.ts [dataset dir, default ../shared/aflw2000-3d/fit] [--limit n]`
 *
 * Chooses where the prior is fitted to Face Mesh and where to the landmark network (models/landmarks68.onnx): per
 * photo it runs the detector, the landmark network, and both fits, and prints NME 2D / 3D by |yaw| bin of each
 * source and of the rule "Face Mesh where the landmark fit's |yaw| < T" for several T. Tune on `fit/`, never `eval/`:
 * by default only the photos the landmark network held out (`--all`: every photo).
 */
import { readFile } from 'node:fs/promises';
import { ImageLevels } from '../src/align/sample.ts';
import { firstLandmarkCrop, regressLandmarks } from '../src/landmarks/regressor.ts';
import { boxNormaliser, landmarkBox, nme2d, nme3d } from '../src/metrics/nme.ts';
import { matchFace } from '../src/metrics/match.ts';
import { decodeImage, loadVoxface } from '../src/node/index.ts';
import { benchmarkLandmarks } from '../src/prior/index.ts';
import type { Vec3 } from '../src/types.ts';
import { loadDataset } from '../eval/dataset.ts';

const args = process.argv.slice(2);
const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--limit') ?? '../shared/aflw2000-3d/fit';
const limit = args.includes('--limit') ? Number(args[args.indexOf('--limit') + 1]) : Infinity;
// the landmark network's held-out photos (training/landmarks/train.py: names ending in a multiple of 8); --all: every photo
const heldOut = (name: string) => Number(name.slice(-3)) % 8 === 0;
const all = args.includes('--all');
const ds = await loadDataset(dir);
const vox = await loadVoxface({});
const { prior, landmarks: lm, detector } = vox.deps;
if (!prior || !lm) throw new Error('needs the prior and the landmark model');
interface Row { yaw: number; yawA: number; e: Record<string, [number, number]> }
const rows: Row[] = [];
for (const { gt, image } of ds.samples.filter((s) => all || heldOut(s.gt.name)).slice(0, limit)) {
  const img = await decodeImage(await readFile(image));
  const levels = new ImageLevels(img);
  const dets = await detector.detect(img, levels);
  const m = matchFace(dets.map((d) => d.box), landmarkBox(gt.landmarks3d));
  if (m.index < 0) continue;
  const det = dets[m.index];
  const reg = await regressLandmarks(levels, firstLandmarkCrop(det, lm.info), lm);
  const noFlip = await regressLandmarks(levels, firstLandmarkCrop(det, lm.info), lm, 2, false);
  const fA = prior.fitter.fit({ aflw68: reg.landmarks });
  const fA3 = prior.fitter.fit({ aflw68: reg.landmarks }, { depthWeight: 0.3 });
  const fM = det.mesh468 && det.mesh468.length >= 468 ? prior.fitter.fit({ mesh468: det.mesh468 }) : undefined;
  const norm = boxNormaliser(gt.landmarks3d);
  const score = (p: Vec3[]): [number, number] => [nme2d(p, gt.landmarks3d, norm), nme3d(p, gt.landmarks3d, norm)];
  const e: Row['e'] = { raw: score(reg.landmarks), rawNoFlip: score(noFlip.landmarks), fitA: score(benchmarkLandmarks(prior.basis, fA)), fitA3: score(benchmarkLandmarks(prior.basis, fA3)) };
  if (fM) {
    const lM = benchmarkLandmarks(prior.basis, fM), lA = benchmarkLandmarks(prior.basis, fA);
    e.fitM = score(lM);
    // blends of the two fits' points, Face Mesh's weight ramping from 1 at |yaw| ≤ a to 0 at ≥ b
    for (const [a, b] of [[20, 40], [25, 45], [30, 50]]) {
      const t = Math.min(1, Math.max(0, (Math.abs(fA.pose.yaw) - a) / (b - a)));
      e[`blend${a}-${b}`] = score(lM.map((p, i) => [p[0] * (1 - t) + lA[i][0] * t, p[1] * (1 - t) + lA[i][1] * t, p[2] * (1 - t) + lA[i][2] * t] as Vec3));
    }
  }
  rows.push({ yaw: gt.yaw, yawA: fA.pose.yaw, e });
}
const bins = [[0, 30], [30, 60], [60, 91]];
const table = (label: string, pick: (r: Row) => [number, number]): void => {
  const cells = bins.map(([a, b]) => {
    const rs = rows.filter((r) => Math.abs(r.yaw) >= a && Math.abs(r.yaw) < b).map(pick);
    const mean = (k: 0 | 1) => (100 * rs.reduce((s, x) => s + x[k], 0)) / Math.max(1, rs.length);
    return [mean(0), mean(1)];
  });
  const m2 = cells.reduce((s, c) => s + c[0], 0) / 3, m3 = cells.reduce((s, c) => s + c[1], 0) / 3;
  console.log(`${label.padEnd(26)} ${cells.map((c) => `${c[0].toFixed(2)} / ${c[1].toFixed(2)}`).join('   ')}   mean ${m2.toFixed(2)} / ${m3.toFixed(2)}`);
};
console.log(`${rows.length} photos of ${dir}; NME 2D / 3D (%) by |yaw| bin 0–30, 30–60, 60–90`);
table('landmark network, raw', (r) => r.e.raw);
table('the same without the flip', (r) => r.e.rawNoFlip);
table('prior fitted to it', (r) => r.e.fitA);
table('the same, depth weight 0.3', (r) => r.e.fitA3);
table('prior fitted to Face Mesh', (r) => r.e.fitM ?? r.e.fitA);
for (const k of ['blend20-40', 'blend25-45', 'blend30-50']) table(`${k}`, (r) => r.e[k] ?? r.e.fitA);
for (const T of [15, 20, 25, 30, 35, 40, 45]) table(`Face Mesh where |yaw| < ${T}`, (r) => (r.e.fitM && Math.abs(r.yawA) < T ? r.e.fitM : r.e.fitA));
