/**
 * The server's resident memory by setting: for each result-store size × concurrency, starts the server (a child
 * process, as `npm start`), reconstructs real photos with every format until the store is full and evicting, then
 * waits until every result has expired, and prints a table: RSS idle after loading, with the store full, the peak,
 * once the store is empty, and a while later.
 *
 * ```sh
 * node --import tsx scripts/memory.ts                                  # settings 0x1,0x2,64x2,256x1,256x2
 * node --import tsx scripts/memory.ts --settings=256x2 --ttl-s=300
 * ```
 * Options: --settings (store MB × concurrency, comma list), --formats (all: ~4.3 MB of files per face), --ttl-s (300:
 * the result links' life, longer than filling the largest store takes), --extra (6: requests after the store is full),
 * --photos=<folder,…> (../shared/faces/deepface and examples/), --after-s (30: the last reading, after the store
 * emptied).
 */
import { isImageFile } from '../src/decode/extensions.ts';
import { health, loadPhotos, parseArgs, PHOTO_DIRS, processRss, startServerChild } from './server-child.ts';

const USAGE = `Usage: node --import tsx scripts/memory.ts [--settings=0x1,0x2,64x2,256x1,256x2] [--formats=all] [--ttl-s=300]
                                    [--extra=6] [--photos=<folder,…>] [--after-s=30]
For each result store size (MB) × concurrency: RSS of the server idle, with the store full, at its peak, once
every result has expired, and --after-s later.
`;
const args = parseArgs(process.argv.slice(2), USAGE);
const settings = (args.get('settings') ?? '0x1,0x2,64x2,256x1,256x2').split(',').map((s) => {
  const m = /^(\d+(?:\.\d+)?)x(\d+)$/.exec(s);
  if (!m) throw new Error(`--settings: "${s}" is not STORE_MBxCONCURRENCY`);
  return { storeMB: Number(m[1]), concurrency: Number(m[2]) };
});
const formats = args.get('formats') ?? 'all';
const ttlS = Number(args.get('ttl-s') ?? 300);
const extra = Number(args.get('extra') ?? 6);
const afterS = Number(args.get('after-s') ?? 30);
const photos = loadPhotos(args.get('photos')?.split(',') ?? PHOTO_DIRS, isImageFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  setting: string;
  idle: number;
  full: number;
  peak: number;
  stored: string;
  emptied: number;
  after: number;
  requests: number;
  seconds: number;
}
const rows: Row[] = [];
for (const { storeMB, concurrency } of settings) {
  // a store of 0 MB keeps nothing (the smallest the variable takes: 1 kB)
  const server = await startServerChild({
    VOXFACE_CONCURRENCY: String(concurrency),
    VOXFACE_QUEUE: String(concurrency * 2),
    VOXFACE_RESULT_MB: String(storeMB || 0.001),
    VOXFACE_RESULT_TTL_S: String(ttlS),
  });
  try {
    const rss = () => processRss(server.rootPid)!; // the whole tree: main.ts and, on glibc, the server under it
    await sleep(2000);
    const idle = rss().rssMB;
    const t0 = performance.now();
    let requests = 0;
    let after = -1; // requests left once the store is full
    const minimum = 4 * concurrency;
    // `concurrency` clients, one request after another each, until the store is full and `extra` more are done
    await Promise.all(
      Array.from({ length: concurrency }, async (_, c) => {
        for (let i = c; ; i += concurrency) {
          if (after === 0) return;
          const photo = photos[i % photos.length];
          const res = await fetch(`${server.url}/api/v1/reconstruct?formats=${formats}`, { method: 'POST', body: photo.bytes as BodyInit, headers: { 'Content-Type': 'image/jpeg' } });
          await res.arrayBuffer();
          requests++;
          if (after > 0) after--;
          const h = await health(server.url);
          if (after < 0 && requests >= minimum && h.results.bytes + 5 * 2 ** 20 >= h.results.maxBytes) after = extra;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const h = await health(server.url);
    const full = rss();
    const stored = `${h.results.results} results, ${(h.results.bytes / 2 ** 20).toFixed(0)} MB`;
    // /healthz drops expired results as it reads the store
    while ((await health(server.url)).results.results > 0) await sleep(2000);
    await sleep(2000);
    const emptied = rss().rssMB;
    await sleep(afterS * 1000);
    rows.push({ setting: `${storeMB} MB × ${concurrency}`, idle, full: full.rssMB, peak: full.peakMB, stored, emptied, after: rss().rssMB, requests, seconds });
    console.error(`${storeMB} MB × ${concurrency}: done (${requests} requests in ${seconds.toFixed(0)} s)`);
  } finally {
    await server.stop();
  }
}

console.log(`\nvoxface server RSS by setting (result store × concurrency), formats=${formats}, result TTL ${ttlS} s\n`);
console.log('| store × concurrency | requests | idle | store full | peak | held at the end | store emptied | ' + `${afterS} s later |`);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.setting} | ${r.requests} in ${r.seconds.toFixed(0)} s | ${r.idle} MB | ${r.full} MB | ${r.peak} MB | ${r.stored} | ${r.emptied} MB | ${r.after} MB |`);
