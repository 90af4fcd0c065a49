/**
 * File naming, table-driven: for photo names with a space, an accent and extra dots, every format is written to
 * disk and every reference between files resolves to a file that is there (OBJ mtllib → MTL, map_Kd → PNG, PLY
 * TextureFile → PNG, volume sidecar → NPY; the GLB embeds its texture). The manifest says which face, format and
 * role each file has, and its names are `fileName()`'s.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseName, exportResult, FILE_KINDS, fileName, FORMATS } from '../src/export/files.ts';
import type { ExportedFile, FileKind } from '../src/export/files.ts';
import { decodePNG } from '../src/image/png.ts';
import { LANDMARK_TEMPLATE_CM } from '../src/landmarks/template.ts';
import { textureMesh } from '../src/texture/index.ts';
import type { FaceResult, ReconstructionResult, Vec3 } from '../src/types.ts';
import { ellipsoidSheet, gradientPhoto } from './_meshes.ts';
import { readGLB, readPLY } from './_readers.ts';

const photo = gradientPhoto(320, 240);
function face(cx: number, size: number): FaceResult {
  const sheet = ellipsoidSheet({ centre: [cx, 120, 0], radii: [size, size * 1.3, size], yaw: 0 }, { nTheta: 21, nPhi: 15 });
  const landmarks68 = LANDMARK_TEMPLATE_CM.map(([x, y, z]) => [cx + x * size * 0.1, 120 - y * size * 0.1, z * size * 0.1] as Vec3);
  const n = 6;
  // `as`: fits FaceResult with or without the prior's fields (the mesh here is a network-style surface)
  return {
    shape: 'network',
    box: [cx - size, 120 - size, 2 * size, 2 * size],
    score: 0.9,
    detector: 'test',
    crop: { size: 64, scale: (2 * size) / 64, offset: [cx - size, 120 - size] },
    landmarks68,
    pose: { yaw: 0, pitch: 0, roll: 0 },
    mesh: textureMesh(sheet.mesh, photo, { size: 32 }),
    volume: { width: n, height: n, depth: n, voxelSize: 64 / n, data: new Float32Array(n * n * n).map((_, i) => (i % 7) / 6) },
    timings: {},
  } as FaceResult;
}
const result: ReconstructionResult = { image: { width: 320, height: 240 }, faces: [face(100, 50), face(240, 30)], timings: {} };

const CASES = [
  { photo: 'My Photo', base: 'My_Photo' },
  { photo: 'été.jpg', base: 'été' },
  { photo: 'a.b.c.png', base: 'a.b.c' },
  { photo: 'C:\\photos\\x "y".jpeg', base: 'x_y' },
];

const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** The argument of every line starting with `key ` (OBJ/MTL statements). */
const statements = (b: Uint8Array, key: string) =>
  text(b)
    .split('\n')
    .filter((l) => l.startsWith(`${key} `))
    .map((l) => l.slice(key.length + 1));

for (const { photo: name, base: expected } of CASES) {
  test(`every format for a photo named ${JSON.stringify(name)}: names from fileName(), every reference resolves`, () => {
    const base = baseName(name);
    assert.equal(base, expected);
    const files = exportResult(result, base, { formats: [...FORMATS] });
    const dir = mkdtempSync(join(tmpdir(), 'voxface-names-'));
    try {
      for (const f of files) writeFileSync(join(dir, f.name), f.bytes);
      // the manifest is the folder: unique names, nothing else written
      assert.equal(new Set(files.map((f) => f.name)).size, files.length);
      assert.deepEqual(readdirSync(dir).sort(), files.map((f) => f.name).sort());
      // every name is fileName() of its face and kind; every face has every format
      for (const f of files) {
        const kind = (Object.keys(FILE_KINDS) as FileKind[]).find((k) => FILE_KINDS[k].role === f.role && (FILE_KINDS[k].format === f.format || k === 'texture'));
        assert.ok(kind, `${f.name}: ${f.format}/${f.role}`);
        assert.equal(f.name, fileName(base, f.face, kind!));
        assert.ok(f.name.startsWith(f.face ? `${base}.face${f.face}.` : `${base}.`), f.name);
      }
      assert.deepEqual(files.filter((f) => f.face === null).map((f) => f.format), ['json']);
      for (const i of [0, 1]) {
        const mine = files.filter((f) => f.face === i);
        assert.deepEqual([...new Set(mine.map((f) => f.format))].sort(), FORMATS.filter((f) => f !== 'json').sort(), `face ${i}`);
        const one = (format: string, role: string): ExportedFile => {
          const hits = mine.filter((f) => f.format === format && f.role === role);
          assert.equal(hits.length, 1, `face ${i}: one ${format} ${role}`);
          return hits[0];
        };
        const exists = (ref: string) => assert.ok(existsSync(join(dir, ref)) && mine.some((f) => f.name === ref), `face ${i}: "${ref}" is not one of its files`);

        // OBJ → MTL → PNG
        const objFile = one('obj', 'mesh');
        const mtllib = statements(objFile.bytes, 'mtllib');
        assert.equal(mtllib.length, 1);
        exists(mtllib[0]);
        assert.equal(mtllib[0], one('obj', 'material').name);
        const mtl = readFileSync(join(dir, mtllib[0]));
        assert.deepEqual(statements(objFile.bytes, 'usemtl'), statements(mtl, 'newmtl'));
        const mapKd = statements(mtl, 'map_Kd');
        assert.equal(mapKd.length, 1);
        exists(mapKd[0]);
        const png = decodePNG(readFileSync(join(dir, mapKd[0])));
        assert.deepEqual([png.width, png.height], [32, 32]);
        assert.equal(mine.find((f) => f.name === mapKd[0])!.role, 'texture');

        // PLY → the same PNG
        // the header's text as UTF-8 (file names are UTF-8 bytes, as on the disk)
        const plyBytes = one('ply', 'mesh').bytes;
        assert.ok(readPLY(plyBytes).header.length > 0);
        const header = text(plyBytes.subarray(0, Buffer.from(plyBytes).indexOf('end_header'))).split('\n');
        const textureFile = header.filter((l) => l.startsWith('comment TextureFile ')).map((l) => l.slice('comment TextureFile '.length));
        assert.deepEqual(textureFile, [mapKd[0]]);
        exists(textureFile[0]);

        // volume sidecar → its NPY
        const sidecar = JSON.parse(text(one('volume', 'volume-info').bytes)) as { file: string };
        exists(sidecar.file);
        assert.equal(sidecar.file, one('volume', 'volume').name);

        // GLB: self-contained (no external uri), with the same texture pixels
        const glb = readGLB(one('glb', 'model').bytes);
        const json = glb.json as unknown as { images?: { uri?: string }[]; buffers: { uri?: string }[] };
        assert.ok((json.images ?? []).length === 1 && json.images!.every((im) => im.uri === undefined));
        assert.ok(json.buffers.every((b) => b.uri === undefined));
        for (const f of ['stl', 'nrrd', 'depth']) assert.ok(mine.some((x) => x.format === f));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('base names: folders and extensions go, unsafe characters become _, never empty', () => {
  assert.equal(baseName('photos/My Photo.jpg'), 'My_Photo');
  assert.equal(baseName('../../etc/passwd'), 'passwd');
  assert.equal(baseName('.jpg'), 'face');
  assert.equal(baseName(undefined), 'face');
  assert.equal(baseName('  ..hidden file!.png'), 'hidden_file');
  assert.equal(baseName('e\u0301te\u0301.jpg'), 'été'); // decomposed accents are composed (NFC)
  assert.equal(baseName(`${'x'.repeat(100)}.jpg`).length, 64);
  assert.equal(fileName('My Photo', 1, 'glb'), 'My_Photo.face1.glb');
});

test('formats without OBJ or PLY write no texture file; only requested formats are written', () => {
  const files = exportResult(result, 'g', { formats: ['glb', 'stl'] });
  assert.deepEqual(files.map((f) => `${f.face}:${f.name}`), ['0:g.glb', '0:g.stl', '1:g.face1.glb', '1:g.face1.stl']);
  const plyOnly = exportResult(result, 'p', { formats: ['ply'] }).filter((f) => f.face === 0);
  assert.deepEqual(plyOnly.map((f) => [f.name, f.format, f.role]), [['p.ply', 'ply', 'mesh'], ['p.png', 'ply', 'texture']]);
  assert.throws(() => exportResult(result, 'x', { formats: ['fbx' as never] }), /formats has an unknown format "fbx"/);
});
