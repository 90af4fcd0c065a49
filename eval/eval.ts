/**
 * `npm run eval -- <dataset dir> [--out report/] [--model path] [--threads n] [--limit n] [pipeline options]`
 *
 * Runs the real voxface pipeline (the same `loadVoxface` → `reconstructFile` as the `voxface` command) on every
 * image of a benchmark folder and scores it the AFLW2000-3D way (src/metrics/): NME 2D / 3D by yaw bin, detection
 * failures, surface depth at the landmarks. Prints a table ending with the line `NME 2D <number>%` and writes
 * `<out>/eval.json`, `<out>/eval.md`, `<out>/ced.svg`, `<out>/nme-vs-yaw.svg`.
 *
 * ```ts
 * const { report, table } = await runEval({ dataset: '../shared/aflw2000-3d-dev', out: 'report' });
 * ```
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCommandLine } from '../src/cli/args.ts';
import { evaluateImage, summarise } from '../src/metrics/index.ts';
import type { ImageEval } from '../src/metrics/index.ts';
import { defaultModelPath, loadVoxface } from '../src/node/index.ts';
import { commandLineHelp, option, optionName, optionText, OPTIONS, resolveOptions } from '../src/options.ts';
import type { OptionsInput } from '../src/options.ts';
import { VoxfaceError } from '../src/types.ts';
import { loadDataset } from './dataset.ts';
import { loadDenseTruth } from './dense.ts';
import { cedSvg, yawScatterSvg } from './plots.ts';
import { PUBLISHED } from './published.ts';
import { compareTable, formatTable, markdownReport } from './report.ts';
import type { EvalReport } from './report.ts';

export interface EvalOptions {
  /** Benchmark folder (ground_truth.json layout or AFLW2000-3D .mat files). */
  dataset: string;
  /** Output folder (default 'report'); null = write nothing. */
  out?: string | null;
  /** Evaluate only the first n images (by name). */
  limit?: number;
  /** A detection counts when its box's IoU with the ground-truth landmark box is above this (default 0). */
  minIoU?: number;
  /**
   * Options of the table (src/options.ts) the eval exposes: the pipeline's (landmarks, flip, volumeBlur, …) and
   * the model's (model, threads). Every face is reconstructed; the texture is the smallest (it is not scored).
   */
  options?: OptionsInput;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/**
 * Evaluates a dataset folder; returns the report, the printed table and the files written.
 *
 * ```ts
 * const { report } = await runEval({ dataset: 'bench-data/synthetic', out: 'report/synthetic', limit: 24 });
 * report.summary.bins[2].nme2d;
 * ```
 */
export async function runEval(
  o: EvalOptions,
): Promise<{ report: EvalReport; reports: Record<string, EvalReport>; table: string; files: string[] }> {
  const log = o.log ?? (() => {});
  const ds = await loadDataset(o.dataset);
  const samples = o.limit !== undefined ? ds.samples.slice(0, o.limit) : ds.samples;
  const given = o.options ?? {};
  const settings = resolveOptions({ ...given, faces: 'all', textureSize: 16 }, 'eval');
  const model = settings.model ?? defaultModelPath();
  const vox = await loadVoxface({ model, threads: settings.threads });
  const dense = vox.deps.prior ? loadDenseTruth(o.dataset) : undefined;
  // every shape side by side unless one is asked for; the default shape first (its report is the main one)
  const all = (OPTIONS.shape.choices ?? []) as readonly (typeof settings.shape)[];
  const shapes = given.shape ? [settings.shape] : [settings.shape, ...all.filter((c) => c !== settings.shape)];
  const rows = Object.fromEntries(shapes.map((sh) => [sh, [] as ImageEval[]]));
  const seconds = Object.fromEntries(shapes.map((sh) => [sh, 0]));
  for (const [i, { gt, image }] of samples.entries()) {
    const parts: string[] = [];
    for (const shape of shapes) {
      const t = performance.now();
      let row: ImageEval;
      try {
        const { result } = await vox.reconstructFile(image, { ...settings, shape });
        row = evaluateImage(gt, result.faces, o.minIoU ?? 0);
        if (dense && row.face >= 0 && vox.deps.prior) row.denseMM = dense.error(gt.name, result.faces[row.face], vox.deps.prior.basis);
      } catch (e) {
        if (!(e instanceof VoxfaceError) || e.code === 'IO_ERROR' || e.code === 'MODEL_ERROR') throw e;
        row = evaluateImage(gt, [], o.minIoU ?? 0);
        if (e.code !== 'NO_FACE') row.error = `${e.code}: ${e.message}`;
      }
      row.ms = performance.now() - t;
      seconds[shape] += row.ms / 1000;
      rows[shape].push(row);
      parts.push(row.detected ? `${shape}: NME 2D ${(row.nme2d * 100).toFixed(2)}%  3D ${(row.nme3d * 100).toFixed(2)}%  ${(row.ms / 1000).toFixed(1)} s` : `${shape}: not detected${row.error ? ` (${row.error})` : ''}`);
    }
    log(`[${i + 1}/${samples.length}] ${gt.name}  yaw ${rows[shapes[0]][i].yaw.toFixed(1)}  ${parts.join('  |  ')}`);
  }
  const reports: Record<string, EvalReport> = {};
  for (const shape of shapes) {
    const r = rows[shape];
    reports[shape] = {
      dataset: o.dataset,
      format: ds.format,
      yawConvention: ds.convention,
      model: `${path.relative(process.cwd(), model) || model}, shape: ${shape}, landmarks: ${settings.landmarks}${settingsNote(given)}`,
      images: r.length,
      rows: r,
      summary: summarise(r),
      missing: ds.missing,
      yawSignMismatches: r.filter((x) => Math.abs(x.yaw) > 10 && Math.sign(x.yaw) !== Math.sign(x.yawFromGt)).map((x) => x.name),
      seconds: seconds[shape],
      date: new Date().toISOString(),
    };
  }
  const report = reports[shapes[0]];
  const mainRows = report.rows;
  const table = (shapes.length > 1 ? compareTable(reports) + '\n\n' : '') + formatTable(report);
  const files: string[] = [];
  if (o.out !== null) {
    const out = o.out ?? 'report';
    await mkdir(out, { recursive: true });
    const plots = { ced: 'ced.svg', yaw: 'nme-vs-yaw.svg' };
    const write = async (name: string, text: string) => {
      const f = path.join(out, name);
      await writeFile(f, text);
      files.push(f);
    };
    const others = Object.fromEntries(shapes.slice(1).map((sh) => [sh, reports[sh]]));
    await write('eval.json', JSON.stringify({ ...report, shapes: others, published: PUBLISHED }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
    await write('eval.md', (shapes.length > 1 ? '```\n' + compareTable(reports) + '\n```\n\n' : '') + markdownReport(report, plots));
    await write(plots.ced, cedSvg([
      { label: 'NME 2D', values: mainRows.map((r) => r.nme2d), color: '#1f77b4' },
      { label: 'NME 3D', values: mainRows.map((r) => r.nme3d), color: '#ff7f0e' },
    ], `Cumulative error distribution (${mainRows.length} images)`));
    await write(plots.yaw, yawScatterSvg(mainRows, PUBLISHED, `NME vs |yaw| (${mainRows.length} images)`));
  }
  return { report, reports, table, files };
}

/** The pipeline options given beyond the defaults, as flags: ", --flip off, --volume-blur 0". */
function settingsNote(given: OptionsInput): string {
  return Object.entries(given)
    .filter(([k, v]) => v !== undefined && k !== 'landmarks' && k !== 'model' && k !== 'threads')
    .map(([k, v]) => `, ${optionName(k, 'eval')} ${optionText(OPTIONS[k as keyof typeof OPTIONS], v)}`)
    .join('');
}

/** The eval's own flags (the pipeline's and the model's come from the options table). */
export const EVAL_OPTIONS = {
  out: option.path({ default: 'report', metavar: 'dir', help: 'output folder of the report' }),
  limit: option.optInt({ min: 1, max: 1e9, default: undefined, defaultText: 'every image', help: 'evaluate only the first n images (by name)' }),
  minIoU: option.number({ min: 0, max: 0.99, default: 0, flag: 'min-iou', help: "a detection counts when its box's IoU with the ground-truth box is above this" }),
  help: option.boolean({ default: false, switch: true, short: 'h', help: 'this help' }),
};

const USAGE = `usage: npm run eval -- <dataset dir> [options]\n\nOptions:\n${commandLineHelp('eval', EVAL_OPTIONS)}`;

/** The command line → runEval's options (throws VoxfaceError BAD_ARGUMENT naming the flag), or 'help'. */
export function parseEvalArgs(argv: string[]): 'help' | Omit<EvalOptions, 'log'> {
  const { given, local, positionals } = parseCommandLine(argv, 'eval', EVAL_OPTIONS);
  if (local.help) return 'help';
  if (positionals.length !== 1) throw new VoxfaceError('BAD_ARGUMENT', 'give exactly one dataset folder');
  return { dataset: positionals[0], out: local.out, limit: local.limit, minIoU: local.minIoU, options: given };
}

/** The command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseEvalArgs(argv);
  } catch (e) {
    console.error(`eval: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(USAGE);
    return 0;
  }
  try {
    const { table, files } = await runEval({ ...parsed, log: (l) => console.error(l) });
    console.log(table);
    console.error(`wrote ${files.join(', ')}`);
    return 0;
  } catch (e) {
    if (e instanceof VoxfaceError) {
      console.error(`eval: ${e.message}`);
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
