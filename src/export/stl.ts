/**
 * Binary STL exporter: an 80-byte header (never starting with "solid", which readers take for
 * ASCII STL), the triangle count, then per triangle its unit face normal, three corners and a zero
 * attribute word. Vertices are in the export frame (frame.ts; default y-up, photo pixels). STL has
 * no colours or texture; pass a closed mesh when the file is meant for 3D printing.
 *
 * @example
 * const bytes = parse(solid); // write to face.stl
 */
import type { Mesh } from '../types.ts';
import { frameNote, toExportFrame, type ExportFrame } from './frame.ts';

export interface STLOptions {
  frame?: ExportFrame;
}

/**
 * Encodes a mesh as binary STL.
 *
 * @example
 * const stl = parse(mesh, { frame: 'y-up' });
 */
export function parse(mesh: Mesh, options: STLOptions = {}): Uint8Array {
  const frame = options.frame ?? 'y-up';
  const { positions: p, indices } = toExportFrame({ positions: mesh.positions, indices: mesh.indices, normals: mesh.normals }, frame);
  const nf = indices.length / 3;
  const out = new Uint8Array(84 + 50 * nf);
  const note = `voxface binary STL; ${frameNote(frame)}`.slice(0, 80);
  for (let i = 0; i < note.length; i++) out[i] = note.charCodeAt(i) & 0x7f;
  const view = new DataView(out.buffer);
  view.setUint32(80, nf, true);
  let o = 84;
  for (let t = 0; t < nf; t++) {
    const a = 3 * indices[3 * t];
    const b = 3 * indices[3 * t + 1];
    const c = 3 * indices[3 * t + 2];
    const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
    const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
    let nx = uy * vz - uz * vy;
    let ny = uz * vx - ux * vz;
    let nz = ux * vy - uy * vx;
    const len = Math.hypot(nx, ny, nz);
    if (len > 0) {
      nx /= len;
      ny /= len;
      nz /= len;
    }
    for (const x of [nx, ny, nz]) {
      view.setFloat32(o, x, true);
      o += 4;
    }
    for (const v of [a, b, c]) {
      for (let k = 0; k < 3; k++, o += 4) view.setFloat32(o, p[v + k], true);
    }
    o += 2; // attribute byte count = 0
  }
  return out;
}
