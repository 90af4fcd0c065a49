/**
 * `npm run eval -- <dataset dir> [--out report/] [--model path] [--threads n] [--limit n]`
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
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { evaluateImage, summarise } from '../src/metrics/index.ts';
import type { ImageEval } from '../src/metrics/index.ts';
import { defaultModelPath, loadVoxface } from '../src/node/index.ts';
import { VoxfaceError } from '../src/types.ts';
import { loadDataset } from './dataset.ts';
import { cedSvg, yawScatterSvg } from './plots.ts';
import { PUBLISHED } from './published.ts';
import { formatTable, markdownReport } from './report.ts';
import type { EvalReport } from './report.ts';

export interface EvalOptions {
  /** Benchmark folder (ground_truth.json layout or AFLW2000-3D .mat files). */
  dataset: string;
  /** Output folder (default 'report'); null = write nothing. */
  out?: string | null;
  /** ONNX model (default models/vrn-compact.onnx). */
  model?: string;
  /** onnxruntime threads. */
  threads?: number;
  /** Evaluate only the first n images (by name). */
  limit?: number;
  /** A detection counts when its box's IoU with the ground-truth landmark box is above this (default 0). */
  minIoU?: number;
  /** Landmark source: 'fused' (default, as the CLI) or 'network' (the VRN landmark head alone; see ReconstructOptions.landmarks). */
  landmarks?: 'network' | 'fused';
  /** Test-time flip (see ReconstructOptions.flip; default: the pipeline's default). */
  flip?: boolean;
  /** Gaussian blur of the volume before meshing, σ in voxels (see ReconstructOptions.volumeBlur). */
  volumeBlur?: number;
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
export async function runEval(o: EvalOptions): Promise<{ report: EvalReport; table: string; files: string[] }> {
  const log = o.log ?? (() => {});
  const ds = await loadDataset(o.dataset);
  const samples = o.limit !== undefined ? ds.samples.slice(0, o.limit) : ds.samples;
  const model = o.model ?? defaultModelPath();
  const vox = await loadVoxface({ model, threads: o.threads });
  const rows: ImageEval[] = [];
  const t0 = performance.now();
  for (const [i, { gt, image }] of samples.entries()) {
    const t = performance.now();
    let row: ImageEval;
    try {
      const { result } = await vox.reconstructFile(image, { faces: 'all', textureSize: 0, landmarks: o.landmarks, flip: o.flip, volumeBlur: o.volumeBlur });
      row = evaluateImage(gt, result.faces, o.minIoU ?? 0);
    } catch (e) {
      if (!(e instanceof VoxfaceError) || e.code === 'IO_ERROR' || e.code === 'MODEL_ERROR') throw e;
      row = evaluateImage(gt, [], o.minIoU ?? 0);
      if (e.code !== 'NO_FACE') row.error = `${e.code}: ${e.message}`;
    }
    row.ms = performance.now() - t;
    rows.push(row);
    const what = row.detected ? `NME 2D ${(row.nme2d * 100).toFixed(2)}%  3D ${(row.nme3d * 100).toFixed(2)}%` : `not detected${row.error ? ` (${row.error})` : ''}`;
    log(`[${i + 1}/${samples.length}] ${gt.name}  yaw ${row.yaw.toFixed(1)}  ${what}  ${(row.ms / 1000).toFixed(1)} s`);
  }
  const report: EvalReport = {
    dataset: o.dataset,
    format: ds.format,
    yawConvention: ds.convention,
    model: `${path.relative(process.cwd(), model) || model}, landmarks: ${o.landmarks ?? 'fused'}${o.flip === undefined ? '' : `, flip: ${o.flip ? 'on' : 'off'}`}${o.volumeBlur === undefined ? '' : `, volume blur σ ${o.volumeBlur}`}`,
    images: rows.length,
    rows,
    summary: summarise(rows),
    missing: ds.missing,
    yawSignMismatches: rows.filter((r) => Math.abs(r.yaw) > 10 && Math.sign(r.yaw) !== Math.sign(r.yawFromGt)).map((r) => r.name),
    seconds: (performance.now() - t0) / 1000,
    date: new Date().toISOString(),
  };
  const table = formatTable(report);
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
    await write('eval.json', JSON.stringify({ ...report, published: PUBLISHED }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
    await write('eval.md', markdownReport(report, plots));
    await write(plots.ced, cedSvg([
      { label: 'NME 2D', values: rows.map((r) => r.nme2d), color: '#1f77b4' },
      { label: 'NME 3D', values: rows.map((r) => r.nme3d), color: '#ff7f0e' },
    ], `Cumulative error distribution (${rows.length} images)`));
    await write(plots.yaw, yawScatterSvg(rows, PUBLISHED, `NME vs |yaw| (${rows.length} images)`));
  }
  return { report, table, files };
}

const USAGE = 'usage: npm run eval -- <dataset dir> [--out report/] [--model path] [--threads n] [--limit n] [--min-iou x] [--landmarks network|fused] [--flip on|off] [--volume-blur sigma]';

function badLandmarks(v: string): never {
  throw new VoxfaceError('BAD_ARGUMENT', `--landmarks is network or fused, got "${v}"`);
}

/** `on` / `off` → true / false; undefined stays undefined. */
function onOff(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'on' || v === 'off') return v === 'on';
  throw new VoxfaceError('BAD_ARGUMENT', `--${name} is on or off, got "${v}"`);
}

/** The command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        model: { type: 'string' },
        threads: { type: 'string' },
        limit: { type: 'string' },
        'min-iou': { type: 'string' },
        landmarks: { type: 'string' },
        flip: { type: 'string' },
        'volume-blur': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`eval: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`eval: give exactly one dataset folder\n${USAGE}`);
    return 2;
  }
  const int = (name: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new VoxfaceError('BAD_ARGUMENT', `--${name} needs an integer ≥ ${min}, got "${v}"`);
    return n;
  };
  try {
    const minIoU = values['min-iou'] === undefined ? undefined : Number(values['min-iou']);
    if (minIoU !== undefined && !(minIoU >= 0 && minIoU < 1)) throw new VoxfaceError('BAD_ARGUMENT', `--min-iou needs a number in [0, 1), got "${values['min-iou']}"`);
    const { table, files } = await runEval({
      dataset: positionals[0],
      out: values.out ?? 'report',
      model: values.model,
      threads: int('threads', values.threads, 1),
      limit: int('limit', values.limit, 1),
      minIoU,
      landmarks: values.landmarks === 'network' ? 'network' : values.landmarks === undefined || values.landmarks === 'fused' ? 'fused' : badLandmarks(values.landmarks),
      flip: onOff('flip', values.flip),
      volumeBlur: values['volume-blur'] === undefined ? undefined : Number(values['volume-blur']),
      log: (l) => console.error(l),
    });
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
