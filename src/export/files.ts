/**
 * All output files of one reconstructed photo, in memory: the CLI writes them to disk, the server sends them,
 * the web page offers them as downloads.
 *
 * ```ts
 * const files = exportResult(result, ['glb', 'json'], 'selfie'); // { 'selfie.glb': Uint8Array, 'selfie.json': ... }
 * ```
 * Naming: `<base>.json` once per photo; the largest face's files are `<base>.<ext>`, face i ≥ 1 is
 * `<base>.face<i>.<ext>`.
 */
import { estimatePose } from '../landmarks/pose.ts';
import { closedSolid, transformMesh } from '../mesh/index.ts';
import { VoxfaceError } from '../types.ts';
import type { FaceResult, ReconstructionResult } from '../types.ts';
import type { ExportFrame } from './frame.ts';
import * as depth from './depth.ts';
import * as glb from './glb.ts';
import * as json from './json.ts';
import * as nrrd from './nrrd.ts';
import * as npy from './npy.ts';
import * as obj from './obj.ts';
import * as ply from './ply.ts';
import * as stl from './stl.ts';
import { texturePNG } from './texture.ts';

export { FORMATS } from './formats.ts';
export type { Format } from './formats.ts';
import { FORMATS } from './formats.ts';
import type { Format } from './formats.ts';

export interface ExportOptions {
  /** Vertex frame of mesh files (default 'y-up': x right, y up, z toward the camera; 'photo' = the JSON frame). */
  frame?: ExportFrame;
  /** STL as a closed, printable solid (face, walls and a flat back) instead of the open face surface. */
  solidSTL?: boolean;
}

/** Parses a comma list like "glb,obj" (throws BAD_ARGUMENT naming the unknown format). */
export function parseFormats(list: string): Format[] {
  const out: Format[] = [];
  for (const raw of list.split(',')) {
    const f = raw.trim().toLowerCase();
    if (!f) continue;
    if (f === 'all') return [...FORMATS];
    if (!(FORMATS as readonly string[]).includes(f)) {
      throw new VoxfaceError('BAD_ARGUMENT', `unknown format "${f}" (known: ${FORMATS.join(', ')}, all)`);
    }
    if (!out.includes(f as Format)) out.push(f as Format);
  }
  if (out.length === 0) throw new VoxfaceError('BAD_ARGUMENT', 'no output format given');
  return out;
}

/** Metres per photo pixel, from the size of the mean face fitted to the landmarks (the pose fit's scale). */
export function metresPerPixel(face: FaceResult): number {
  const { scale } = estimatePose(face.landmarks68); // photo px per cm
  return scale > 0 && Number.isFinite(scale) ? 0.01 / scale : 0.001;
}

/** Every requested file for a photo's result. */
export function exportResult(
  result: ReconstructionResult,
  formats: readonly Format[],
  base: string,
  options: ExportOptions = {},
): Record<string, Uint8Array> {
  if (!/^[^/\\]+$/.test(base)) throw new VoxfaceError('BAD_ARGUMENT', `output base name must be a plain file name, got "${base}"`);
  const files: Record<string, Uint8Array> = {};
  if (formats.includes('json')) files[`${base}.json`] = json.parse(result);
  result.faces.forEach((face, i) => {
    const name = i === 0 ? base : `${base}.face${i}`;
    Object.assign(files, exportFace(face, result.image, formats, name, options));
  });
  return files;
}

/** The mesh, volume and depth files of one face (no JSON: that one covers the whole photo). */
export function exportFace(
  face: FaceResult,
  image: { width: number; height: number },
  formats: readonly Format[],
  name: string,
  options: ExportOptions = {},
): Record<string, Uint8Array> {
  const frame = options.frame ?? 'y-up';
  const files: Record<string, Uint8Array> = {};
  const safe = name.replace(/[^\w.-]/g, '_');
  // One PNG encode of the texture for GLB and OBJ, and one metres-per-pixel fit.
  let png: Uint8Array | undefined;
  const encoded = () => (png ??= texturePNG(face.mesh));
  let mpp: number | undefined;
  const scale = () => (mpp ??= metresPerPixel(face));
  for (const f of formats) {
    switch (f) {
      case 'glb':
        files[`${name}.glb`] = glb.parse(face.mesh, { frame, metresPerPixel: scale(), name: safe, texturePNG: encoded() });
        break;
      case 'obj':
        for (const [file, bytes] of Object.entries(obj.parse(face.mesh, { frame, name: safe, texturePNG: encoded() }))) {
          files[file.replace(safe, name)] = bytes;
        }
        break;
      case 'ply':
        files[`${name}.ply`] = ply.parse(face.mesh, { frame });
        break;
      case 'stl': {
        const mesh = options.solidSTL ? transformMesh(closedSolid(face.volume), face.crop) : face.mesh;
        files[`${name}.stl`] = stl.parse(mesh, { frame });
        break;
      }
      case 'volume':
        for (const [file, bytes] of Object.entries(npy.parse(face.volume, { crop: face.crop, name: `${safe}.volume` }))) {
          files[file.replace(`${safe}.volume`, `${name}.volume`)] = bytes;
        }
        break;
      case 'nrrd':
        files[`${name}.nrrd`] = nrrd.parse(face.volume, { crop: face.crop, metresPerPixel: scale() });
        break;
      case 'depth': {
        const d = depth.depthFromMesh(face.mesh, image.width, image.height);
        files[`${name}.depth.png`] = depth.parse(d, image.width, image.height);
        break;
      }
      case 'json':
        break;
    }
  }
  return files;
}
