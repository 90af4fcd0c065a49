/**
 * The embeddings the identity map is trained on (training/identity_map.py, models/README.md "Identity map"): dlib's
 * face-recognition ResNet (models/identity-encoder.onnx, src/identity/) on the crop the pipeline takes.
 *
 *   node --import tsx scripts/identity-embed.ts renders training/data/identity/train training/data/identity/test
 *   node --import tsx scripts/identity-embed.ts photos training/data/identity/real ../shared/aflw2000-3d/fit ../shared/faces/deepface
 *
 * `renders <prefix>…`: reads <prefix>.u8 (N, 224, 224, 3) and <prefix>.lm.f32 (N, 68, 2) from
 * training/identity_data.py, writes <prefix>.dlib.f32 (N, 128). `photos <out> <folder|photo>…`: reconstructs each
 * photo's largest face with the identity stage off and the fit's 68 points (`landmarks: 'fit'`, what the pipeline
 * crops around), writes <out>.dlib.f32, <out>.names.json and <out>.fitid.f32 (N, 60, the fit's own identity).
 * `--crop-scale x` (default 1.25, the map's `cropScale`), `--size n` (renders' side, default 224).
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { embedInputs, identityInput } from '../src/identity/index.ts';
import { isImageFile } from '../src/decode/extensions.ts';
import { loadIdentityModel } from '../src/node/identity.ts';
import { loadVoxface } from '../src/node/index.ts';
import type { RGBImage, Vec2 } from '../src/types.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  return v;
};
const cropScale = flag('--crop-scale', 1.25);
const S = flag('--size', 224);
const [mode, ...rest] = argv;
// the map is not needed to embed: the crop is given here
const model = await loadIdentityModel({ map: path.resolve('models/identity-map.json') }).catch(() => null);
const net = model?.encoder ?? (await loadNetOnly());

async function loadNetOnly() {
  // before models/identity-map.json exists: a stand-in map only for loading the encoder
  const tmp = path.join(process.env.TMPDIR ?? '/tmp', `identity-map-${process.pid}.json`);
  writeFileSync(tmp, JSON.stringify({ embedding: 1, modes: 1, M: [0], b: [0], cropScale, identityPrior: 1 }));
  return (await loadIdentityModel({ map: tmp })).encoder;
}

if (mode === 'renders') {
  for (const prefix of rest) {
    const u8 = readFileSync(`${prefix}.u8`);
    const lm = new Float32Array(readFileSync(`${prefix}.lm.f32`).buffer.slice(0));
    const n = u8.length / (S * S * 3);
    const out = new Float32Array(n * 128);
    const t0 = performance.now();
    for (let i = 0; i < n; i += 16) {
      const inputs: Float32Array[] = [];
      for (let k = i; k < Math.min(n, i + 16); k++) {
        const image: RGBImage = { width: S, height: S, data: u8.subarray(k * S * S * 3, (k + 1) * S * S * 3) };
        const pts: Vec2[] = Array.from({ length: 68 }, (_, p) => [lm[(k * 68 + p) * 2], lm[(k * 68 + p) * 2 + 1]]);
        inputs.push(identityInput(image, pts, { cropScale }));
      }
      const e = await embedInputs(net, inputs);
      e.forEach((v, k) => out.set(v, (i + k) * 128));
    }
    writeFileSync(`${prefix}.dlib.f32`, Buffer.from(out.buffer));
    console.log(`${prefix}: ${n} embeddings in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
} else if (mode === 'photos') {
  const [outPrefix, ...inputs] = rest;
  const files: string[] = [];
  for (const p of inputs) {
    if (!statSync(p).isDirectory()) files.push(p);
    else for (const f of readdirSync(p).sort()) if (isImageFile(f)) files.push(path.join(p, f));
  }
  const vox = await loadVoxface({ threads: 1, identityMap: null });
  const embs: number[] = [], ids: number[] = [], names: string[] = [];
  const t0 = performance.now();
  for (const f of files) {
    try {
      const { result, image } = await vox.reconstructFile(f, { faces: 'largest', landmarks: 'fit', identity: 'off', mesh: 'template', textureSize: 16, formats: ['json'] });
      const face = result.faces[0];
      if (!face?.prior) continue;
      const [e] = await embedInputs(net, [identityInput(image, face.landmarks68, { cropScale })]);
      embs.push(...e);
      ids.push(...Array.from({ length: 60 }, (_, k) => face.prior!.identity[k] ?? 0));
      names.push(path.relative(process.cwd(), f));
    } catch (e) {
      console.error(`${f}: ${(e as Error).message}`);
    }
  }
  writeFileSync(`${outPrefix}.dlib.f32`, Buffer.from(Float32Array.from(embs).buffer));
  writeFileSync(`${outPrefix}.fitid.f32`, Buffer.from(Float32Array.from(ids).buffer));
  writeFileSync(`${outPrefix}.names.json`, JSON.stringify(names));
  console.log(`${outPrefix}: ${names.length} of ${files.length} photos in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} else {
  console.error('usage: identity-embed.ts renders <prefix>… | photos <out prefix> <folder|photo>…');
  process.exitCode = 2;
}
