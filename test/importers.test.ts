/**
 * Real importers read our files: assimp (`assimp info`) and Blender (one background process for all
 * formats). Each check skips with a message when the tool is not installed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { textureMesh } from '../src/texture/index.ts';
import { glb, obj, ply, stl, texturePNG } from '../src/export/index.ts';
import { closedSphere, ellipsoidSheet, gradientPhoto } from './_meshes.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rotationFromAngles } from '../src/landmarks/pose.ts';
import { createShapePrior, priorMesh } from '../src/prior/index.ts';
import type { PriorFit } from '../src/prior/index.ts';
import { priorSolid } from '../src/prior/solid.ts'; 

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
const assimp = has('assimp', ['version']);
const blender = has('blender', ['--version']);

const { mesh } = ellipsoidSheet({ centre: [128, 120, 0], radii: [60, 80, 55], yaw: 0 }, { nTheta: 31, nPhi: 21 });
const textured = textureMesh(mesh, gradientPhoto(256, 240), { size: 128 });
const sphere = closedSphere([0, 0, 0], 50, 24, 12);
const NV = mesh.positions.length / 3;
const NT = mesh.indices.length / 3;
const SPHERE_NV = sphere.positions.length / 3;
const SPHERE_NT = sphere.indices.length / 3;

// the shape prior's meshes (ICT topology and atlas): the face turned 30°, and the whole head (a 2:1 texture)
const prior = createShapePrior(readFileSync(fileURLToPath(new URL('../models/ict-face.bin', import.meta.url))));
const fit = {
  identity: new Float32Array(100).map((_, i) => (i < 5 ? 0.5 : 0)),
  expression: new Float32Array(53),
  rotation: rotationFromAngles({ yaw: 30, pitch: 5, roll: 0 }),
  scale: 8,
  translation: [128, -120, 0],
  source: 'facemesh',
  pose: { yaw: 30, pitch: 5, roll: 0 },
  rms: 0,
} as PriorFit;
const priorFace = textureMesh(priorMesh(prior.basis, fit, 'face'), gradientPhoto(256, 240), { size: 64, atlas: { aspect: 1, mirrorTiles: 1 } });
const priorHead = textureMesh(priorMesh(prior.basis, fit, 'head'), gradientPhoto(256, 240), { size: 64, atlas: { aspect: 2, mirrorTiles: 2 } });
const priorStl = priorSolid(priorFace, { ...fit, region: 'face' });
const P_NV = priorFace.positions.length / 3;
const P_NT = priorFace.indices.length / 3;
const uniquePositions = (p: Float32Array) => new Set(Array.from({ length: p.length / 3 }, (_, i) => `${p[3 * i]},${p[3 * i + 1]},${p[3 * i + 2]}`)).size;

const dir = mkdtempSync(join(tmpdir(), 'voxface-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'face.glb'), glb.parse(textured));
writeFileSync(join(dir, 'face.obj'), obj.parse(textured, { materialFile: 'face.mtl' }));
writeFileSync(join(dir, 'face.mtl'), obj.parseMaterial({ textureFile: 'face.png' }));
writeFileSync(join(dir, 'face.png'), texturePNG(textured)!);
writeFileSync(join(dir, 'face.ply'), ply.parse(textured, { textureFile: 'face.png' }));
writeFileSync(join(dir, 'sphere.stl'), stl.parse(sphere));
writeFileSync(join(dir, 'prior.glb'), glb.parse(priorFace));
writeFileSync(join(dir, 'prior.obj'), obj.parse(priorFace, { materialFile: 'prior.mtl' }));
writeFileSync(join(dir, 'prior.mtl'), obj.parseMaterial({ textureFile: 'prior.png' }));
writeFileSync(join(dir, 'prior.png'), texturePNG(priorFace)!);
writeFileSync(join(dir, 'prior.ply'), ply.parse(priorFace, { textureFile: 'prior.png' }));
writeFileSync(join(dir, 'prior-solid.stl'), stl.parse(priorStl));
writeFileSync(join(dir, 'head.glb'), glb.parse(priorHead));

/** `assimp info -r -v` (raw: no post-processing) → counts, embedded textures, texture references. */
function assimpInfo(file: string): { vertices: number; faces: number; embedded: number; textureRefs: string[]; text: string } {
  const r = spawnSync('assimp', ['info', join(dir, file), '-r', '-v'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `assimp failed on ${file}: ${r.stderr}`);
  const text = r.stdout;
  const num = (label: string) => Number(new RegExp(`^${label}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
  const refs = /Texture Refs:\n((?:\s+'.*'\n)*)/.exec(text)?.[1] ?? '';
  return {
    vertices: num('Vertices'),
    faces: num('Faces'),
    embedded: num('Textures \\(embed\\.\\)'),
    textureRefs: [...refs.matchAll(/'(.*)'/g)].map((m) => m[1]),
    text,
  };
}

const noAssimp = assimp ? false : 'assimp is not installed (apt install assimp-utils)';

test('assimp reads the GLB: counts, one embedded texture used by the material', { skip: noAssimp }, () => {
  const info = assimpInfo('face.glb');
  assert.equal(info.vertices, NV);
  assert.equal(info.faces, NT);
  assert.equal(info.embedded, 1);
  assert.ok(info.textureRefs.includes('*0'), info.text);
});

test('assimp reads the OBJ: faces, per-corner vertices, material with face.png', { skip: noAssimp }, () => {
  const info = assimpInfo('face.obj');
  assert.equal(info.faces, NT);
  assert.equal(info.vertices, 3 * NT); // assimp's OBJ reader stores one vertex per face corner
  assert.deepEqual(info.textureRefs, ['face.png']);
});

test('assimp reads the shape prior in every format (ICT topology, its atlas, the closed solid, the head)', { skip: noAssimp }, () => {
  const g = assimpInfo('prior.glb');
  assert.deepEqual([g.vertices, g.faces, g.embedded], [P_NV, P_NT, 1]);
  assert.equal(assimpInfo('prior.obj').faces, P_NT);
  assert.deepEqual(assimpInfo('prior.obj').textureRefs, ['prior.png']);
  const p = assimpInfo('prior.ply');
  assert.deepEqual([p.vertices, p.faces], [P_NV, P_NT]);
  assert.equal(assimpInfo('prior-solid.stl').faces, priorStl.indices.length / 3);
  const h = assimpInfo('head.glb');
  assert.deepEqual([h.vertices, h.faces, h.embedded], [priorHead.positions.length / 3, priorHead.indices.length / 3, 1]);
});

test('assimp reads the PLY and the STL', { skip: noAssimp }, () => {
  const p = assimpInfo('face.ply');
  assert.deepEqual([p.vertices, p.faces], [NV, NT]);
  const s = assimpInfo('sphere.stl');
  assert.deepEqual([s.vertices, s.faces], [3 * SPHERE_NT, SPHERE_NT]); // STL stores three corners per triangle
});

// One Blender process imports every file into an empty scene and prints one JSON line per file.
const BLENDER_SCRIPT = String.raw`
import bpy, json, sys
import numpy
if 'bool' in getattr(numpy, '__former_attrs__', {}):
    numpy.bool = numpy.bool_  # Blender 3.4's glTF importer still uses np.bool (removed in numpy 1.24)

def exists(op):
    mod, name = op.split('.')
    try:
        getattr(getattr(bpy.ops, mod), name).get_rna_type()
        return True
    except Exception:
        return False

IMPORTERS = {'glb': ['import_scene.gltf'], 'obj': ['wm.obj_import', 'import_scene.obj'],
             'ply': ['wm.ply_import', 'import_mesh.ply'], 'stl': ['wm.stl_import', 'import_mesh.stl']}
for path in sys.argv[sys.argv.index('--') + 1:]:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    out = {'file': path.rsplit('/', 1)[1]}
    try:
        op = next(o for o in IMPORTERS[path.rsplit('.', 1)[1]] if exists(o))
        out['operator'] = op
        mod, name = op.split('.')
        getattr(getattr(bpy.ops, mod), name)(filepath=path)
        meshes = [o for o in bpy.data.objects if o.type == 'MESH']
        out['vertices'] = sum(len(o.data.vertices) for o in meshes)
        out['faces'] = sum(len(o.data.polygons) for o in meshes)
        out['uvLayers'] = sum(len(o.data.uv_layers) for o in meshes)
        out['images'] = [[n.image.name, list(n.image.size)] for m in bpy.data.materials if m.use_nodes
                         for n in m.node_tree.nodes if n.type == 'TEX_IMAGE' and n.image is not None]
        out['scale'] = [list(o.matrix_world.to_scale()) for o in meshes]
    except Exception as e:
        out['error'] = repr(e).splitlines()[0][:300]
    print('VOXFACE_IMPORT ' + json.dumps(out), flush=True)
`;

test('Blender imports GLB, OBJ, PLY and STL (one process)', { skip: blender ? false : 'blender is not installed' }, async (t) => {
  const version = spawnSync('blender', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const files = ['face.glb', 'face.obj', 'face.ply', 'sphere.stl', 'prior.glb', 'prior.obj', 'prior.ply', 'prior-solid.stl', 'head.glb'].map((f) => join(dir, f));
  const r = spawnSync('blender', ['-b', '--factory-startup', '--python-expr', BLENDER_SCRIPT, '--', ...files], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const results = new Map<string, Record<string, unknown>>();
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('VOXFACE_IMPORT ')) {
      const o = JSON.parse(line.slice('VOXFACE_IMPORT '.length));
      results.set(o.file, o);
    }
  }
  assert.equal(results.size, files.length, `${version}: ${r.stdout.slice(-2000)} ${r.stderr.slice(-2000)}`);
  const get = (file: string) => {
    const o = results.get(file)!;
    assert.equal(o.error, undefined, `${version} ${o.operator}: ${o.error}`);
    return o as { vertices: number; faces: number; uvLayers: number; images: [string, number[]][]; scale: number[][] };
  };
  await t.test('GLB: vertices, faces, embedded image texture, metre scale', () => {
    const o = get('face.glb');
    assert.deepEqual([o.vertices, o.faces, o.uvLayers], [NV, NT, 1]);
    assert.equal(o.images.length, 1);
    assert.deepEqual(o.images[0][1], [128, 128]);
    assert.ok(Math.abs(o.scale[0][0] - 0.001) < 1e-6);
  });
  await t.test('OBJ: vertices, faces, image texture face.png', () => {
    const o = get('face.obj');
    assert.deepEqual([o.vertices, o.faces, o.uvLayers], [NV, NT, 1]);
    assert.deepEqual(o.images.map((i) => i[0]), ['face.png']);
    assert.deepEqual(o.images[0][1], [128, 128]);
  });
  await t.test('PLY: vertices, faces, uvs', () => {
    const o = get('face.ply');
    assert.deepEqual([o.vertices, o.faces, o.uvLayers], [NV, NT, 1]);
  });
  await t.test('STL: the closed sphere (Blender merges the shared corners)', () => {
    const o = get('sphere.stl');
    assert.deepEqual([o.vertices, o.faces], [SPHERE_NV, SPHERE_NT]);
  });
  await t.test('the shape prior: GLB, OBJ and PLY with its atlas, the closed STL, the head with a 2:1 texture', () => {
    for (const f of ['prior.glb', 'prior.obj', 'prior.ply']) {
      const o = get(f);
      assert.deepEqual([o.vertices, o.faces, o.uvLayers], [P_NV, P_NT, 1], f);
    }
    assert.deepEqual(get('prior.obj').images.map((i) => i[0]), ['prior.png']);
    const s = get('prior-solid.stl');
    assert.deepEqual([s.vertices, s.faces], [uniquePositions(priorStl.positions), priorStl.indices.length / 3]);
    const h = get('head.glb');
    assert.deepEqual(h.images[0][1], [128, 64]);
  });
});
