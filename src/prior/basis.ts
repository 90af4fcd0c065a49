/**
 * The ICT Face Model as a runtime asset: `models/ict-face.bin`, made by `scripts/ict-basis.py` from the MIT-licensed
 * ICT Face Model (© 2020 USC ICT, `models/ICT-LICENSE`). Platform-neutral: give it the file's bytes.
 *
 * ```ts
 * const basis = parseIctBasis(await readFile('models/ict-face.bin'));   // Node; fetch() + arrayBuffer() in a browser
 * basis.meshes.face.index.length / 3;  // 17 116 triangles: the face from the hairline to under the chin, with ears
 * basis.identityModes;                 // 100
 * ```
 *
 * Shape of a face (cm, ICT's frame: +x the subject's left, +y up, +z out of the face):
 *   vertex = neutral + Σ_k identity_k · w_k + Σ_j expression_j · e_j,   w_k ~ N(0, 1), e_j ∈ [0, 1].
 * The vertex set is ICT's face and head-and-neck regions (model vertices 0–11247), then vertices derived from them
 * by fixed weights (where the neck cut crosses an edge; the centres of the eye and mouth caps), so every vertex is
 * linear in (w, e).
 */
import { createFloatArena, type FloatArena } from '../simd/kernels.ts';
import { VoxfaceError } from '../types.ts';

/** One mesh on the basis' vertices: render vertices (a model vertex + its uv) and triangles over them. */
export interface TemplateMesh {
  /** Model vertex of each render vertex (ICT splits vertices at uv seams). */
  vertex: Uint32Array;
  /**
   * uv per render vertex in the atlas: [0, 1]², v = 0 at the top row (glTF). See `ATLAS` for the layout.
   */
  uv: Float32Array;
  /** Three render vertices per triangle, counter-clockwise seen from outside in ICT's frame (+y up). */
  index: Uint32Array;
  /** Texture width ÷ height of this mesh's atlas (1 for the face, 2 for the head). */
  aspect: number;
}

export interface IctBasis {
  /** Vertices of the model (ICT ids 0–11247) followed by the derived ones. */
  vertexCount: number;
  /** ICT vertices 0 … modelVertices − 1; the rest are derived. */
  modelVertices: number;
  /** xyz per vertex, cm. */
  neutral: Float32Array;
  identityModes: number;
  /** Mode k's delta of vertex v, axis a at `(k · vertexCount + v) · 3 + a`. */
  identity: Float32Array;
  expressionNames: readonly string[];
  /** Same layout as `identity`. */
  expression: Float32Array;
  /** The 68 Multi-PIE landmarks as vertex ids. */
  landmarks68: Uint32Array;
  /** The left/right mirror of each model vertex (x → −x). */
  mirror: Uint32Array;
  meshes: { face: TemplateMesh; head: TemplateMesh };
}

/** The 53 expression blendshapes of the ICT Face Model, in its order (its manifest's names; the basis file must agree). */
export const ICT_EXPRESSIONS: readonly string[] = [
  'browDown_L', 'browDown_R', 'browInnerUp_L', 'browInnerUp_R', 'browOuterUp_L', 'browOuterUp_R', 'cheekPuff_L',
  'cheekPuff_R', 'cheekSquint_L', 'cheekSquint_R', 'eyeBlink_L', 'eyeBlink_R', 'eyeLookDown_L', 'eyeLookDown_R',
  'eyeLookIn_L', 'eyeLookIn_R', 'eyeLookOut_L', 'eyeLookOut_R', 'eyeLookUp_L', 'eyeLookUp_R', 'eyeSquint_L',
  'eyeSquint_R', 'eyeWide_L', 'eyeWide_R', 'jawForward', 'jawLeft', 'jawOpen', 'jawRight', 'mouthClose',
  'mouthDimple_L', 'mouthDimple_R', 'mouthFrown_L', 'mouthFrown_R', 'mouthFunnel', 'mouthLeft', 'mouthLowerDown_L',
  'mouthLowerDown_R', 'mouthPress_L', 'mouthPress_R', 'mouthPucker', 'mouthRight', 'mouthRollLower', 'mouthRollUpper',
  'mouthShrugLower', 'mouthShrugUpper', 'mouthSmile_L', 'mouthSmile_R', 'mouthStretch_L', 'mouthStretch_R',
  'mouthUpperUp_L', 'mouthUpperUp_R', 'noseSneer_L', 'noseSneer_R',
];

const MAGIC = [0x56, 0x58, 0x49, 0x43, 0x54, 0x00, 0x01, 0x00]; // "VXICT\0\1\0"

interface BufferSpec {
  offset: number;
  dtype: string;
  shape: number[];
}

/**
 * The atlas: ICT's face tile (u ∈ [0, 1]) and head tile (u ∈ [1, 2]) side by side. The face mesh alone uses the face
 * tile as its whole (square) texture; the head mesh a 2:1 texture, face tile on the left. Both tiles mirror exactly
 * (u ↔ 1 − u within a tile), so the hidden side of a face is completed from its mirror texel.
 */
export const ATLAS = {
  /** Where ICT uv (u, v) lands in a texture of `tiles` tiles (1: face only, 2: face + head), v flipped to glTF's. */
  map(u: number, v: number, tiles: number): [number, number] {
    return [Math.min(u, tiles - 1e-6) / tiles, 1 - v];
  },
} as const;

/** Parses `models/ict-face.bin`. Throws `VoxfaceError('MODEL_ERROR')` on a file of the wrong kind. */
export function parseIctBasis(bytes: Uint8Array): IctBasis {
  if (bytes.length < 12 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new VoxfaceError('MODEL_ERROR', 'not a voxface ICT basis file (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as {
    modelVertices: number;
    vertices: number;
    identityModes: number;
    expressions: string[];
    buffers: Record<string, BufferSpec>;
  };
  const base = 12 + jsonLength;
  // copy each buffer out (aligned), so the typed arrays do not depend on the input's alignment
  const get = (name: string): { data: ArrayBuffer; spec: BufferSpec } => {
    const spec = header.buffers[name];
    if (!spec) throw new VoxfaceError('MODEL_ERROR', `ICT basis file lacks "${name}"`);
    const size = { float32: 4, uint32: 4, int8: 1 }[spec.dtype];
    if (!size) throw new VoxfaceError('MODEL_ERROR', `ICT basis "${name}" has unknown type ${spec.dtype}`);
    const n = spec.shape.reduce((a, b) => a * b, 1) * size;
    const start = base + spec.offset;
    if (start + n > bytes.length) throw new VoxfaceError('MODEL_ERROR', `ICT basis file is truncated at "${name}"`);
    return { data: new Uint8Array(bytes.subarray(start, start + n)).buffer, spec }; // a copy (Buffer.slice would not copy)
  };
  const f32 = (name: string) => new Float32Array(get(name).data);
  const u32 = (name: string) => new Uint32Array(get(name).data);
  // the modes live in a WebAssembly memory where SIMD is available (shapeVertices' kernels read them in place), with
  // room for one face's vertices
  const floats = (name: string) => header.buffers[name]?.shape.reduce((a, b) => a * b, 1) ?? 0;
  const arena = createFloatArena(floats('identity') + floats('expression') + 3 * header.vertices + 64);
  const dequantise = (name: string): Float32Array => {
    const q = new Int8Array(get(name).data);
    const scale = f32(`${name}Scale`);
    const per = q.length / scale.length;
    const out = arena ? arena.alloc(q.length) : new Float32Array(q.length);
    for (let k = 0; k < scale.length; k++) {
      const s = scale[k];
      for (let i = k * per, end = i + per; i < end; i++) out[i] = q[i] * s;
    }
    return out;
  };
  const mesh = (name: 'face' | 'head', tiles: number): TemplateMesh => {
    const raw = f32(`${name}.uv`);
    const uv = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i += 2) {
      const [u, v] = ATLAS.map(raw[i], raw[i + 1], tiles);
      uv[i] = u;
      uv[i + 1] = v;
    }
    return { vertex: u32(`${name}.vertex`), uv, index: u32(`${name}.index`), aspect: tiles };
  };
  const basis: IctBasis = {
    vertexCount: header.vertices,
    modelVertices: header.modelVertices,
    neutral: f32('neutral'),
    identityModes: header.identityModes,
    identity: dequantise('identity'),
    expressionNames: header.expressions,
    expression: dequantise('expression'),
    landmarks68: u32('landmarks68'),
    mirror: u32('mirror'),
    meshes: { face: mesh('face', 1), head: mesh('head', 2) },
  };
  if (arena) simdOf.set(basis.identity, { arena, expression: basis.expression, scratch: arena.alloc(3 * basis.vertexCount) });
  if (basis.expressionNames.length !== ICT_EXPRESSIONS.length || basis.expressionNames.some((n, i) => n !== ICT_EXPRESSIONS[i])) {
    throw new VoxfaceError('MODEL_ERROR', 'ICT basis file: its expressions are not the ICT Face Model\'s 53');
  }
  if (basis.neutral.length !== basis.vertexCount * 3 || basis.identity.length !== basis.identityModes * basis.vertexCount * 3) {
    throw new VoxfaceError('MODEL_ERROR', 'ICT basis file: array sizes do not match its header');
  }
  return basis;
}

const spanCache = new WeakMap<object, Int32Array>();

/**
 * A basis whose modes parseIctBasis put in a WebAssembly memory (keyed by its identity array, so a copy of the basis
 * object finds it too): the arena, the expression array it must also hold, and room for one face's vertices.
 */
const simdOf = new WeakMap<Float32Array, { arena: FloatArena; expression: Float32Array; scratch: Float32Array }>();
const FULL_SPAN = (n: number) => Int32Array.of(0, n);

/**
 * The runs of model vertices a vertex list touches, as [start, end) float offsets (xyz per vertex), gaps under 8
 * vertices bridged; cached per list object (a template's `vertex` array).
 */
function spansOf(vertices: ArrayLike<number>, V: number): Int32Array {
  const cached = typeof vertices === 'object' ? spanCache.get(vertices) : undefined;
  if (cached) return cached;
  const used = new Uint8Array(V);
  for (let i = 0; i < vertices.length; i++) used[vertices[i]] = 1;
  const out: number[] = [];
  for (let v = 0; v < V; v++) {
    if (!used[v]) continue;
    if (out.length && v - out[out.length - 1] / 3 < 8) out[out.length - 1] = 3 * (v + 1);
    else out.push(3 * v, 3 * (v + 1));
  }
  const spans = Int32Array.from(out);
  spanCache.set(vertices, spans);
  return spans;
}

/**
 * Vertex positions (cm, ICT's frame) of a face with identity weights `w` and expression weights `e`, for the given
 * vertices (default: all). Zero weights cost nothing.
 *
 * ```ts
 * const xyz = shapeVertices(basis, fit.identity, fit.expression, basis.meshes.face.vertex);
 * ```
 */
export function shapeVertices(
  basis: IctBasis,
  w: ArrayLike<number>,
  e: ArrayLike<number>,
  vertices?: ArrayLike<number>,
): Float32Array {
  const V = basis.vertexCount;
  const modes: [Float32Array, number][] = [];
  for (let k = 0; k < Math.min(basis.identityModes, w.length); k++) if (w[k] !== 0) modes.push([basis.identity, k]);
  for (let k = 0; k < Math.min(basis.expressionNames.length, e.length); k++) if (e[k] !== 0) modes.push([basis.expression, k]);
  const weight = (m: [Float32Array, number]) => (m[0] === basis.identity ? w[m[1]] : e[m[1]]);
  if (vertices && vertices.length * 4 < V) {
    // a few vertices: gather each one's rows
    const out = new Float32Array(vertices.length * 3);
    for (let i = 0; i < vertices.length; i++) {
      const v = vertices[i] * 3;
      let x = basis.neutral[v], y = basis.neutral[v + 1], z = basis.neutral[v + 2];
      for (const m of modes) {
        const c = weight(m), o = m[1] * V * 3 + v, a = m[0];
        x += c * a[o];
        y += c * a[o + 1];
        z += c * a[o + 2];
      }
      out[3 * i] = x;
      out[3 * i + 1] = y;
      out[3 * i + 2] = z;
    }
    return out;
  }
  const n = V * 3;
  // only the spans of the model's vertices that are asked for (the face region: 8 705 of ICT's 11 412 in 64 runs)
  const spans = vertices ? spansOf(vertices, V) : FULL_SPAN(n);
  const simd = simdOf.get(basis.identity);
  if (simd && simd.expression === basis.expression && simd.scratch.length === n) return withKernels(simd, basis, modes.map((m) => [m[0], m[1], weight(m)]), spans, vertices);
  const full = new Float32Array(basis.neutral);
  // eight modes per pass over the vertices (then four, then one): an eighth of the read-modify-writes of `full`
  // (memory-bound: one mode per pass 8.7 ms for 87 modes of ICT's 11 412 vertices on the 2-core machine, four 7.2 →
  // 5.6, eight 3.5–3.8; the face's runs only: 4.4 with four, 2.7–2.9 with eight; sums in another order: within 1e-5 cm)
  let k = 0;
  const sub = (m: [Float32Array, number]) => m[0].subarray(m[1] * n, m[1] * n + n);
  for (; k + 8 <= modes.length; k += 8) {
    const a0 = sub(modes[k]), a1 = sub(modes[k + 1]), a2 = sub(modes[k + 2]), a3 = sub(modes[k + 3]);
    const a4 = sub(modes[k + 4]), a5 = sub(modes[k + 5]), a6 = sub(modes[k + 6]), a7 = sub(modes[k + 7]);
    const c0 = weight(modes[k]), c1 = weight(modes[k + 1]), c2 = weight(modes[k + 2]), c3 = weight(modes[k + 3]);
    const c4 = weight(modes[k + 4]), c5 = weight(modes[k + 5]), c6 = weight(modes[k + 6]), c7 = weight(modes[k + 7]);
    for (let r = 0; r < spans.length; r += 2) {
      for (let i = spans[r], end = spans[r + 1]; i < end; i++) {
        full[i] += c0 * a0[i] + c1 * a1[i] + c2 * a2[i] + c3 * a3[i] + c4 * a4[i] + c5 * a5[i] + c6 * a6[i] + c7 * a7[i];
      }
    }
  }
  for (; k + 4 <= modes.length; k += 4) {
    const a0 = sub(modes[k]), a1 = sub(modes[k + 1]), a2 = sub(modes[k + 2]), a3 = sub(modes[k + 3]);
    const c0 = weight(modes[k]), c1 = weight(modes[k + 1]), c2 = weight(modes[k + 2]), c3 = weight(modes[k + 3]);
    for (let r = 0; r < spans.length; r += 2) {
      for (let i = spans[r], end = spans[r + 1]; i < end; i++) full[i] += c0 * a0[i] + c1 * a1[i] + c2 * a2[i] + c3 * a3[i];
    }
  }
  for (; k < modes.length; k++) {
    const c = weight(modes[k]), o = modes[k][1] * n, a = modes[k][0];
    for (let r = 0; r < spans.length; r += 2) {
      for (let i = spans[r], end = spans[r + 1]; i < end; i++) full[i] += c * a[o + i];
    }
  }
  return vertices ? gatherVertices(full, vertices) : full;
}

/** The xyz of `vertices` out of all the model's vertices. */
function gatherVertices(full: Float32Array, vertices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(vertices.length * 3);
  for (let i = 0; i < vertices.length; i++) {
    const v = vertices[i] * 3;
    out[3 * i] = full[v];
    out[3 * i + 1] = full[v + 1];
    out[3 * i + 2] = full[v + 2];
  }
  return out;
}

/**
 * shapeVertices' sum by the WebAssembly SIMD kernels (src/simd/kernels.ts): eight modes per pass over each span of
 * the asked vertices, four floats at a time, in f32 (the JavaScript loop sums in f64: the two agree within 1e-5 cm,
 * test/prior.test.ts). 0.9 ns per multiply-add in JavaScript on the 2-core machine, a quarter of that here.
 */
function withKernels(
  simd: { arena: FloatArena; scratch: Float32Array },
  basis: IctBasis,
  modes: [Float32Array, number, number][],
  spans: Int32Array,
  vertices: ArrayLike<number> | undefined,
): Float32Array {
  const { kernels: K } = simd.arena;
  const full = simd.scratch;
  const n = full.length;
  full.set(basis.neutral);
  const ptr = (m: [Float32Array, number, number], start: number) => m[0].byteOffset + (m[1] * n + start) * 4;
  let k = 0;
  for (; k + 8 <= modes.length; k += 8) {
    const [m0, m1, m2, m3, m4, m5, m6, m7] = modes.slice(k, k + 8);
    for (let r = 0; r < spans.length; r += 2) {
      const i = spans[r];
      K.axpy8(full.byteOffset + 4 * i, spans[r + 1] - i, ptr(m0, i), ptr(m1, i), ptr(m2, i), ptr(m3, i), ptr(m4, i), ptr(m5, i), ptr(m6, i), ptr(m7, i),
        m0[2], m1[2], m2[2], m3[2], m4[2], m5[2], m6[2], m7[2]);
    }
  }
  for (; k + 4 <= modes.length; k += 4) {
    const [m0, m1, m2, m3] = modes.slice(k, k + 4);
    for (let r = 0; r < spans.length; r += 2) {
      const i = spans[r];
      K.axpy4(full.byteOffset + 4 * i, spans[r + 1] - i, ptr(m0, i), ptr(m1, i), ptr(m2, i), ptr(m3, i), m0[2], m1[2], m2[2], m3[2]);
    }
  }
  for (; k < modes.length; k++) {
    for (let r = 0; r < spans.length; r += 2) K.axpy1(full.byteOffset + 4 * spans[r], spans[r + 1] - spans[r], ptr(modes[k], spans[r]), modes[k][2]);
  }
  // out of the kernels' memory: the scratch is the next call's
  return vertices ? gatherVertices(full, vertices) : full.slice();
}
