/**
 * A small reader for MATLAB Level 5 (v5 / v6 / v7) .mat files: the numeric matrices and strings that
 * AFLW2000-3D's annotation files hold (`pt3d_68` 3×68 double, `Pose_Para` 1×7 double, ...). Elements may
 * be zlib-compressed (miCOMPRESSED, v7) and stored in a smaller type than their class (MATLAB saves an
 * integer-valued double as miUINT8 etc.); every numeric array comes back as float64, column-major like MATLAB.
 * Structs, cells, sparse arrays and objects are listed but not decoded. v7.3 files (HDF5) are rejected.
 *
 * ```ts
 * const vars = readMat(bytes);                  // { pt3d_68: { className: 'double', dims: [3, 68], data }, ... }
 * const x5 = matGet(vars.pt3d_68, 0, 4);         // row 0, column 4 (0-based)
 * ```
 */
import { unzlibSync } from 'fflate';
import { VoxfaceError } from '../types.ts';

/** One variable of a .mat file. */
export interface MatArray {
  /** MATLAB class: 'double', 'single', 'int8', ..., 'char', 'logical', or 'struct', 'cell', 'sparse', 'object'. */
  className: string;
  /** Dimensions, MATLAB order (rows, columns, ...). */
  dims: number[];
  /** Real part, column-major: element (r, c) is data[r + c * rows]. Empty for classes that are not decoded. */
  data: Float64Array;
  /** Imaginary part of a complex array. */
  imag?: Float64Array;
  /** The text of a char array (columns of a 1×n row, as MATLAB prints it). */
  text?: string;
}

const CLASS_NAMES: Record<number, string> = {
  1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8',
  10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
};
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;

function bad(message: string): never {
  throw new VoxfaceError('BAD_ARGUMENT', `not a readable MATLAB v5 .mat file: ${message}`);
}

/**
 * Parses a MATLAB v5 .mat file into its variables by name.
 *
 * ```ts
 * const { Pose_Para } = readMat(new Uint8Array(await readFile('image00002.mat')));
 * const yawRad = Pose_Para.data[1];
 * ```
 */
export function readMat(bytes: Uint8Array): Record<string, MatArray> {
  if (bytes.length < 128) bad(`${bytes.length} bytes is shorter than the 128-byte header`);
  const head = String.fromCharCode(...bytes.subarray(0, 116));
  if (head.startsWith('MATLAB 7.3')) bad('MATLAB v7.3 files are HDF5; save with -v7 or -v6');
  if (!head.startsWith('MATLAB')) bad('missing the "MATLAB" header text (v4 files are not supported)');
  const e0 = String.fromCharCode(bytes[126], bytes[127]);
  if (e0 !== 'IM' && e0 !== 'MI') bad(`bad endian indicator "${e0}"`);
  const le = e0 === 'IM';
  const out: Record<string, MatArray> = {};
  let pos = 128;
  while (pos + 8 <= bytes.length) {
    const el = readTag(bytes, pos, le);
    const body = bytes.subarray(el.dataStart, el.dataStart + el.nbytes);
    if (el.type === MI_COMPRESSED) {
      let inner: Uint8Array;
      try {
        inner = unzlibSync(body);
      } catch (e) {
        bad(`corrupt compressed element at byte ${pos}: ${(e as Error).message}`);
      }
      const t = readTag(inner, 0, le);
      if (t.type === MI_MATRIX) {
        const { name, array } = readMatrix(inner.subarray(t.dataStart, t.dataStart + t.nbytes), le);
        out[name] = array;
      }
      pos = el.dataStart + el.nbytes; // compressed elements are not padded
    } else {
      if (el.type === MI_MATRIX) {
        const { name, array } = readMatrix(body, le);
        out[name] = array;
      }
      pos = el.next;
    }
  }
  return out;
}

/**
 * Element (row, col) of a 2D matrix, 0-based.
 *
 * ```ts
 * matGet(vars.pt3d_68, 2, 30); // z of landmark 31 (1-based)
 * ```
 */
export function matGet(a: MatArray, row: number, col: number): number {
  const rows = a.dims[0];
  if (row < 0 || row >= rows || col < 0 || col >= (a.dims[1] ?? 1)) throw new RangeError(`matGet: (${row}, ${col}) outside ${a.dims.join('×')}`);
  return a.data[row + col * rows];
}

interface Tag {
  type: number;
  nbytes: number;
  dataStart: number;
  /** Start of the next element (data padded to 8 bytes, 4 for a small element). */
  next: number;
}

function readTag(b: Uint8Array, pos: number, le: boolean): Tag {
  if (pos + 8 > b.length) bad(`element tag at byte ${pos} runs past the end`);
  const dv = new DataView(b.buffer, b.byteOffset + pos, 8);
  const first = dv.getUint32(0, le);
  const small = first >>> 16;
  if (small !== 0) {
    // small data element: type and size packed in 4 bytes, up to 4 data bytes follow
    if (small > 4) bad(`small element at byte ${pos} claims ${small} bytes`);
    return { type: first & 0xffff, nbytes: small, dataStart: pos + 4, next: pos + 8 };
  }
  const nbytes = dv.getUint32(4, le);
  const dataStart = pos + 8;
  if (dataStart + nbytes > b.length) bad(`element at byte ${pos} (${nbytes} bytes) runs past the end`);
  return { type: first, nbytes, dataStart, next: dataStart + Math.ceil(nbytes / 8) * 8 };
}

/** The sub-elements of a miMATRIX body, in order. */
function subElements(body: Uint8Array, le: boolean): { type: number; data: Uint8Array }[] {
  const els: { type: number; data: Uint8Array }[] = [];
  let pos = 0;
  while (pos + 8 <= body.length) {
    const t = readTag(body, pos, le);
    els.push({ type: t.type, data: body.subarray(t.dataStart, t.dataStart + t.nbytes) });
    pos = t.next;
  }
  return els;
}

function readMatrix(body: Uint8Array, le: boolean): { name: string; array: MatArray } {
  if (body.length === 0) return { name: '', array: { className: 'double', dims: [0, 0], data: new Float64Array(0) } };
  const els = subElements(body, le);
  if (els.length < 3) bad('a matrix element lacks its flags, dimensions or name');
  const flags = numbers(els[0].type, els[0].data, le);
  const cls = flags[0] & 0xff;
  const complex = (flags[0] & 0x0800) !== 0;
  const logical = (flags[0] & 0x0200) !== 0;
  const dims = Array.from(numbers(els[1].type, els[1].data, le));
  const name = String.fromCharCode(...els[2].data);
  const className = logical ? 'logical' : CLASS_NAMES[cls] ?? `class${cls}`;
  if (cls < 4 || cls === 5 || !(cls in CLASS_NAMES)) return { name, array: { className, dims, data: new Float64Array(0) } };
  const count = dims.reduce((a, b) => a * b, 1);
  const real = els[3] ? numbers(els[3].type, els[3].data, le) : new Float64Array(0);
  if (real.length !== count) bad(`variable "${name}" holds ${real.length} values for dimensions ${dims.join('×')}`);
  const array: MatArray = { className, dims, data: real };
  if (complex && els[4]) array.imag = numbers(els[4].type, els[4].data, le);
  if (cls === 4) {
    const rows = dims[0] ?? 0;
    const cols = count / Math.max(rows, 1);
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) {
      let s = '';
      for (let c = 0; c < cols; c++) s += String.fromCodePoint(real[r + c * rows]);
      lines.push(s);
    }
    array.text = lines.join('\n');
  }
  return { name, array };
}

/** Decodes a numeric data element of any storage type into float64. */
function numbers(type: number, d: Uint8Array, le: boolean): Float64Array {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const size: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };
  const s = size[type];
  if (s === undefined) bad(`unsupported data type ${type}`);
  if (d.byteLength % s !== 0) bad(`${d.byteLength} bytes is not a whole number of type-${type} values`);
  const n = d.byteLength / s;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * s;
    switch (type) {
      case 1: out[i] = dv.getInt8(o); break;
      case 2: case 16: out[i] = dv.getUint8(o); break;
      case 3: out[i] = dv.getInt16(o, le); break;
      case 4: case 17: out[i] = dv.getUint16(o, le); break;
      case 5: out[i] = dv.getInt32(o, le); break;
      case 6: case 18: out[i] = dv.getUint32(o, le); break;
      case 7: out[i] = dv.getFloat32(o, le); break;
      case 9: out[i] = dv.getFloat64(o, le); break;
      case 12: out[i] = Number(dv.getBigInt64(o, le)); break;
      case 13: out[i] = Number(dv.getBigUint64(o, le)); break;
    }
  }
  return out;
}
