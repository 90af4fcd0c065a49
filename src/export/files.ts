/**
 * All output files of one reconstructed photo, in memory, as a manifest: which face, which format, what role
 * and what name each file has. The CLI writes them to disk, the server sends them, the web page offers them.
 *
 * ```ts
 * const files = exportResult(result, 'selfie', { formats: ['glb', 'obj', 'json'] });
 * // [{ face: null, format: 'json', role: 'result', name: 'selfie.json', bytes },
 * //  { face: 0, format: 'glb', role: 'model', name: 'selfie.glb', bytes },
 * //  { face: 0, format: 'obj', role: 'mesh', name: 'selfie.obj', bytes }, … 'selfie.mtl', 'selfie.png']
 * for (const f of files) writeFileSync(path.join('out', f.name), f.bytes);
 * ```
 * Names come from `fileName()` (names.ts): `<base>.json` once per photo; the largest face's files are
 * `<base>.<ext>`, face i ≥ 1 is `<base>.face<i>.<ext>`. Every reference between files (OBJ → MTL → PNG,
 * PLY → PNG, volume sidecar → NPY) is that same name. Per face the texture PNG is encoded once and the pose
 * fit (metres per pixel) runs once, whatever the formats.
 */
import { estimatePose } from '../landmarks/pose.ts';
import { closedSolid, transformMesh } from '../mesh/index.ts';
import { priorSolid } from '../prior/solid.ts';
import { volumeFromMesh } from '../volume/from-mesh.ts';
import { optionRows, resolveOptions } from '../options.ts';
import type { ExportSettings } from '../options.ts';
import { VoxfaceError } from '../types.ts';
import type { FaceResult, ReconstructionResult, Volume } from '../types.ts';
import * as depth from './depth.ts';
import { textureOf } from './frame.ts';
import * as glb from './glb.ts';
import * as json from './json.ts';
import { FILE_KINDS, fileName, safeBase } from './names.ts';
import type { FileKind, FileRole } from './names.ts';
import * as nrrd from './nrrd.ts';
import * as npy from './npy.ts';
import * as obj from './obj.ts';
import * as ply from './ply.ts';
import * as stl from './stl.ts';
import { texturePNG } from './texture.ts';
import { FORMATS } from './formats.ts';
import type { Format } from './formats.ts';

export { FORMATS };
export type { Format };
export { baseName, fileName, FILE_KINDS } from './names.ts';
export type { FileKind, FileRole } from './names.ts';

/** One output file. */
export interface ExportedFile {
  /** The face (index in `result.faces`, largest first), or null for a file of the whole photo (the JSON). */
  face: number | null;
  format: Format;
  /** What the file is within its format: 'mesh', 'material', 'texture', 'volume', 'volume-info', … */
  role: FileRole;
  /** Its file name (from `fileName()`); the names other files reference. */
  name: string;
  bytes: Uint8Array;
}

/**
 * Export options: the export rows of the options table (src/options.ts) — `formats` (default glb, json), `frame`
 * (default 'y-up'), `solidSTL` (default false). Other rows of the table are accepted and not read here.
 */
export type ExportOptions = { [K in keyof ExportSettings]?: ExportSettings[K] | undefined };

/** The export settings from any options object (its export rows; defaults filled in, values checked). */
function exportSettings(options: object): ExportSettings {
  const o = options as Record<string, unknown>;
  return resolveOptions(Object.fromEntries(optionRows().filter(([, s]) => s.group === 'export').map(([k]) => [k, o[k]])));
}

/**
 * Parses a comma list like "glb,obj" or "all" (throws BAD_ARGUMENT naming the unknown format).
 *
 * ```ts
 * parseFormats('glb,obj'); // ['glb', 'obj']
 * ```
 */
export function parseFormats(list: string): Format[] {
  const items = list.split(',').map((f) => f.trim().toLowerCase()).filter(Boolean);
  return resolveOptions({ formats: (items.includes('all') ? [...FORMATS] : items) as Format[] }).formats;
}

/** Metres per photo pixel, from the size of the mean face fitted to the landmarks (the pose fit's scale). */
export function metresPerPixel(face: FaceResult): number {
  const { scale } = estimatePose(face.landmarks68); // photo px per cm
  return scale > 0 && Number.isFinite(scale) ? 0.01 / scale : 0.001;
}

/**
 * Every requested file of a photo's result: the JSON of the whole photo, then each face's files, in the order of
 * FORMATS. `base` is the photo's base name (made safe by `fileName`: "My Photo" → "My_Photo").
 *
 * ```ts
 * const files = exportResult(result, 'selfie');            // selfie.json + selfie.glb (+ selfie.face1.glb …)
 * ```
 */
export function exportResult(result: ReconstructionResult, base: string, options: ExportOptions = {}): ExportedFile[] {
  const settings = exportSettings(options);
  const files: ExportedFile[] = [];
  if (settings.formats.includes('json')) files.push(entry(base, null, 'json', json.parse(result)));
  result.faces.forEach((face, i) => files.push(...exportFace(face, result.image, base, { ...settings, index: i })));
  return files;
}

function entry(base: string, face: number | null, kind: FileKind, bytes: Uint8Array, format?: Format): ExportedFile {
  const k = FILE_KINDS[kind];
  return { face, format: format ?? k.format, role: k.role, name: fileName(base, face, kind), bytes };
}

/**
 * The mesh, volume and depth files of one face (no JSON: that one covers the whole photo). `index` is the
 * face's place in the result (default 0, the largest), which picks its names.
 *
 * ```ts
 * const files = exportFace(result.faces[1], result.image, 'group', { formats: ['obj'], index: 1 }); // group.face1.obj, .mtl, .png
 * ```
 */
export function exportFace(
  face: FaceResult,
  image: { width: number; height: number },
  base: string,
  options: ExportOptions & { index?: number } = {},
): ExportedFile[] {
  const { formats, frame, solidSTL } = exportSettings(options);
  const index = options.index ?? 0;
  if (!(Number.isInteger(index) && index >= 0)) throw new VoxfaceError('BAD_ARGUMENT', `face index must be an integer ≥ 0, got ${index}`);
  const name = (kind: FileKind) => fileName(base, index, kind);
  const add = (kind: FileKind, bytes: Uint8Array, format?: Format) => files.push(entry(base, index, kind, bytes, format));
  const files: ExportedFile[] = [];
  // Per face: one PNG encode of the texture (GLB embeds it, OBJ and PLY reference it) and one pose fit.
  let png: Uint8Array | undefined;
  const encoded = () => (png ??= texturePNG(face.mesh));
  let mpp: number | undefined;
  const scale = () => (mpp ??= metresPerPixel(face));
  const textured = textureOf(face.mesh) !== undefined;
  // the volume network's volume, for the formats made from it: absent where the network did not run
  const volumeFor = (what: string): Volume => {
    if (face.volume) return face.volume;
    throw new VoxfaceError(
      'BAD_ARGUMENT',
      `face ${index} has no volume for ${what}: the volume network did not run (reconstruct with the format among its formats, or with volume on)`,
    );
  };
  // where the mesh is the fitted prior, the volume formats also carry its surface voxelised in the network's grid
  let pv: ReturnType<typeof volumeFromMesh> | undefined;
  const priorVolume = () => (pv ??= volumeFromMesh(face.mesh, face.crop, volumeFor('the prior\'s volume')));
  const fromPrior = face.shape === 'prior' && face.prior !== undefined;
  const inner = safeBase(base); // object / material names inside the files
  let textureFor: Format | undefined; // the first format that needs the PNG beside it
  for (const f of formats) {
    switch (f) {
      case 'glb':
        add('glb', glb.parse(face.mesh, { frame, metresPerPixel: scale(), name: inner, texturePNG: encoded() }));
        break;
      case 'obj':
        add('obj', obj.parse(face.mesh, { frame, name: inner, materialFile: name('mtl') }));
        add('mtl', obj.parseMaterial({ name: inner, textureFile: textured ? name('texture') : undefined }));
        if (textured) textureFor ??= 'obj';
        break;
      case 'ply':
        add('ply', ply.parse(face.mesh, { frame, textureFile: textured ? name('texture') : undefined }));
        if (textured) textureFor ??= 'ply';
        break;
      case 'stl': {
        const mesh = !solidSTL
          ? face.mesh
          : face.shape === 'prior' && face.prior
            ? priorSolid(face.mesh, face.prior)
            : transformMesh(closedSolid(volumeFor('a solid STL of the network shape')), face.crop);
        add('stl', stl.parse(mesh, { frame }));
        break;
      }
      case 'volume': {
        const volume = volumeFor('the volume format');
        add('npy', npy.parse(volume));
        if (fromPrior) add('prior-npy', npy.parse(priorVolume()));
        add('npy-info', npy.parseSidecar(volume, { crop: face.crop, file: name('npy'), priorFile: fromPrior ? name('prior-npy') : undefined }));
        break;
      }
      case 'nrrd':
        add('nrrd', nrrd.parse(volumeFor('the nrrd format'), { crop: face.crop, metresPerPixel: scale() }));
        if (fromPrior) add('prior-nrrd', nrrd.parse(priorVolume(), { crop: face.crop, metresPerPixel: scale() }));
        break;
      case 'depth': {
        const d = depth.depthFromMesh(face.mesh, image.width, image.height);
        add('depth', depth.parse(d, image.width, image.height));
        break;
      }
      case 'json':
        break;
    }
  }
  if (textureFor) {
    // beside the first file that references it
    const at = files.findIndex((x) => x.format === textureFor) + (textureFor === 'obj' ? 2 : 1);
    files.splice(at, 0, entry(base, index, 'texture', encoded()!, textureFor));
  }
  return files;
}
