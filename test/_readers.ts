/**
 * Tiny independent readers for the files our exporters write (GLB, PLY, NRRD, NPY headers), used by
 * the export tests to parse the bytes back.
 */
import { gunzipSync } from 'fflate';

export interface GLBFile {
  json: {
    asset: { version: string; generator: string };
    nodes: { scale?: number[]; translation?: number[]; mesh: number }[];
    meshes: { primitives: { attributes: Record<string, number>; indices: number; material: number }[] }[];
    materials: { pbrMetallicRoughness: { metallicFactor: number; roughnessFactor: number; baseColorTexture?: { index: number } } }[];
    accessors: { bufferView: number; componentType: number; count: number; type: string; min?: number[]; max?: number[] }[];
    bufferViews: { byteOffset: number; byteLength: number }[];
    images?: { bufferView: number; mimeType: string }[];
    textures?: { source: number }[];
  };
  bin: Uint8Array;
}

export function readGLB(bytes: Uint8Array): GLBFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== 0x46546c67) throw new Error('not a GLB');
  if (view.getUint32(8, true) !== bytes.length) throw new Error('GLB length mismatch');
  const jsonLength = view.getUint32(12, true);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + jsonLength)));
  const binLength = view.getUint32(20 + jsonLength, true);
  const bin = bytes.slice(28 + jsonLength, 28 + jsonLength + binLength);
  return { json, bin };
}

/** The data of accessor `index` as a typed array (float or uint32, tightly packed). */
export function glbAccessor(glb: GLBFile, index: number): Float32Array | Uint32Array {
  const acc = glb.json.accessors[index];
  const bv = glb.json.bufferViews[acc.bufferView];
  const n = acc.count * ({ SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4 } as Record<string, number>)[acc.type];
  const slice = glb.bin.slice(bv.byteOffset, bv.byteOffset + 4 * n);
  return acc.componentType === 5126 ? new Float32Array(slice.buffer) : new Uint32Array(slice.buffer);
}

export function glbBufferView(glb: GLBFile, index: number): Uint8Array {
  const bv = glb.json.bufferViews[index];
  return glb.bin.subarray(bv.byteOffset, bv.byteOffset + bv.byteLength);
}

export interface PLYFile {
  header: string[];
  vertexProps: string[];
  vertices: number[][];
  faces: number[][];
}

/** Reads a binary little-endian PLY with float/uchar vertex properties and uchar/int face lists. */
export function readPLY(bytes: Uint8Array): PLYFile {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  const end = text.indexOf('end_header\n') + 'end_header\n'.length;
  const header = text.slice(0, end).trim().split('\n');
  let nv = 0;
  let nf = 0;
  let element = '';
  const vertexProps: { name: string; type: string }[] = [];
  for (const line of header) {
    const w = line.split(' ');
    if (w[0] === 'element') {
      element = w[1];
      if (element === 'vertex') nv = Number(w[2]);
      if (element === 'face') nf = Number(w[2]);
    } else if (w[0] === 'property' && element === 'vertex') vertexProps.push({ type: w[1], name: w[2] });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = end;
  const vertices: number[][] = [];
  for (let v = 0; v < nv; v++) {
    const row: number[] = [];
    for (const p of vertexProps) {
      if (p.type === 'float') {
        row.push(view.getFloat32(o, true));
        o += 4;
      } else {
        row.push(view.getUint8(o));
        o += 1;
      }
    }
    vertices.push(row);
  }
  const faces: number[][] = [];
  for (let f = 0; f < nf; f++) {
    const k = view.getUint8(o++);
    const face: number[] = [];
    for (let i = 0; i < k; i++, o += 4) face.push(view.getInt32(o, true));
    faces.push(face);
  }
  if (o !== bytes.length) throw new Error(`PLY has ${bytes.length - o} trailing bytes`);
  return { header, vertexProps: vertexProps.map((p) => p.name), vertices, faces };
}

/** Reads an attached-header NRRD: the key/value fields and the decoded (raw or gzip) data. */
export function readNRRD(bytes: Uint8Array): { magic: string; fields: Record<string, string>; data: Uint8Array } {
  let split = -1;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i + 1] === 10) {
      split = i;
      break;
    }
  }
  const lines = new TextDecoder('latin1').decode(bytes.subarray(0, split)).split('\n');
  const fields: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line.startsWith('#')) continue;
    const at = line.indexOf(': ');
    fields[line.slice(0, at)] = line.slice(at + 2);
  }
  const body = bytes.subarray(split + 2);
  return { magic: lines[0], fields, data: fields.encoding === 'gzip' ? gunzipSync(body) : body };
}

/** Parses a version 1 .npy header: dtype, order and shape, and returns the data offset. */
export function readNPYHeader(bytes: Uint8Array): { descr: string; fortran: boolean; shape: number[]; dataOffset: number } {
  if (bytes[0] !== 0x93 || new TextDecoder().decode(bytes.subarray(1, 6)) !== 'NUMPY') throw new Error('not .npy');
  const len = bytes[8] | (bytes[9] << 8);
  const dict = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + len));
  const descr = /'descr': '([^']+)'/.exec(dict)![1];
  const fortran = /'fortran_order': True/.test(dict);
  const shape = /'shape': \(([^)]*)\)/.exec(dict)![1].split(',').filter((s) => s.trim()).map(Number);
  return { descr, fortran, shape, dataOffset: 10 + len };
}
