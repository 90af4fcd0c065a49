/**
 * The public API: the three entry points of package.json's `exports` (`voxface`, `voxface/node`,
 * `voxface/browser`), what each exports (no test fixtures), and each one's example — the code block of the entry's
 * own doc comment — run as written: the first two in Node, the browser one in Chromium against the server's files.
 * Skips the runs without the model (and Chromium for the browser).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, MODEL } from './_server.ts';

const ENTRIES = {
  voxface: 'src/index.ts',
  'voxface/node': 'src/node/index.ts',
  'voxface/browser': 'src/browser/index.ts',
} as const;
const CHROMIUM = '/usr/bin/chromium';

/** The ```ts block of a file's opening doc comment, its package imports pointed at the sources. */
function example(file: string): string {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const doc = /^\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
  const code = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(code, `${file} opens with a doc comment holding a \`\`\`ts example`);
  return code
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .replace(/from '(voxface(?:\/\w+)?)'/g, (m, spec: keyof typeof ENTRIES) => {
      assert.ok(ENTRIES[spec], `${file}'s example imports ${spec}, which is no entry point`);
      return `from '${path.join(ROOT, ENTRIES[spec])}'`;
    });
}

test('package.json exports the three entry points, each built from its source', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { types: string; default: string }> };
  assert.equal(pkg.name, 'voxface');
  for (const [spec, src] of Object.entries(ENTRIES)) {
    const sub = spec === 'voxface' ? '.' : `./${spec.slice('voxface/'.length)}`;
    const built = src.replace(/^src\//, './dist/').replace(/\.ts$/, '');
    assert.deepEqual(pkg.exports[sub], { types: `${built}.d.ts`, default: `${built}.js` }, spec);
  }
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './browser', './node']);
});

test('voxface exports the pipeline, the exporters, the options and the types; no test fixtures', async () => {
  const api = await import('../src/index.ts');
  assert.deepEqual(Object.keys(api).sort(), [
    'FORMATS',
    'OPTIONS',
    'OptionError',
    'VoxfaceError',
    'baseName',
    'exportFace',
    'exportResult',
    'exporters',
    'fileName',
    'parseModelInfo',
    'reconstruct',
    'resolveOptions',
  ]);
  assert.deepEqual(Object.keys(api.exporters).sort(), [
    'TEXTURE_PNG',
    'depth',
    'frameNote',
    'glb',
    'json',
    'npy',
    'nrrd',
    'obj',
    'ply',
    'quantizeVolume',
    'stl',
    'texturePNG',
    'toExportFrame',
    'validateMesh',
    'volumeGeometry',
  ]);
  const node = await import('../src/node/index.ts');
  for (const name of ['loadVoxface', 'decodeImage', 'defaultModelPath']) assert.equal(typeof (node as Record<string, unknown>)[name], 'function', name);
  for (const [spec, file] of Object.entries(ENTRIES)) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    for (const fixture of ['torusSDF', 'voxelizeFaceLike', 'sphereSDF', 'faceLikeField']) assert.ok(!text.includes(fixture), `${spec} exports ${fixture}`);
  }
});

const noModel = existsSync(MODEL) ? false : 'needs models/vrn-compact.onnx';

for (const spec of ['voxface', 'voxface/node'] as const) {
  test(`the example of ${spec} runs as written`, { skip: noModel, timeout: 240_000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxface-example-'));
    try {
      const file = path.join(dir, 'example.mts');
      writeFileSync(file, example(ENTRIES[spec]));
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8', timeout: 200_000 });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      if (spec === 'voxface') {
        // one line per file: face, format, role, name, bytes
        const lines = r.stdout.trim().split('\n');
        assert.deepEqual(lines.map((l) => l.split(' ').slice(0, 4).join(' ')), ['null json result face.json', '0 glb model face.glb']);
        assert.ok(lines.every((l) => Number(l.split(' ')[4]) > 100), r.stdout);
      } else {
        const m = /^1 face\(s\), yaw -?\d+°, files in (.+)$/m.exec(r.stdout);
        assert.ok(m, r.stdout);
        assert.deepEqual(readdirSync(m![1]).sort(), ['face.glb', 'face.mtl', 'face.obj', 'face.png']);
        rmSync(m![1], { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the example of voxface/browser runs as written in Chromium', { skip: noModel || (existsSync(CHROMIUM) ? false : `needs ${CHROMIUM}`), timeout: 300_000 }, async () => {
  const esbuild = await import('esbuild');
  const { chromium } = await import('playwright-core');
  const { startServer } = await import('../src/server/index.ts');
  const bundle = await esbuild.build({
    stdin: { contents: example(ENTRIES['voxface/browser']), resolveDir: ROOT, loader: 'ts', sourcefile: 'example.ts' },
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    conditions: ['onnxruntime-web-use-extern-wasm'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  // the server for its static files only (the model, the runtimes' wasm, the detector models): no model in Node
  const app = await startServer({ port: 0, voxface: { deps: { model: { name: 'static files only' } } } as never, model: MODEL });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const isolated = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    await page.route('**/__example.html', (r) => r.fulfill({ contentType: 'text/html', headers: isolated, body: '<!doctype html><script type="module" src="/__example.js"></script>' }));
    await page.route('**/__example.js', (r) => r.fulfill({ contentType: 'text/javascript', headers: isolated, body: bundle.outputFiles[0].text }));
    await page.route('**/examples/face.jpg', (r) => r.fulfill({ contentType: 'image/jpeg', headers: isolated, body: readFileSync(path.join(ROOT, 'examples', 'face.jpg')) }));
    const done = new Promise<string>((resolve, reject) => {
      page.on('console', (m) => /^face\.glb: \d+ bytes/.test(m.text()) && resolve(m.text()));
      page.on('pageerror', (e) => reject(e));
    });
    await page.goto(`${app.url}/__example.html`);
    const line = await done;
    assert.match(line, /^face\.glb: \d{5,} bytes, yaw -?\d+°$/);
  } finally {
    await browser.close();
    await app.close();
  }
});
