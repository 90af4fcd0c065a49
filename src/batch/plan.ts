/**
 * Batch planning: the inputs of a batch (files, folders, http(s) URLs) as a list of photos, each with the output
 * name it gets and an id that is the same every time the same input is run with the same options.
 *
 * ```ts
 * const { items, problems } = await planInputs(['photos/', 'https://example.com/a.jpg']);
 * // items: [{ input: 'photos/sub/x.jpg', source: '/abs/photos/sub/x.jpg', name: 'sub/x' }, ...,
 * //         { input: 'https://example.com/a.jpg', source: 'https://example.com/a.jpg', name: 'a' }]
 * const hash = optionsHash(settings, digest);       // what the outputs depend on
 * const id = itemId(items[0].source, hash);          // journal key and BullMQ job id
 * ```
 * Output names: a file given by itself is named by its base name (`a/b.jpg` → `b`), a photo found in a folder by
 * its path inside that folder (`photos/` + `sub/x.jpg` → `sub/x`, written as `out/sub/x.glb`), a URL by the last
 * segment of its path; each part made safe as every output name is (export/names.ts: `My Photo` → `My_Photo`). A
 * name already taken by an earlier input (ignoring case) is a NAME_TAKEN problem for the later one: no output is
 * ever overwritten by another photo's.
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isImageFile } from '../decode/extensions.ts';
import { DEFAULT_LIMITS, sniffImage } from '../decode/sniff.ts';
import type { DecodeLimits } from '../decode/sniff.ts';
import { VoxfaceError } from '../types.ts';
import { baseName, safeBase } from '../export/names.ts';
import { isOptionKey, optionRows, resolveOptions } from '../options.ts';
import type { ExportSettings, OptionsInput, ReconstructSettings } from '../options.ts';

export interface PlannedInput {
  /** As given on the command line or found in a folder (shown in messages and the journal). */
  input: string;
  /** Absolute path, or the http(s) URL. */
  source: string;
  /** Output base relative to the output folder, '/'-separated. */
  name: string;
}

export interface PlanProblem {
  input: string;
  source: string;
  name: string;
  code: 'NOT_FOUND' | 'NAME_TAKEN';
  message: string;
}

/**
 * What the output files of a photo depend on besides the photo and the model: the options table's reconstruction
 * and export rows, resolved (every default filled in, so the options hash sees the values actually used).
 */
export type JobSettings = ReconstructSettings & ExportSettings;

/**
 * The job settings of some options: validated, defaults filled in, load rows (model, threads) left out — the model
 * counts by its digest, and threads do not change the outputs.
 *
 * ```ts
 * jobSettings({ flip: false }).formats;   // ['glb', 'json']
 * ```
 */
export function jobSettings(options: OptionsInput = {}): JobSettings {
  const all = resolveOptions(Object.fromEntries(Object.entries(options).filter(([k]) => isOptionKey(k))) as OptionsInput);
  const keep = optionRows()
    .filter(([, spec]) => spec.group === 'reconstruct' || spec.group === 'export')
    .map(([k]) => k);
  return Object.fromEntries(keep.map((k) => [k, all[k]])) as JobSettings;
}

export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** Output name of a URL: the last segment of its path without the extension, as `baseName` makes it safe. */
export function urlName(url: string): string {
  let last = '';
  try {
    const segs = new URL(url).pathname.split('/').filter(Boolean);
    last = decodeURIComponent(segs[segs.length - 1] ?? '');
  } catch {
    last = '';
  }
  return baseName(last);
}

/**
 * Expands files, folders (searched recursively for image files: src/decode/extensions.ts) and URLs into the photos of a batch. Photos inside
 * `exclude` (the output folder: its texture PNGs are not inputs) are left out of folder searches.
 */
export async function planInputs(
  inputs: readonly string[],
  options: { exclude?: string } = {},
): Promise<{ items: PlannedInput[]; problems: PlanProblem[]; notes: string[] }> {
  const exclude = options.exclude ? path.resolve(options.exclude) + path.sep : undefined;
  const items: PlannedInput[] = [];
  const problems: PlanProblem[] = [];
  const notes: string[] = [];
  const taken = new Map<string, string>();
  const add = (input: string, source: string, name: string) => {
    const key = name.toLowerCase();
    const other = taken.get(key);
    if (other !== undefined) {
      problems.push({ input, source, name, code: 'NAME_TAKEN', message: `output name "${name}" is already taken by ${other}` });
      return;
    }
    taken.set(key, input);
    items.push({ input, source, name });
  };
  for (const input of inputs) {
    if (isUrl(input)) {
      add(input, input, urlName(input));
      continue;
    }
    const source = path.resolve(input);
    let s;
    try {
      s = await stat(source);
    } catch {
      problems.push({ input, source, name: baseName(input), code: 'NOT_FOUND', message: 'no such file or folder' });
      continue;
    }
    if (s.isDirectory()) {
      const found = (await readdir(source, { recursive: true }))
        .filter((f) => isImageFile(f) && !(exclude && path.join(source, f).startsWith(exclude)))
        .sort();
      if (found.length === 0) notes.push(`${input}: no images in this folder`);
      for (const rel of found) {
        const segs = rel.split(path.sep);
        const name = [...segs.slice(0, -1).map(safeBase), baseName(segs[segs.length - 1])].join('/');
        add(path.join(input, rel), path.join(source, rel), name);
      }
    } else {
      add(input, source, baseName(input));
    }
  }
  return { items, problems, notes };
}

/** Bytes of a file's head that `checkImageFile` reads: room for the EXIF and ICC segments before a JPEG's size. */
const HEAD_BYTES = 256 * 1024;

/**
 * What can be told of an image file without decoding it, cheaply (its size on the disk and the first 256 KiB):
 * that it exists and can be read, is an image (not text, not empty), is within the size limits (a pixel bomb's
 * header says so). Undefined when nothing is wrong so far (the decoder still checks the rest: a truncated body,
 * corrupt pixels). The messages are the decoder's own.
 *
 * ```ts
 * await checkImageFile('bomb.png');   // { code: 'IMAGE_TOO_LARGE', message: 'the image is 30000×30000 = 900.0 megapixels, …' }
 * ```
 */
export async function checkImageFile(file: string, limits: DecodeLimits = {}): Promise<{ code: string; message: string } | undefined> {
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return code === 'ENOENT' ? { code: 'NOT_FOUND', message: 'no such file or folder' } : { code: 'READ_FAILED', message: `cannot read the file: ${code}` };
  }
  try {
    const { size } = await fh.stat();
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    if (size > maxBytes) return { code: 'IMAGE_TOO_LARGE', message: `the file has ${mb(size)}, more than the limit of ${mb(maxBytes)}` };
    const head = new Uint8Array(Math.min(size, HEAD_BYTES));
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    try {
      sniffImage(head.subarray(0, bytesRead), limits);
    } catch (e) {
      if (!(e instanceof VoxfaceError)) throw e;
      // only a head was read: its "end" is no sign of a truncated file
      if (e.code === 'TRUNCATED_IMAGE' && bytesRead < size) return undefined;
      return { code: e.code, message: e.message.split('\n')[0] };
    }
    return undefined;
  } catch (e) {
    return { code: 'READ_FAILED', message: `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** JSON with sorted keys and no undefined values: the same settings always give the same text. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined && typeof x !== 'function')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

let cachedVersion: string | undefined;
/** This package's version (outputs may change between versions, so it is part of the options hash). */
export async function packageVersion(): Promise<string> {
  if (cachedVersion) return cachedVersion;
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  cachedVersion = (JSON.parse(await readFile(pkg, 'utf8')) as { version: string }).version;
  return cachedVersion;
}

/** The package's shape prior (models/ict-face.bin), which `loadVoxface` reads whatever the model. */
export function packagePrior(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'ict-face.bin');
}

/** The landmark model beside the package's prior (models/landmarks68.onnx), which `loadVoxface` reads by default. */
export function packageLandmarkModel(): string {
  return path.join(path.dirname(packagePrior()), 'landmarks68.onnx');
}

/**
 * Digest of what the pipeline loads (16 hex digits): the ONNX model, its sidecar JSON, the shape prior and the
 * landmark model with its sidecar — the files every output depends on besides the photo and the options.
 */
export async function modelDigest(onnxPath: string, prior: string = packagePrior(), landmarks: string = packageLandmarkModel()): Promise<string> {
  const h = createHash('sha256');
  h.update(await readFile(onnxPath));
  h.update(await readFile(onnxPath.replace(/\.onnx$/i, '') + '.json'));
  // a missing prior or landmark model: the pipeline says so itself
  for (const f of [prior, landmarks, landmarks.replace(/\.onnx$/i, '') + '.json']) h.update(await readFile(f).catch(() => new Uint8Array(0)));
  return h.digest('hex').slice(0, 16);
}

/** Digest of everything the output files depend on besides the photo: settings, model, version (16 hex digits). */
export function optionsHash(settings: JobSettings, model: string, version: string): string {
  return createHash('sha256')
    .update(canonical({ settings, model, version }))
    .digest('hex')
    .slice(0, 16);
}

/** An input's id (32 hex digits) from its source (absolute path or URL) and the options hash. */
export function itemId(source: string, hash: string): string {
  return createHash('sha256').update(`${source}\n${hash}`).digest('hex').slice(0, 32);
}
