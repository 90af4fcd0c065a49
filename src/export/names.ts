/**
 * Output file names, in one place: every exporter is given the names it references (OBJ → MTL → PNG, PLY → PNG,
 * volume sidecar → NPY) from here, and every front-end writes, serves or offers the files under them.
 *
 * ```ts
 * const base = baseName('photos/My Photo.jpg'); // 'My_Photo'
 * fileName(base, 0, 'mtl');                     // 'My_Photo.mtl'
 * fileName(base, 2, 'glb');                     // 'My_Photo.face2.glb'
 * fileName(base, null, 'json');                 // 'My_Photo.json' (the whole photo)
 * ```
 * Face 0 (the largest) has the plain base, face i ≥ 1 `<base>.face<i>`; the JSON covers the photo.
 */
import type { Format } from './formats.ts';

/** What a file is within its format. */
export type FileRole = 'result' | 'model' | 'mesh' | 'material' | 'texture' | 'volume' | 'volume-info' | 'prior-volume' | 'depth';

/** Every kind of output file: its format, role and ending. */
export const FILE_KINDS = {
  json: { format: 'json', role: 'result', ext: '.json' },
  glb: { format: 'glb', role: 'model', ext: '.glb' },
  obj: { format: 'obj', role: 'mesh', ext: '.obj' },
  mtl: { format: 'obj', role: 'material', ext: '.mtl' },
  /** The texture image beside OBJ and PLY (one file for both; its format is the first of them requested). */
  texture: { format: 'obj', role: 'texture', ext: '.png' },
  ply: { format: 'ply', role: 'mesh', ext: '.ply' },
  stl: { format: 'stl', role: 'mesh', ext: '.stl' },
  npy: { format: 'volume', role: 'volume', ext: '.volume.npy' },
  'npy-info': { format: 'volume', role: 'volume-info', ext: '.volume.json' },
  /** The fitted prior's surface voxelised in the network volume's grid (faces whose mesh is the prior). */
  'prior-npy': { format: 'volume', role: 'prior-volume', ext: '.prior.volume.npy' },
  nrrd: { format: 'nrrd', role: 'volume', ext: '.nrrd' },
  'prior-nrrd': { format: 'nrrd', role: 'prior-volume', ext: '.prior.nrrd' },
  depth: { format: 'depth', role: 'depth', ext: '.depth.png' },
} as const satisfies Record<string, { format: Format; role: FileRole; ext: string }>;
export type FileKind = keyof typeof FILE_KINDS;

/**
 * A base name every tool can reference and every file system can hold: letters (any script), digits, `_ . -`;
 * anything else (spaces, slashes, quotes…) becomes `_`; no leading or trailing dots or `_`; at most 64
 * characters; 'face' when nothing is left.
 */
export function safeBase(name: string): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}\p{M}_.-]+/gu, '_')
    .replace(/^[._]+|[._]+$/g, '');
  return Array.from(cleaned).slice(0, 64).join('').replace(/[._]+$/, '') || 'face';
}

/** The base name of a photo's output files: its file name without folder and extension, made safe (`safeBase`). */
export function baseName(photo: string | undefined): string {
  return safeBase((photo ?? '').replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, ''));
}

/** The name of one output file: face `null` = the whole photo, 0 = the largest face, i = `<base>.face<i>`. */
export function fileName(base: string, face: number | null, kind: FileKind): string {
  const b = safeBase(base);
  return `${face ? `${b}.face${face}` : b}${FILE_KINDS[kind].ext}`;
}
