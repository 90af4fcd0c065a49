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
 * `--shape <onnx>`: also the shape-identity network's outputs (training/identity_train.py), <prefix>.shape.f32
 * (N, 60), on its own crop (`--shape-size`, default 112; `--shape-crop-scale`, default 1.25). `photos` also writes
 * that crop of each photo, <out>.crops.u8 (N, S, S, 3), so that `crops <prefix>… --shape <onnx>` can give a
 * retrained network's outputs without running the pipeline again.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { embedInputs, identityInput, identityShapeInput, shapeInputs, type IdentityShapeSpec } from '../src/identity/index.ts';
import { sessionOptions, wrapNodeSession } from '../src/node/session.ts';
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
const shapeSpec: IdentityShapeSpec = { size: flag('--shape-size', 112), cropScale: flag('--shape-crop-scale', 1.25), outputs: 60 };
const shapeAt = argv.indexOf('--shape');
const shapeFile = shapeAt >= 0 ? argv.splice(shapeAt, 2)[1] : undefined;
const shapeNet = shapeFile ? wrapNodeSession(await ort.InferenceSession.create(readFileSync(shapeFile), sessionOptions(1))) : undefined;
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

/** A CHW 0–1 crop as HWC bytes. */
function chwToBytes(x: Float32Array, S2: number): Uint8Array {
  const plane = S2 * S2, out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(Math.min(1, Math.max(0, x[c * plane + p])) * 255);
  return out;
}

if (mode === 'renders') {
  for (const prefix of rest) {
    const u8 = readFileSync(`${prefix}.u8`);
    const lm = new Float32Array(readFileSync(`${prefix}.lm.f32`).buffer.slice(0));
    const n = u8.length / (S * S * 3);
    const out = new Float32Array(n * 128);
    const shapeOut = new Float32Array(n * shapeSpec.outputs);
    const t0 = performance.now();
    for (let i = 0; i < n; i += 16) {
      const inputs: Float32Array[] = [], shapeIn: Float32Array[] = [];
      for (let k = i; k < Math.min(n, i + 16); k++) {
        const image: RGBImage = { width: S, height: S, data: u8.subarray(k * S * S * 3, (k + 1) * S * S * 3) };
        const pts: Vec2[] = Array.from({ length: 68 }, (_, p) => [lm[(k * 68 + p) * 2], lm[(k * 68 + p) * 2 + 1]]);
        if (shapeNet) shapeIn.push(identityShapeInput(image, pts, shapeSpec));
        else inputs.push(identityInput(image, pts, { cropScale }));
      }
      // with --shape, the renders' dlib embeddings are not made again
      if (shapeNet) (await shapeInputs(shapeNet, shapeIn, shapeSpec)).forEach((v, k) => shapeOut.set(v, (i + k) * shapeSpec.outputs));
      else (await embedInputs(net, inputs)).forEach((v, k) => out.set(v, (i + k) * 128));
    }
    if (shapeNet) writeFileSync(`${prefix}.shape.f32`, Buffer.from(shapeOut.buffer));
    else writeFileSync(`${prefix}.dlib.f32`, Buffer.from(out.buffer));
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
  const embs: number[] = [], ids: number[] = [], names: string[] = [], shapes: number[] = [], crops: Uint8Array[] = [];
  const t0 = performance.now();
  for (const f of files) {
    try {
      const { result, image } = await vox.reconstructFile(f, { faces: 'largest', landmarks: 'fit', identity: 'off', mesh: 'template', textureSize: 16, formats: ['json'] });
      const face = result.faces[0];
      if (!face?.prior) continue;
      const [e] = await embedInputs(net, [identityInput(image, face.landmarks68, { cropScale })]);
      embs.push(...e);
      crops.push(chwToBytes(identityShapeInput(image, face.landmarks68, shapeSpec), shapeSpec.size));
      if (shapeNet) shapes.push(...(await shapeInputs(shapeNet, [identityShapeInput(image, face.landmarks68, shapeSpec)], shapeSpec))[0]);
      ids.push(...Array.from({ length: 60 }, (_, k) => face.prior!.identity[k] ?? 0));
      names.push(path.relative(process.cwd(), f));
    } catch (e) {
      console.error(`${f}: ${(e as Error).message}`);
    }
  }
  writeFileSync(`${outPrefix}.dlib.f32`, Buffer.from(Float32Array.from(embs).buffer));
  writeFileSync(`${outPrefix}.crops.u8`, Buffer.concat(crops));
  if (shapeNet) writeFileSync(`${outPrefix}.shape.f32`, Buffer.from(Float32Array.from(shapes).buffer));
  writeFileSync(`${outPrefix}.fitid.f32`, Buffer.from(Float32Array.from(ids).buffer));
  writeFileSync(`${outPrefix}.names.json`, JSON.stringify(names));
  console.log(`${outPrefix}: ${names.length} of ${files.length} photos in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} else if (mode === 'crops' && shapeNet) {
  const S2 = shapeSpec.size, plane = S2 * S2;
  for (const prefix of rest) {
    const u8 = readFileSync(`${prefix}.crops.u8`);
    const n = u8.length / (plane * 3);
    const out = new Float32Array(n * shapeSpec.outputs);
    for (let i = 0; i < n; i += 16) {
      const inputs: Float32Array[] = [];
      for (let k = i; k < Math.min(n, i + 16); k++) {
        const x = new Float32Array(plane * 3);
        for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) x[c * plane + p] = u8[(k * plane + p) * 3 + c] / 255;
        inputs.push(x);
      }
      (await shapeInputs(shapeNet, inputs, shapeSpec)).forEach((v, k) => out.set(v, (i + k) * shapeSpec.outputs));
    }
    writeFileSync(`${prefix}.shape.f32`, Buffer.from(out.buffer));
    console.log(`${prefix}: ${n} crops through the shape network`);
  }
} else {
  console.error('usage: identity-embed.ts renders <prefix>… | photos <out prefix> <folder|photo>… | crops <prefix>… --shape <onnx>');
  process.exitCode = 2;
}
