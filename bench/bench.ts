/**
 * End-to-end pipeline bench on real photos: milliseconds per stage, per face, and peak memory.
 *
 *   npm run bench -- [--photos <dir>]... [--runs 1] [--threads 2] [--faces largest|all]
 *                    [--texture-size <n>] [--limit <n>] [--json <file>] [--no-mc] [--clock wall|cpu] [--model <onnx>]
 *                    [every pipeline option of the table: --flip off, --landmarks network, … (npm run bench -- --help)]
 *   npm run bench -- --batch [--rounds 2] [--repeat 2] [--warmup n] [same photos and options]   batch throughput (bench/batch.ts)
 *
 * Photos: by default 12 spread over `../shared/faces` (sorted paths, evenly spaced) plus the 8 of
 * `../shared/aflw2000-3d-dev` (`VOXFACE_SHARED` overrides `../shared`); a missing folder is skipped
 * with a message. `--photos` replaces them (every image in that folder, repeatable).
 *
 * Per face (with `--faces largest`, the default: one face per photo) the stages are decode and detect
 * (of its photo), align, network (the volume network; 0 where it does not run: with `--volume auto`, the default, it
 * runs for the network shape and the volume formats, not for the default prior), prior fit (the ICT fit; 0 with
 * `--shape network`), identity (the identity encoder, with `--identity on`; the fit it centres is in prior fit), mesh, landmarks + pose (the landmark network included),
 * texture, export GLB + JSON (the default CLI output) and, measured apart once every pipeline run is done (so the
 * garbage of its text formats is not collected inside the timed stages), export of every format; "total" =
 * decode + detect + align + network + prior fit + mesh + landmarks/pose + texture + export GLB+JSON, the number the
 * speed bar is about. With
 * `--faces all` photo-level stages (decode, detect) are shared by its faces and the face stages are
 * summed: rows are then per photo. Also the marching-cubes time on a 192×192×200 face-like volume
 * (VRN's size). The machine's load average goes with the table: medians are the numbers to compare
 * on a shared machine. `--clock cpu` times with the process's CPU time instead (user + system of every
 * thread: the network's and detector's threads add up, the JavaScript stages run on one), which a busy
 * machine disturbs less than the wall clock.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseCommandLine } from '../src/cli/args.ts';
import { isImageFile } from '../src/decode/extensions.ts';
import { FORMATS, exportResult } from '../src/export/files.ts';
import { VOLUME_FORMATS } from '../src/export/formats.ts';
import type { Format } from '../src/export/files.ts';
import { marchingCubes } from '../src/mesh/index.ts';
import { decodeImage, loadVoxface } from '../src/node/index.ts';
import { commandLineHelp, option, OPTIONS } from '../src/options.ts';
import type { ReconstructOptions } from '../src/pipeline.ts';
import type { ReconstructionResult } from '../src/types.ts';
import { voxelizeFaceLike } from '../src/volume/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(ROOT, '..', 'shared');

/** The bench's own flags; the pipeline's and the model's come from the options table (src/options.ts). */
export const BENCH_OPTIONS = {
  photos: option.paths({
    default: [],
    metavar: 'dir',
    defaultText: '12 of ../shared/faces and the 8 of ../shared/aflw2000-3d-dev',
    help: 'every image in this folder instead (repeatable)',
  }),
  runs: option.int({ min: 1, max: 1000, default: 1, help: 'runs per photo' }),
  limit: option.optInt({ min: 1, max: 1e9, default: undefined, defaultText: 'every photo', help: 'only the first n photos' }),
  json: option.optPath({ default: undefined, metavar: 'file', help: 'also write the report as JSON to this file' }),
  noMc: option.boolean({ default: false, switch: true, help: 'skip the marching-cubes timing' }),
  clock: option.choice({ choices: ['wall', 'cpu'], default: 'wall', help: "wall clock, or the process's CPU time (user + system, every thread)" }),
  batch: option.boolean({
    default: false,
    switch: true,
    help: 'batch throughput instead: steady-state photos/s of the worker pool at --jobs 1 and 2 (bench/batch.ts)',
  }),
  rounds: option.int({ min: 1, max: 100, default: 2, help: 'with --batch: runs of each photo per turn' }),
  repeat: option.int({ min: 1, max: 100, default: 2, help: 'with --batch: turns of each configuration, taken in rotation' }),
  warmup: option.optInt({
    min: 0,
    max: 1000,
    default: undefined,
    defaultText: 'every photo once',
    help: 'with --batch: untimed photos per process first (the JIT compiles the hot code meanwhile)',
  }),
  help: option.boolean({ default: false, switch: true, short: 'h', help: 'this help' }),
};

/** `npm run bench -- …` → the options (throws VoxfaceError BAD_ARGUMENT naming the flag). */
export function parseBenchArgs(argv: string[]) {
  return parseCommandLine(argv, 'bench', BENCH_OPTIONS);
}

type BenchArgs = ReturnType<typeof parseBenchArgs>;
let args: BenchArgs['local'];
/** Milliseconds: wall clock, or with `--clock cpu` the process's CPU time (user + system, every thread). */
let now = () => performance.now();
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Every image under `dir` (recursively), sorted. */
function imagesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...imagesUnder(p));
    else if (isImageFile(name)) out.push(p);
  }
  return out;
}

/** `n` paths evenly spaced over a sorted list (deterministic, covers every subfolder of a mixed set). */
function spread(list: string[], n: number): string[] {
  if (list.length <= n) return list;
  return Array.from({ length: n }, (_, i) => list[Math.floor(((i + 0.5) * list.length) / n)]);
}

function choosePhotos(): { photos: string[]; notes: string[] } {
  const notes: string[] = [];
  if (args.photos.length > 0) {
    const photos = args.photos.flatMap((d) => (existsSync(d) ? imagesUnder(d) : (notes.push(`skipped ${d}: not found`), [])));
    return { photos, notes };
  }
  const photos: string[] = [];
  const faces = path.join(SHARED, 'faces');
  if (existsSync(faces)) photos.push(...spread(imagesUnder(faces), 12));
  else notes.push(`skipped ${faces}: not found (set VOXFACE_SHARED)`);
  const aflw = path.join(SHARED, 'aflw2000-3d-dev');
  if (existsSync(aflw)) photos.push(...imagesUnder(aflw));
  else notes.push(`skipped ${aflw}: not found (set VOXFACE_SHARED)`);
  return { photos, notes };
}

interface Stats {
  n: number;
  min: number;
  median: number;
  max: number;
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return { n: 0, min: NaN, median: NaN, max: NaN };
  const m = s.length >> 1;
  return { n: s.length, min: s[0], median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, max: s[s.length - 1] };
}

/** A copy of a result whose texture images are new objects: no export can reuse another's encoded PNG. */
function fresh(result: ReconstructionResult): ReconstructionResult {
  return { ...result, faces: result.faces.map((f) => ({ ...f, mesh: { ...f.mesh, texture: { ...f.mesh.texture } } })) };
}

function timeIt<T>(f: () => T): [T, number] {
  const t0 = now();
  const r = f();
  return [r, now() - t0];
}

const STAGES = ['decode', 'detect', 'align', 'network', 'prior fit', 'identity', 'mesh', 'landmarks+pose', 'texture', 'export glb+json', 'total'] as const;
const EXTRA = ['export all formats', ...FORMATS.map((f) => `  export ${f}`)];

/** Photos whose faces had no volume (the volume network did not run): their "export all formats" lacks volume and nrrd. */
let withoutVolume = 0;

interface PhotoRow {
  photo: string;
  size: string;
  faces: number;
  triangles: number;
  total: number;
  error?: string;
}

async function main(argv: string[]): Promise<number> {
  let parsed: BenchArgs;
  try {
    parsed = parseBenchArgs(argv);
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.local.help) {
    console.log(USAGE);
    return 0;
  }
  args = parsed.local;
  const { options } = parsed;
  const CPU_CLOCK = args.clock === 'cpu';
  if (CPU_CLOCK) now = cpuNow;
  const { photos: all, notes } = choosePhotos();
  const photos = args.limit ? all.slice(0, args.limit) : all;
  for (const n of notes) console.error(n);
  if (args.batch) {
    const { benchBatch } = await import('./batch.ts');
    const { jobSettings } = await import('../src/batch/plan.ts');
    const report = await benchBatch({ photos, rounds: args.rounds, repeat: args.repeat, warmup: args.warmup, model: options.model, settings: jobSettings(options) });
    console.log(report.markdown);
    if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), ...report, markdown: undefined }, null, 2) + '\n');
    return photos.length > 0 ? 0 : 1;
  }
  const load0 = os.loadavg();
  const recon: ReconstructOptions = { ...options, now };

  const samples: Record<string, number[]> = Object.fromEntries([...STAGES, ...EXTRA].map((s) => [s, []]));
  const rows: PhotoRow[] = [];
  let tLoad = 0;
  if (photos.length > 0) {
    const t0 = performance.now();
    const vox = await loadVoxface({ threads: options.threads, model: options.model });
    tLoad = performance.now() - t0;
    // Warm-up: one photo through everything, so the JIT's first compiles are not timed.
    const warm = await runPhoto(photos[0], vox, recon, null);
    if (warm.result) exportAll(warm.result, null);
    const results: ReconstructionResult[] = [];
    for (const photo of photos) {
      for (let run = 0; run < args.runs; run++) {
        const { row, result } = await runPhoto(photo, vox, recon, samples);
        if (run === 0) {
          rows.push(row);
          if (result) results.push(result);
        }
      }
    }
    // Every format, timed apart once the pipeline's runs are done: the garbage their text formats make is not
    // collected inside the next photo's timed stages
    for (const result of results) for (let run = 0; run < args.runs; run++) exportAll(result, samples);
  }

  let mc: Stats | undefined;
  let mcTriangles = 0;
  if (!args.noMc) {
    const vol = voxelizeFaceLike({ width: 192, height: 192, depth: 200 }, 1);
    marchingCubes(vol); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [m, t] = timeIt(() => marchingCubes(vol));
      mcTriangles = m.indices.length / 3;
      ms.push(t);
    }
    mc = stats(ms);
  }

  const peakMiB = process.resourceUsage().maxRSS / 1024;
  const load1 = os.loadavg();
  const report = {
    date: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}`,
    node: process.version,
    loadavgBefore: load0,
    loadavgAfter: load1,
    threads: options.threads,
    runs: args.runs,
    clock: args.clock,
    faces: options.faces,
    textureSize: options.textureSize ?? `auto (${OPTIONS.textureSize.defaultText})`,
    modelLoadMs: tLoad,
    photos: rows,
    stages: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)])),
    marchingCubes192: mc ? { ...mc, triangles: mcTriangles } : undefined,
    peakRssMiB: peakMiB,
    withoutVolume,
  };
  console.log(markdown(report));
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  return 0;
}

async function runPhoto(
  file: string,
  vox: Awaited<ReturnType<typeof loadVoxface>>,
  recon: ReconstructOptions,
  samples: Record<string, number[]> | null,
): Promise<{ row: PhotoRow; result?: ReconstructionResult }> {
  const name = path.relative(SHARED, file).startsWith('..') ? file : path.relative(SHARED, file);
  const bytes = await readFile(file);
  const t0 = now();
  const image = await decodeImage(bytes);
  const decode = now() - t0;
  let result: ReconstructionResult;
  try {
    result = await vox.reconstruct(image, recon);
  } catch (e) {
    return { row: { photo: name, size: `${image.width}×${image.height}`, faces: 0, triangles: 0, total: NaN, error: (e as Error).message } };
  }
  const [, glbJson] = timeIt(() => exportResult(fresh(result), 'face', { formats: ['glb', 'json'] }));
  const sum = (k: string) => result.faces.reduce((s, f) => s + (f.timings[k] ?? 0), 0);
  const stage: Record<string, number> = {
    decode,
    detect: result.timings.detect,
    align: sum('align'),
    network: sum('network'),
    'prior fit': sum('prior'),
    identity: sum('identity'),
    mesh: sum('mesh'),
    'landmarks+pose': sum('landmarks') + sum('pose'),
    texture: sum('texture'),
    'export glb+json': glbJson,
  };
  stage.total = Object.values(stage).reduce((a, b) => a + b, 0);
  if (samples) for (const [k, v] of Object.entries(stage)) samples[k].push(v);
  const row = {
    photo: name,
    size: `${image.width}×${image.height}`,
    faces: result.faces.length,
    triangles: result.faces.reduce((s, f) => s + f.mesh.indices.length / 3, 0),
    total: stage.total,
  };
  return { row, result };
}

/** Every format at once, then each alone (the volume formats only where the volume network ran). */
function exportAll(result: ReconstructionResult, samples: Record<string, number[]> | null): void {
  // the volume formats only where the volume network ran (the volume option: auto runs it for them, on always)
  const formats = FORMATS.filter((f) => !VOLUME_FORMATS.includes(f) || result.faces.every((face) => face.volume));
  const [, allFormats] = timeIt(() => exportResult(fresh(result), 'face', { formats }));
  const perFormat = formats.map((f) => timeIt(() => exportResult(fresh(result), 'face', { formats: [f as Format] }))[1]);
  if (!samples) return;
  samples['export all formats'].push(allFormats);
  if (formats.length < FORMATS.length) withoutVolume++;
  formats.forEach((f, i) => samples[`  export ${f}`].push(perFormat[i]));
}

function markdown(r: {
  machine: string;
  node: string;
  loadavgBefore: number[];
  loadavgAfter: number[];
  threads: number | undefined;
  runs: number;
  clock: string;
  faces: string;
  textureSize: number | string;
  modelLoadMs: number;
  photos: PhotoRow[];
  stages: Record<string, Stats>;
  marchingCubes192?: Stats & { triangles: number };
  peakRssMiB: number;
  withoutVolume: number;
}): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const unit = r.faces === 'largest' ? 'face (largest per photo)' : 'photo (all faces)';
  const ok = r.photos.filter((p) => !p.error).length;
  const lines = [
    `voxface bench: ${ok}/${r.photos.length} photos × ${r.runs} run(s), per ${unit}, network threads ${r.threads ?? "onnxruntime's choice"}, texture ${typeof r.textureSize === 'number' ? `${r.textureSize}²` : r.textureSize}, ${r.clock === 'cpu' ? 'CPU time (all threads)' : 'wall clock'}`,
    `${r.machine}, node ${r.node}, load average ${r.loadavgBefore.map((l) => l.toFixed(1)).join(' ')} → ${r.loadavgAfter.map((l) => l.toFixed(1)).join(' ')}` +
      ` (a shared machine: compare medians); model + detectors loaded in ${f(r.modelLoadMs)} ms`,
    '',
  ];
  if (r.photos.length === 0) lines.push('(no photos: see the messages above)', '');
  lines.push('| stage | min ms | median ms | max ms |', '|---|---:|---:|---:|');
  for (const [k, s] of Object.entries(r.stages)) {
    if (s.n === 0) continue;
    const label = k === 'total' ? '**total** (decode … export glb+json)' : k.startsWith('  ') ? `  ${k.trim()}` : k;
    const cell = (x: number) => (k === 'total' ? `**${f(x)}**` : f(x));
    lines.push(`| ${label.startsWith('  ') ? '↳ ' + label.trim() : label} | ${cell(s.min)} | ${cell(s.median)} | ${cell(s.max)} |`);
  }
  if (r.marchingCubes192) {
    const m = r.marchingCubes192;
    lines.push(`| marching cubes 192×192×200 (${m.triangles} triangles) | ${f(m.min)} | ${f(m.median)} | ${f(m.max)} |`);
  }
  if (r.withoutVolume > 0) {
    lines.push('', `Export of all formats without volume and nrrd in ${r.withoutVolume} of the runs: the volume network did not run (--volume on runs it).`);
  }
  lines.push('', `Peak RSS ${r.peakRssMiB.toFixed(0)} MiB.`);
  if (r.photos.length > 0) lines.push('', '| photo | size | faces | triangles | total ms |', '|---|---|---:|---:|---:|');
  for (const p of r.photos) {
    lines.push(`| ${p.photo} | ${p.size} | ${p.faces} | ${p.triangles} | ${p.error ? `failed: ${p.error}` : f(p.total)} |`);
  }
  return lines.join('\n');
}

const USAGE = `usage: npm run bench -- [options]\n\nOptions:\n${commandLineHelp('bench', BENCH_OPTIONS)}`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main(process.argv.slice(2));
