/**
 * The online demo as a static folder anyone can host: the page (web/), its bundles (built here, without source maps),
 * the models, onnxruntime-web's and TF.js' WebAssembly files, the detector models and the licences, in the same
 * layout `npm start` serves (the page finds everything relative to its own address, so the folder works under any
 * path prefix). Its index.html says `<meta name="voxface-api" content="off">`: the page runs on the device only.
 *
 * ```sh
 * npm run build:site -- site/            # then: python3 -m http.server -d site/ 8000
 * ```
 *
 * The folder is emptied first, but only when it is empty or an earlier build of this script (its index.html has
 * the voxface-api meta tag): any other folder is refused.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { webBuildOptions } from './build-web.ts';
import { DEFAULT_IDENTITY_ENCODER, DEFAULT_IDENTITY_SHAPE, DEFAULT_IDENTITY_MAP, DEFAULT_LANDMARKS, DEFAULT_MODEL, DEFAULT_PRIOR, DETECTOR_ONNX, staticMounts, WARMUP_PHOTO } from '../src/server/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webRoot = path.join(root, 'web');
/** The flag the page reads (web/src/main.ts): "on" in web/index.html, "off" in a static copy. */
const API_ON = '<meta name="voxface-api" content="on">';
const API_OFF = '<meta name="voxface-api" content="off">';

const sidecar = (onnx: string) => onnx.replace(/\.onnx$/i, '') + '.json';

/**
 * The model files under the names the page asks for (the server's /models/ routes): the network as
 * models/model.onnx + model.json whatever its file name, the prior, the landmark model, the identity map and
 * encoder, the detector's networks, the warm-up photo (a synthetic face) and ICT's licence.
 */
export function siteModels(): { name: string; from: string }[] {
  return [
    { name: 'models/model.onnx', from: DEFAULT_MODEL },
    { name: 'models/model.json', from: sidecar(DEFAULT_MODEL) },
    { name: 'models/ict-face.bin', from: DEFAULT_PRIOR },
    { name: 'models/ICT-LICENSE', from: path.join(path.dirname(DEFAULT_PRIOR), 'ICT-LICENSE') },
    { name: 'models/landmarks68.onnx', from: DEFAULT_LANDMARKS },
    { name: 'models/landmarks68.json', from: sidecar(DEFAULT_LANDMARKS) },
    { name: 'models/identity-map.json', from: DEFAULT_IDENTITY_MAP },
    { name: 'models/identity-encoder.onnx', from: DEFAULT_IDENTITY_ENCODER },
    { name: 'models/identity-shape.onnx', from: DEFAULT_IDENTITY_SHAPE },
    ...DETECTOR_ONNX.map((from) => ({ name: `models/${path.basename(from)}`, from })),
    { name: 'models/warmup.jpg', from: WARMUP_PHOTO },
  ];
}

/** Whether a folder may be emptied for the site: missing, empty, or an earlier site. */
async function replaceable(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return true;
  if (!(await stat(dir)).isDirectory()) return false;
  if ((await readdir(dir)).length === 0) return true;
  const index = path.join(dir, 'index.html');
  return existsSync(index) && (await readFile(index, 'utf8')).includes(API_OFF);
}

/** Every file under a folder, with its size (paths relative to it, '/'-separated). */
async function listFiles(dir: string, rel = ''): Promise<{ file: string; bytes: number }[]> {
  const out: { file: string; bytes: number }[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else out.push({ file: r, bytes: (await stat(path.join(dir, r))).size });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

async function copy(from: string, dir: string, name: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
  await copyFile(from, path.join(dir, name));
}

/** Writes the static site into `dir`; returns its files and their sizes. */
export async function buildSite(dir: string): Promise<{ file: string; bytes: number }[]> {
  const out = path.resolve(dir);
  if (path.relative(out, root) === '' || !path.relative(out, root).startsWith('..')) throw new Error(`${dir} holds the repository; name a folder for the site`);
  if (!(await replaceable(out))) throw new Error(`${dir} exists and is not an earlier build of the site (no ${API_OFF} in its index.html): name an empty or new folder`);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  await esbuild.build(webBuildOptions({ outdir: path.join(out, 'dist'), sourcemap: false }));
  const [page, bundles, , ...vendor] = staticMounts(webRoot, DEFAULT_MODEL);
  if (page.prefix !== '/' || bundles.prefix !== '/dist/' || vendor.some((m) => !m.prefix.startsWith('/vendor/') || !m.allow)) {
    throw new Error('the server\'s mounts changed (src/server/index.ts staticMounts): update scripts/build-site.ts');
  }
  // the page's own files: web/*.html, .css, .svg … (what the server's '/' mount serves)
  for (const e of await readdir(webRoot, { withFileTypes: true })) {
    if (!e.isFile() || !page.exts?.includes(path.extname(e.name).toLowerCase())) continue;
    if (e.name === 'index.html') {
      const html = await readFile(path.join(webRoot, e.name), 'utf8');
      if (html.split(API_ON).length !== 2) throw new Error(`web/index.html must hold ${API_ON} once`);
      await writeFile(path.join(out, e.name), html.replace(API_ON, API_OFF));
    } else await copy(path.join(webRoot, e.name), out, e.name);
  }
  // onnxruntime-web's and TF.js' WebAssembly files, the detector models (the server's /vendor/ mounts)
  for (const m of vendor) for (const f of m.allow!) await copy(path.join(m.dir, f), out, `${m.prefix.slice(1)}${f}`);
  const humanModels = vendor.find((m) => m.prefix === '/vendor/human-models/');
  if (humanModels) await copy(path.join(humanModels.dir, '..', 'LICENSE'), out, 'vendor/human-models/LICENSE');
  for (const { name, from } of siteModels()) await copy(from, out, name);
  return listFiles(out);
}

const MiB = (n: number) => (n < 1048576 ? `${Math.ceil(n / 1024)} kB` : `${(n / 1048576).toFixed(1)} MiB`);

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir || dir.startsWith('-')) {
    console.error('usage: npm run build:site -- <folder>      (e.g. site/)');
    process.exit(2);
  }
  const t0 = performance.now();
  try {
    const files = await buildSite(dir);
    const total = files.reduce((s, f) => s + f.bytes, 0);
    const parts = new Map<string, number>();
    for (const f of files) {
      const top = f.file.includes('/') ? f.file.split('/').slice(0, f.file.startsWith('vendor/') ? 2 : 1).join('/') : 'page';
      parts.set(top, (parts.get(top) ?? 0) + f.bytes);
    }
    for (const [part, bytes] of parts) console.log(`  ${part.padEnd(24)} ${MiB(bytes).padStart(10)}`);
    console.log(`${dir}: ${files.length} files, ${MiB(total)} (built in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    console.log(`try it: python3 -m http.server -d ${dir} 8000   (then http://localhost:8000/)`);
  } catch (e) {
    console.error(`build:site: ${(e as Error).message}`);
    process.exit(1);
  }
}
