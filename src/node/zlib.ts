/**
 * In Node, PNGs (textures, depth maps) are compressed by Node's own zlib instead of fflate's JavaScript: about 3×
 * faster for the same level (src/image/deflate.ts). Imported for its effect by `voxface/node`.
 */
import { constants, deflateSync } from 'node:zlib';
import { useDeflate } from '../image/deflate.ts';

useDeflate((data, level, strategy) => {
  const out = deflateSync(data, { level, strategy: strategy === 'rle' ? constants.Z_RLE : constants.Z_DEFAULT_STRATEGY });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
});
