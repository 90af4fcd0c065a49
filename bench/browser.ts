/**
 * Browser bench: the static site (`npm run build:site`) in headless Chromium, first visit and second visit.
 *
 *   node --import tsx bench/browser.ts [--site <built site folder>] [--rounds 3] [--photo examples/face.jpg] [--after-warm] [--query identity=shape]
 *
 * The site (built into a temporary folder as `demo/` unless `--site` names one) is served by `python3 -m http.server`
 * (no COOP/COEP: one thread, as on a plain static host). Each round opens a fresh browser context (empty caches) and
 * visits the page twice in it: per visit, the time from navigation to the worker's models being ready, the worker's
 * own load time, the time from dropping the photo to the model on screen (the page's "Done in"), and from navigation
 * to the model on screen when the photo is dropped as soon as the page takes it. Also the requests each visit made.
 * Prints min and median over the rounds with the load average (a shared machine: compare medians, same machine).
 * `--after-warm` drops the photo once the worker says its warm-up is done (web/src/worker.ts: the pipeline run twice on
 * a synthetic face while the page waits), as for a user who takes a few seconds to choose a photo; by default it is
 * dropped the moment the models are ready, which stops the warm-up at its next step. `--query` appends the page's
 * options (web/src/options.ts, from the URL), e.g. `identity=shape`; the model files each visit fetched are listed.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BrowserContext } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const { values: args } = parseArgs({
  options: {
    site: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    photo: { type: 'string', default: path.join(ROOT, 'examples', 'face.jpg') },
    'after-warm': { type: 'boolean', default: false },
    query: { type: 'string', default: '' },
  },
});

/** The page thread's log of the worker's messages. */
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

async function pythonServer(dir: string): Promise<{ url: string; child: ChildProcess; requests: string[] }> {
  const child = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const requests: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (text: string) => requests.push(...text.split('\n').filter((l) => l.includes('"GET'))));
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

interface Visit {
  /** Navigation → the worker says its models are ready. */
  readyMs: number;
  /** The worker's own load time. */
  loadMs: number;
  /** Photo dropped (models ready, or with --after-warm the warm-up done) → model on screen. */
  photoMs: number;
  /** With --after-warm: 'ready' → the worker's warm-up done. */
  warmMs: number;
  /** Requests answered 200 / 304 during the visit. */
  ok200: number;
  notModified: number;
}

async function visit(context: BrowserContext, url: string, photo: Buffer, requests: string[]): Promise<Visit> {
  const before = requests.length;
  const page = await context.newPage();
  await page.addInitScript({ content: WORKER_LOG });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { __workerLog: { type: string }[] }).__workerLog.some((m) => m.type === 'ready' || m.type === 'error'), null, { timeout: 300_000 });
  const readyMs = Date.now() - t0;
  const log = await page.evaluate(() => (globalThis as unknown as { __workerLog: { type: string; loadMs?: number; message?: string }[] }).__workerLog);
  const ready = log.find((m) => m.type === 'ready');
  if (!ready) throw new Error(`the worker failed to load the models: ${log.map((m) => m.message ?? m.type).join('; ')}`);
  // --after-warm: the photo comes once the worker's warm-up is done (a user still choosing a photo), not at 'ready'
  let warmMs = NaN;
  if (args['after-warm']) {
    await page.waitForFunction(() => (globalThis as unknown as { __workerLog: { type: string }[] }).__workerLog.some((m) => m.type === 'warm'), null, { timeout: 120_000 });
    warmMs = Date.now() - t0 - readyMs;
  }
  const t1 = Date.now();
  await page.evaluate(
    ([b64, name]) => {
      const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: 'image/jpeg' });
      const data = new DataTransfer();
      data.items.add(file);
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    },
    [photo.toString('base64'), path.basename(args.photo!)] as const,
  );
  await page.waitForFunction(() => /^Done in/.test(document.getElementById('status')?.textContent ?? '') || !document.getElementById('error')?.hidden, null, { timeout: 300_000 });
  const photoMs = Date.now() - t1;
  const error = await page.locator('#error').isHidden() ? '' : await page.locator('#error').textContent();
  if (error) throw new Error(`the page failed: ${error}`);
  await page.close();
  const lines = requests.slice(before);
  return { readyMs, loadMs: ready.loadMs ?? NaN, photoMs, warmMs, ok200: lines.filter((l) => /" 200 /.test(l)).length, notModified: lines.filter((l) => /" 304 /.test(l)).length };
}

const stat = (v: number[]): string => {
  const s = [...v].sort((a, b) => a - b);
  return `${s[0].toFixed(0)} / ${s[(s.length - 1) >> 1].toFixed(0)}`;
};

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[(v.length - 1) >> 1];

const dir = mkdtempSync(path.join(tmpdir(), 'voxface-browser-bench-'));
const site = path.join(dir, 'demo');
try {
  if (args.site) cpSync(args.site, site, { recursive: true });
  else {
    const { buildSite } = await import('../scripts/build-site.ts');
    await buildSite(site);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`needs ${CHROMIUM}`);
  const { chromium } = await import('playwright-core');
  const host = await pythonServer(dir);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const photo = readFileSync(args.photo!);
  const load0 = os.loadavg();
  const visits: Visit[][] = [[], []];
  try {
    for (let r = 0; r < Number(args.rounds); r++) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      for (let v = 0; v < 2; v++) visits[v].push(await visit(context, `${host.url}/demo/${args.query ? `?${args.query}` : ''}`, photo, host.requests));
      await context.close();
    }
  } finally {
    await browser.close();
    host.child.kill();
  }
  const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  const models = [...new Set(host.requests.map((l) => /GET \/demo\/(models\/[^ ?]+)/.exec(l)?.[1]).filter((m): m is string => !!m))].sort();
  console.log(`voxface browser bench: ${CHROMIUM} headless, python3 -m http.server (one thread), ${args.rounds} rounds of two visits, photo ${path.basename(args.photo!)}`);
  console.log(`${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, load average ${la(load0)} → ${la(os.loadavg())}; min / median ms\n`);
  if (args.query) console.log(`page options: ?${args.query}`);
  console.log(`model files fetched: ${models.join(', ')}\n`);
  const warm = args['after-warm'];
  if (warm) console.log('The photo is dropped once the worker has warmed up (--after-warm): "ready → warm" is the warm-up, "navigation + photo" leaves it out.\n');
  console.log(`| visit | navigation → models ready | worker load | ${warm ? 'ready → warm | ' : ''}photo → model on screen | navigation + photo | requests 200 / 304 (median) |`);
  console.log(`|---|---:|---:|${warm ? '---:|' : ''}---:|---:|---:|`);
  visits.forEach((vs, i) => {
    console.log(`| ${i === 0 ? 'first' : 'second'} | ${stat(vs.map((v) => v.readyMs))} | ${stat(vs.map((v) => v.loadMs))} | ${warm ? `${stat(vs.map((v) => v.warmMs))} | ` : ''}${stat(vs.map((v) => v.photoMs))} | ${stat(vs.map((v) => v.readyMs + v.photoMs))} | ${median(vs.map((v) => v.ok200))} / ${median(vs.map((v) => v.notModified))} |`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
