/**
 * The `voxface` command line: photos in, 3D face files out.
 *
 * ```sh
 * voxface selfie.jpg -o out/                         # out/selfie.glb + out/selfie.json
 * voxface photos/ -o out/ --format glb,obj,ply,stl,volume,depth,json --largest   # photos/a/b.jpg → out/a/b.glb
 * ```
 * Output names as `voxface batch` gives them (src/batch/plan.ts): a photo found in a folder keeps its path inside
 * it, a file given by itself is named by its base name; a name already taken by an earlier input (`x.jpg` and
 * `x.png`) fails the later one instead of overwriting. The inputs are checked (exists, an image within the size
 * limits by its header) before the output folder is created and the model loaded.
 * Exit codes: 0 every input succeeded; 1 some input failed (missing, bad image, no face, output name taken: one
 * line each on stderr, the rest of the batch still completes); 2 usage error; 3 the model or the detectors could not be loaded;
 * 4 the output cannot be written (full disk: the run stops with a summary; read-only, no permission, not a folder).
 * Progress: a bar on a terminal, plain lines on stderr elsewhere, nothing with --quiet (src/cli/progress.ts).
 */
import path from 'node:path';
import { checkImageFile, isUrl, planInputs } from '../batch/plan.ts';
import type { PlannedInput } from '../batch/plan.ts';
import { exportResult } from '../export/files.ts';
import type { ExportedFile } from '../export/files.ts';
import { commandLineHelp, option } from '../options.ts';
import type { Options } from '../options.ts';
import { prepareOutputFolder, writeError, writeFilesAtomic, WriteError } from '../node/write.ts';
import { VoxfaceError } from '../types.ts';
import { parseCommandLine } from './args.ts';
import { createProgress } from './progress.ts';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, MODEL: 3, WRITE: 4 } as const;


/** The CLI's own options (the rest come from the options table, src/options.ts). */
export const CLI_OPTIONS = {
  out: option.path({ default: 'out', short: 'o', metavar: 'dir', help: 'output folder' }),
  timings: option.boolean({ default: false, switch: true, help: 'print time per stage for each photo' }),
  quiet: option.boolean({ default: false, switch: true, short: 'q', help: 'no progress and no result lines, only errors' }),
  help: option.boolean({ default: false, switch: true, short: 'h', help: 'this help' }),
  version: option.boolean({ default: false, switch: true, short: 'v', help: 'the version' }),
};

export const HELP = `voxface — one photo of a face in, a textured 3D model of that face out

Usage: voxface <image|folder>... [options]
       voxface batch <image|folder|URL>... -o <dir> [--jobs n] [--queue redis://host:port]   many photos, resumable
       voxface worker --queue redis://host:port [--jobs n]       a queue worker (see voxface batch --help)
       (batch and worker are subcommands only as the first argument; a file of that name is ./batch)

Options:
${commandLineHelp('cli', CLI_OPTIONS)}

Outputs per photo NAME: NAME.json (all faces), NAME.glb, NAME.obj+.mtl+.png, NAME.ply, NAME.stl,
NAME.volume.npy+.json, NAME.nrrd, NAME.depth.png for the largest face; NAME.face1.glb… for the others.
A photo found in a folder keeps its path inside it (photos/a/b.jpg → out/a/b.glb); a name already taken by an
earlier input (x.jpg and x.png) fails the later one (exit 1) instead of overwriting.

Examples:
  voxface selfie.jpg -o out/
  voxface photos/ -o out/ --format all --largest
  voxface group.jpg --format json --threads 2 --timings
  voxface profile.png --box 120,80,200,240 --format glb,stl --solid

Progress: a bar on a terminal (photos, faces, rate, ETA, the face within a group photo); plain lines on
stderr elsewhere; none with --quiet.

Exit codes: 0 all inputs done; 1 some inputs failed (each named on stderr, the rest still written; missing or
not images by their header: no output folder is made and no model loaded when no input is left);
2 usage error; 3 the model or detectors could not be loaded; 4 the output cannot be written (a full disk
stops the run with a summary of what was written; a read-only, missing or unwritable folder is named).`;

interface CliOptions {
  out: string;
  /** Every option of the table (reconstruction, export, model loading). */
  options: Options;
  timings: boolean;
  quiet: boolean;
}

/** Where the CLI writes: injectable for tests. `isTTY`: stderr is a terminal (the progress bar goes there). */
export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY?: boolean;
  /** The terminal stream of the progress bar (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** stdout is the same terminal: result lines print above the bar (default process.stdout.isTTY). */
  stdoutIsTTY?: boolean;
}

/** Runs the CLI; resolves to the exit code. Output streams are injectable for tests. */
export async function main(
  argv: string[],
  io: CliIO = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    isTTY: process.stderr.isTTY,
  },
): Promise<number> {
  // subcommands: the first argument only, so `voxface ./batch` still reads a file named batch
  if (argv[0] === 'batch' || argv[0] === 'worker') {
    const sub = await import('./batch.ts');
    return argv[0] === 'batch' ? sub.batchMain(argv.slice(1), io) : sub.workerMain(argv.slice(1), io);
  }
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

  // the inputs first, cheaply (exists, readable, an image within the size limits by its header): a run with
  // nothing to do creates no folder and loads no model
  const { items, failed: badInputs } = await planCli(inputs, opts.out, io);
  let failed = badInputs;
  if (items.length === 0) {
    if (failed === 0) io.stderr('voxface: no image files given\n');
    return EXIT.FAILED;
  }
  // the output folder next: nothing is computed for a folder that cannot take the files
  try {
    await prepareOutputFolder(opts.out);
  } catch (e) {
    io.stderr(`voxface: ${describe(e)}\n`);
    return EXIT.WRITE;
  }

  let vox;
  try {
    const { loadVoxface } = await import('../node/index.ts');
    vox = await loadVoxface({ model: opts.options.model, threads: opts.options.threads });
  } catch (e) {
    io.stderr(`voxface: cannot load the model: ${(e as Error).message.split('\n')[0]}\n`);
    return EXIT.MODEL;
  }

  let writeFailed = 0;
  const written = { photos: 0, files: 0, bytes: 0 };
  const folders = new Set<string>([path.resolve(opts.out)]);
  const progress = createProgress(items.length, {
    mode: opts.quiet ? 'none' : io.isTTY ? 'bar' : 'lines',
    io,
    stream: io.stream,
    resultsAboveBar: io.stdoutIsTTY ?? process.stdout.isTTY,
  });
  for (let i = 0; i < items.length; i++) {
    const { input: file, name } = items[i];
    // a photo found in a folder keeps its path inside it: photos/ + a/face.jpg → out/a/face.glb
    const relDir = path.posix.dirname(name);
    const dir = relDir === '.' ? opts.out : path.join(opts.out, ...relDir.split('/'));
    progress.startPhoto(file);
    try {
      const t0 = performance.now();
      const { result, frame } = await vox.reconstructFile(file, { ...opts.options, onProgress: (p) => progress.step(p) });
      const t1 = performance.now();
      const out = exportResult(result, path.posix.basename(name), opts.options);
      if (!folders.has(path.resolve(dir))) {
        await prepareSubfolder(dir);
        folders.add(path.resolve(dir));
      }
      const bytes = await writeOutputs(dir, out);
      written.photos++;
      written.files += out.length;
      written.bytes += bytes;
      const t2 = performance.now();
      progress.donePhoto(result.faces.length);
      if (!opts.quiet) {
        const n = result.faces.length;
        const which = frame.count > 1 ? `, frame ${frame.index + 1} of ${frame.count}` : '';
        progress.result(`${file}: ${n} face${n === 1 ? '' : 's'} → ${out.length} files in ${dir} (${Math.round(t2 - t0)} ms${which})\n`);
      }
      if (opts.timings) progress.result(formatTimings(file, result.timings, result.faces.map((f) => f.timings), t2 - t1));
    } catch (e) {
      progress.error(`voxface: ${file}: ${describe(e)}\n`);
      progress.donePhoto(0);
      if (!(e instanceof WriteError)) {
        failed++;
        continue;
      }
      writeFailed++;
      if (e.fatal) {
        // a full disk: every later file would fail too — stop, and say what is there
        progress.stop();
        const left = items.length - i - 1;
        io.stderr(
          `voxface: stopped: ${e.message}. Written: ${written.photos} of ${items.length} photos (${written.files} files, ` +
            `${(written.bytes / 1048576).toFixed(1)} MB) in ${opts.out}; ${file}${left > 0 ? ` and ${left} more` : ''} not written.\n`,
        );
        return EXIT.WRITE;
      }
    }
  }
  progress.stop();
  return writeFailed > 0 ? EXIT.WRITE : failed > 0 ? EXIT.FAILED : EXIT.OK;
}

/** The command line → options (throws VoxfaceError BAD_ARGUMENT naming the flag). */
export function parse(argv: string[]): 'help' | 'version' | { opts: CliOptions; inputs: string[] } {
  const { options, local, positionals } = parseCommandLine(argv, 'cli', CLI_OPTIONS);
  if (local.help) return 'help';
  if (local.version) return 'version';
  if (positionals.length === 0) throw new Error('no input images given');
  return { inputs: positionals, opts: { out: local.out, options, timings: local.timings, quiet: local.quiet } };
}

/**
 * Writes one photo's files (the export manifest) into the output folder, all or nothing (no partial file, and no
 * photo with only some of its files); returns the bytes written. Throws a WriteError.
 */
export async function writeOutputs(dir: string, files: readonly ExportedFile[]): Promise<number> {
  return writeFilesAtomic(dir, files);
}

/**
 * The photos of a run and their output names, as `voxface batch` plans them (src/batch/plan.ts: folders searched
 * for the image endings of `isImageFile`, src/decode/extensions.ts): a file given by itself is named by its base name, a photo found in a folder by its path inside that folder (`photos/` +
 * `a/face.jpg` → `a/face`), photos inside the output folder are not inputs. An input that cannot run — missing,
 * a URL (`voxface batch` fetches those), an output name already taken by an earlier input (`a.jpg` and `a.png`),
 * not an image or too large by its header — gets one line on stderr and counts as failed; nothing is overwritten.
 */
export async function planCli(
  inputs: readonly string[],
  out: string,
  io: { stderr: (s: string) => void },
): Promise<{ items: PlannedInput[]; failed: number }> {
  const plan = await planInputs(inputs, { exclude: out });
  for (const n of plan.notes) io.stderr(`voxface: ${n}\n`);
  for (const p of plan.problems) io.stderr(`voxface: ${p.input}: ${p.message}\n`);
  const items: PlannedInput[] = [];
  let failed = plan.problems.length;
  for (const it of plan.items) {
    const problem = isUrl(it.input)
      ? { message: "a URL: 'voxface batch' fetches URLs, 'voxface' reads files" }
      : await checkImageFile(it.source);
    if (!problem) {
      items.push(it);
      continue;
    }
    io.stderr(`voxface: ${it.input}: ${problem.message}\n`);
    failed++;
  }
  return { items, failed };
}

/** An output subfolder: a failure skips the photo (WriteError), and stops the run only for a full disk. */
async function prepareSubfolder(dir: string): Promise<void> {
  try {
    await prepareOutputFolder(dir);
  } catch (e) {
    const w = e instanceof WriteError ? e : writeError(e, dir);
    throw new WriteError(w.folder, w.problem, w.errno, w.problem === 'DISK_FULL', w.message);
  }
}

function describe(e: unknown): string {
  if (e instanceof VoxfaceError) return e.message.split('\n')[0];
  const msg = e instanceof Error ? e.message : String(e);
  return `internal error: ${msg.split('\n')[0]}`;
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
