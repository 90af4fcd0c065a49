/**
 * The one place that decides how mesh files store coordinates (used by every mesh exporter).
 *
 * Our meshes live in the **photo frame**: x right, y down, z toward the camera, in photo pixels.
 * Taken as a 3D space that frame is left-handed, so a viewer would show the face mirrored and
 * upside down. Mesh files therefore default to the **y-up frame** `(x, −y, z)`: right-handed,
 * y up, z toward the camera, units = photo pixels. Normals get their y negated too, and every
 * triangle's winding is reversed so it stays counter-clockwise seen from the camera (front faces
 * keep facing the viewer). **Negate y to get back to the JSON / photo frame.**
 * `frame: 'photo'` writes the exact photo-frame coordinates and the original winding instead.
 */
import type { Mesh } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { computeVertexNormals } from '../texture/normals.ts';

/** `'y-up'` (default): (x, −y, z), right-handed; `'photo'`: the photo frame as is. */
export type ExportFrame = 'y-up' | 'photo';

/** The note written into file headers/comments for the chosen frame. */
export function frameNote(frame: ExportFrame): string {
  return frame === 'photo'
    ? 'photo frame: x right, y down, z toward the camera, units photo pixels (left-handed)'
    : 'y-up frame: x right, y up, z toward the camera, units photo pixels; negate y to get the JSON/photo frame';
}

/** Positions, unit normals and triangles ready to write, in the export frame. */
export interface FramedMesh {
  positions: Float32Array;
  normals: Float32Array;
  indices: Uint32Array;
}

/**
 * Converts a photo-frame mesh to the export frame (normals computed when missing, re-normalised).
 *
 * @example
 * const { positions, normals, indices } = toExportFrame(mesh, 'y-up');
 */
export function toExportFrame(mesh: Mesh, frame: ExportFrame = 'y-up'): FramedMesh {
  validateMesh(mesh);
  if (frame !== 'y-up' && frame !== 'photo') throw new VoxfaceError('BAD_ARGUMENT', `unknown frame "${frame}"`);
  const flip = frame === 'y-up';
  const src = mesh.normals ?? computeVertexNormals(mesh.positions, mesh.indices);
  const positions = new Float32Array(mesh.positions);
  const normals = new Float32Array(src.length);
  for (let v = 0; v < normals.length; v += 3) {
    const len = Math.hypot(src[v], src[v + 1], src[v + 2]);
    if (len > 0 && Number.isFinite(len)) {
      normals[v] = src[v] / len;
      normals[v + 1] = src[v + 1] / len;
      normals[v + 2] = src[v + 2] / len;
    } else {
      normals[v + 2] = 1;
    }
  }
  const indices = new Uint32Array(mesh.indices);
  if (flip) {
    for (let v = 1; v < positions.length; v += 3) {
      positions[v] = -positions[v];
      normals[v] = -normals[v];
    }
    // A reflection reverses orientation: swap two corners to keep the right-hand normals outward.
    for (let t = 0; t < indices.length; t += 3) {
      const b = indices[t + 1];
      indices[t + 1] = indices[t + 2];
      indices[t + 2] = b;
    }
  }
  return { positions, normals, indices };
}

/**
 * Checks array lengths, index range and finite positions; throws `VoxfaceError('BAD_ARGUMENT')`.
 *
 * @example
 * validateMesh(mesh);
 */
export function validateMesh(mesh: Mesh): void {
  const n = mesh.positions.length / 3;
  if (!Number.isInteger(n) || n < 1) throw new VoxfaceError('BAD_ARGUMENT', 'mesh positions must hold xyz per vertex');
  if (mesh.indices.length % 3 !== 0 || mesh.indices.length === 0) {
    throw new VoxfaceError('BAD_ARGUMENT', 'mesh indices must hold three vertex indices per triangle');
  }
  for (let i = 0; i < mesh.indices.length; i++) {
    if (mesh.indices[i] >= n) throw new VoxfaceError('BAD_ARGUMENT', `mesh index ${mesh.indices[i]} is out of range (${n} vertices)`);
  }
  for (let i = 0; i < mesh.positions.length; i++) {
    if (!Number.isFinite(mesh.positions[i])) throw new VoxfaceError('BAD_ARGUMENT', 'mesh has a non-finite vertex position');
  }
  const perVertex: [string, Float32Array | undefined, number][] = [
    ['normals', mesh.normals, 3],
    ['uvs', mesh.uvs, 2],
    ['colors', mesh.colors, 3],
  ];
  for (const [name, array, k] of perVertex) {
    if (array && array.length !== n * k) throw new VoxfaceError('BAD_ARGUMENT', `mesh ${name} must hold ${k} values per vertex`);
  }
}

/** RGB in [0,1] → bytes (clamped, rounded). */
export function colourBytes(colors: Float32Array): Uint8Array {
  const out = new Uint8Array(colors.length);
  for (let i = 0; i < colors.length; i++) out[i] = Math.round(Math.min(Math.max(colors[i], 0), 1) * 255);
  return out;
}

/** The mesh's texture, when it has one (a `TexturedMesh`). */
export function textureOf(mesh: Mesh): { width: number; height: number; data: Uint8Array } | undefined {
  const t = (mesh as { texture?: { width: number; height: number; data: Uint8Array } }).texture;
  return t && mesh.uvs ? t : undefined;
}
