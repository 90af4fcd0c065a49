/**
 * How smooth the page stays in "on this device" mode: Chromium (playwright-core, /usr/bin/chromium) loads the
 * page, a requestAnimationFrame loop logs every frame, and each photo is reconstructed on the device; the script
 * prints, per photo, the wall time from choosing the file to "Done", the frames painted and the longest gap
 * between two frames (the goal is ≤ 100 ms: the pipeline runs in a Web Worker, the page only draws), split at the
 * worker's answer into "computing" and "showing the result". The first row of a page is cold (the models load
 * while the first photo waits), the others warm. Several `--page-options` compare option sets side by side under
 * the same load: one page (and browser context, so one renderer) per set, each photo run in each page in turn,
 * a page opened only for its first photo (so its models do not load while another page is measured).
 *
 * ```sh
 * node --import tsx scripts/frame-gaps.ts                                # examples/face.jpg, a 2-face and a 24-face photo
 * node --import tsx scripts/frame-gaps.ts --photos=a.jpg,b.jpg --viewport=390x844 --page-options=shape=network
 * node --import tsx scripts/frame-gaps.ts --page-options= --page-options=shape=network   # default shape vs network, interleaved
 * ```
 * A measurement, not a test: run it on a quiet machine (other processes on the cores show up as gaps).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { buildWeb } from './build-web.ts';
import { startServer } from '../src/server/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.VOXFACE_SHARED ?? path.resolve(root, '..', 'shared');
const USAGE = `Usage: node --import tsx scripts/frame-gaps.ts [--photos=a.jpg,b.jpg] [--viewport=1100x900] [--chromium=/usr/bin/chromium]
                                              [--page-options=shape=network&flip=off]…
Prints the longest gap between painted frames while each photo is reconstructed in "on this device" mode
(--page-options: pipeline options in the page's URL, as a user would give them; give it more than once to compare
option sets side by side, each photo run with each set in turn).
`;
const { values } = parseArgs({
  options: {
    photos: { type: 'string' },
    viewport: { type: 'string', default: '1100x900' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    'page-options': { type: 'string', multiple: true, default: [''] },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const photos = values.photos
  ? values.photos.split(',')
  : [
      path.join(root, 'examples', 'face.jpg'),
      path.join(root, 'examples', 'face.jpg'),
      path.join(shared, 'faces', 'dlib-faces', '2008_001009.jpg'),
      path.join(shared, 'faces', 'dlib-faces', 'bald_guys.jpg'),
    ].filter(existsSync);
const [vw, vh] = values.viewport.split('x').map(Number);
if (!existsSync(values.chromium)) {
  console.error(`no Chromium at ${values.chromium} (--chromium)`);
  process.exit(2);
}

/**
 * Logs the time of every animation frame the page paints (`__frames`), the page thread's long tasks
 * (`__longTasks`) and when each result message of the worker arrived (`__results`). Plain JavaScript.
 */
const FRAME_LOG = `(() => {
  const frames = (globalThis.__frames = []);
  const tick = (t) => { frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const results = (globalThis.__results = []);
  const Worker0 = globalThis.Worker;
  globalThis.Worker = class extends Worker0 {
    constructor(url, options) {
      super(url, options);
      this.addEventListener('message', (e) => e.data?.type === 'result' && results.push(performance.now()));
    }
  };
  const tasks = (globalThis.__longTasks = []);
  new PerformanceObserver((list) => { for (const e of list.getEntries()) tasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask', buffered: true });
})();`;

await buildWeb();
const app = await startServer({ port: 0, threads: 1, log: () => {} });
const browser = await chromium.launch({
  executablePath: values.chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
interface Row {
  options: string;
  photo: string;
  run: string;
  faces: string;
  wallS: number;
  frames: number;
  longestMs: number;
  /** The longest gap while the worker computes (from choosing the file to its answer). */
  computingMs: number;
  /** The longest gap while the page shows the answer (files, 3D view, overlay). */
  showingMs: number;
  /** Gaps over 50 and 100 ms while the worker computes. */
  over50: number;
  over100: number;
  /** The longest task on the page's thread (PerformanceObserver 'longtask': tasks over 50 ms; 0 when none). */
  longestTaskMs: number;
}
const rows: Row[] = [];
const optionSets = values['page-options'];
const pages: (Page | undefined)[] = optionSets.map(() => undefined);
/** The page for option set k, opened (in its own browser context) when its first photo comes. */
async function pageFor(k: number): Promise<Page> {
  const open = pages[k];
  if (open) return open;
  const context = await browser.newContext({ viewport: { width: vw, height: vh } });
  const page = await context.newPage();
  await page.addInitScript({ content: FRAME_LOG });
  await page.goto(`${app.url}/?mode=device${optionSets[k] ? `&${optionSets[k]}` : ''}`);
  pages[k] = page;
  return page;
}
try {
  for (const [i, photo] of photos.entries()) {
    for (const [k, options] of optionSets.entries()) {
      const page = await pageFor(k);
      const t0 = await page.evaluate(() => performance.now());
      await page.setInputFiles('#file', photo);
      await page.waitForFunction(
        () => /^Done in/.test(document.getElementById('status')?.textContent ?? '') || !document.getElementById('error')?.hidden,
        null,
        { timeout: 600_000, polling: 250 },
      );
      const { t1, frames, tasks, results, status, error } = await page.evaluate(() => ({
        t1: performance.now(),
        results: (globalThis as unknown as { __results: number[] }).__results.slice(),
        frames: (globalThis as unknown as { __frames: number[] }).__frames.slice(),
        tasks: (globalThis as unknown as { __longTasks: [number, number][] }).__longTasks.slice(),
        status: document.getElementById('status')?.textContent ?? '',
        error: document.getElementById('error')?.hidden ? '' : (document.getElementById('error')?.textContent ?? ''),
      }));
      if (error) throw new Error(`${photo}: the page shows an error: ${error}`);
      const inRun = [t0, ...frames.filter((t) => t > t0 && t < t1), t1];
      const gaps = inRun.slice(1).map((t, j) => t - inRun[j]);
      // the worker's answer splits the run: computing (the page only shows progress), then showing the result
      const tr = results.filter((t) => t > t0 && t < t1).at(-1) ?? t1;
      const gapsIn = (a: number, b: number) => gaps.filter((_, j) => inRun[j + 1] > a && inRun[j] < b);
      const computing = gapsIn(t0, tr);
      const longTasks = tasks.filter(([start, d]) => start + d > t0 && start < t1).map(([, d]) => d);
      if (process.env.GAPS_DEBUG) {
        const at = (t: number) => Math.round(t - t0);
        console.log(photo, options, `answer at ${at(tr)}`, 'gaps', gaps.map((g, j) => [g, inRun[j]]).filter(([g]) => g > 50).map(([g, t]) => `${Math.round(g)}@${at(t)}`).join('  '));
        console.log(photo, options, 'tasks', tasks.filter(([start, d]) => start + d > t0 && start < t1).map(([st, d]) => `${Math.round(d)}@${at(st)}`).join('  '));
      }
      rows.push({
        options,
        photo: path.basename(photo),
        run: i === 0 ? 'cold' : 'warm',
        faces: /(\d+) faces?/.exec(status)?.[1] ?? '?',
        wallS: (t1 - t0) / 1000,
        frames: inRun.length - 2,
        longestMs: Math.max(...gaps),
        computingMs: Math.max(0, ...computing),
        showingMs: Math.max(0, ...gapsIn(tr, t1)),
        over50: computing.filter((g) => g > 50).length,
        over100: computing.filter((g) => g > 100).length,
        longestTaskMs: Math.max(0, ...longTasks),
      });
      await page.waitForTimeout(500); // the viewers settle before the next photo
    }
  }
} finally {
  await browser.close();
  await app.close();
}

const sets = optionSets.length > 1 || optionSets[0] ? `, page options: ${optionSets.map((o) => o || '(none)').join(' vs ')}` : '';
console.log(`frame gaps in "on this device" mode (Chromium ${browser.version()}, viewport ${vw}×${vh}${sets}):\n`);
console.log('| page options | photo | run | faces | wall s | frames | computing: longest gap ms | gaps > 50 ms | gaps > 100 ms | showing the result: longest gap ms | longest page task ms |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.options || '(none)'} | ${r.photo} | ${r.run} | ${r.faces} | ${r.wallS.toFixed(1)} | ${r.frames} | ${r.computingMs.toFixed(0)} | ${r.over50} | ${r.over100} | ${r.showingMs.toFixed(0)} | ${r.longestTaskMs.toFixed(0)} |`,
  );
}
