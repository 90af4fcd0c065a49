/**
 * `node --import tsx training/landmarks/export_basis.ts <out.json>`
 *
 * Writes the benchmark's 68 landmarks on ICT's face (src/prior/landmarks68-aflw.ts) as a linear model for the
 * Python training code: `x0` (68 × 3, cm, ICT's frame) and `basis` (68 × 3 × (identity modes + 53 expressions)),
 * so that a landmark is x0 + basis · [w, e], exactly as the pipeline computes it; and the layer itself, `vertex` (68 runtime
 * vertex ids) and `offset` (68 × 3, cm), for training/landmarks/renders.py to place them on posed meshes.
 */
import { writeFile } from 'node:fs/promises';
import { loadShapePrior } from '../../src/node/index.ts';
import { LANDMARKS68_AFLW } from '../../src/prior/landmarks68-aflw.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: node --import tsx training/landmarks/export_basis.ts <out.json>');
  process.exit(2);
}
const { basis } = await loadShapePrior();
const V = basis.vertexCount;
const K = basis.identityModes, E = basis.expressionNames.length;
const x0: number[] = [], b: number[] = [];
for (let k = 0; k < 68; k++) {
  const v = LANDMARKS68_AFLW.vertex[k];
  for (let a = 0; a < 3; a++) {
    x0.push(basis.neutral[3 * v + a] + LANDMARKS68_AFLW.offset[3 * k + a]);
    for (let m = 0; m < K; m++) b.push(basis.identity[(m * V + v) * 3 + a]);
    for (let m = 0; m < E; m++) b.push(basis.expression[(m * V + v) * 3 + a]);
  }
}
await writeFile(out, JSON.stringify({
  identityModes: K, expressions: E, x0, basis: b,
  vertex: [...LANDMARKS68_AFLW.vertex], offset: [...LANDMARKS68_AFLW.offset],
}));
console.error(`wrote ${out}`);
