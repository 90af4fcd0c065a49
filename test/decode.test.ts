import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, constants } from 'node:zlib';
import sharp from 'sharp';
import { VoxfaceError, type RGBImage } from '../src/types.ts';
import { decodeImage } from '../src/node/decode.ts';
import { sniffImage } from '../src/decode/sniff.ts';
import { decodePnm } from '../src/decode/pnm.ts';

// A 40×30 test card: left half red, top half green 200, bottom half green 20, blue 60.
const W = 40, H = 30;
const card = Buffer.alloc(W * H * 3);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const i = (y * W + x) * 3;
    card[i] = x < W / 2 ? 255 : 0;
    card[i + 1] = y < H / 2 ? 200 : 20;
    card[i + 2] = 60;
  }
}
const base = () => sharp(card, { raw: { width: W, height: H, channels: 3 } });
const px = (img: RGBImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
const near = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

async function rejects(p: Promise<unknown>, code: VoxfaceError['code']): Promise<VoxfaceError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VoxfaceError, `expected VoxfaceError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return e;
  }
  assert.fail(`expected ${code}`);
}

/** Checks a decoded test card: size and the four quadrant colours (lossy formats get a tolerance). */
function assertCard(img: RGBImage, tol: number) {
  assert.equal(img.width, W);
  assert.equal(img.height, H);
  assert.equal(img.data.length, W * H * 3);
  assert.ok(near(px(img, 5, 5), [255, 200, 60], tol), `top-left ${px(img, 5, 5)}`);
  assert.ok(near(px(img, 35, 5), [0, 200, 60], tol), `top-right ${px(img, 35, 5)}`);
  assert.ok(near(px(img, 5, 25), [255, 20, 60], tol), `bottom-left ${px(img, 5, 25)}`);
  assert.ok(near(px(img, 35, 25), [0, 20, 60], tol), `bottom-right ${px(img, 35, 25)}`);
}

test('decodes JPEG, PNG, WebP (lossy and lossless), TIFF, GIF to 8-bit RGB', async () => {
  assertCard(await decodeImage(await base().jpeg({ quality: 95 }).toBuffer()), 12);
  assertCard(await decodeImage(await base().png().toBuffer()), 0);
  assertCard(await decodeImage(await base().webp({ quality: 95 }).toBuffer()), 12);
  assertCard(await decodeImage(await base().webp({ lossless: true }).toBuffer()), 0);
  assertCard(await decodeImage(await base().tiff({ compression: 'lzw' }).toBuffer()), 0);
  assertCard(await decodeImage(await base().gif().toBuffer()), 8);
});

test('decodes AVIF when this sharp build can encode it', async (t) => {
  let avif: Buffer;
  try {
    avif = await base().avif({ quality: 90 }).toBuffer();
  } catch {
    t.skip('sharp build without an AVIF encoder');
    return;
  }
  assert.equal(sniffImage(avif).format, 'avif');
  assertCard(await decodeImage(avif), 16);
});

test('applies EXIF orientation 6 (rotate 90° clockwise)', async () => {
  const jpeg = await base().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  const img = await decodeImage(jpeg);
  assert.equal(img.width, H);
  assert.equal(img.height, W);
  // After a clockwise quarter turn the original bottom-left (red, green 20) is at the top-left,
  // and the original top-left (red, green 200) at the top-right.
  assert.ok(near(px(img, 3, 3), [255, 20, 60], 12), `${px(img, 3, 3)}`);
  assert.ok(near(px(img, H - 4, 3), [255, 200, 60], 12), `${px(img, H - 4, 3)}`);
  assert.ok(near(px(img, H - 4, W - 4), [0, 200, 60], 12), `${px(img, H - 4, W - 4)}`);
});

test('converts 16-bit PNG, CMYK JPEG, grey PNG and flattens alpha onto white', async () => {
  const png16 = await base().toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(png16).metadata()).depth, 'ushort');
  assertCard(await decodeImage(png16), 1);

  const cmyk = await base().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const c = await decodeImage(cmyk);
  assert.equal(c.data.length, W * H * 3);
  // CMYK round trips through a profile: hues survive, exact values do not.
  const tl = px(c, 5, 5), br = px(c, 35, 25);
  assert.ok(tl[0] > 200 && tl[1] > 150 && br[0] < 40 && br[1] < 60, `${tl} ${br}`);

  const grey = await sharp(Buffer.alloc(W * H, 90), { raw: { width: W, height: H, channels: 1 } }).png().toBuffer();
  const g = await decodeImage(grey);
  assert.deepEqual(px(g, 10, 10), [90, 90, 90]);

  const rgba = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([0, 0, 0, i < (W * H) / 2 ? 0 : 255], i * 4);
  const a = await decodeImage(await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer());
  assert.deepEqual(px(a, 5, 2), [255, 255, 255], 'transparent → white');
  assert.deepEqual(px(a, 5, H - 2), [0, 0, 0], 'opaque black stays black');
});

test('GIF: first frame of an animation', async () => {
  const frames = Buffer.alloc(W * H * 2 * 3);
  frames.fill(0);
  for (let i = 0; i < W * H; i++) frames[i * 3] = 255; // frame 1 red, frame 2 black
  // A tall image with pageHeight is written as a 2-frame animation.
  const anim = await sharp(frames, { raw: { width: W, height: H * 2, channels: 3, pageHeight: H } as never })
    .gif({ loop: 0 })
    .toBuffer();
  const meta = await sharp(anim, { pages: -1 }).metadata();
  assert.equal(meta.pages, 2);
  const img = await decodeImage(anim);
  assert.equal(img.height, H);
  assert.ok(near(px(img, 10, 10), [255, 0, 0], 8), `${px(img, 10, 10)}`);
});

test('PPM/PGM/PBM through our own parser (binary, ASCII, 16-bit)', async () => {
  const header = Buffer.from(`P6\n# a comment\n${W} ${H}\n255\n`);
  assertCard(await decodeImage(Buffer.concat([header, card])), 0);

  const ascii = `P3 2 1 255\n255 0 0  0 0 255\n`;
  const a = decodePnm(Buffer.from(ascii));
  assert.deepEqual(Array.from(a.data), [255, 0, 0, 0, 0, 255]);

  const pgm16 = Buffer.concat([Buffer.from('P5 2 1 65535\n'), Buffer.from([0xff, 0xff, 0x80, 0x00])]);
  assert.deepEqual(Array.from(decodePnm(pgm16).data), [255, 255, 255, 128, 128, 128]);

  const pbm = Buffer.concat([Buffer.from('P4 3 1\n'), Buffer.from([0b10100000])]);
  assert.deepEqual(Array.from(decodePnm(pbm).data), [0, 0, 0, 255, 255, 255, 0, 0, 0]);

  await rejects(decodeImage(Buffer.concat([header, card.subarray(0, 100)])), 'TRUNCATED_IMAGE');
});

test('BMP through our own parser (24-bit bottom-up, 8-bit palette, 32-bit bitfields top-down)', async () => {
  // 24-bit bottom-up.
  const stride = Math.ceil((W * 3) / 4) * 4;
  const pix = Buffer.alloc(stride * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const s = (y * W + x) * 3, d = (H - 1 - y) * stride + x * 3;
      pix[d] = card[s + 2];
      pix[d + 1] = card[s + 1];
      pix[d + 2] = card[s];
    }
  }
  const h24 = bmpHeader(W, H);
  h24.writeInt32LE(H, 22);
  h24.writeUInt16LE(24, 28);
  assertCard(await decodeImage(Buffer.concat([h24, pix])), 0);
  await rejects(decodeImage(Buffer.concat([h24, pix.subarray(0, 100)])), 'TRUNCATED_IMAGE');

  // 8-bit palette, top-down, 2×1: palette [blue, red], pixels [1, 0].
  const h8 = bmpHeader(2, 1);
  h8.writeUInt16LE(8, 28);
  h8.writeUInt32LE(2, 46);
  h8.writeUInt32LE(54 + 8, 10);
  const pal = Buffer.from([255, 0, 0, 0, 0, 0, 255, 0]);
  const p8 = await decodeImage(Buffer.concat([h8, pal, Buffer.from([1, 0, 0, 0])]));
  assert.deepEqual(Array.from(p8.data), [255, 0, 0, 0, 0, 255]);

  // 32-bit BI_BITFIELDS with masks R=0xff, G=0xff00, B=0xff0000 (unusual order), one pixel.
  const h32 = Buffer.concat([bmpHeader(1, 1), Buffer.alloc(12)]);
  h32.writeUInt16LE(32, 28);
  h32.writeUInt32LE(3, 30);
  h32.writeUInt32LE(66, 10);
  h32.writeUInt32LE(0xff, 54);
  h32.writeUInt32LE(0xff00, 58);
  h32.writeUInt32LE(0xff0000, 62);
  const p32 = await decodeImage(Buffer.concat([h32, Buffer.from([10, 20, 30, 0])]));
  assert.deepEqual(Array.from(p32.data), [10, 20, 30]);
});

test('refuses a text file named .jpg, an empty file and unknown bytes with NOT_AN_IMAGE', async () => {
  const e = await rejects(decodeImage(Buffer.from('hello, this is not a photo\n'.repeat(10))), 'NOT_AN_IMAGE');
  assert.match(e.message, /text/);
  await rejects(decodeImage(new Uint8Array(0)), 'NOT_AN_IMAGE');
  await rejects(decodeImage(new Uint8Array([0, 1, 2, 3, 250, 251, 252, 0, 0, 0, 0, 0])), 'NOT_AN_IMAGE');
});

test('a truncated JPEG or PNG gives TRUNCATED_IMAGE, not grey garbage', async () => {
  const big = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#806040' } })
    .composite([{ input: card, raw: { width: W, height: H, channels: 3 }, left: 10, top: 10 }])
    .jpeg({ quality: 95 })
    .toBuffer();
  await rejects(decodeImage(big.subarray(0, Math.floor(big.length * 0.6))), 'TRUNCATED_IMAGE');
  await rejects(decodeImage(big.subarray(0, 40)), 'TRUNCATED_IMAGE'); // cut inside the headers
  const png = await base().png().toBuffer();
  await rejects(decodeImage(png.subarray(0, Math.floor(png.length * 0.7))), 'TRUNCATED_IMAGE');
  await rejects(decodeImage(png.subarray(0, 20)), 'TRUNCATED_IMAGE');
});

test('a 30000×30000 PNG bomb (~100 KB) is refused from its header, in milliseconds', async () => {
  const bomb = pngBomb(30000, 30000);
  assert.ok(bomb.length < 400_000, `bomb is ${bomb.length} bytes`);
  assert.deepEqual(sniffImage(bomb, { maxPixels: 1e9 }), { format: 'png', width: 30000, height: 30000 });
  const e = await rejects(decodeImage(bomb), 'IMAGE_TOO_LARGE');
  assert.match(e.message, /30000×30000/);
  // Limits are configurable both ways.
  await rejects(decodeImage(await base().png().toBuffer(), { maxPixels: 1000 }), 'IMAGE_TOO_LARGE');
  await rejects(decodeImage(await base().png().toBuffer(), { maxBytes: 50 }), 'IMAGE_TOO_LARGE');
});

test('sniffImage reads sizes from headers of every format', async () => {
  const cases: [string, Buffer][] = [
    ['jpeg', await base().jpeg().toBuffer()],
    ['png', await base().png().toBuffer()],
    ['webp', await base().webp().toBuffer()],
    ['webp', await base().webp({ lossless: true }).toBuffer()],
    ['tiff', await base().tiff().toBuffer()],
    ['gif', await base().gif().toBuffer()],
    ['pnm', Buffer.from(`P6 ${W} ${H} 255\n`)],
    ['bmp', bmpHeader(W, H)],
  ];
  for (const [format, bytes] of cases) assert.deepEqual(sniffImage(bytes), { format, width: W, height: H }, format);
  // WebP with alpha uses the extended (VP8X) header.
  const webpa = await base().ensureAlpha(0.5).webp().toBuffer();
  assert.deepEqual(sniffImage(webpa), { format: 'webp', width: W, height: H });
});

/** A 1-bit greyscale PNG of w×h zero pixels: IHDR + a zlib stream built from repeated full-flush blocks. */
function pngBomb(w: number, h: number): Buffer {
  const rowBytes = 1 + Math.ceil(w / 8);
  const rowsPerBlock = 1000;
  const block = deflateRawSync(Buffer.alloc(rowBytes * rowsPerBlock), { finishFlush: constants.Z_FULL_FLUSH });
  const blocks: Buffer[] = [Buffer.from([0x78, 0x9c])];
  for (let r = 0; r < h; r += rowsPerBlock) blocks.push(block);
  blocks.push(Buffer.from([0x03, 0x00])); // final empty fixed-Huffman block
  const total = rowBytes * h;
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((total % 65521) << 16) | 1) >>> 0);
  blocks.push(adler);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([1, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(blocks)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A BMP file header + BITMAPINFOHEADER (bottom-up) for w×h, no pixels. */
function bmpHeader(w: number, h: number): Buffer {
  const b = Buffer.alloc(54);
  b.write('BM', 0, 'ascii');
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(-h, 22);
  return b;
}
