/**
 * Loads a benchmark folder: images plus their ground truth, in either layout.
 * - `ground_truth.json` beside the images (../shared/aflw2000-3d-dev, bench-data/synthetic). Its yaw sign is
 *   AFLW's unless a `benchmark.json` written by training/benchmark.py sits beside it (voxface's sign).
 * - AFLW2000-3D as distributed: `image00002.jpg` + `image00002.mat` (pt3d_68, Pose_Para).
 *
 * ```ts
 * const ds = await loadDataset('../shared/aflw2000-3d-dev');
 * for (const { gt, image } of ds.samples) ...
 * ```
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isImageFile } from '../src/decode/extensions.ts';
import { groundTruthFromAflwMat, parseGroundTruthJson, readMat } from '../src/metrics/index.ts';
import type { GroundTruth, YawConvention } from '../src/metrics/index.ts';
import { VoxfaceError } from '../src/types.ts';

export interface DatasetSample {
  gt: GroundTruth;
  /** Path of the image file. */
  image: string;
}

export interface Dataset {
  dir: string;
  format: 'ground_truth.json' | 'AFLW2000-3D .mat';
  /** The yaw sign convention of the dataset's files. */
  convention: YawConvention;
  /** Samples sorted by name. */
  samples: DatasetSample[];
  /** Ground-truth entries without an image file (skipped). */
  missing: string[];
}


/**
 * Reads a dataset folder. Throws `VoxfaceError` when the folder is unreadable or holds neither layout.
 *
 * ```ts
 * const { samples, format } = await loadDataset('bench-data/synthetic');
 * ```
 */
export async function loadDataset(dir: string): Promise<Dataset> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (e) {
    throw new VoxfaceError('IO_ERROR', `cannot read dataset folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const images = new Map<string, string>();
  for (const f of files.sort()) {
    const ext = path.extname(f);
    if (isImageFile(f) && !images.has(path.basename(f, ext))) images.set(path.basename(f, ext), path.join(dir, f));
  }
  let gts: GroundTruth[];
  let format: Dataset['format'];
  let convention: YawConvention;
  if (files.includes('ground_truth.json')) {
    format = 'ground_truth.json';
    convention = files.includes('benchmark.json') && (await isVoxfaceBenchmark(path.join(dir, 'benchmark.json'))) ? 'voxface' : 'aflw';
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path.join(dir, 'ground_truth.json'), 'utf8'));
    } catch (e) {
      throw new VoxfaceError('BAD_ARGUMENT', `${path.join(dir, 'ground_truth.json')}: ${(e as Error).message}`);
    }
    gts = parseGroundTruthJson(json, convention);
  } else {
    const mats = files.filter((f) => f.endsWith('.mat')).sort();
    if (mats.length === 0) {
      throw new VoxfaceError('BAD_ARGUMENT', `${dir} holds neither a ground_truth.json nor AFLW2000-3D .mat files`);
    }
    format = 'AFLW2000-3D .mat';
    convention = 'aflw';
    gts = [];
    for (const f of mats) {
      const name = path.basename(f, '.mat');
      gts.push(groundTruthFromAflwMat(name, readMat(new Uint8Array(await readFile(path.join(dir, f))))));
    }
  }
  const samples: DatasetSample[] = [];
  const missing: string[] = [];
  for (const gt of gts) {
    const image = images.get(gt.name);
    if (image) samples.push({ gt, image });
    else missing.push(gt.name);
  }
  if (samples.length === 0) throw new VoxfaceError('BAD_ARGUMENT', `${dir}: no ground-truth entry has an image beside it`);
  return { dir, format, convention, samples, missing };
}

async function isVoxfaceBenchmark(file: string): Promise<boolean> {
  try {
    const meta = JSON.parse(await readFile(file, 'utf8')) as { generator?: unknown };
    return typeof meta.generator === 'string' && meta.generator.startsWith('voxface');
  } catch {
    return false;
  }
}
