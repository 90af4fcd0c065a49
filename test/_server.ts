/**
 * Shared fixtures of the server and web tests: where the photos and the model are, and generated bad inputs
 * (noise, a decompression-bomb PNG, a truncated JPEG).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { crc32, encodePNG } from '../src/image/png.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(ROOT, '..', 'shared');
export const FACES = path.join(SHARED, 'faces');
/** One face, 400×400. */
export const PHOTO = path.join(FACES, 'deepface', 'img25.jpg');
/** Two faces. */
export const GROUP_PHOTO = path.join(FACES, 'dlib-faces', '2008_001009.jpg');
export const MODEL = path.join(ROOT, 'models', 'vrn-compact.onnx');

/** Why a test that needs the photos and the model must skip (false when it can run). */
export function needsPhotosAndModel(): string | false {
  if (!existsSync(PHOTO) || !existsSync(GROUP_PHOTO)) return 'needs ../shared (VOXFACE_SHARED)';
  if (!existsSync(MODEL)) return 'needs models/vrn-compact.onnx';
  return false;
}

export const readPhoto = (file = PHOTO): Buffer => readFileSync(file);

export const gltfValidator = createRequire(import.meta.url)('gltf-validator') as {
  validateBytes(data: Uint8Array): Promise<{ issues: { numErrors: number; numWarnings: number; messages: { code: string; message: string; severity: number }[] } }>;
};

/** A PNG of uniform random RGB noise (no face in it). */
export function noisePNG(width: number, height: number, seed = 1): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = s & 0xff;
  }
  return encodePNG({ width, height, data });
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid, small PNG that decodes to a huge image (1-bit grey, all zero): `size`² pixels in a few kB —
 * a decompression bomb. 12 000² = 144 megapixels, 18 MB of rows in ~20 kB.
 */
export function pngBomb(size = 12000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(size / 8)) * size); // filter byte 0 + zero bits per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * A small noise PNG carrying `text` in a tEXt chunk (after IHDR): a valid image whose bytes hold whatever the test
 * needs, e.g. CRLFs and boundary-like bytes for a multipart upload.
 */
export function pngWithText(width: number, height: number, text: Uint8Array): Buffer {
  const png = Buffer.from(noisePNG(width, height));
  const keyword = Buffer.from('Comment\0', 'latin1');
  return Buffer.concat([png.subarray(0, 33), chunk('tEXt', Buffer.concat([keyword, text])), png.subarray(33)]);
}
