/**
 * `node --import tsx scripts/dump-fits.ts <dataset dir> <out.json> [pipeline options as --flag value]`
 *
 * Runs the real pipeline on every photo of a benchmark folder and writes, per photo, the prior's fit (pose, scale,
 * identity, expression) of the face matching the ground truth, the detector's Face Mesh and 68 points, the ground
 * truth's 68 3D landmarks and its yaw. The input of `scripts/fit-landmarks68.ts` (the benchmark's 68 landmarks on
 * ICT's surface) and of the landmark stage's training data (training/landmarks/). Tune on `fit/`, never `eval/`.
 */
import { writeFile } from 'node:fs/promises';
import { parseCommandLine } from '../src/cli/args.ts';
import { evaluateImage } from '../src/metrics/index.ts';
import { loadVoxface } from '../src/node/index.ts';
import { resolveOptions } from '../src/options.ts';
import { VoxfaceError } from '../src/types.ts';
import { loadDataset } from '../eval/dataset.ts';

const { given, positionals } = parseCommandLine(process.argv.slice(2), 'eval', {});
const [dir, out] = positionals;
if (!dir || !out) {
  console.error('usage: node --import tsx scripts/dump-fits.ts <dataset dir> <out.json> [options]');
  process.exit(2);
}
const ds = await loadDataset(dir);
const settings = resolveOptions({ ...given, faces: 'all', textureSize: 16, shape: 'prior' }, 'eval');
const vox = await loadVoxface({ threads: settings.threads });
const rows: unknown[] = [];
for (const [i, { gt, image }] of ds.samples.entries()) {
  try {
    const { result } = await vox.reconstructFile(image, settings);
    const row = evaluateImage(gt, result.faces, 0);
    if (row.face < 0) continue;
    const f = result.faces[row.face];
    const p = f.prior;
    if (!p) continue;
    rows.push({
      name: gt.name, yaw: gt.yaw, pose: gt.datasetPose, gt: gt.landmarks3d, nme2d: row.nme2d,
      fit: { source: p.source, rotation: p.rotation, scale: p.scale, translation: p.translation, identity: Array.from(p.identity), expression: Array.from(p.expression), pose: p.pose },
      landmarks68: f.landmarks68, box: f.box,
    });
  } catch (e) {
    if (!(e instanceof VoxfaceError)) throw e;
  }
  if (i % 50 === 0) console.error(`${i}/${ds.samples.length}`);
}
await writeFile(out, JSON.stringify(rows));
console.error(`wrote ${rows.length} fits to ${out}`);
