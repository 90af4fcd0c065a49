/**
 * Wavefront OBJ exporter: returns the OBJ, its MTL and (when textured) the texture PNG as named files.
 *
 * `v x y z [r g b]` (vertex colours in [0,1], an extension read by Blender, MeshLab and assimp),
 * `vt u v` with v = 0 at the *bottom* of the image (OBJ convention, so 1 − our v), `vn`, and
 * `f v/vt/vn` (one index per vertex for all three, 1-based). Vertices are in the export frame
 * (frame.ts; default y-up, photo pixels).
 *
 * @example
 * const files = parse(textured, { name: 'face' }); // { 'face.obj', 'face.mtl', 'face.png' } → write each
 */
import type { Mesh } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { frameNote, textureOf, toExportFrame, type ExportFrame } from './frame.ts';
import { texturePNG } from './texture.ts';

export interface OBJOptions {
  frame?: ExportFrame;
  /** Base name of the three files (default 'face'): name.obj, name.mtl, name.png. */
  name?: string;
  /** Append r g b to each `v` line when the mesh has colours (default true). */
  vertexColors?: boolean;
  /** The texture already encoded as PNG (`texturePNG(mesh)`), so exporters can share one encode. */
  texturePNG?: Uint8Array;
}

/**
 * Encodes a mesh as OBJ + MTL (+ PNG texture): file name → bytes.
 *
 * @example
 * for (const [file, bytes] of Object.entries(parse(mesh))) writeFileSync(file, bytes);
 */
export function parse(mesh: Mesh, options: OBJOptions = {}): Record<string, Uint8Array> {
  const name = options.name ?? 'face';
  if (!/^[\w.-]+$/.test(name)) throw new VoxfaceError('BAD_ARGUMENT', `OBJ base name must be a plain file name, got "${name}"`);
  const frame = options.frame ?? 'y-up';
  const { positions: p, normals: n, indices } = toExportFrame(mesh, frame);
  const texture = textureOf(mesh);
  const uvs = texture ? mesh.uvs : undefined;
  const colours = (options.vertexColors ?? true) ? mesh.colors : undefined;
  const lines: string[] = [`# voxface OBJ, ${frameNote(frame)}`, `mtllib ${name}.mtl`, `o ${name}`];
  const nv = p.length / 3;
  for (let v = 0; v < nv; v++) {
    let line = `v ${fmt(p[3 * v], 1e4)} ${fmt(p[3 * v + 1], 1e4)} ${fmt(p[3 * v + 2], 1e4)}`;
    if (colours) line += ` ${fmt(colours[3 * v], 1e4)} ${fmt(colours[3 * v + 1], 1e4)} ${fmt(colours[3 * v + 2], 1e4)}`;
    lines.push(line);
  }
  if (uvs) for (let v = 0; v < nv; v++) lines.push(`vt ${fmt(uvs[2 * v], 1e6)} ${fmt(1 - uvs[2 * v + 1], 1e6)}`);
  for (let v = 0; v < nv; v++) lines.push(`vn ${fmt(n[3 * v], 1e4)} ${fmt(n[3 * v + 1], 1e4)} ${fmt(n[3 * v + 2], 1e4)}`);
  lines.push(`usemtl ${name}`, 's 1');
  for (let t = 0; t < indices.length; t += 3) {
    const [a, b, c] = [indices[t] + 1, indices[t + 1] + 1, indices[t + 2] + 1];
    lines.push(uvs ? `f ${a}/${a}/${a} ${b}/${b}/${b} ${c}/${c}/${c}` : `f ${a}//${a} ${b}//${b} ${c}//${c}`);
  }
  lines.push('');
  const mtl = [
    '# voxface material',
    `newmtl ${name}`,
    'Ka 1 1 1',
    'Kd 1 1 1',
    'Ks 0 0 0',
    'Ns 10',
    'd 1',
    'illum 1',
    'Pr 0.8',
    'Pm 0',
    ...(texture ? [`map_Kd ${name}.png`] : []),
    '',
  ];
  const enc = new TextEncoder();
  const files: Record<string, Uint8Array> = {
    [`${name}.obj`]: enc.encode(lines.join('\n')),
    [`${name}.mtl`]: enc.encode(mtl.join('\n')),
  };
  if (texture) files[`${name}.png`] = options.texturePNG ?? texturePNG(mesh)!;
  return files;
}

/**
 * Rounds to 1/scale (a power of ten) and prints without trailing zeros (and without "-0"): the same text
 * as `String(Math.round(x * scale) / scale)`, from integer digits (several times faster).
 */
function fmt(x: number, scale: number): string {
  const n = Math.round(x * scale);
  if (n === 0) return '0';
  const m = n < 0 ? -n : n;
  const whole = Math.floor(m / scale);
  let frac = m - whole * scale;
  let head = n < 0 ? '-' + whole : String(whole);
  if (frac === 0) return head;
  let digits = scale;
  while (frac % 10 === 0) {
    frac /= 10;
    digits /= 10;
  }
  // frac now has no trailing zeros; left-pad it to the number of decimals that remain
  head += '.';
  for (let d = digits / 10; d > frac; d /= 10) head += '0';
  return head + frac;
}
