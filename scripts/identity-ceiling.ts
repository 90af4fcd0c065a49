/**
 * `node --import tsx scripts/identity-ceiling.ts [synthetic benchmark dir, default bench-data/synthetic]`
 *
 * How much a perfect identity would gain on the synthetic benchmark (`sh eval/make-synthetic.sh` renders it): per
 * yaw bin, the dense shape error (eval/dense.ts, mm) of the pipeline's face (defaults) beside the same face with the
 * render's true identity — as the fit's identity centre (started from the pipeline's fit), or put into the fit with
 * its pose and expression kept — with the surface field (src/prior/surface-field.ts) on and off. The ceiling of any
 * identity regressor feeding `PriorFitOptions.identityCenter` (issue 18).
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { ImageLevels } from '../src/align/sample.ts';
import { firstLandmarkCrop, regressLandmarks } from '../src/landmarks/regressor.ts';
import { landmarkBox } from '../src/metrics/nme.ts';
import { matchFace } from '../src/metrics/match.ts';
import { decodeImage, loadVoxface } from '../src/node/index.ts';
import { fitPrior, onSurfaceLandmarks, priorMesh, PRIOR_DEFAULTS } from '../src/prior/index.ts';
import type { PriorFit } from '../src/prior/index.ts';
import { resolveOptions } from '../src/options.ts';
import { loadDataset } from '../eval/dataset.ts';
import { loadDenseTruth } from '../eval/dense.ts';
const dir = process.argv[2] ?? 'bench-data/synthetic';
const ds = await loadDataset(dir);
const dense = loadDenseTruth(dir);
if (!dense) {
  console.error(`${dir} has no dense ground truth: render the synthetic benchmark with sh eval/make-synthetic.sh`);
  process.exit(2);
}
const gtAll = JSON.parse(readFileSync(`${dir}/ground_truth.json`, 'utf8')) as Record<string, { identity: number[] }>;
const vox = await loadVoxface({});
const { prior, landmarks: lm, detector } = vox.deps;
const basis = prior!.basis;
const options = resolveOptions({ faces: 'all', textureSize: 16 }, 'eval');
const lam = PRIOR_DEFAULTS.identityPrior;
const cols = ['pipeline (defaults)', 'true identity as centre, λ_id', 'true identity as centre, 10 λ_id', 'true identity in the fit', 'pipeline, field off', 'true identity in the fit, field off'];
const acc: number[][][] = [[], [], []];
for (const { gt, image } of ds.samples) {
  let faces;
  try { faces = (await vox.reconstructFile(image, options)).result.faces; } catch { continue; }
  const m = matchFace(faces.map((f) => f.box), landmarkBox(gt.landmarks3d));
  if (m.index < 0) continue;
  const face = faces[m.index];
  const fit = face.prior!;
  const img = await decodeImage(await readFile(image));
  const levels = new ImageLevels(img);
  const dets = await detector.detect(img, levels);
  const md = matchFace(dets.map((d) => d.box), landmarkBox(gt.landmarks3d));
  if (md.index < 0) continue;
  const det = dets[md.index];
  const reg = await regressLandmarks(levels, firstLandmarkCrop(det, lm!.info), lm!);
  const truth = gtAll[gt.name].identity.slice(0, 60);
  const err = (f: PriorFit, field = true) => {
    const base = priorMesh(basis, f, fit.region);
    const mesh = field ? onSurfaceLandmarks(basis, f, fit.region, base) : base;
    return dense.error(gt.name, { mesh: mesh as never, prior: { ...f, region: fit.region } }, basis);
  };
  const refit = (l: number) => fitPrior(prior!, { mesh468: det.mesh468, aflw68: reg.landmarks, landmarks68: [] }, { source: fit.source, start: fit, identityCenter: Float32Array.from(truth), identityPrior: l });
  const plugged = { ...fit, identity: Float32Array.from({ length: fit.identity.length }, (_, j) => truth[j] ?? 0) };
  const row = [dense.error(gt.name, face, basis), err(refit(lam)), err(refit(10 * lam)), err(plugged), err(fit, false), err(plugged, false)];
  const bin = Math.abs(gt.yaw) < 30 ? 0 : Math.abs(gt.yaw) < 60 ? 1 : 2;
  acc[bin].push(row);
}
console.log(`dense shape error (mm) by |yaw| 0–30 / 30–60 / 60–90, ${acc.map((r) => r.length).join(' / ')} faces of ${dir}`);
cols.forEach((c, i) => console.log(c.padEnd(38), acc.map((rows) => (rows.reduce((s, r) => s + r[i], 0) / rows.length).toFixed(2)).join(' / ')));
