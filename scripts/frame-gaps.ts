/**
 * How smooth the page stays in "on this device" mode: Chromium (playwright-core, /usr/bin/chromium) loads the
 * page, a requestAnimationFrame loop logs every frame, and each photo is reconstructed on the device; the script
 * prints, per photo, the wall time from choosing the file to "Done", the frames painted and the longest gap
 * between two frames (the goal is ≤ 100 ms: the pipeline runs in a Web Worker, the page only draws). The first
 * row is cold (the models load while the first photo waits), the others warm.
 *
 * ```sh
 * node --import tsx scripts/frame-gaps.ts                                # examples/face.jpg, a 2-face and a 24-face photo
 * node --import tsx scripts/frame-gaps.ts --photos=a.jpg,b.jpg --viewport=390x844 --page-options=shape=network
 * ```
 * A measurement, not a test: run it on a quiet machine (other processes on the cores show up as gaps).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { buildWeb } from './build-web.ts';
import { startServer } from '../src/server/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.VOXFACE_SHARED ?? path.resolve(root, '..', 'shared');
const USAGE = `Usage: node --import tsx scripts/frame-gaps.ts [--photos=a.jpg,b.jpg] [--viewport=1100x900] [--chromium=/usr/bin/chromium]
                                              [--page-options=shape=network&flip=off]
Prints the longest gap between painted frames while each photo is reconstructed in "on this device" mode
(--page-options: pipeline options in the page's URL, as a user would give them).
`;
const { values } = parseArgs({
  options: {
    photos: { type: 'string' },
    viewport: { type: 'string', default: '1100x900' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    'page-options': { type: 'string', default: '' },
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
  over50: number;
  over100: number;
  /** The longest task on the page's thread (PerformanceObserver 'longtask': tasks over 50 ms; 0 when none). */
  longestTaskMs: number;
}
const rows: Row[] = [];
try {
  const page = await browser.newPage({ viewport: { width: vw, height: vh } });
  await page.addInitScript({ content: FRAME_LOG });
  await page.goto(`${app.url}/?mode=device${values['page-options'] ? `&${values['page-options']}` : ''}`);
  for (const [i, photo] of photos.entries()) {
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
    const gaps = inRun.slice(1).map((t, k) => t - inRun[k]);
    // the worker's answer splits the run: computing (the page only shows progress), then showing the result
    const tr = results.filter((t) => t > t0 && t < t1).at(-1) ?? t1;
    const gapsIn = (a: number, b: number) => gaps.filter((_, k) => inRun[k + 1] > a && inRun[k] < b);
    const longTasks = tasks.filter(([start, d]) => start + d > t0 && start < t1).map(([, d]) => d);
    if (process.env.GAPS_DEBUG) {
      console.log(photo, 'gaps', gaps.map((g, k) => [g, inRun[k] - t0]).filter(([g]) => g > 50).map((x) => x.map(Math.round).join('@')).join('  '));
      console.log(photo, 'tasks', tasks.filter(([start, d]) => start + d > t0 && start < t1).map(([st, d]) => `${Math.round(d)}@${Math.round(st - t0)}`).join('  '));
    }
    rows.push({
      photo: path.basename(photo),
      run: i === 0 ? 'cold' : 'warm',
      faces: /(\d+) faces?/.exec(status)?.[1] ?? '?',
      wallS: (t1 - t0) / 1000,
      frames: inRun.length - 2,
      longestMs: Math.max(...gaps),
      computingMs: Math.max(0, ...gapsIn(t0, tr)),
      showingMs: Math.max(0, ...gapsIn(tr, t1)),
      over50: gaps.filter((g) => g > 50).length,
      over100: gaps.filter((g) => g > 100).length,
      longestTaskMs: Math.max(0, ...longTasks),
    });
    await page.waitForTimeout(500); // the viewers settle before the next photo
  }
} finally {
  await browser.close();
  await app.close();
}

console.log(`frame gaps in "on this device" mode (Chromium ${browser.version()}, viewport ${vw}×${vh}${values['page-options'] ? `, ${values['page-options']}` : ''}):\n`);
console.log('| photo | run | faces | wall s | frames | longest gap ms: computing | showing the result | gaps > 50 ms | gaps > 100 ms | longest page task ms |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.photo} | ${r.run} | ${r.faces} | ${r.wallS.toFixed(1)} | ${r.frames} | ${r.computingMs.toFixed(0)} | ${r.showingMs.toFixed(0)} | ${r.over50} | ${r.over100} | ${r.longestTaskMs.toFixed(0)} |`,
  );
}
