import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { VoxfaceError, type FaceResult, type Mesh, type ReconstructionResult, type TexturedMesh, type Volume } from '../src/types.ts';
import { crc32, decodePNG, encodePNG, encodePNGGray16 } from '../src/image/png.ts';
import { textureMesh } from '../src/texture/index.ts';
import { depth, glb, json, npy, nrrd, obj, ply, stl, texturePNG, toExportFrame } from '../src/export/index.ts';
import { closedSphere, ellipsoidSheet, gradientPhoto } from './_meshes.ts';
import { glbAccessor, glbBufferView, readGLB, readNPYHeader, readNRRD, readPLY } from './_readers.ts';

const validator = createRequire(import.meta.url)('gltf-validator') as {
  validateBytes(data: Uint8Array): Promise<{ issues: { numErrors: number; numWarnings: number; messages: { code: string; message: string }[] } }>;
};

const sheet = ellipsoidSheet({ centre: [128, 120, 0], radii: [60, 80, 55], yaw: 0 }, { nTheta: 31, nPhi: 21 });
const textured: TexturedMesh = textureMesh(sheet.mesh, gradientPhoto(256, 240), { size: 128 });
const nv = sheet.mesh.positions.length / 3;
const nt = sheet.mesh.indices.length / 3;

/** Right-hand normal of triangle t. */
function faceNormal(p: ArrayLike<number>, idx: ArrayLike<number>, t: number): number[] {
  const [a, b, c] = [3 * idx[3 * t], 3 * idx[3 * t + 1], 3 * idx[3 * t + 2]];
  const u = [0, 1, 2].map((k) => p[b + k] - p[a + k]);
  const v = [0, 1, 2].map((k) => p[c + k] - p[a + k]);
  return [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
}

test('PNG: CRC-32 check value and RGB / RGBA / grey16 round trips with tEXt', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const rgb = new Uint8Array(7 * 5 * 3).map((_, i) => (i * 37) % 256);
  const back = decodePNG(encodePNG({ width: 7, height: 5, data: rgb }, { text: { Title: 'voxface test' } }));
  assert.deepEqual([back.width, back.height, back.channels, back.bitDepth], [7, 5, 3, 8]);
  assert.deepEqual(back.data, rgb);
  assert.equal(back.text.Title, 'voxface test');
  const rgba = new Uint8Array(3 * 4 * 4).map((_, i) => (i * 91) % 256);
  assert.deepEqual(decodePNG(encodePNG({ width: 3, height: 4, data: rgba, channels: 4 })).data, rgba);
  const grey = new Uint16Array(6 * 3).map((_, i) => i * 3001);
  const g = decodePNG(encodePNGGray16(6, 3, grey));
  assert.equal(g.bitDepth, 16);
  assert.deepEqual(g.data, grey);
  assert.throws(() => encodePNG({ width: 2, height: 2, data: new Uint8Array(5) }), VoxfaceError);
  assert.throws(() => decodePNG(new Uint8Array([1, 2, 3])), VoxfaceError);
});

test('PNG: our files decode in sharp (libpng/libspng) and sharp\'s files decode in ours', async () => {
  const rgb = new Uint8Array(33 * 17 * 3).map((_, i) => (i * 13 + (i >> 5)) % 256);
  const { data, info } = await sharp(encodePNG({ width: 33, height: 17, data: rgb })).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [33, 17, 3]);
  assert.deepEqual(new Uint8Array(data), rgb);
  const theirs = await sharp(Buffer.from(rgb), { raw: { width: 33, height: 17, channels: 3 } }).png().toBuffer();
  assert.deepEqual(decodePNG(new Uint8Array(theirs)).data, rgb);
  const grey = new Uint16Array(9 * 4).map((_, i) => i * 1800 + 7);
  const g16 = await sharp(encodePNGGray16(9, 4, grey)).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
  assert.equal(g16.info.channels, 1);
  assert.deepEqual(new Uint16Array(g16.data.buffer, g16.data.byteOffset, 36), grey);
});

test('frame: y-up negates y of positions and normals and keeps triangles facing the camera', () => {
  const up = toExportFrame(textured);
  const same = toExportFrame(textured, 'photo');
  for (let v = 0; v < nv; v++) {
    assert.equal(up.positions[3 * v], textured.positions[3 * v]);
    assert.equal(up.positions[3 * v + 1], -textured.positions[3 * v + 1]);
    assert.equal(up.positions[3 * v + 2], textured.positions[3 * v + 2]);
    assert.ok(Math.abs(up.normals[3 * v + 1] + textured.normals![3 * v + 1]) < 1e-6);
    assert.equal(same.positions[3 * v + 1], textured.positions[3 * v + 1]);
  }
  for (let t = 0; t < nt; t++) {
    // Triangle normals agree with the vertex normals in both frames (outward, toward the camera at the front).
    for (const f of [up, same]) {
      const n = faceNormal(f.positions, f.indices, t);
      const a = f.indices[3 * t];
      assert.ok(n[0] * f.normals[3 * a] + n[1] * f.normals[3 * a + 1] + n[2] * f.normals[3 * a + 2] > 0, `triangle ${t}`);
    }
  }
  assert.throws(() => toExportFrame({ positions: new Float32Array(6), indices: new Uint32Array([0, 1, 2]) }), VoxfaceError);
  assert.throws(() => toExportFrame({ positions: new Float32Array([0, 0, NaN, 1, 0, 0, 0, 1, 0]), indices: new Uint32Array([0, 1, 2]) }), VoxfaceError);
});

test('GLB: 0 errors and 0 warnings in gltf-validator (textured, untextured, both frames)', async () => {
  const variants: [string, Uint8Array][] = [
    ['textured y-up', glb.parse(textured)],
    ['textured photo frame, centred, colours', glb.parse(textured, { frame: 'photo', centre: true, vertexColors: true })],
    ['untextured with colours', glb.parse({ positions: sheet.mesh.positions, indices: sheet.mesh.indices, colors: textured.colors })],
    ['bare mesh', glb.parse(sheet.mesh)],
  ];
  for (const [name, bytes] of variants) {
    const { issues } = await validator.validateBytes(bytes);
    const list = issues.messages.map((m) => `${m.code}: ${m.message}`).join('; ');
    assert.equal(issues.numErrors, 0, `${name}: ${list}`);
    assert.equal(issues.numWarnings, 0, `${name}: ${list}`);
  }
});

test('GLB: contents parse back (frame, scale, PBR material, embedded PNG texture)', () => {
  const file = readGLB(glb.parse(textured, { metresPerPixel: 0.0008 }));
  assert.equal(file.json.asset.generator, 'voxface');
  assert.deepEqual(file.json.nodes[0].scale, [0.0008, 0.0008, 0.0008]);
  const prim = file.json.meshes[0].primitives[0];
  const material = file.json.materials[prim.material].pbrMetallicRoughness;
  assert.equal(material.metallicFactor, 0);
  assert.equal(material.roughnessFactor, 0.8);
  const pos = glbAccessor(file, prim.attributes.POSITION);
  const idx = glbAccessor(file, prim.indices);
  const uv = glbAccessor(file, prim.attributes.TEXCOORD_0);
  assert.equal(pos.length, 3 * nv);
  assert.equal(idx.length, 3 * nt);
  assert.ok(idx instanceof Uint32Array);
  for (let v = 0; v < nv; v++) {
    assert.equal(pos[3 * v + 1], -textured.positions[3 * v + 1]);
    assert.equal(uv[2 * v + 1], textured.uvs[2 * v + 1]); // glTF keeps v = 0 at the top
  }
  assert.equal(prim.attributes.COLOR_0, undefined, 'COLOR_0 would multiply the texture');
  const image = file.json.images![file.json.textures![material.baseColorTexture!.index].source];
  assert.equal(image.mimeType, 'image/png');
  const png = decodePNG(glbBufferView(file, image.bufferView));
  assert.deepEqual(png.data, textured.texture.data);
  // Untextured meshes carry their colours in COLOR_0.
  const plain = readGLB(glb.parse({ ...sheet.mesh, colors: textured.colors }));
  const col = glbAccessor(plain, plain.json.meshes[0].primitives[0].attributes.COLOR_0);
  assert.ok(Math.abs(col[5] - textured.colors[5]) < 1e-7);
  assert.throws(() => glb.parse(textured, { metresPerPixel: 0 }), VoxfaceError);
});

test('OBJ + MTL + PNG: v with colours, vt flipped to OBJ convention, vn, f v/vt/vn', () => {
  const files = {
    'head.obj': obj.parse(textured, { name: 'head', materialFile: 'head.mtl' }),
    'head.mtl': obj.parseMaterial({ name: 'head', textureFile: 'head.png' }),
    'head.png': texturePNG(textured)!,
  };
  const text = new TextDecoder().decode(files['head.obj']).split('\n');
  const rows = (tag: string) => text.filter((l) => l.startsWith(tag + ' ')).map((l) => l.split(' ').slice(1));
  assert.ok(text.includes('mtllib head.mtl') && text.includes('usemtl head'));
  const v = rows('v');
  const vt = rows('vt');
  const vn = rows('vn');
  const f = rows('f');
  assert.deepEqual([v.length, vt.length, vn.length, f.length], [nv, nv, nv, nt]);
  for (let i = 0; i < nv; i += 17) {
    const [x, y, z, r, g, b] = v[i].map(Number);
    assert.ok(Math.abs(x - textured.positions[3 * i]) < 1e-3 && Math.abs(y + textured.positions[3 * i + 1]) < 1e-3);
    assert.ok(Math.abs(z - textured.positions[3 * i + 2]) < 1e-3);
    assert.ok(Math.abs(r - textured.colors[3 * i]) < 1e-3 && Math.abs(g - textured.colors[3 * i + 1]) < 1e-3 && Math.abs(b - textured.colors[3 * i + 2]) < 1e-3);
    assert.ok(Math.abs(Number(vt[i][1]) - (1 - textured.uvs[2 * i + 1])) < 1e-5);
  }
  assert.match(f[0][0], /^(\d+)\/\1\/\1$/);
  const mtl = new TextDecoder().decode(files['head.mtl']);
  assert.match(mtl, /newmtl head/);
  assert.match(mtl, /map_Kd head\.png/);
  assert.deepEqual(decodePNG(files['head.png']).data, textured.texture.data);
  assert.throws(() => obj.parse(textured, { materialFile: 'my head.mtl' }), VoxfaceError);
  assert.throws(() => obj.parseMaterial({ textureFile: 'a\nmap_Kd b.png' }), VoxfaceError);
  // without a material file: no mtllib, no usemtl
  assert.ok(!new TextDecoder().decode(obj.parse(textured)).includes('mtllib'));
});

test('PLY: binary little-endian with normals, s/t and uchar colours parses back', () => {
  const file = readPLY(ply.parse(textured, { textureFile: 'face.png' }));
  assert.equal(file.header[1], 'format binary_little_endian 1.0');
  assert.ok(file.header.includes('comment TextureFile face.png'));
  assert.ok(file.header.includes('property list uchar int vertex_indices'));
  assert.deepEqual(file.vertexProps, ['x', 'y', 'z', 'nx', 'ny', 'nz', 's', 't', 'red', 'green', 'blue']);
  assert.equal(file.vertices.length, nv);
  assert.equal(file.faces.length, nt);
  for (let i = 0; i < nv; i += 13) {
    const row = file.vertices[i];
    assert.equal(row[1], -textured.positions[3 * i + 1]);
    assert.ok(Math.abs(row[7] - (1 - textured.uvs[2 * i + 1])) < 1e-6);
    assert.equal(row[8], Math.round(textured.colors[3 * i] * 255));
  }
  // Winding reversed with the y flip so the triangles keep facing the camera.
  const up = toExportFrame(textured);
  assert.deepEqual(file.faces[5], Array.from(up.indices.subarray(15, 18)));
});

test('STL: binary layout, outward unit normals and the enclosed volume of a closed sphere', () => {
  const sphere = closedSphere([300, 200, -40], 50);
  const bytes = stl.parse(sphere);
  const n = sphere.indices.length / 3;
  assert.equal(bytes.length, 84 + 50 * n);
  assert.notEqual(new TextDecoder().decode(bytes.subarray(0, 5)), 'solid');
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(view.getUint32(80, true), n);
  let volume = 0;
  for (let t = 0; t < n; t++) {
    const o = 84 + 50 * t;
    const f = Array.from({ length: 12 }, (_, k) => view.getFloat32(o + 4 * k, true));
    const [nx, ny, nz] = f;
    assert.ok(Math.abs(Math.hypot(nx, ny, nz) - 1) < 1e-5);
    const centroid = [0, 1, 2].map((k) => (f[3 + k] + f[6 + k] + f[9 + k]) / 3);
    const out = [centroid[0] - 300, centroid[1] + 200, centroid[2] + 40]; // y-up: the centre's y is −200
    assert.ok(nx * out[0] + ny * out[1] + nz * out[2] > 0, `triangle ${t} normal points inward`);
    const [a, b, c] = [f.slice(3, 6), f.slice(6, 9), f.slice(9, 12)];
    volume += (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0])) / 6;
    assert.equal(view.getUint16(o + 48, true), 0);
  }
  const exact = (4 / 3) * Math.PI * 50 ** 3;
  assert.ok(volume > 0.9 * exact && volume < exact, `enclosed volume ${volume.toFixed(0)} vs sphere ${exact.toFixed(0)}`);
});

/** A small volume with a known pattern: value depends on (d, r, c). */
function testVolume(): Volume {
  const [depthN, height, width] = [4, 5, 6];
  const data = new Float32Array(depthN * height * width);
  for (let d = 0; d < depthN; d++) {
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) data[(d * height + r) * width + c] = (d * 31 + r * 7 + c) / 130;
    }
  }
  data[0] = -0.5;
  data[1] = 1.7;
  return { width, height, depth: depthN, voxelSize: 2, data };
}
const crop = { size: 12, scale: 1.5, offset: [100, 50] as [number, number] };

test('NPY + JSON sidecar: header, C-order uint8 data and photo-frame geometry', () => {
  const vol = testVolume();
  const bytes = npy.parse(vol);
  const head = readNPYHeader(bytes);
  assert.deepEqual(head, { descr: '|u1', fortran: false, shape: [4, 5, 6], dataOffset: head.dataOffset });
  assert.equal(head.dataOffset % 64, 0);
  const data = bytes.subarray(head.dataOffset);
  assert.equal(data.length, 120);
  assert.equal(data[0], 0);
  assert.equal(data[1], 255);
  assert.equal(data[(2 * 5 + 3) * 6 + 4], Math.round(((2 * 31 + 3 * 7 + 4) / 130) * 255));
  const side = JSON.parse(new TextDecoder().decode(npy.parseSidecar(vol, { crop, file: 'v.volume.npy' })));
  assert.equal(side.file, 'v.volume.npy');
  assert.deepEqual(side.shape, [4, 5, 6]);
  assert.equal(side.voxelSize, 3); // 2 crop px per voxel × 1.5 photo px per crop px
  assert.deepEqual(side.origin, [101.5, 51.5, -4.5]); // (0.5·3 + 100, 0.5·3 + 50, (0.5 − 2)·3)
});

const python = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
test('NPY loads in numpy with the right shape, dtype and values', { skip: python.status === 0 ? false : 'needs /usr/bin/python3 with numpy' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-npy-'));
  try {
    writeFileSync(join(dir, 'v.npy'), npy.parse(testVolume()));
    const out = execFileSync('/usr/bin/python3', ['-c', `import numpy as np; a = np.load('${join(dir, 'v.npy')}'); print(a.shape, a.dtype, int(a[2, 3, 4]), int(a.sum()))`], { encoding: 'utf8' });
    const q = Array.from(testVolume().data, (x) => Math.round(Math.min(Math.max(x, 0), 1) * 255));
    assert.equal(out.trim(), `(4, 5, 6) uint8 ${q[(2 * 5 + 3) * 6 + 4]} ${q.reduce((s, x) => s + x, 0)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NRRD: gzip and raw encodings, sizes, LPS directions in mm and origin', () => {
  const vol = testVolume();
  for (const encoding of ['gzip', 'raw'] as const) {
    const file = readNRRD(nrrd.parse(vol, { crop, encoding, metresPerPixel: 0.0005 }));
    assert.equal(file.magic, 'NRRD0004');
    assert.equal(file.fields.type, 'uint8');
    assert.equal(file.fields.dimension, '3');
    assert.equal(file.fields.sizes, '6 5 4');
    assert.equal(file.fields.space, 'left-posterior-superior');
    assert.equal(file.fields.encoding, encoding);
    // 3 photo px per voxel × 0.5 mm per px = 1.5 mm; x → L, y (down) → −S, z (toward camera) → −P.
    assert.equal(file.fields['space directions'], '(1.5,0,0) (0,0,-1.5) (0,-1.5,0)');
    assert.equal(file.fields['space origin'], '(50.75,2.25,-25.75)');
    assert.equal(file.data.length, 120);
    assert.equal(file.data[(2 * 5 + 3) * 6 + 4], Math.round(((2 * 31 + 3 * 7 + 4) / 130) * 255));
  }
  assert.throws(() => nrrd.parse({ ...vol, data: new Float32Array(3) }), VoxfaceError);
});

test('depth map: z-buffer of the mesh as a 16-bit PNG whose tEXt scale recovers z', async () => {
  const [W, H] = [256, 240];
  const z = depth.depthFromMesh(sheet.mesh, W, H);
  const png = depth.parse(z, W, H);
  const back = decodePNG(png);
  assert.deepEqual([back.width, back.height, back.channels, back.bitDepth], [W, H, 1, 16]);
  const offset = Number(back.text.depth_offset);
  const scale = Number(back.text.depth_scale);
  let covered = 0;
  for (let i = 0; i < W * H; i++) {
    const level = back.data[i];
    if (Number.isNaN(z[i])) {
      assert.equal(level, 0);
      continue;
    }
    covered++;
    assert.ok(level >= 1);
    assert.ok(Math.abs(offset + (level - 1) * scale - z[i]) <= scale);
  }
  assert.ok(covered > 10000, `${covered} pixels covered`);
  // The ellipsoid's front: the pixel under the centre is the nearest (z ≈ 55), a pixel off the face is empty.
  assert.ok(Math.abs(z[120 * W + 128] - 55) < 0.5, `z at the centre ${z[120 * W + 128]}`);
  assert.ok(Number.isNaN(z[5 * W + 5]));
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.channels, meta.bitsPerSample], [1, 16]);
  const viaSharp = await sharp(png).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer();
  assert.deepEqual(new Uint16Array(viaSharp.buffer, viaSharp.byteOffset, W * H), back.data);
  assert.throws(() => depth.parse(z, W, H + 1), VoxfaceError);
});

test('JSON contract: faces largest first, rounded numbers, mesh counts', () => {
  const face = (box: [number, number, number, number], score: number): FaceResult => ({
    box,
    score,
    detector: 'test',
    crop: { size: 192, scale: 1.2345678, offset: [10.123, 20.987] },
    landmarks68: Array.from({ length: 68 }, (_, i) => [i + 0.12345, i * 2 + 0.5, -i / 3] as [number, number, number]),
    pose: { yaw: 12.3456, pitch: -3.21, roll: 0.004 },
    shape: 'network',
    mesh: textured,
    volume: testVolume(),
    timings: { network: 123.456, mesh: 7.891 },
  });
  const result: ReconstructionResult = {
    image: { width: 640, height: 480 },
    faces: [face([0, 0, 50, 60], 0.91234), face([100, 80, 120, 150.555], 0.98765)],
    timings: { total: 200 },
  };
  const out = JSON.parse(new TextDecoder().decode(json.parse(result)));
  assert.deepEqual(Object.keys(out), ['image', 'faces']);
  assert.deepEqual(out.image, { width: 640, height: 480 });
  assert.deepEqual(out.faces.map((f: { box: number[] }) => f.box), [[100, 80, 120, 150.56], [0, 0, 50, 60]]);
  const f0 = out.faces[0];
  assert.deepEqual(Object.keys(f0), ['box', 'score', 'landmarks68', 'pose', 'detector', 'crop', 'shape', 'mesh', 'timings']);
  assert.equal(f0.shape, 'network');
  assert.equal(f0.score, 0.988);
  assert.equal(f0.landmarks68.length, 68);
  assert.deepEqual(f0.landmarks68[3], [3.12, 6.5, -1]);
  assert.deepEqual(f0.pose, { yaw: 12.35, pitch: -3.21, roll: 0 });
  assert.deepEqual(f0.crop, { size: 192, scale: 1.234568, offset: [10.12, 20.99] });
  assert.deepEqual(f0.mesh, { vertices: nv, triangles: nt });
  assert.deepEqual(f0.timings, { network: 123.46, mesh: 7.89 });
  assert.throws(() => json.parse({} as ReconstructionResult), VoxfaceError);
  // a face whose mesh is the fitted prior says what was fitted: identity to its last non-zero weight, named expressions
  const identity = new Float32Array(100);
  identity.set([0.51234, -1.2, 0.3]);
  const expression = new Float32Array(53);
  expression[26] = 0.4567; // jawOpen
  const withPrior = { ...result.faces[0], shape: 'prior' as const, prior: { source: 'facemesh' as const, region: 'face' as const, identity, expression, rotation: [1, 0, 0, 0, 1, 0, 0, 0, 1], scale: 12.345678, translation: [0, 0, 0] as [number, number, number], pose: result.faces[0].pose, rms: 1.234 } };
  const p = JSON.parse(new TextDecoder().decode(json.parse({ ...result, faces: [withPrior] }))).faces[0];
  assert.equal(p.shape, 'prior');
  assert.deepEqual(p.prior, { source: 'facemesh', region: 'face', scale: 12.3457, rms: 1.23, identity: [0.512, -1.2, 0.3], expression: { jawOpen: 0.457 } });
});

test('exporters reject broken meshes with VoxfaceError', () => {
  const bad: Mesh = { positions: new Float32Array(9), indices: new Uint32Array([0, 1, 3]) };
  for (const fn of [() => glb.parse(bad), () => obj.parse(bad), () => ply.parse(bad), () => stl.parse(bad)]) {
    assert.throws(fn, VoxfaceError);
  }
  assert.throws(() => ply.parse({ ...sheet.mesh, uvs: new Float32Array(3) }), VoxfaceError);
});
