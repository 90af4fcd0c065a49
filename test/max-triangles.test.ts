/**
 * `--max-triangles` on every mesh the pipeline makes: ICT's template (`--shape prior`, the default, and
 * `--shape network --mesh template`) and the network's isosurface. Each stays within the limit, its uvs in the
 * atlas, its outline loops as many as without the limit; the CLI's GLB has that many triangles; a limit a mesh
 * cannot reach is refused with one line naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT, main } from '../src/cli/main.ts';
import { loadVoxface } from '../src/node/index.ts';
import type { OptionsInput } from '../src/options.ts';
import { borderLoops } from '../src/prior/solid.ts';
import type { Mesh } from '../src/types.ts';
import { glbAccessor, readGLB } from './_readers.ts';

const root = resolve(import.meta.dirname, '..');
const FACE = join(root, 'examples', 'face.jpg');
const noModel = existsSync(join(root, 'models', 'vrn-compact.onnx')) ? false : 'needs models/vrn-compact.onnx';

/** Border loops of the mesh with one vertex per position (the texture's uv seams welded). */
function weldedLoops(m: Mesh): number {
  const at = new Map<string, number>();
  const tris = Array.from(m.indices, (i) => {
    const key = `${m.positions[3 * i]},${m.positions[3 * i + 1]},${m.positions[3 * i + 2]}`;
    if (!at.has(key)) at.set(key, at.size);
    return at.get(key)!;
  });
  return borderLoops(tris).length;
}

test('--max-triangles on every mesh: shape prior, network + template, isosurface', { skip: noModel, timeout: 240_000 }, async () => {
  const vox = await loadVoxface({ threads: 1 });
  const cases: [string, OptionsInput][] = [
    ['prior (the default)', {}],
    ['network + template', { shape: 'network', mesh: 'template' }],
    ['network + isosurface', { shape: 'network', mesh: 'isosurface' }],
  ];
  for (const [label, o] of cases) {
    const base = { ...o, flip: false, faces: 'largest', textureSize: 128 } as const;
    const full = (await vox.reconstructFile(FACE, base)).result.faces[0].mesh;
    assert.ok(full.indices.length / 3 > 5000, `${label}: ${full.indices.length / 3} triangles without a limit`);
    for (const max of [5000, 1500]) {
      const mesh = (await vox.reconstructFile(FACE, { ...base, maxTriangles: max })).result.faces[0].mesh;
      const n = mesh.indices.length / 3;
      assert.ok(n <= max && n > 0.9 * max, `${label}, ${max}: ${n} triangles`);
      const uvs = Array.from(mesh.uvs!);
      const lo = Math.min(...uvs), hi = Math.max(...uvs);
      assert.ok(lo >= 0 && hi <= 1, `${label}, ${max}: uvs in [${lo}, ${hi}]`);
      assert.equal(weldedLoops(mesh), weldedLoops(full), `${label}, ${max}: outline loops`);
      assert.equal(mesh.normals?.length, mesh.positions.length, `${label}: normals`);
      assert.ok(mesh.texture && mesh.texture.width === 128, `${label}: textured`);
    }
  }
});

test('the CLI: --max-triangles 1500 gives a GLB of at most 1500 triangles; a limit the mesh cannot reach fails the photo with one line', { skip: noModel, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-max-tri-'));
  try {
    const run = async (argv: string[]) => {
      const err: string[] = [];
      const code = await main(argv, { stdout: () => undefined, stderr: (s) => void err.push(s), isTTY: false });
      return { code, err: err.join('') };
    };
    let r = await run([FACE, '-o', dir, '--max-triangles', '1500', '--format', 'glb', '--flip', 'off', '--texture-size', '128']);
    assert.equal(r.code, EXIT.OK, r.err);
    const glb = readGLB(new Uint8Array(readFileSync(join(dir, 'face.glb'))));
    const prim = glb.json.meshes[0].primitives[0];
    const triangles = glbAccessor(glb, prim.indices).length / 3;
    assert.ok(triangles <= 1500 && triangles > 1300, `${triangles} triangles in the GLB`);

    // ICT's head keeps its seams and outline: 100 triangles are too few
    r = await run([FACE, '-o', join(dir, 'head'), '--head', '--max-triangles', '100', '--format', 'glb', '--flip', 'off', '--texture-size', '128']);
    assert.equal(r.code, EXIT.FAILED, r.err);
    assert.match(r.err, /face\.jpg: max-triangles 100 is below what this mesh can keep: \d+ triangles at the least \(of 22372\)/);
    assert.ok(!existsSync(join(dir, 'head', 'face.glb')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
