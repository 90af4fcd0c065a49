/**
 * One reconstruction as the server runs it: decode → pipeline → export, on a loaded voxface. The server's worker
 * threads (./worker.ts) run it, and so does the server itself when it is given a voxface object instead of loading
 * the model (`startServer({ voxface })`, e.g. a custom pipeline in tests).
 *
 * ```ts
 * const out = await runJob(vox, { image: jpegBytes, options, base: 'face' });
 * out.files;                     // the export manifest (face, format, role, name, bytes)
 * out.json.faces[0].landmarks68; // the CLI's JSON
 * ```
 */
import { exportResult } from '../export/files.ts';
import type { ExportedFile } from '../export/files.ts';
import { toJSON } from '../export/json.ts';
import type { ResultJSON } from '../export/json.ts';
import type { Voxface } from '../node/index.ts';
import type { Options } from '../options.ts';

/** What one reconstruction needs: the photo's bytes, the resolved options, the files' base name. */
export interface Job {
  image: Uint8Array;
  options: Options;
  base: string;
}

/** What it gives: the CLI's JSON, the exported files, and the time of each part in ms. */
export interface JobOutput {
  json: ResultJSON;
  files: ExportedFile[];
  decodeMs: number;
  reconstructMs: number;
  exportMs: number;
}

/** Runs a reconstruction somewhere (a worker thread, or this thread); rejects with the pipeline's VoxfaceError. */
export type Runner = (job: Job) => Promise<JobOutput>;

/** Decodes, reconstructs and exports one photo on `voxface`, in the calling thread. */
export async function runJob(voxface: Voxface, job: Job): Promise<JobOutput> {
  const t0 = performance.now();
  const { result, decodeMs } = await voxface.reconstructBytes(job.image, job.options);
  const t1 = performance.now();
  const json = toJSON(result);
  const files = exportResult(result, job.base, job.options);
  return { json, files, decodeMs, reconstructMs: t1 - t0 - decodeMs, exportMs: performance.now() - t1 };
}
