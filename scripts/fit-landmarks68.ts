/**
 * `node --import tsx scripts/fit-landmarks68.ts <fits.json> [--max-yaw 30] [--check]`
 *
 * Fits the benchmark's 68 landmarks onto ICT's face: per landmark, the model vertex whose fitted position best
 * matches the ground truth over the photos (3D distance, each photo's depth origin removed), plus a fixed offset in
 * ICT's frame (cm; the benchmark's jaw contour lies inside ICT's head). Input: `scripts/dump-fits.ts` run on
 * `../shared/aflw2000-3d/fit` (AFLW2000-3D, research-only terms; never `eval/`). Writes
 * `src/prior/landmarks68-aflw.ts`. `--check` fits on the even photos and reports NME on the odd ones instead.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { loadShapePrior } from '../src/node/index.ts';
import { poseToPhoto, shapeVertices } from '../src/prior/index.ts';
import { boxNormaliser, nme2d, nme3d } from '../src/metrics/nme.ts';
import type { Vec3 } from '../src/types.ts';

interface Row {
  name: string;
  yaw: number;
  gt: Vec3[];
  fit: { rotation: number[]; scale: number; translation: Vec3; source: string } & { identity: number[]; expression: number[] };
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const maxYaw = Number(args[args.indexOf('--max-yaw') + 1] ?? 30) || 30;
const check = args.includes('--check');
if (!file) {
  console.error('usage: node --import tsx scripts/fit-landmarks68.ts <fits.json> [--max-yaw 30] [--check]');
  process.exit(2);
}
const rows = (JSON.parse(await readFile(file, 'utf8')) as Row[]).filter((r) => r.fit.source === 'facemesh');
const prior = await loadShapePrior();
const basis = prior.basis;
const verts = Uint32Array.from(new Set(basis.meshes.face.vertex));

/** Model-frame positions (cm) of the face's vertices for a fit, and the fit's photo-frame positions. */
function positions(r: Row): { model: Float32Array; photo: Float32Array } {
  const model = shapeVertices(basis, r.fit.identity, r.fit.expression, verts);
  const photo = poseToPhoto(new Float32Array(model), r.fit);
  return { model, photo };
}

/** Photo point → model frame (cm): X = Rᵀ (P − t) / s, P = (x, −y, z). */
function toModel(r: Row, p: Vec3): Vec3 {
  const R = r.fit.rotation, s = r.fit.scale, t = r.fit.translation;
  const q = [p[0] - t[0], -p[1] - t[1], p[2] - t[2]];
  return [0, 1, 2].map((a) => (R[a] * q[0] + R[3 + a] * q[1] + R[6 + a] * q[2]) / s) as Vec3;
}

interface Layer { vertex: number[]; offset: number[] }

function fitLayer(train: Row[]): Layer {
  const pos = train.map(positions);
  // depth origin per photo: start from the mean of the ICT landmark vertices, then re-estimate from the layer
  const dz = train.map(() => 0);
  let layer: Layer = { vertex: Array.from(basis.landmarks68), offset: new Array(68 * 3).fill(0) };
  for (let pass = 0; pass < 3; pass++) {
    const pred = train.map((r, i) => apply(layer, r, pos[i].model));
    train.forEach((r, i) => {
      let s = 0;
      for (let k = 0; k < 68; k++) s += pred[i][k][2] - r.gt[k][2];
      dz[i] = s / 68;
    });
    const vertex: number[] = [], offset: number[] = [];
    for (let k = 0; k < 68; k++) {
      let best = -1, bestErr = Infinity;
      for (let j = 0; j < verts.length; j++) {
        let e = 0;
        for (let i = 0; i < train.length; i++) {
          const p = pos[i].photo, g = train[i].gt[k];
          const n = train[i].fit.scale;
          e += Math.hypot(p[3 * j] - g[0], p[3 * j + 1] - g[1], p[3 * j + 2] - g[2] - dz[i]) / n;
        }
        if (e < bestErr) { bestErr = e; best = j; }
      }
      // offset: the median residual in the model frame (cm)
      const res = train.map((r, i) => {
        const g = toModel(r, [r.gt[k][0], r.gt[k][1], r.gt[k][2] + dz[i]]);
        const m = pos[i].model;
        return [g[0] - m[3 * best], g[1] - m[3 * best + 1], g[2] - m[3 * best + 2]];
      });
      vertex.push(verts[best]);
      for (let a = 0; a < 3; a++) offset.push(median(res.map((x) => x[a])));
    }
    layer = { vertex, offset };
  }
  return layer;
}

function apply(layer: Layer, r: Row, model?: Float32Array): Vec3[] {
  const m = shapeVertices(basis, r.fit.identity, r.fit.expression, layer.vertex);
  for (let i = 0; i < m.length; i++) m[i] += layer.offset[i];
  void model;
  const p = poseToPhoto(m, r.fit);
  return Array.from({ length: 68 }, (_, k): Vec3 => [p[3 * k], p[3 * k + 1], p[3 * k + 2]]);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function report(layer: Layer, test: Row[], label: string): void {
  const ict: Layer = { vertex: Array.from(basis.landmarks68), offset: new Array(204).fill(0) };
  const bins = [[0, 30], [30, 60], [60, 91]];
  for (const [name, l] of [['ICT vertices', ict], [label, layer]] as const) {
    const cells = bins.map(([a, b]) => {
      const rs = test.filter((r) => Math.abs(r.yaw) >= a && Math.abs(r.yaw) < b);
      const e2 = rs.map((r) => nme2d(apply(l, r), r.gt, boxNormaliser(r.gt)));
      const e3 = rs.map((r) => nme3d(apply(l, r), r.gt, boxNormaliser(r.gt)));
      const mean = (v: number[]) => (v.reduce((s, x) => s + x, 0) / Math.max(1, v.length)) * 100;
      return `${mean(e2).toFixed(2)} / ${mean(e3).toFixed(2)} (${rs.length})`;
    });
    console.log(`${name.padEnd(16)} NME 2D / 3D by |yaw| bin: ${cells.join('   ')}`);
  }
}

const frontal = (rs: Row[]) => rs.filter((r) => Math.abs(r.yaw) < maxYaw);
if (check) {
  const even = rows.filter((_, i) => i % 2 === 0), odd = rows.filter((_, i) => i % 2 === 1);
  report(fitLayer(frontal(even)), odd, 'fitted on even');
} else {
  const layer = fitLayer(frontal(rows));
  report(layer, rows, 'fitted (in sample)');
  const text = `/**
 * The benchmark's 68 landmarks on ICT's face, generated by \`scripts/fit-landmarks68.ts\` from the prior's fits to
 * ${frontal(rows).length} photos of AFLW2000-3D \`fit/\` with |yaw| < ${maxYaw}° (AFLW2000-3D: research-only terms; see models/README.md).
 * Landmark k is model vertex \`vertex[k]\` moved by \`offset[3k..3k+2]\` (cm, ICT's frame): the points 3DDFA, PRNet,
 * 300W-LP and AFLW2000-3D mean by the iBUG 68, jaw contour included (it lies inside ICT's head).
 */
export const LANDMARKS68_AFLW = {
  vertex: Uint32Array.from([${layer.vertex.join(', ')}]),
  offset: Float32Array.from([${layer.offset.map((x) => x.toFixed(3)).join(', ')}]),
} as const;
`;
  await writeFile('src/prior/landmarks68-aflw.ts', text);
  console.error('wrote src/prior/landmarks68-aflw.ts');
}
