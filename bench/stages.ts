/**
 * Per-function timings of the CPU stages after the network, on the faces of real photos: the tool for
 * finding and checking hot spots (`npm run bench` gives the end-to-end picture).
 *
 *   node --import tsx bench/stages.ts [photo...] [--runs 15] [--texture 1024] [--model <onnx>] [--dump <dir>] [--from <dir>]
 *
 * Each photo goes through the pipeline once (detector + network); then every step from the network's
 * volume to the exported files is repeated `--runs` times on that face: min and median milliseconds.
 * `--dump <dir>` writes the face's mesh, texture and files as raw bytes (one file each) for comparing
 * results before and after a change (`cmp`, or a script), with the network's output (volume, crop, landmarks)
 * and the photo; `--from <dir>` starts from such a dump instead of running detector and network, so a
 * comparison does not depend on them. Dumps hold photo pixels: keep them out of the repo.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportFace } from '../src/export/files.ts';
import { texturePNG } from '../src/export/texture.ts';
import { frontSurface, largestComponent, marchingCubes, taubinSmooth, transformMesh, vertexNormals } from '../src/mesh/index.ts';
import { loadVoxface } from '../src/node/index.ts';
import { textureMesh } from '../src/texture/index.ts';
import type { FaceResult, Mesh, RGBImage, Volume } from '../src/types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '15' },
    dump: { type: 'string' },
    texture: { type: 'string', default: '1024' },
    model: { type: 'string' },
    from: { type: 'string' },
  },
});
const RUNS = Math.max(1, Number(args.runs));
const TEXTURE = Number(args.texture);
const photos = positionals.length > 0 ? positionals : [path.join(ROOT, 'examples/face.jpg'), path.join(ROOT, 'examples/profile.jpg')];

/** Process CPU time in ms (user + system): on a loaded machine it moves less than the wall clock. */
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Timing {
  min: number;
  median: number;
  cpu: number;
}

/** Wall-clock min and median, and the median process CPU time, of `RUNS` calls after one warm-up. */
function time<T>(f: () => T): Timing & { out: T } {
  let out = f();
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = cpuNow();
    const t0 = performance.now();
    out = f();
    ms.push(performance.now() - t0);
    cpu.push(cpuNow() - c0);
  }
  ms.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { min: ms[0], median: ms[ms.length >> 1], cpu: cpu[cpu.length >> 1], out };
}

/** A face with the volume network's volume (the pipeline runs it with `volume: 'on'`). */
type VolumeFace = FaceResult & { volume: Volume };

/** The mesh steps of the pipeline (src/pipeline.ts), one by one. */
function meshSteps(face: VolumeFace) {
  const { volume, crop } = face;
  const mc = time(() => marchingCubes(volume, { iso: 0.5 }));
  const lc = time(() => largestComponent(mc.out));
  const sm = time(() => taubinSmooth(lc.out, { iterations: 10 }));
  const fs = time(() => frontSurface(sm.out, { volume, smoothing: 0 }));
  const tr = time(() => transformMesh(fs.out, crop));
  const vn = time(() => vertexNormals(tr.out));
  const mesh: Mesh = { ...tr.out, normals: vn.out };
  return {
    mesh,
    rows: <[string, Timing][]>[
      [`marchingCubes (${mc.out.indices.length / 3} tris)`, mc],
      ['largestComponent', lc],
      ['taubinSmooth ×10', sm],
      [`frontSurface (${fs.out.indices.length / 3} tris)`, fs],
      ['transformMesh', tr],
      ['vertexNormals', vn],
    ],
  };
}

interface Case {
  name: string;
  image: RGBImage;
  face: VolumeFace;
}

const raw = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The network's output for a photo's largest face: from the pipeline, or from a dump (`--from`). */
async function cases(): Promise<Case[]> {
  if (args.from) {
    return readdirSync(args.from).sort().map((name) => {
      const dir = path.join(args.from!, name);
      const meta = JSON.parse(readFileSync(path.join(dir, 'input.json'), 'utf8'));
      const data = (f: string) => readFileSync(path.join(dir, f));
      const image: RGBImage = { ...meta.image, data: new Uint8Array(data('image.rgb')) };
      const vb = data('volume.f32');
      const volume: Volume = { ...meta.volume, data: new Float32Array(vb.buffer, vb.byteOffset, vb.byteLength / 4) };
      return { name, image, face: { ...meta.face, volume } as VolumeFace };
    });
  }
  const vox = await loadVoxface({ threads: 2, model: args.model });
  const out: Case[] = [];
  for (const file of photos) {
    try {
      // the volume network's volume is what these steps start from: made whatever the shape needs
      const { image, result } = await vox.reconstructFile(file, { faces: 'largest', textureSize: 16, volume: 'on' });
      const face = result.faces[0];
      if (!face.volume) throw new Error('no volume: the volume network did not run');
      out.push({ name: path.basename(file).replace(/\.\w+$/, ''), image, face: { ...face, volume: face.volume } });
    } catch (e) {
      console.error(`skipped ${file}: ${(e as Error).message}`);
    }
  }
  return out;
}

console.log(`bench/stages: ${RUNS} runs after a warm-up, texture ${TEXTURE}²; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('');
console.log(`${'step'.padEnd(40)} ${'min ms'.padStart(8)} ${'median'.padStart(8)} ${'cpu med'.padStart(8)}`);
for (const { name, image, face } of await cases()) {
  console.log(`— ${name} (${image.width}×${image.height})`);
  const { mesh, rows } = meshSteps(face);
  const tex = time(() => textureMesh(mesh, image, { size: TEXTURE, landmarks: face.landmarks68 }));
  const textured = { ...face, mesh: tex.out };
  const t = tex.out.texture as RGBImage;
  const png = time(() => texturePNG(tex.out)!);
  const glb = time(() => exportFace(textured, image, 'face', { formats: ['glb'] }));
  const obj = time(() => exportFace(textured, image, 'face', { formats: ['obj'] }));
  const all = time(() => exportFace(textured, image, 'face', { formats: ['glb', 'obj', 'ply', 'stl', 'volume', 'nrrd', 'depth'] }));
  const depth = time(() => exportFace(textured, image, 'face', { formats: ['depth'] }));
  const nrrd = time(() => exportFace(textured, image, 'face', { formats: ['nrrd'] }));
  const table: [string, Timing][] = [
    ...rows,
    ['textureMesh', tex],
    [`texture PNG (${(png.out.length / 1024).toFixed(0)} KiB)`, png],
    ['export glb', glb],
    ['export obj', obj],
    ['export depth', depth],
    ['export nrrd', nrrd],
    ['export all formats', all],
  ];
  for (const [step, r] of table) console.log(`${step.padEnd(40)} ${r.min.toFixed(1).padStart(8)} ${r.median.toFixed(1).padStart(8)} ${r.cpu.toFixed(1).padStart(8)}`);
  if (args.dump) {
    const dir = path.join(args.dump, name);
    mkdirSync(dir, { recursive: true });
    const { volume, ...rest } = face;
    const meta = {
      image: { width: image.width, height: image.height },
      volume: { width: volume.width, height: volume.height, depth: volume.depth, voxelSize: volume.voxelSize },
      face: { ...rest, mesh: undefined },
    };
    writeFileSync(path.join(dir, 'input.json'), JSON.stringify(meta));
    writeFileSync(path.join(dir, 'image.rgb'), image.data);
    writeFileSync(path.join(dir, 'volume.f32'), raw(volume.data));
    writeFileSync(path.join(dir, 'positions.f32'), raw(mesh.positions));
    writeFileSync(path.join(dir, 'indices.u32'), raw(mesh.indices));
    writeFileSync(path.join(dir, 'normals.f32'), raw(mesh.normals!));
    writeFileSync(path.join(dir, 'uvs.f32'), raw(tex.out.uvs));
    writeFileSync(path.join(dir, 'colors.f32'), raw(tex.out.colors));
    writeFileSync(path.join(dir, 'texture.rgb'), t.data);
    for (const f of all.out) writeFileSync(path.join(dir, f.name), f.bytes);
  }
}
