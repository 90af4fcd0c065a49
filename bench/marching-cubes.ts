/**
 * Volume → mesh stage timings on face-like, back-filled volumes (like the network's targets).
 *
 *   node --import tsx bench/marching-cubes.ts [--runs 20]
 *
 * Prints min / median / max milliseconds per operation and triangle counts, for a 192×192×200
 * volume (VRN's size, 1 crop px per voxel), 128³ and 64³ (2 crop px per voxel).
 */
import os from 'node:os';
import type { Mesh, Volume } from '../src/types.ts';
import { voxelizeFaceLike, depthMap, volumeFromLogits } from '../src/volume/index.ts';
import {
  closedSolid,
  decimate,
  frontSurface,
  largestComponent,
  marchingCubes,
  taubinSmooth,
  vertexNormals,
  volumeNormals,
} from '../src/mesh/index.ts';

const arg = process.argv.indexOf('--runs');
const RUNS = arg > 0 ? Number(process.argv[arg + 1]) : 20;

interface Row {
  volume: string;
  op: string;
  min: number;
  median: number;
  max: number;
  triangles: number | string;
}

function time<T>(runs: number, f: () => T): { min: number; median: number; max: number; out: T } {
  let out = f(); // warm-up (JIT)
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { min: ms[0], median: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1], out };
}

const tris = (m: Mesh) => m.indices.length / 3;
const rows: Row[] = [];
const cases: [string, { width: number; height: number; depth: number }, number][] = [
  ['192×192×200', { width: 192, height: 192, depth: 200 }, 1],
  ['128×128×128', { width: 128, height: 128, depth: 128 }, 1],
  ['64×64×64', { width: 64, height: 64, depth: 64 }, 2],
];

for (const [name, dims, v] of cases) {
  const vol: Volume = voxelizeFaceLike(dims, v);
  const add = (op: string, r: { min: number; median: number; max: number }, triangles: number | string) =>
    rows.push({ volume: name, op, min: r.min, median: r.median, max: r.max, triangles });
  const logits = vol.data.map((o) => Math.log(Math.max(o, 1e-6) / Math.max(1 - o, 1e-6)));
  add('volumeFromLogits (sigmoid)', time(RUNS, () => volumeFromLogits(logits, [1, dims.depth, dims.height, dims.width], v)), '');
  const mc = time(RUNS, () => marchingCubes(vol));
  const mesh = mc.out;
  add('marchingCubes', mc, tris(mesh));
  add('depthMap', time(RUNS, () => depthMap(vol)), '');
  add('volumeNormals', time(RUNS, () => volumeNormals(mesh, vol)), '');
  add('vertexNormals', time(RUNS, () => vertexNormals(mesh)), '');
  add('largestComponent', time(RUNS, () => largestComponent(mesh)), '');
  const sm = time(RUNS, () => taubinSmooth(mesh, { iterations: 10 }));
  add('taubinSmooth ×10', sm, tris(sm.out));
  const fr = time(RUNS, () => frontSurface(mesh, { voxelSize: v, backZ: (-dims.depth * v) / 2 }));
  add('frontSurface', fr, tris(fr.out));
  const dc = time(RUNS, () => decimate(mesh, { ratio: 0.25 }));
  add('decimate 25% (whole mesh)', dc, tris(dc.out));
  const df = time(RUNS, () => decimate(fr.out, { ratio: 0.25 }));
  add('decimate 25% (front)', df, tris(df.out));
  const cs = time(Math.min(RUNS, 5), () => closedSolid(vol));
  add('closedSolid', cs, tris(cs.out));
}

const f = (x: number) => x.toFixed(1).padStart(8);
console.log(`voxface volume → mesh bench: ${RUNS} runs after 1 warm-up, one thread (closedSolid: ≤5 runs)`);
console.log(`${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}`);
console.log('');
console.log(`${'volume'.padEnd(13)} ${'operation'.padEnd(27)} ${'min ms'.padStart(8)} ${'median'.padStart(8)} ${'max'.padStart(8)}  triangles`);
for (const r of rows) {
  console.log(`${r.volume.padEnd(13)} ${r.op.padEnd(27)} ${f(r.min)} ${f(r.median)} ${f(r.max)}  ${r.triangles}`);
}
