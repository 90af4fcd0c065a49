/**
 * Does the landmark network's 68 carry a face's identity? On synthetic renders with known identity (training/benchmark.py;
 * choose on another seed than the benchmark's 2024), the pipeline's face is fitted again to the network's 68 points
 * (two passes, flip), from the pipeline's fit, pulled toward its identity with smaller and smaller identity priors;
 * prints the dense shape error by |yaw| bin with the surface field and without it (NF), and writes the rows.
 *
 *   python3 training/benchmark.py --out=bench-data/synthetic-tune --n=240 --seed=2025
 *   node --import tsx scripts/identity-landmarks.ts bench-data/synthetic-tune /tmp/identity-landmarks.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadVoxface } from '../src/node/index.ts';
import { decodeImage } from '../src/node/decode.ts';
import { ImageLevels } from '../src/align/sample.ts';
import { firstLandmarkCrop, regressLandmarks } from '../src/landmarks/regressor.ts';
import { priorMesh, onSurfaceLandmarks, shapeVertices, type PriorFit } from '../src/prior/index.ts';
import { denseShapeError } from '../eval/dense.ts';
const dir = process.argv[2] ?? 'bench-data/synthetic-tune';
const gt = JSON.parse(readFileSync(`${dir}/ground_truth.json`, 'utf8')) as Record<string, { identity: number[]; expression: number[]; yaw_degrees: number }>;
const vox = await loadVoxface({});
const { prior, landmarks: lm } = vox.deps;
if (!prior || !lm) throw new Error('needs the shape prior and the landmark network');
const basis = prior.basis;
const lams = [0.06, 0.02, 0.01, 0.005, 0.002];
const rows: Record<string, number>[] = [];
for (const name of Object.keys(gt)) {
  const g = gt[name];
  const image = await decodeImage(readFileSync(`${dir}/${name}.jpg`));
  let result;
  try {
    result = await vox.reconstruct(image, {});
  } catch {
    continue; // no face found
  }
  const face = result.faces[0];
  if (!face?.prior) continue;
  const buf = readFileSync(`${dir}/${name}.vertices.f32`);
  const posed = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const truth = shapeVertices(basis, g.identity, g.expression);
  const dense = (fit: PriorFit) => denseShapeError(onSurfaceLandmarks(basis, fit, 'face', priorMesh(basis, fit, 'face')).positions, basis.meshes.face.vertex, posed, truth, basis);
  const denseNoField = (fit: PriorFit) => denseShapeError(priorMesh(basis, fit, 'face').positions, basis.meshes.face.vertex, posed, truth, basis);
  const levels = new ImageLevels(image);
  const crop = firstLandmarkCrop({ box: face.box, roll: 0, source: face.detector, landmarks68: face.landmarks68.map(([x, y]): [number, number] => [x, y]) }, lm.info);
  const { landmarks: net } = await regressLandmarks(levels, crop, lm, 2, true);
  const row: Record<string, number> = { yaw: g.yaw_degrees, base: dense(face.prior), baseNF: denseNoField(face.prior), pipe: denseShapeError(face.mesh.positions, basis.meshes.face.vertex, posed, truth, basis) };
  for (const lam of lams) {
    const fit = prior.fitter.fit({ aflw68: net }, { start: face.prior, identityCenter: face.prior.identity, identityPrior: lam });
    row[`lam${lam}`] = dense(fit);
    row[`lam${lam}NF`] = denseNoField(fit);
  }
  rows.push(row);
}
if (process.argv[3]) writeFileSync(process.argv[3], JSON.stringify(rows));
const bin = (y: number) => (Math.abs(y) < 30 ? 0 : Math.abs(y) < 60 ? 1 : 2);
const keys = ['pipe', 'base', 'baseNF', ...lams.flatMap((l) => [`lam${l}`, `lam${l}NF`])];
for (const k of keys) {
  const s = [0, 0, 0], n = [0, 0, 0];
  for (const r of rows) if (Number.isFinite(r[k])) { s[bin(r.yaw)] += r[k]; n[bin(r.yaw)]++; }
  console.log(k.padEnd(14), s.map((x, i) => (x / n[i]).toFixed(3)).join(' / '), n.join(','));
}
