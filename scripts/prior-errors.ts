/**
 * The error model of the pipeline's prior, for training the guided network on priors made the way the pipeline makes
 * them: on synthetic renders with ground truth, the prior fitted exactly as the pipeline fits it (`fitPrior`: Face
 * Mesh's points, or the network's landmarks past the switch-over) is compared with the rendered face's parameters.
 *
 *   /usr/bin/python3 training/benchmark.py --out=bench-data/synthetic-tune --n=120 --seed=77      # once
 *   node --import tsx scripts/tune-prior.ts bench-data/synthetic-tune                             # caches the inputs
 *   node --import tsx scripts/prior-errors.ts bench-data/synthetic-tune [--out training/prior-errors.json]
 *
 * Per |yaw| bin (0–30, 30–60, 60–90°) it writes the mean and standard deviation of the pose errors (yaw, pitch,
 * roll in degrees), of the log scale ratio, of the translation error (÷ √(w·h) of the landmark box, x and y), the
 * least-squares slope and residual deviation of each identity weight (fitted = slope · true + noise), and the
 * deviation of the expression weights' errors; and how often each source was used. training/render.py degrades the
 * ground truth with these numbers (`guide_errors`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultModelPath } from '../src/node/index.ts';
import { anglesFromRotation, fitSimilarity } from '../src/landmarks/pose.ts';
import { boxNormaliser, yawBin } from '../src/metrics/index.ts';
import { createShapePrior, fitPrior, shapeVertices } from '../src/prior/index.ts';
import type { Vec3 } from '../src/types.ts';

interface GtEntry {
  landmarks68_3d: Vec3[];
  yaw_degrees: number;
  identity: number[];
  expression: number[];
}

async function main() {
  const dir = process.argv[2] ?? 'bench-data/synthetic-tune';
  const outArg = process.argv.indexOf('--out');
  const out = outArg > 0 ? process.argv[outArg + 1] : 'training/prior-errors.json';
  const gt = JSON.parse(await readFile(path.join(dir, 'ground_truth.json'), 'utf8')) as Record<string, GtEntry>;
  const inputs = JSON.parse(await readFile(path.join(dir, 'prior-inputs.json'), 'utf8')) as Record<string, { mesh468?: Vec3[]; network68?: Vec3[]; detected: boolean }>;
  const prior = createShapePrior(await readFile(path.join(path.dirname(defaultModelPath()), 'ict-face.bin')));
  const { basis } = prior;
  const K = 60;
  const front: number[] = [];
  for (let v = 0; v <= 6705; v++) front.push(v);
  type Row = { dyaw: number; dpitch: number; droll: number; dlogs: number; dtx: number; dty: number; w: number[]; wt: number[]; de: number[]; source: string };
  const bins: Row[][] = [[], [], []];
  for (const [name, inp] of Object.entries(inputs)) {
    if (!inp.detected || !inp.network68) continue;
    const g = gt[name];
    const fit = fitPrior(prior, { mesh468: inp.mesh468, landmarks68: inp.network68 });
    // the ground truth's pose: a similarity of its model-frame face onto its posed vertices (y up)
    const buf = await readFile(path.join(dir, `${name}.vertices.f32`));
    const posed = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const model = shapeVertices(basis, g.identity, g.expression, front);
    const P = front.map((_, i) => [model[3 * i], model[3 * i + 1], model[3 * i + 2]]);
    const Q = front.map((v) => [posed[3 * v], -posed[3 * v + 1], posed[3 * v + 2]]);
    const sim = fitSimilarity(P, Q);
    const a = anglesFromRotation(sim.rotation), b = fit.pose;
    const norm = boxNormaliser(g.landmarks68_3d);
    bins[yawBin(g.yaw_degrees)].push({
      dyaw: b.yaw - a.yaw,
      dpitch: b.pitch - a.pitch,
      droll: b.roll - a.roll,
      dlogs: Math.log(fit.scale / sim.scale),
      dtx: (fit.translation[0] - sim.translation[0]) / norm,
      dty: (fit.translation[1] - sim.translation[1]) / norm,
      w: Array.from(fit.identity.subarray(0, K)),
      wt: g.identity.slice(0, K),
      de: Array.from(fit.expression, (e, j) => e - g.expression[j]),
      source: fit.source,
    });
  }
  const stats = (xs: number[]) => {
    const m = xs.reduce((p, q) => p + q, 0) / Math.max(xs.length, 1);
    const sd = Math.sqrt(xs.reduce((p, q) => p + (q - m) ** 2, 0) / Math.max(xs.length - 1, 1));
    return { mean: +m.toFixed(4), sd: +sd.toFixed(4) };
  };
  const result = {
    note: 'errors of the pipeline prior (fitPrior) against the rendered faces, by |yaw| bin; made by scripts/prior-errors.ts',
    dataset: dir,
    bins: bins.map((rows, k) => {
      const slope: number[] = [], resid: number[] = [];
      for (let j = 0; j < K; j++) {
        const xt = rows.map((r) => r.wt[j]), xf = rows.map((r) => r.w[j]);
        const sxx = xt.reduce((p, q) => p + q * q, 0), sxy = xt.reduce((p, q, i) => p + q * xf[i], 0);
        const a = sxx > 0 ? sxy / sxx : 0;
        slope.push(+a.toFixed(4));
        resid.push(+stats(xf.map((x, i) => x - a * xt[i])).sd.toFixed(4));
      }
      return {
        yaw: ['[0,30]', '(30,60]', '(60,90]'][k],
        faces: rows.length,
        facemesh: rows.filter((r) => r.source === 'facemesh').length,
        yawError: stats(rows.map((r) => r.dyaw)),
        pitchError: stats(rows.map((r) => r.dpitch)),
        rollError: stats(rows.map((r) => r.droll)),
        logScaleError: stats(rows.map((r) => r.dlogs)),
        translationError: [stats(rows.map((r) => r.dtx)), stats(rows.map((r) => r.dty))],
        identitySlope: slope,
        identityResidual: resid,
        expressionError: Array.from({ length: 53 }, (_, j) => stats(rows.map((r) => r.de[j]))),
      };
    }),
  };
  await writeFile(out, JSON.stringify(result, null, 1) + '\n');
  for (const b of result.bins) {
    console.log(`${b.yaw}: ${b.faces} faces (${b.facemesh} Face Mesh); yaw ${b.yawError.mean}±${b.yawError.sd}°, pitch ${b.pitchError.mean}±${b.pitchError.sd}°, roll ${b.rollError.mean}±${b.rollError.sd}°, log scale ${b.logScaleError.mean}±${b.logScaleError.sd}, t ${b.translationError.map((t) => `${t.mean}±${t.sd}`).join(' ')}; identity slope (first 5) ${b.identitySlope.slice(0, 5).join(' ')}, residual ${b.identityResidual.slice(0, 5).join(' ')}`);
  }
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
