/**
 * zlib compression for the PNG encoder, platform-neutral: fflate (JavaScript) by default; a platform may give a
 * faster one (`src/node/zlib.ts`: Node's own zlib, about 3× faster on textures). Both write standard zlib streams,
 * so any PNG decoder reads either; only the bytes differ.
 *
 * ```ts
 * useDeflate((data, level) => deflateSync(data, { level }));
 * const z = zlibDeflate(raw, 6);
 * ```
 */
import { zlibSync } from 'fflate';

/** zlib's match strategy: 'rle' looks for repeats of the previous byte only (a compressor may ignore it). */
export type DeflateStrategy = 'default' | 'rle';

/** A zlib (RFC 1950) compressor: `level` 0–9, and a strategy it may honour. */
export type Deflate = (data: Uint8Array, level: number, strategy?: DeflateStrategy) => Uint8Array;

const fflateDeflate: Deflate = (data, level) => zlibSync(data, { level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 });

let current: Deflate = fflateDeflate;

/** Sets the compressor (undefined: back to fflate's). */
export function useDeflate(deflate: Deflate | undefined): void {
  current = deflate ?? fflateDeflate;
}

/** `data` as a zlib stream at `level` (and `strategy`, where the compressor has it), by the one `useDeflate` set. */
export function zlibDeflate(data: Uint8Array, level: number, strategy: DeflateStrategy = 'default'): Uint8Array {
  return current(data, level, strategy);
}
