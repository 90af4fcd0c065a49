/**
 * Load test of the HTTP server: starts it on loopback (a child process, as `npm start` would), sends N concurrent
 * clients × M requests with real photos while a prober asks `/healthz` every 100 ms, and prints a table: throughput,
 * latency percentiles, answers by status, `/healthz` latency under that load, the CPU the server's process tree used
 * (cores busy; its HTTP thread alone), and its memory.
 *
 * ```sh
 * npm run load -- --clients=4 --requests=5
 * npm run load -- --clients=8 --requests=3 --concurrency=2 --queue=2 --formats=glb,obj
 * ```
 * Options: --clients (4), --requests per client (5), --photos=<folder,…> (../shared/faces/deepface and examples/,
 * the first 12 images of each by name), --formats (glb), --probe-ms (100: the /healthz prober's pause), --warmup (3 rounds
 * of one request per reconstruction thread before the measured ones), --concurrency /
 * --queue / --threads / --result-mb / --ttl-s (server settings; defaults of the server), --url=<http://host:port> to
 * load an already running server instead of starting one (no CPU or /proc figures then).
 */
import os from 'node:os';
import { isImageFile } from '../src/decode/extensions.ts';
import { health, loadPhotos, machineCpu, parseArgs, percentile, PHOTO_DIRS, processCpu, processRss, startServerChild } from './server-child.ts';
import type { ServerChild } from './server-child.ts';

const USAGE = `Usage: npm run load -- [--clients=4] [--requests=5] [--photos=<folder,…>] [--formats=glb] [--probe-ms=100] [--warmup=3]
                        [--concurrency=N] [--queue=N] [--threads=N] [--result-mb=N] [--ttl-s=N] [--url=http://host:port]
Starts the server on loopback (or loads --url), sends clients × requests reconstructions of real photos
(default ../shared/faces/deepface and examples/, the first 12 images of each by name) while probing /healthz,
and prints throughput, latency percentiles, answers by status, /healthz latency under load, the CPU the
server's process tree used, and its memory.
`;
const args = parseArgs(process.argv.slice(2), USAGE);
const int = (name: string, def: number) => {
  const v = Number(args.get(name) ?? def);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number`);
  return v;
};
const clients = int('clients', 4);
const requests = int('requests', 5);
const probeMs = int('probe-ms', 100);
const warmup = int('warmup', 3);
const formats = args.get('formats') ?? 'glb';
const photos = loadPhotos(args.get('photos')?.split(',') ?? PHOTO_DIRS, isImageFile);

const env: Record<string, string | undefined> = {
  VOXFACE_CONCURRENCY: args.get('concurrency'),
  VOXFACE_QUEUE: args.get('queue'),
  VOXFACE_THREADS: args.get('threads'),
  VOXFACE_RESULT_MB: args.get('result-mb'),
  VOXFACE_RESULT_TTL_S: args.get('ttl-s'),
};
const server: ServerChild = args.has('url') ? { url: args.get('url')!, pid: 0, rootPid: 0, stop: async () => {} } : await startServerChild(env);
const typeOf = (name: string) => (/\.png$/i.test(name) ? 'image/png' : 'image/jpeg');
const send = (i: number) =>
  fetch(`${server.url}/api/v1/reconstruct?formats=${formats}`, { method: 'POST', body: photos[i % photos.length].bytes as BodyInit, headers: { 'Content-Type': typeOf(photos[i % photos.length].name) } });

try {
  const atStart = await health(server.url);
  // warm-up: `warmup` rounds of one request per reconstruction thread, so lazy initialisation and V8's compiling of the
  // hot code (each thread its own) are not counted as load
  for (let round = 0; round < warmup; round++) {
    await Promise.all(Array.from({ length: atStart.jobs.concurrency }, (_, i) => send(round * atStart.jobs.concurrency + i).then((r) => r.arrayBuffer())));
  }
  const warm = await health(server.url);

  const latencies: number[] = [];
  const byStatus = new Map<string, number>();
  let faces = 0;
  let done = false;
  // the prober: /healthz one after another, `probeMs` apart, while the clients run
  const probes: number[] = [];
  let probedBusy = 0;
  let peakMB = 0;
  const prober = (async () => {
    while (!done) {
      const t = performance.now();
      const h = await health(server.url);
      probes.push(performance.now() - t);
      if (h.jobs.running >= h.jobs.concurrency) probedBusy++;
      if (server.pid) peakMB = Math.max(peakMB, processRss(server.rootPid)?.rssMB ?? 0);
      await new Promise((r) => setTimeout(r, probeMs));
    }
  })();
  const cpu0 = server.pid ? { tree: processCpu(server.rootPid), server: processCpu(server.pid) } : undefined;
  const machine0 = machineCpu();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let r = 0; r < requests; r++) {
        const t = performance.now();
        let status: string;
        try {
          const res = await send(c * requests + r);
          const body = (await res.json()) as { faces?: unknown[] };
          status = String(res.status);
          if (res.status === 200) {
            latencies.push(performance.now() - t);
            faces += body.faces?.length ?? 0;
          }
        } catch (e) {
          status = `network error (${(e as Error).message})`;
        }
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = server.pid ? { tree: processCpu(server.rootPid), server: processCpu(server.pid) } : undefined;
  const machine1 = machineCpu();
  done = true;
  await prober;
  const end = await health(server.url);
  await new Promise((r) => setTimeout(r, 2000));
  const idle = await health(server.url);

  latencies.sort((a, b) => a - b);
  probes.sort((a, b) => a - b);
  const total = clients * requests;
  const ok = byStatus.get('200') ?? 0;
  const row = (k: string, v: string) => console.log(`${k.padEnd(34)} ${v}`);
  console.log(`\nvoxface load test: ${clients} clients × ${requests} requests, formats=${formats}, ${photos.length} photos`);
  console.log(`server: concurrency ${atStart.jobs.concurrency}, queue ${atStart.jobs.queue}, result store ${Math.round(atStart.results.maxBytes / 2 ** 20)} MB, ${server.url}; ${os.availableParallelism()} cores\n`);
  row('requests', `${total} in ${wall.toFixed(1)} s: ${(total / wall).toFixed(2)} req/s, ${(ok / wall).toFixed(2)} answered 200/s (${faces} faces)`);
  row('latency of 200s p50 / p95 / max', `${percentile(latencies, 50).toFixed(0)} / ${percentile(latencies, 95).toFixed(0)} / ${(latencies.at(-1) ?? NaN).toFixed(0)} ms`);
  row('answers by status', [...byStatus].sort().map(([s, n]) => `${s}: ${n}`).join(', '));
  row('/healthz under load p50 / p99 / max', `${percentile(probes, 50).toFixed(1)} / ${percentile(probes, 99).toFixed(1)} / ${(probes.at(-1) ?? NaN).toFixed(1)} ms (${probes.length} probes, ${probedBusy} with every slot busy)`);
  if (cpu0?.tree && cpu1?.tree && cpu0.server && cpu1.server) {
    const used = cpu1.tree.total - cpu0.tree.total;
    const main = cpu1.server.main - cpu0.server.main;
    row('server CPU (process tree)', `${used.toFixed(1)} s in ${wall.toFixed(1)} s = ${(used / wall).toFixed(2)} of ${os.availableParallelism()} cores busy; HTTP thread ${(main / wall).toFixed(2)} cores`);
  }
  if (machine0 && machine1) {
    const busy = machine1.busy - machine0.busy;
    row('machine CPU (every process)', `${(busy / wall).toFixed(2)} of ${os.availableParallelism()} cores busy`);
  }
  row('RSS start / warm / end / idle', `${atStart.rssMB} / ${warm.rssMB} / ${end.rssMB} / ${idle.rssMB} MB${peakMB ? ` (peak seen ${peakMB} MB)` : ''}`);
  row('results stored at the end', `${end.results.results} (${(end.results.bytes / 2 ** 20).toFixed(0)} MB of ${(end.results.maxBytes / 2 ** 20).toFixed(0)})`);
  row('JS heap warm→idle: HTTP / workers', `${warm.heapMB}→${idle.heapMB} / ${warm.workers?.heapMB ?? '–'}→${idle.workers?.heapMB ?? '–'} MB; ArrayBuffers ${warm.arrayBuffersMB}→${idle.arrayBuffersMB} MB`);
  row('TF.js tensors warm / end', `${warm.tensors} / ${end.tensors}`);
} finally {
  await server.stop();
}
