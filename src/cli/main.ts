/**
 * The `voxface` command line: photos in, 3D face files out.
 *
 * ```sh
 * voxface selfie.jpg -o out/                         # out/selfie.glb + out/selfie.json
 * voxface photos/ -o out/ --format glb,obj,ply,stl,volume,depth,json --largest
 * ```
 * Exit codes: 0 every input succeeded; 1 some input failed (bad image, no face: one line each on stderr,
 * the rest of the batch still completes); 2 usage error; 3 the model or the detectors could not be loaded.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exportResult, parseFormats } from '../export/files.ts';
import type { Format } from '../export/files.ts';
import type { ReconstructOptions } from '../pipeline.ts';
import { VoxfaceError } from '../types.ts';
import type { Box } from '../types.ts';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, MODEL: 3 } as const;

const IMAGE_EXT = /\.(jpe?g|png|webp|avif|heic|heif|tiff?|gif|bmp|ppm|pgm|pnm)$/i;

export const HELP = `voxface — one photo of a face in, a textured 3D model of that face out

Usage: voxface <image|folder>... [options]

Options:
  -o, --out <dir>        output folder (default: out)
  -f, --format <list>    comma list of glb,obj,ply,stl,volume,nrrd,depth,json or all (default: glb,json)
      --largest          only the largest face of each photo
      --all-faces        every face (default)
      --box <x,y,w,h>    the face box in photo pixels (skips the detector)
      --model <path>     ONNX model (default: models/vrn-compact.onnx of this package)
      --threads <n>      CPU threads for the network
      --texture-size <n> texture map side in texels (default: 256–1024 by face size)
      --volume-blur <σ>  Gaussian blur of the volume before meshing, in voxels (default 1; 0: none)
      --smooth <n>       smoothing iterations on the surface (default 10)
      --max-triangles <n> decimate meshes to at most n triangles
      --landmarks <s>    landmark x, y: fused (default: Face Mesh where it fits, < 45° yaw; else the network) or network
      --flip <on|off>    test-time flip: average the network on the crop and its mirror (default on; off is faster)
      --frame <f>        mesh file frame: y-up (default, upright in viewers) or photo (= the JSON frame)
      --solid            STL as a closed, printable solid instead of the open face surface
      --timings          print time per stage for each photo
  -q, --quiet            no progress, only errors
  -h, --help             this help
  -v, --version          the version

Outputs per photo NAME: NAME.json (all faces), NAME.glb, NAME.obj+.mtl+.png, NAME.ply, NAME.stl,
NAME.volume.npy+.json, NAME.nrrd, NAME.depth.png for the largest face; NAME.face1.glb… for the others.

Examples:
  voxface selfie.jpg -o out/
  voxface photos/ -o out/ --format all --largest
  voxface group.jpg --format json --threads 2 --timings
  voxface profile.png --box 120,80,200,240 --format glb,stl --solid

Exit codes: 0 all inputs done; 1 some inputs failed (each named on stderr, the rest still written);
2 usage error; 3 the model or detectors could not be loaded.`;

interface CliOptions {
  out: string;
  formats: Format[];
  recon: ReconstructOptions;
  model?: string;
  threads?: number;
  frame: 'y-up' | 'photo';
  solid: boolean;
  timings: boolean;
  quiet: boolean;
}

/** Runs the CLI; resolves to the exit code. Output streams are injectable for tests. */
export async function main(
  argv: string[],
  io: { stdout: (s: string) => void; stderr: (s: string) => void; isTTY?: boolean } = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    isTTY: process.stderr.isTTY,
  },
): Promise<number> {
  let opts: CliOptions;
  let inputs: string[];
  try {
    const parsed = parse(argv);
    if (parsed === 'help') {
      io.stdout(HELP + '\n');
      return EXIT.OK;
    }
    if (parsed === 'version') {
      io.stdout(`${await version()}\n`);
      return EXIT.OK;
    }
    ({ opts, inputs } = parsed);
  } catch (e) {
    io.stderr(`voxface: ${(e as Error).message}\nTry 'voxface --help'.\n`);
    return EXIT.USAGE;
  }

  const files = await expandInputs(inputs, io);
  if (files.length === 0) {
    io.stderr('voxface: no image files given\n');
    return EXIT.FAILED;
  }

  let vox;
  try {
    const { loadVoxface } = await import('../node/index.ts');
    vox = await loadVoxface({ model: opts.model, threads: opts.threads });
  } catch (e) {
    io.stderr(`voxface: cannot load the model: ${(e as Error).message.split('\n')[0]}\n`);
    return EXIT.MODEL;
  }
  await mkdir(opts.out, { recursive: true });

  let failed = files.missing;
  const progress = !opts.quiet && io.isTTY && files.length > 1;
  for (let i = 0; i < files.list.length; i++) {
    const file = files.list[i];
    if (progress) io.stderr(`\r${bar(i, files.list.length)} ${path.basename(file).slice(0, 40).padEnd(40)}`);
    try {
      const t0 = performance.now();
      const { result } = await vox.reconstructFile(file, opts.recon);
      const t1 = performance.now();
      const base = path.basename(file).replace(/\.[^.]+$/, '');
      const out = exportResult(result, opts.formats, base, { frame: opts.frame, solidSTL: opts.solid });
      for (const [name, bytes] of Object.entries(out)) await writeFile(path.join(opts.out, name), bytes);
      const t2 = performance.now();
      if (progress) io.stderr('\r\x1b[K');
      if (!opts.quiet) {
        const n = result.faces.length;
        io.stdout(`${file}: ${n} face${n === 1 ? '' : 's'} → ${Object.keys(out).length} files in ${opts.out} (${Math.round(t2 - t0)} ms)\n`);
      }
      if (opts.timings) io.stdout(formatTimings(file, result.timings, result.faces.map((f) => f.timings), t2 - t1));
    } catch (e) {
      failed++;
      if (progress) io.stderr('\r\x1b[K');
      io.stderr(`voxface: ${file}: ${describe(e)}\n`);
    }
  }
  if (progress) io.stderr(`\r${bar(files.list.length, files.list.length)}\n`);
  return failed > 0 ? EXIT.FAILED : EXIT.OK;
}

function parse(argv: string[]): 'help' | 'version' | { opts: CliOptions; inputs: string[] } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string', short: 'o' },
      format: { type: 'string', short: 'f' },
      largest: { type: 'boolean' },
      'all-faces': { type: 'boolean' },
      box: { type: 'string' },
      model: { type: 'string' },
      threads: { type: 'string' },
      'texture-size': { type: 'string' },
      smooth: { type: 'string' },
      'max-triangles': { type: 'string' },
      frame: { type: 'string' },
      landmarks: { type: 'string' },
      flip: { type: 'string' },
      'volume-blur': { type: 'string' },
      solid: { type: 'boolean' },
      timings: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  if (positionals.length === 0) throw new Error('no input images given');
  if (values.largest && values['all-faces']) throw new Error('--largest and --all-faces exclude each other');
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} needs an integer ≥ ${min}, got "${v}"`);
    return n;
  };
  let box: Box | undefined;
  if (values.box !== undefined) {
    const p = values.box.split(',').map(Number);
    if (p.length !== 4 || !p.every(Number.isFinite) || p[2] <= 0 || p[3] <= 0) {
      throw new Error(`--box needs x,y,w,h with positive w and h, got "${values.box}"`);
    }
    box = p as Box;
  }
  const landmarks = values.landmarks ?? 'fused';
  if (landmarks !== 'network' && landmarks !== 'fused') throw new Error(`--landmarks is network or fused, got "${landmarks}"`);
  const flip = values.flip ?? 'on';
  if (flip !== 'on' && flip !== 'off') throw new Error(`--flip is on or off, got "${flip}"`);
  let volumeBlur: number | undefined;
  if (values['volume-blur'] !== undefined) {
    volumeBlur = Number(values['volume-blur']);
    if (!(volumeBlur >= 0 && volumeBlur <= 8)) throw new Error(`--volume-blur needs a number from 0 to 8, got "${values['volume-blur']}"`);
  }
  const frame = values.frame ?? 'y-up';
  if (frame !== 'y-up' && frame !== 'photo') throw new Error(`--frame is y-up or photo, got "${frame}"`);
  let formats: Format[];
  try {
    formats = parseFormats(values.format ?? 'glb,json');
  } catch (e) {
    throw new Error((e as Error).message);
  }
  return {
    inputs: positionals,
    opts: {
      out: values.out ?? 'out',
      formats,
      model: values.model,
      threads: int('threads', values.threads, 1),
      frame,
      solid: values.solid ?? false,
      timings: values.timings ?? false,
      quiet: values.quiet ?? false,
      recon: {
        faces: values.largest ? 'largest' : 'all',
        box,
        textureSize: int('texture-size', values['texture-size'], 16),
        smooth: int('smooth', values.smooth, 0),
        maxTriangles: int('max-triangles', values['max-triangles'], 100),
        landmarks,
        flip: flip === 'on',
        volumeBlur,
      },
    },
  };
}

/** Files from the arguments: image files as given, folders searched recursively for image extensions. */
async function expandInputs(inputs: string[], io: { stderr: (s: string) => void }): Promise<{ list: string[]; missing: number; length: number }> {
  const list: string[] = [];
  let missing = 0;
  for (const input of inputs) {
    let s;
    try {
      s = await stat(input);
    } catch {
      io.stderr(`voxface: ${input}: no such file or folder\n`);
      missing++;
      continue;
    }
    if (s.isDirectory()) {
      const found = (await readdir(input, { recursive: true }))
        .filter((f) => IMAGE_EXT.test(f))
        .map((f) => path.join(input, f))
        .sort();
      if (found.length === 0) io.stderr(`voxface: ${input}: no images in this folder\n`);
      list.push(...found);
    } else {
      list.push(input);
    }
  }
  return { list, missing, length: list.length + missing };
}

function describe(e: unknown): string {
  if (e instanceof VoxfaceError) return e.message.split('\n')[0];
  const msg = e instanceof Error ? e.message : String(e);
  return `internal error: ${msg.split('\n')[0]}`;
}

function bar(done: number, total: number): string {
  const w = 24;
  const k = Math.round((done / Math.max(total, 1)) * w);
  return `[${'#'.repeat(k)}${'.'.repeat(w - k)}] ${done}/${total}`;
}

function formatTimings(file: string, photo: Record<string, number>, faces: Record<string, number>[], exportMs: number): string {
  const rows: string[] = [`timings for ${file} (ms):`];
  const fmt = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
  rows.push(`  photo: ${fmt({ ...photo, export: exportMs })}`);
  faces.forEach((f, i) => rows.push(`  face ${i}: ${fmt(f)}`));
  return rows.join('\n') + '\n';
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  return JSON.parse(await readFile(pkg, 'utf8')).version as string;
}
