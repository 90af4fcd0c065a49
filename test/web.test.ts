/**
 * The web page in Debian's Chromium (playwright-core), against the real server and model:
 * server mode (viewer shows the face, the overlay lands on the photo frame, the GLB download validates,
 * keyboard and phone layout, error messages) and device mode with every /api/ request blocked: the pipeline runs in
 * a Web Worker that reports progress while it works, and the page itself compiles no WebAssembly and creates no
 * TF.js engine (the frame gaps are measured by scripts/frame-gaps.ts, not here).
 * Skips without Chromium, the photos or the model.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../scripts/build-web.ts';
import { startServer } from '../src/server/index.ts';
import type { VoxfaceServer } from '../src/server/index.ts';
import { GROUP_PHOTO, gltfValidator, needsPhotosAndModel, noisePNG, PHOTO } from './_server.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = needsPhotosAndModel() || (existsSync(CHROMIUM) ? false : `needs ${CHROMIUM}`);
const BACKGROUND = [0x20, 0x25, 0x2c]; // --view-bg

/** Fraction of an element's pixels that differ from the view background, and their bounding box (`inset` px from the edges skipped: rounded corners). */
async function paintedPixels(page: Page, selector: string, inset = 10): Promise<{ fraction: number; box: [number, number, number, number]; width: number; height: number }> {
  const png = await page.locator(selector).screenshot();
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = inset; y < info.height - inset; y++) {
    for (let x = inset; x < info.width - inset; x++) {
      const i = (y * info.width + x) * 3;
      const d = Math.abs(data[i] - BACKGROUND[0]) + Math.abs(data[i + 1] - BACKGROUND[1]) + Math.abs(data[i + 2] - BACKGROUND[2]);
      if (d > 40) {
        n++;
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  return { fraction: n / ((info.width - 2 * inset) * (info.height - 2 * inset)), box: [x0, y0, x1 + 1, y1 + 1], width: info.width, height: info.height };
}

/** POSITION bounds of a GLB's first primitive (y-up pixel frame). */
function glbBounds(glb: Uint8Array): { min: number[]; max: number[] } {
  const view = new DataView(glb.buffer, glb.byteOffset, glb.byteLength);
  const jsonLength = view.getUint32(12, true);
  const gltf = JSON.parse(new TextDecoder().decode(glb.subarray(20, 20 + jsonLength)));
  const accessor = gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION];
  return { min: accessor.min, max: accessor.max };
}

/**
 * An init script (plain JavaScript: tsx would add helpers the page lacks) that logs, on the page's own thread only,
 * every WebAssembly compile, every fetch, every message from a worker and the progress line's texts, in `__log`.
 */
const PAGE_THREAD_LOG = `(() => {
  const log = { wasm: [], fetches: [], messages: [], texts: [] };
  globalThis.__log = log;
  for (const k of ['instantiate', 'instantiateStreaming', 'compile', 'compileStreaming']) {
    const f = WebAssembly[k];
    WebAssembly[k] = function (...a) { log.wasm.push(k); return f.apply(this, a); };
  }
  WebAssembly.Module = new Proxy(WebAssembly.Module, { construct(target, a) { log.wasm.push('Module'); return new target(...a); } });
  const fetch0 = globalThis.fetch;
  globalThis.fetch = function (input, init) { log.fetches.push(String(input instanceof Request ? input.url : input)); return fetch0.call(this, input, init); };
  const Worker0 = globalThis.Worker;
  globalThis.Worker = class extends Worker0 {
    constructor(url, options) {
      super(url, options);
      this.addEventListener('message', (e) => log.messages.push({ t: performance.now(), type: e.data?.type, stage: e.data?.stage, text: e.data?.text }));
    }
  };
  document.addEventListener('DOMContentLoaded', () => {
    const el = document.getElementById('progress-text');
    new MutationObserver(() => log.texts.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
  });
})();`;

async function waitDone(page: Page): Promise<string> {
  await page.waitForFunction(
    () => /^Done in/.test(document.getElementById('status')?.textContent ?? '') || !document.getElementById('error')?.hidden,
    null,
    { timeout: 120_000 },
  );
  const error = await page.locator('#error').textContent();
  assert.equal(await page.locator('#error').isHidden(), true, `the page shows an error: ${error}`);
  return (await page.locator('#status').textContent()) ?? '';
}

describe('web page', { skip }, () => {
  let app: VoxfaceServer;
  let browser: Browser;
  before(async () => {
    const { chromium } = await import('playwright-core');
    [app, browser] = await Promise.all([
      buildWeb().then(() => startServer({ port: 0, threads: 1 })),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }),
    ]);
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  test('server mode: viewer shows the face, overlay sits on the photo frame, GLB download validates, keyboard, phone layout, errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${app.url}/?mode=server`);
    // with the API beside it (web/index.html's voxface-api "on"), both modes are offered; the server's COOP/COEP
    // headers make the page cross-origin isolated, so nothing is said about threads; the credits page is served
    assert.equal(await page.locator('#mode-server').isVisible(), true);
    assert.equal(await page.locator('#api-link').isVisible(), true);
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
    assert.equal(await page.locator('#threads-note').isHidden(), true);
    assert.equal((await page.request.get(`${app.url}/credits.html`)).status(), 200);
    const answer = page.waitForResponse((r) => r.url().includes('/api/v1/reconstruct'));
    await page.setInputFiles('#file', GROUP_PHOTO);
    const json = (await (await answer).json()) as { image: { width: number; height: number }; faces: { box: number[]; landmarks68: number[][] }[] };
    assert.match(await waitDone(page), /on the server/);
    assert.match((await page.locator('#result-mode').textContent()) ?? '', /server/);
    await page.waitForTimeout(300); // one animation frame for the viewers

    // the 3D view shows something over its empty background
    const view = await paintedPixels(page, '#viewer');
    assert.ok(view.fraction > 0.03, `viewer: ${(view.fraction * 100).toFixed(1)}% painted`);
    // keyboard: the canvas takes focus and turns with the arrow keys
    await page.focus('#viewer');
    const before = await page.locator('#viewer').screenshot();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.waitForTimeout(200);
    assert.notDeepEqual(await page.locator('#viewer').screenshot(), before, 'arrow keys turn the model');

    // overlay: with the photo and marks hidden, the mesh silhouette is exactly where its vertices say (photo frame)
    await page.evaluate(() => {
      for (const id of ['overlay-photo', 'overlay-marks']) (document.getElementById(id) as HTMLElement).style.visibility = 'hidden';
    });
    await page.locator('#opacity').fill('1');
    await page.waitForTimeout(200);
    const glbLink = page.locator('#downloads a[data-format="glb"]');
    const glb = new Uint8Array(await (await page.request.get(app.url + (await glbLink.getAttribute('href')))).body());
    const { min, max } = glbBounds(glb);
    const silhouette = await paintedPixels(page, '#overlay');
    const s = silhouette.width / json.image.width;
    const expected = [min[0] * s, -max[1] * s, max[0] * s, -min[1] * s];
    silhouette.box.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 3, `overlay box ${silhouette.box} vs mesh bounds ${expected.map((x) => x.toFixed(1))}`));
    // the landmarks the overlay draws fall inside the face box
    const face = json.faces[0];
    const [bx, by, bw, bh] = face.box;
    const inside = face.landmarks68.filter(([x, y]) => x >= bx - 0.1 * bw && x <= bx + 1.1 * bw && y >= by - 0.1 * bh && y <= by + 1.1 * bh);
    assert.ok(inside.length >= 60, `${inside.length}/68 landmarks inside the face box`);

    // the GLB download
    const [download] = await Promise.all([page.waitForEvent('download'), glbLink.click()]);
    assert.equal(download.suggestedFilename(), '2008_001009.glb');
    const { issues } = await gltfValidator.validateBytes(new Uint8Array(readFileSync((await download.path())!)));
    assert.equal(issues.numErrors, 0, issues.messages.map((m) => m.message).join('; '));

    // every face is selectable: the second one gets its own model and downloads
    assert.equal(json.faces.length, 2);
    const firstFace = await page.locator('#viewer').screenshot();
    await page.locator('input[name="face"][value="1"]').check();
    await page.waitForFunction(() => document.querySelector('#downloads a[data-format="glb"]')?.textContent?.includes('.face1.glb'));
    await page.waitForTimeout(300);
    assert.notDeepEqual(await page.locator('#viewer').screenshot(), firstFace, 'the viewer shows the second face');

    // every control has a name; nothing overflows a phone-sized screen
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, button, select, a, canvas[tabindex]')]
        .filter((el) => !(el as HTMLElement).hidden && (el as HTMLElement).offsetParent !== null)
        .filter((el) => {
          const id = el.id;
          const label = id ? document.querySelector(`label[for="${id}"]`) : null;
          const name = el.getAttribute('aria-label') ?? label?.textContent ?? el.closest('label')?.textContent ?? el.textContent ?? '';
          return name.trim() === '';
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px at 390px`);

    // clear messages for a text file and for a photo without a face
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
    await page.waitForSelector('#error:not([hidden])');
    const notPhoto = (await page.locator('#error').textContent()) ?? '';
    assert.match(notPhoto, /not a photo/i);
    assert.equal(notPhoto.match(/expected|not an image|not a photo/gi)?.length, 2, `each thing said once: ${notPhoto}`);
    await page.setInputFiles('#file', { name: 'noise.png', mimeType: 'image/png', buffer: Buffer.from(noisePNG(320, 240)) });
    await page.waitForFunction(() => /No face/.test(document.getElementById('error')?.textContent ?? ''), null, { timeout: 60_000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('fallback: no WebAssembly, or its files missing, switches to the server and says so', async () => {
    const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    await page.addInitScript(() => delete (globalThis as { WebAssembly?: unknown }).WebAssembly);
    await page.goto(`${app.url}/`);
    assert.equal(await page.locator('input[name="mode"][value="server"]').isChecked(), true);
    assert.equal(await page.locator('input[name="mode"][value="device"]').isDisabled(), true);
    assert.match((await page.locator('#mode-note').textContent()) ?? '', /WebAssembly/);
    await page.close();

    const missing = await browser.newPage({ viewport: { width: 800, height: 900 } });
    await missing.route('**/vendor/ort/**', (route) => route.abort());
    await missing.goto(`${app.url}/?mode=device`);
    await missing.waitForSelector('#mode-note:not([hidden])', { timeout: 60_000 });
    assert.match((await missing.locator('#mode-note').textContent()) ?? '', /cannot run the model itself/);
    assert.equal(await missing.locator('input[name="mode"][value="server"]').isChecked(), true);
    await missing.setInputFiles('#file', PHOTO);
    assert.match(await waitDone(missing), /on the server/);
    await missing.close();
  });

  test('camera: a frame of the (fake) webcam is taken as a JPEG and reconstructed', async () => {
    const { chromium } = await import('playwright-core');
    const camBrowser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    });
    try {
      const page = await camBrowser.newPage();
      await page.goto(`${app.url}/?mode=server`);
      await page.click('#camera-open');
      await page.waitForFunction(() => (document.getElementById('camera-video') as HTMLVideoElement).videoWidth > 0, null, { timeout: 20_000 });
      const request = page.waitForRequest((r) => r.url().includes('/api/v1/reconstruct'));
      await page.click('#camera-shoot');
      assert.match((await request).headers()['content-type'] ?? '', /^multipart\/form-data/);
      assert.equal(await page.locator('#camera').isHidden(), true);
      // Chromium's fake camera shows a test pattern, not a face: a 422 means the server decoded the frame
      await page.waitForFunction(() => /No face/.test(document.getElementById('error')?.textContent ?? ''), null, { timeout: 60_000 });
    } finally {
      await camBrowser.close();
    }
  });

  test('device mode: the pipeline runs in a worker with every /api/ request blocked; progress arrives while it works', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    // the page's own thread (init scripts do not run in workers): every WebAssembly compile, fetch and worker
    // message is logged, and the progress line's texts as they change
    await page.addInitScript({ content: PAGE_THREAD_LOG });
    const apiCalls: string[] = [];
    await page.route('**/api/**', (route) => {
      apiCalls.push(route.request().url());
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${app.url}/?mode=device`);
    await page.setInputFiles('#file', GROUP_PHOTO);
    const status = await waitDone(page);
    assert.match(status, /^Done in \d+\.\d s.*: 2 faces, on this device\.$/);
    assert.match((await page.locator('#result-mode').textContent()) ?? '', /this device/);
    assert.deepEqual(apiCalls, [], 'nothing was sent to the API');

    const log = await page.evaluate(() => (globalThis as unknown as { __log: { wasm: string[]; fetches: string[]; messages: { t: number; type?: string; stage?: string; text?: string }[]; texts: string[] } }).__log);
    assert.deepEqual(log.wasm, [], 'the page thread compiled no WebAssembly (onnxruntime-web and TF.js run in the worker)');
    assert.equal(await page.evaluate(() => '_tfengine' in globalThis), false, 'no TF.js engine on the page thread');
    assert.deepEqual(log.fetches.filter((u) => /\/models\/|\/vendor\//.test(u)), [], 'the page thread fetched no model');
    const types = log.messages.map((m) => m.type);
    assert.ok(types.includes('ready'), `the worker loaded the models: ${types.join(' ')}`);
    const resultAt = log.messages.findIndex((m) => m.type === 'result');
    assert.ok(resultAt > 0, 'the worker sent the result');
    const before = log.messages.slice(0, resultAt).filter((m) => m.type === 'progress');
    const stages = before.map((m) => m.stage);
    for (const s of ['decode', 'detect', 'face', 'export']) assert.ok(stages.includes(s), `progress for ${s} before the result: ${stages.join(' ')}`);
    const faceTexts = before.filter((m) => m.stage === 'face').map((m) => m.text);
    assert.ok(faceTexts.includes('Reconstructing face 1 of 2…') && faceTexts.includes('Reconstructing face 2 of 2…'), faceTexts.join(' | '));
    const [f1, f2] = ['Reconstructing face 1 of 2…', 'Reconstructing face 2 of 2…'].map((t) => before.find((m) => m.text === t)!.t);
    assert.ok(f2 > f1 && log.messages[resultAt].t > f2, 'face 2 starts after face 1 and before the result: messages arrive as the worker goes');
    assert.ok(log.texts.includes('Reconstructing face 2 of 2…'), `the page showed the progress: ${log.texts.join(' | ')}`);
    await page.waitForTimeout(300);
    const view = await paintedPixels(page, '#viewer');
    assert.ok(view.fraction > 0.03, `viewer: ${(view.fraction * 100).toFixed(1)}% painted`);
    // the viewer's files come with the result, the other formats' in a 'files' message after it
    await page.waitForFunction(() => document.querySelectorAll('#downloads a').length >= 8, null, { timeout: 60_000 });
    const after = await page.evaluate(() => (globalThis as unknown as { __log: { messages: { type?: string }[] } }).__log.messages.map((m) => m.type));
    assert.ok(after.indexOf('files') > after.indexOf('result'), `the other files after the result: ${after.join(' ')}`);
    const hrefs = await page.locator('#downloads a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    assert.ok(hrefs.length >= 8 && hrefs.every((h) => h.startsWith('blob:')), hrefs.join(' '));
    const formats = await page.locator('#downloads a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).dataset.format));
    for (const f of ['glb', 'obj', 'ply', 'stl', 'json']) assert.ok(formats.includes(f), `a ${f} link: ${formats.join(' ')}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#downloads a[data-format="glb"]').click()]);
    const { issues } = await gltfValidator.validateBytes(new Uint8Array(readFileSync((await download.path())!)));
    assert.equal(issues.numErrors, 0);

    // a 1×1 image: the worker's message says why there is no face, once
    const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer();
    await page.setInputFiles('#file', { name: 'dot.png', mimeType: 'image/png', buffer: tiny });
    await page.waitForFunction(() => /too small/.test(document.getElementById('error')?.textContent ?? ''), null, { timeout: 60_000 });
    assert.equal(await page.locator('#error').textContent(), 'The image is too small to hold a face (1×1). Try a photo where the face is clearly visible.');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
