/**
 * glTF 2.0 binary (.glb) exporter.
 *
 * One mesh, one primitive: POSITION, NORMAL, TEXCOORD_0 (when textured), COLOR_0, UNSIGNED_INT
 * indices; a PBR material (metallic 0, roughness 0.8, double-sided since the face is an open sheet)
 * with the texture embedded as PNG. Vertices are in photo pixels in the export frame (see frame.ts);
 * the node's `scale` (= metresPerPixel) turns them into metres so the model opens at human size.
 *
 * COLOR_0: glTF defines it as a *multiplier* of the base colour, so writing the photo's vertex
 * colours next to a texture would darken the model (texture × colour). By default (`vertexColors:
 * 'auto'`) COLOR_0 is written when the mesh has colours and no texture; `true` forces it.
 *
 * @example
 * const bytes = parse(textured, { metresPerPixel: 0.0008 }); // write them to face.glb
 */
import type { Mesh } from '../types.ts';
import { VoxfaceError } from '../types.ts';
import { frameNote, textureOf, toExportFrame, type ExportFrame } from './frame.ts';
import { texturePNG } from './texture.ts';

export interface GLBOptions {
  /** Coordinate frame of the vertices (default 'y-up', see frame.ts). */
  frame?: ExportFrame;
  /** Metres per photo pixel, put in the node's scale (default 0.001). */
  metresPerPixel?: number;
  /** Write COLOR_0: 'auto' (default) = only when there is no texture. */
  vertexColors?: 'auto' | boolean;
  /** Also translate the node so the mesh's bounding-box centre is at the origin (default false). */
  centre?: boolean;
  /** Name of the mesh, node and material (default 'face'). */
  name?: string;
  /** The texture already encoded as PNG (`texturePNG(mesh)`), so exporters can share one encode. */
  texturePNG?: Uint8Array;
}

const FLOAT = 5126;
const UNSIGNED_INT = 5125;
const ARRAY_BUFFER = 34962;
const ELEMENT_ARRAY_BUFFER = 34963;

/**
 * Encodes a mesh (textured or not) as a GLB file.
 *
 * @example
 * const glb = parse(mesh, { frame: 'y-up', metresPerPixel: 0.001 });
 */
export function parse(mesh: Mesh, options: GLBOptions = {}): Uint8Array {
  const frame = options.frame ?? 'y-up';
  const name = options.name ?? 'face';
  const mpp = options.metresPerPixel ?? 0.001;
  if (!(mpp > 0) || !Number.isFinite(mpp)) throw new VoxfaceError('BAD_ARGUMENT', `metresPerPixel must be > 0, got ${mpp}`);
  const { positions, normals, indices } = toExportFrame(mesh, frame);
  const texture = textureOf(mesh);
  const wantColours = options.vertexColors ?? 'auto';
  const colours = mesh.colors && (wantColours === true || (wantColours === 'auto' && !texture)) ? mesh.colors : undefined;

  const bin = new BinaryBuilder();
  const accessors: object[] = [];
  const attribute = (data: Float32Array, type: 'VEC2' | 'VEC3', withBounds: boolean) => {
    const view = bin.add(data, ARRAY_BUFFER);
    const k = type === 'VEC2' ? 2 : 3;
    const accessor: Record<string, unknown> = { bufferView: view, componentType: FLOAT, count: data.length / k, type };
    if (withBounds) Object.assign(accessor, bounds(data, k));
    accessors.push(accessor);
    return accessors.length - 1;
  };
  const attributes: Record<string, number> = {
    POSITION: attribute(positions, 'VEC3', true),
    NORMAL: attribute(normals, 'VEC3', false),
  };
  if (texture) attributes.TEXCOORD_0 = attribute(new Float32Array(mesh.uvs!), 'VEC2', false);
  if (colours) attributes.COLOR_0 = attribute(clamp01(colours), 'VEC3', false);
  accessors.push({ bufferView: bin.add(indices, ELEMENT_ARRAY_BUFFER), componentType: UNSIGNED_INT, count: indices.length, type: 'SCALAR' });
  const indexAccessor = accessors.length - 1;

  const pbr: Record<string, unknown> = { metallicFactor: 0, roughnessFactor: 0.8 };
  const gltf: Record<string, unknown> = {
    asset: { version: '2.0', generator: 'voxface', extras: { frame: frameNote(frame), metresPerPixel: mpp } },
    scene: 0,
    scenes: [{ name, nodes: [0] }],
    nodes: [{ name, mesh: 0, scale: [mpp, mpp, mpp], ...(options.centre ? { translation: centreOffset(positions, mpp) } : {}) }],
    meshes: [{ name, primitives: [{ attributes, indices: indexAccessor, material: 0, mode: 4 }] }],
    materials: [{ name, pbrMetallicRoughness: pbr, doubleSided: true }],
    accessors,
  };
  if (texture) {
    const png = options.texturePNG ?? texturePNG(mesh)!;
    gltf.images = [{ name: `${name}-texture`, bufferView: bin.add(png), mimeType: 'image/png' }];
    gltf.samplers = [{ magFilter: 9729, minFilter: 9987, wrapS: 33071, wrapT: 33071 }];
    gltf.textures = [{ sampler: 0, source: 0 }];
    pbr.baseColorTexture = { index: 0 };
  }
  gltf.bufferViews = bin.views;
  gltf.buffers = [{ byteLength: bin.byteLength }];
  return glbContainer(gltf, bin);
}

/** Concatenates typed arrays into one buffer, 4-byte aligned, recording a bufferView per array. */
class BinaryBuilder {
  readonly views: Record<string, number>[] = [];
  private parts: Uint8Array[] = [];
  private length = 0;

  add(data: Float32Array | Uint32Array | Uint8Array, target?: number): number {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.views.push({ buffer: 0, byteOffset: this.length, byteLength: bytes.length, ...(target ? { target } : {}) });
    this.parts.push(bytes);
    this.length += bytes.length;
    const pad = (4 - (this.length % 4)) % 4;
    if (pad) {
      this.parts.push(new Uint8Array(pad));
      this.length += pad;
    }
    return this.views.length - 1;
  }

  /** Bytes of the buffer (padding included). */
  get byteLength(): number {
    return this.length;
  }

  /** Writes the buffer into `out` from `offset` (padding bytes: those of `out`, zero in a fresh array). */
  writeTo(out: Uint8Array, offset: number): void {
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.length;
    }
  }
}

/** GLB container: 12-byte header, JSON chunk (space padded), BIN chunk (zero padded), written straight from `bin`'s parts. */
function glbContainer(gltf: object, bin: BinaryBuilder): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(gltf));
  const jsonPad = (4 - (json.length % 4)) % 4;
  if (jsonPad) {
    const padded = new Uint8Array(json.length + jsonPad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const total = 12 + 8 + json.length + 8 + bin.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x46546c67, true); // 'glTF'
  view.setUint32(4, 2, true);
  view.setUint32(8, total, true);
  view.setUint32(12, json.length, true);
  view.setUint32(16, 0x4e4f534a, true); // 'JSON'
  out.set(json, 20);
  view.setUint32(20 + json.length, bin.byteLength, true);
  view.setUint32(24 + json.length, 0x004e4942, true); // 'BIN\0'
  bin.writeTo(out, 28 + json.length);
  return out;
}

/** Per-component min and max (required on POSITION), from the float32 values actually written. */
function bounds(data: Float32Array, k: number): { min: number[]; max: number[] } {
  const min = new Array<number>(k).fill(Infinity);
  const max = new Array<number>(k).fill(-Infinity);
  for (let i = 0; i < data.length; i += k) {
    for (let c = 0; c < k; c++) {
      min[c] = Math.min(min[c], data[i + c]);
      max[c] = Math.max(max[c], data[i + c]);
    }
  }
  return { min, max };
}

function centreOffset(positions: Float32Array, mpp: number): number[] {
  const { min, max } = bounds(positions, 3);
  return [0, 1, 2].map((c) => (-(min[c] + max[c]) / 2) * mpp);
}

function clamp01(values: Float32Array): Float32Array {
  return Float32Array.from(values, (v) => (v > 0 ? (v < 1 ? v : 1) : 0));
}
