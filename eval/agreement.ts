/**
 * `npm run agreement -- [photo dir]... [--model path] [--threads n] [pipeline options]`
 *
 * A real-photo check without ground truth: how far the network's own 68 landmarks (x, y) lie from Face Mesh's on
 * every face where the pipeline's fused mode uses Face Mesh (it fitted, |yaw| < 45°). The dev set has 8 photos; the
 * shared photo folder has ~200 such faces, so this tells two models apart where the dev set's noise cannot. Face
 * Mesh is not ground truth (its own NME 2D on the dev set is 3.57%): read the figure as agreement, lower is closer.
 *
 * Runs the real pipeline twice per photo (landmarks 'fused' and 'network'; texture off). Default photos:
 * `../shared/faces` (recursively; `VOXFACE_SHARED` overrides `../shared`). Prints a table by |yaw| bin.
 *
 * ```ts
 * const { table } = await runAgreement({ photos: ['../shared/faces'], model: 'models/vrn-compact.onnx' });
 * ```
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCommandLine } from '../src/cli/args.ts';
import { isImageFile } from '../src/decode/extensions.ts';
import { defaultModelPath, loadVoxface } from '../src/node/index.ts';
import { commandLineHelp, option } from '../src/options.ts';
import type { OptionsInput } from '../src/options.ts';
import { VoxfaceError } from '../src/types.ts';
import type { Vec3 } from '../src/types.ts';

const BINS: [number, number][] = [[0, 15], [15, 30], [30, 45]];

export interface AgreementOptions {
  /** Photo files or folders (searched recursively). */
  photos: string[];
  /** ONNX model (default models/vrn-compact.onnx). */
  model?: string;
  /** onnxruntime threads. */
  threads?: number;
  /** Pipeline options of the table (src/options.ts) for both runs (flip, refine, …; landmarks is set per run). */
  options?: OptionsInput;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** One face where Face Mesh's landmarks were used: its |yaw| and the network's NME against them. */
export interface AgreementRow {
  photo: string;
  yaw: number;
  nme: number;
}

/** Mean x, y distance between two 68-point sets ÷ √(w·h) of the first one's box. */
export function landmarkDistance(ref: Vec3[], other: Vec3[]): number {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [x, y] of ref) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x);
    y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  let sum = 0;
  for (let i = 0; i < ref.length; i++) sum += Math.hypot(ref[i][0] - other[i][0], ref[i][1] - other[i][1]);
  return sum / ref.length / Math.sqrt((x1 - x0) * (y1 - y0));
}

async function listImages(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    if ((await stat(p)).isDirectory()) {
      for (const e of (await readdir(p)).sort()) await walk(path.join(p, e));
    } else if (isImageFile(p)) out.push(p);
  };
  for (const p of paths) await walk(p);
  return out;
}

/** Runs the check; returns the rows and the printed table. */
export async function runAgreement(o: AgreementOptions): Promise<{ rows: AgreementRow[]; table: string }> {
  const log = o.log ?? (() => {});
  const files = await listImages(o.photos);
  if (files.length === 0) throw new VoxfaceError('BAD_ARGUMENT', `agreement: no images in ${o.photos.join(', ')}`);
  const model = o.model ?? defaultModelPath();
  const vox = await loadVoxface({ model, threads: o.threads });
  const rows: AgreementRow[] = [];
  let skipped = 0;
  for (const [i, file] of files.entries()) {
    try {
      const run = { ...o.options, faces: 'all', textureSize: 16 } as const;
      const fused = (await vox.reconstructFile(file, { ...run, landmarks: 'fused' })).result.faces;
      const net = (await vox.reconstructFile(file, { ...run, landmarks: 'network' })).result.faces;
      for (let k = 0; k < Math.min(fused.length, net.length); k++) {
        const a = fused[k].landmarks68, b = net[k].landmarks68;
        // the same face (same box) where fused mode took Face Mesh's x, y: otherwise both runs give the network's
        if (fused[k].box.some((v, j) => v !== net[k].box[j])) continue;
        if (a.every((p, j) => p[0] === b[j][0] && p[1] === b[j][1])) continue;
        rows.push({ photo: path.relative(process.cwd(), file), yaw: Math.abs(fused[k].pose.yaw), nme: landmarkDistance(a, b) });
      }
    } catch (e) {
      if (!(e instanceof VoxfaceError) || e.code === 'MODEL_ERROR') throw e;
      skipped++;
    }
    log(`[${i + 1}/${files.length}] ${file}: ${rows.length} faces so far`);
  }
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const stats = (rs: AgreementRow[]) => {
    const v = rs.map((r) => r.nme).sort((a, b) => a - b);
    return v.length === 0 ? '| 0 | – | – |' : `| ${v.length} | ${pct(v.reduce((s, x) => s + x, 0) / v.length)} | ${pct(v[v.length >> 1])} |`;
  };
  const lines = [
    `voxface agreement: network landmarks vs Face Mesh's, ${files.length} photos (${skipped} without a face), model ${path.relative(process.cwd(), model) || model}`,
    '',
    '| \\|yaw\\| | faces | mean NME 2D | median |',
    '|---|---:|---:|---:|',
    ...BINS.map(([lo, hi]) => `| ${lo}–${hi}° ${stats(rows.filter((r) => r.yaw >= lo && r.yaw < hi))}`),
    `| all ${stats(rows)}`,
  ];
  return { rows, table: lines.join('\n') };
}

/** The agreement's flags: the eval's rows of the options table (--landmarks is set per run), and help. */
const AGREEMENT_OPTIONS = { help: option.boolean({ default: false, switch: true, short: 'h', help: 'this help' }) };
const USAGE = `usage: npm run agreement -- [photo file or dir]... [options]\n\nOptions (--landmarks is ignored: both are run):\n${commandLineHelp('eval', AGREEMENT_OPTIONS)}`;

/** The command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv, 'eval', AGREEMENT_OPTIONS);
  } catch (e) {
    console.error(`agreement: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { local, given, positionals } = parsed;
  if (local.help) {
    console.log(USAGE);
    return 0;
  }
  const { model, threads, landmarks: _ignored, ...options } = given;
  try {
    const shared = process.env.VOXFACE_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
    const photos = positionals.length > 0 ? positionals : [path.join(shared, 'faces')];
    const { table } = await runAgreement({ photos, model, threads, options, log: (l) => console.error(l) });
    console.log(table);
    return 0;
  } catch (e) {
    if (e instanceof VoxfaceError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`agreement: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(70);
    },
  );
}
