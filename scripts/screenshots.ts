/**
 * Retakes the README/docs screenshots of the web page with the current model: desktop and phone, in-browser
 * ("on this device") mode, on a real photo in the public domain (`examples/astronaut.jpg`: NASA's portrait of
 * Eileen Collins, see examples/README.md), the 3D view turned 30° so the shape shows.
 *
 *   node --import tsx scripts/screenshots.ts [--photo examples/astronaut.jpg] [--turn 3] [--out docs]
 *
 * Needs Debian's Chromium at /usr/bin/chromium (playwright-core drives it).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildWeb } from './build-web.ts';
import { startServer } from '../src/server/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    photo: { type: 'string', default: path.join(ROOT, 'examples', 'astronaut.jpg') },
    turn: { type: 'string', default: '3' }, // arrow-key steps of 10° the 3D view is turned by
    out: { type: 'string', default: path.join(ROOT, 'docs') },
  },
});

await buildWeb();
const app = await startServer({ port: 0, threads: 2 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
    await page.goto(`${app.url}/?mode=device`);
    await page.setInputFiles('#file', values.photo!);
    await page.waitForFunction(
      () => /^Done in/.test(document.getElementById('status')?.textContent ?? '') || !document.getElementById('error')?.hidden,
      null,
      { timeout: 180_000 },
    );
    if (!(await page.locator('#error').isHidden())) throw new Error(`the page shows an error: ${await page.locator('#error').textContent()}`);
    await page.focus('#viewer');
    for (let i = 0; i < Number(values.turn); i++) await page.keyboard.press('ArrowLeft');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur()); // no focus ring in the picture
    await page.waitForTimeout(500);
    const file = path.join(values.out!, `screenshot-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`wrote ${path.relative(process.cwd(), file)}: ${await page.locator('#status').textContent()}`);
    await page.close();
  }
} finally {
  await browser.close();
  await app.close();
}
