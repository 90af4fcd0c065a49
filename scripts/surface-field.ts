/**
 * `node --import tsx scripts/surface-field.ts [dataset dir, default ../shared/aflw2000-3d/fit] [--min-yaw 60] [--limit n]`
 *
 * Chooses the width and ridge of the field that moves the fitted face onto the benchmark's 68 points
 * (src/prior/surface-field.ts). Per photo with |yaw| ≥ min-yaw it runs the pipeline once (defaults, the field off),
 * then rebuilds the face's mesh with each field and prints, per setting, the interior coverage (the share of the
 * ground truth's landmarks 17–67 whose ray along z meets the mesh) and the interior depth error (% of the landmark
 * box), beside the largest and mean displacement on the face. Tune on `fit/`, never `eval/`.
 */
import { evaluateImage, surfaceDepthError, INTERIOR_68 } from '../src/metrics/index.ts';
import { loadVoxface } from '../src/node/index.ts';
import { landmarkSurfaceField, onSurfaceLandmarks, priorMesh } from '../src/prior/index.ts';
import type { PriorFit } from '../src/prior/index.ts';
import { resolveOptions } from '../src/options.ts';
import { loadDataset } from '../eval/dataset.ts';

const args = process.argv.slice(2);
const valueOf = (flag: string, fallback: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : fallback);
const dir = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? '../shared/aflw2000-3d/fit';
const minYaw = valueOf('--min-yaw', 60);
const limit = valueOf('--limit', Infinity);
const SETTINGS: { label: string; sigma?: number; ridge?: number }[] = [
  { label: 'off' },
  ...[0.7, 1.0, 1.5].flatMap((sigma) => [0.001, 0.01, 0.05].map((ridge) => ({ label: `σ ${sigma} cm, ridge ${ridge}`, sigma, ridge }))),
];

const ds = await loadDataset(dir);
const vox = await loadVoxface({});
const prior = vox.deps.prior;
if (!prior) throw new Error('needs the shape prior (models/ict-basis)');
const basis = prior.basis;
const fields = SETTINGS.map((s) => (s.sigma === undefined ? undefined : landmarkSurfaceField(basis, s)));
const options = resolveOptions({ faces: 'all', textureSize: 16, surfaceLandmarks: 'off' }, 'eval');
const hit = SETTINGS.map(() => 0);
const depth = SETTINGS.map(() => 0);
let n = 0;
for (const { gt, image } of ds.samples.filter((s) => Math.abs(s.gt.yaw) >= minYaw).slice(0, limit)) {
  let faces;
  try {
    faces = (await vox.reconstructFile(image, options)).result.faces;
  } catch {
    continue; // no face: the same for every setting
  }
  const row = evaluateImage(gt, faces);
  const fit = faces[row.face]?.prior;
  if (row.face < 0 || !fit) continue;
  n++;
  const base = priorMesh(basis, fit as PriorFit, fit.region);
  SETTINGS.forEach((_, s) => {
    const d = fields[s];
    const mesh = d ? onSurfaceLandmarks(basis, fit, fit.region, base, d) : base;
    const r = surfaceDepthError(mesh, gt.landmarks3d, INTERIOR_68);
    hit[s] += r.hit;
    depth[s] += Number.isFinite(r.error) ? r.error : 0;
  });
}
const front = new Set(Array.from(basis.meshes.face.vertex));
console.log(`${n} photos of ${dir} with |yaw| ≥ ${minYaw}°`);
console.log('field                     coverage 17-67 (%)  depth 17-67 (%)  mean / max shift on the face (mm)');
SETTINGS.forEach((s, i) => {
  const d = fields[i];
  let sum = 0, max = 0;
  if (d) for (const v of front) {
    const m = Math.hypot(d[3 * v], d[3 * v + 1], d[3 * v + 2]) * 10;
    sum += m;
    max = Math.max(max, m);
  }
  console.log(`${s.label.padEnd(26)}${((hit[i] / n) * 100).toFixed(1).padStart(18)}${((depth[i] / n) * 100).toFixed(2).padStart(17)}${`${(sum / front.size).toFixed(2)} / ${max.toFixed(2)}`.padStart(20)}`);
});
