/**
 * Wavefront OBJ exporter: `parse` returns the OBJ, `parseMaterial` its MTL, each given the file name it
 * references (`mtllib`, `map_Kd`); the texture PNG is `texturePNG(mesh)` (texture.ts). Names come from the
 * caller (src/export/names.ts for voxface's own files).
 *
 * `v x y z [r g b]` (vertex colours in [0,1], an extension read by Blender, MeshLab and assimp),
 * `vt u v` with v = 0 at the *bottom* of the image (OBJ convention, so 1 − our v), `vn`, and
 * `f v/vt/vn` (one index per vertex for all three, 1-based). Vertices are in the export frame
 * (frame.ts; default y-up, photo pixels).
 *
 * @example
 * writeFileSync('face.obj', parse(textured, { materialFile: 'face.mtl' }));
 * writeFileSync('face.mtl', parseMaterial({ textureFile: 'face.png' }));
 * writeFileSync('face.png', texturePNG(textured)!);
 */
import type { Mesh } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { frameNote, textureOf, toExportFrame, type ExportFrame } from './frame.ts';

export interface OBJOptions {
  frame?: ExportFrame;
  /** The MTL file the OBJ references with `mtllib` (default: none, no material). */
  materialFile?: string;
  /** Name of the object and of its material (default 'face'). */
  name?: string;
  /** Append r g b to each `v` line when the mesh has colours (default true). */
  vertexColors?: boolean;
}

export interface MTLOptions {
  /** The material's name, as the OBJ's `name` (default 'face'). */
  name?: string;
  /** The texture image the material references with `map_Kd` (default: none). */
  textureFile?: string;
}

/** A name written into OBJ/MTL text: one token (the formats split lines on whitespace). */
function token(what: string, name: string): string {
  if (!/^[^\s\0]+$/u.test(name)) throw new VoxfaceError('BAD_ARGUMENT', `OBJ ${what} must be one word without spaces, got "${name}"`);
  return name;
}

/**
 * Encodes a mesh as OBJ text (uvs only when it has a texture).
 *
 * @example
 * const bytes = parse(mesh, { materialFile: 'face.mtl' });
 */
export function parse(mesh: Mesh, options: OBJOptions = {}): Uint8Array {
  const name = token('object name', options.name ?? 'face');
  const mtl = options.materialFile === undefined ? undefined : token('material file', options.materialFile);
  const frame = options.frame ?? 'y-up';
  const { positions: p, normals: n, indices } = toExportFrame(mesh, frame);
  const texture = textureOf(mesh);
  const uvs = texture ? mesh.uvs : undefined;
  const colours = (options.vertexColors ?? true) ? mesh.colors : undefined;
  const lines: string[] = [`# voxface OBJ, ${frameNote(frame)}`, ...(mtl ? [`mtllib ${mtl}`] : []), `o ${name}`];
  const nv = p.length / 3;
  for (let v = 0; v < nv; v++) {
    let line = `v ${fmt(p[3 * v], 1e4)} ${fmt(p[3 * v + 1], 1e4)} ${fmt(p[3 * v + 2], 1e4)}`;
    if (colours) line += ` ${fmt(colours[3 * v], 1e4)} ${fmt(colours[3 * v + 1], 1e4)} ${fmt(colours[3 * v + 2], 1e4)}`;
    lines.push(line);
  }
  if (uvs) for (let v = 0; v < nv; v++) lines.push(`vt ${fmt(uvs[2 * v], 1e6)} ${fmt(1 - uvs[2 * v + 1], 1e6)}`);
  for (let v = 0; v < nv; v++) lines.push(`vn ${fmt(n[3 * v], 1e4)} ${fmt(n[3 * v + 1], 1e4)} ${fmt(n[3 * v + 2], 1e4)}`);
  lines.push(...(mtl ? [`usemtl ${name}`] : []), 's 1');
  for (let t = 0; t < indices.length; t += 3) {
    const [a, b, c] = [indices[t] + 1, indices[t + 1] + 1, indices[t + 2] + 1];
    lines.push(uvs ? `f ${a}/${a}/${a} ${b}/${b}/${b} ${c}/${c}/${c}` : `f ${a}//${a} ${b}//${b} ${c}//${c}`);
  }
  lines.push('');
  return new TextEncoder().encode(lines.join('\n'));
}

/**
 * The MTL file of the OBJ: one material, textured when given the texture's file name.
 *
 * @example
 * const bytes = parseMaterial({ textureFile: 'face.png' });
 */
export function parseMaterial(options: MTLOptions = {}): Uint8Array {
  const name = token('material name', options.name ?? 'face');
  const texture = options.textureFile === undefined ? undefined : token('texture file', options.textureFile);
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
    ...(texture ? [`map_Kd ${texture}`] : []),
    '',
  ];
  return new TextEncoder().encode(mtl.join('\n'));
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
