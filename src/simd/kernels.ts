/**
 * WebAssembly SIMD kernels for the stages' dense loops, over a `FloatArena`: float arrays that live in one
 * WebAssembly memory, so a kernel reads them in place. The same bytes run in Node and in the browser
 * (src/simd/kernels-wasm.ts, assembled by scripts/build-simd.ts); where WebAssembly or its SIMD is missing,
 * `createFloatArena` answers undefined and the callers keep their JavaScript loops.
 *
 * ```ts
 * const arena = createFloatArena(1024);
 * if (arena) {
 *   const out = arena.alloc(8), a = arena.alloc(8);
 *   a.fill(2);
 *   arena.kernels.axpy1(out.byteOffset, 8, a.byteOffset, 0.5);   // out[i] += 0.5 · a[i]: 1 everywhere
 * }
 * ```
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm.ts';

/** The kernels: `axpyN(out, n, a_0 … a_{N−1}, c_0 … c_{N−1})` adds Σ_k c_k · a_k[i] to out[i], i < n (f32). */
export interface SimdKernels {
  axpy8(out: number, n: number, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number,
    c0: number, c1: number, c2: number, c3: number, c4: number, c5: number, c6: number, c7: number): void;
  axpy4(out: number, n: number, a0: number, a1: number, a2: number, a3: number, c0: number, c1: number, c2: number, c3: number): void;
  axpy1(out: number, n: number, a0: number, c0: number): void;
  /** The pull-push fill's levels on RGBA texels (src/texture/fill.ts; scripts/build-simd.ts says what each does). */
  pull(fine: number, fw: number, fh: number, coarse: number): void;
  push(fine: number, fw: number, fh: number, coarse: number, cw: number, ch: number, cols: number): void;
  bytes(src: number, n: number, dst: number): void;
}

/** Float arrays in one WebAssembly memory, and the kernels over it (pointers are the arrays' byte offsets). */
export interface FloatArena {
  kernels: SimdKernels;
  /** An array of `floats` inside the arena, 16-byte aligned (zeroed when new); throws when the arena is full. */
  alloc(floats: number): Float32Array;
  /** Floats the arena holds in all. */
  readonly capacity: number;
  /** Gives every array back (their memory is reused by the next `alloc`s: the old arrays must not be used again). */
  reset(): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The kernels' module, compiled once; null where WebAssembly SIMD is not available. */
function kernelsModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** An arena of at least `floats` floats (rounded up to WebAssembly's 64 KiB pages), or undefined without SIMD. */
export function createFloatArena(floats: number): FloatArena | undefined {
  const module = kernelsModule();
  if (!module) return undefined;
  const pages = Math.ceil((floats * 4 + 16) / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
  let next = 16; // byte 0 stays unused: a pointer is never 0
  return {
    kernels,
    capacity: (memory.buffer.byteLength - 16) / 4,
    reset() {
      next = 16;
    },
    alloc(n: number): Float32Array {
      const at = next;
      const end = at + Math.ceil((n * 4) / 16) * 16;
      if (end > memory.buffer.byteLength) throw new RangeError(`FloatArena: ${n} floats do not fit`);
      next = end;
      return new Float32Array(memory.buffer, at, n);
    },
  };
}

let kept: FloatArena | null | undefined; // null: no WebAssembly SIMD here

/**
 * One arena kept for short-lived work, grown to at least `floats` and reset on every call: what the previous caller
 * allocated in it is gone, so a caller copies its results out before it returns (undefined without SIMD).
 *
 * ```ts
 * const arena = scratchArena(3 * n);
 * if (arena) { const a = arena.alloc(n); … ; return a.slice(); }
 * ```
 */
export function scratchArena(floats: number): FloatArena | undefined {
  if (kept === null) return undefined;
  if (!kept || kept.capacity < floats) {
    kept = createFloatArena(Math.ceil(floats * 1.1)) ?? null;
    if (kept === null) return undefined;
  }
  kept.reset();
  return kept;
}
