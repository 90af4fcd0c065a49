/**
 * Load test of the HTTP server: starts it on loopback (a child process, as `npm start` would), sends
 * N concurrent clients × M requests with real photos, and prints latency percentiles, answers by status,
 * throughput, and the server's RSS and TF.js tensor count before and after.
 *
 * ```sh
 * node --import tsx scripts/load.ts --clients=4 --requests=5
 * node --import tsx scripts/load.ts --clients=8 --requests=3 --concurrency=2 --queue=2 --formats=glb,obj
 * ```
 * Options: --clients (4), --requests per client (5), --photos=<folder> (../shared/faces/deepface, the
 * first 12 JPEGs by name), --formats (glb), --concurrency / --queue / --threads (server settings; defaults
 * of the server), --url=<http://host:port> to load an already running server instead of starting one.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isImageFile } from '../src/decode/extensions.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `Usage: npm run load -- [--clients=4] [--requests=5] [--photos=<folder>] [--formats=glb]
                        [--concurrency=N] [--queue=N] [--threads=N] [--url=http://host:port]
Starts the server on loopback (or loads --url), sends clients × requests reconstructions of real photos
(default ../shared/faces/deepface, the first 12 JPEGs by name), and prints latency percentiles, answers
by status, throughput, and the server's RSS and TF.js tensors before and after.
`;
if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const args = new Map(
  process.argv.slice(2).map((a) => {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      console.error(`unknown argument ${a}\n${USAGE}`);
      process.exit(2);
    }
    return [m[1], m[2] ?? 'true'] as const;
  }),
);
const int = (name: string, def: number) => {
  const v = Number(args.get(name) ?? def);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number`);
  return v;
};
const clients = int('clients', 4);
const requests = int('requests', 5);
const formats = args.get('formats') ?? 'glb';
const shared = process.env.VOXFACE_SHARED ?? path.resolve(root, '..', 'shared');
const photoDir = args.get('photos') ?? path.join(shared, 'faces', 'deepface');
if (!existsSync(photoDir)) {
  console.error(`no photos at ${photoDir} (set --photos or VOXFACE_SHARED)`);
  process.exit(2);
}
const photos = readdirSync(photoDir)
  .filter((f) => isImageFile(f))
  .sort()
  .slice(0, 12)
  .map((f) => ({ name: f, bytes: readFileSync(path.join(photoDir, f)) }));

interface Health {
  rssMB: number;
  heapMB: number;
  arrayBuffersMB: number;
  tensors: number;
  jobs: { concurrency: number; queue: number };
}

/** Starts `src/server/main.ts` on a free loopback port; resolves with its URL and a stop function. */
async function startChild(): Promise<{ url: string; stop: () => void }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1' };
  if (args.has('concurrency')) env.VOXFACE_CONCURRENCY = args.get('concurrency');
  if (args.has('queue')) env.VOXFACE_QUEUE = args.get('queue');
  if (args.has('threads')) env.VOXFACE_THREADS = args.get('threads');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'server', 'main.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume(); // keep draining the request log
        resolve({ url: m[1], stop: () => child.kill('SIGTERM') });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

const server = args.has('url') ? { url: args.get('url')!, stop: () => {} } : await startChild();
const health = async (): Promise<Health> => (await fetch(`${server.url}/healthz`)).json() as Promise<Health>;
try {
  const atStart = await health();
  // warm-up: one request so lazy initialisation is not counted as load
  await fetch(`${server.url}/api/v1/reconstruct?formats=${formats}`, { method: 'POST', body: photos[0].bytes, headers: { 'Content-Type': 'image/jpeg' } });
  const warm = await health();

  const latencies: number[] = [];
  const byStatus = new Map<string, number>();
  let faces = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let r = 0; r < requests; r++) {
        const photo = photos[(c * requests + r) % photos.length];
        const t = performance.now();
        let status: string;
        try {
          const res = await fetch(`${server.url}/api/v1/reconstruct?formats=${formats}`, {
            method: 'POST',
            body: photo.bytes,
            headers: { 'Content-Type': 'image/jpeg' },
          });
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
  const end = await health();
  await new Promise((r) => setTimeout(r, 2000));
  const idle = await health();

  latencies.sort((a, b) => a - b);
  const total = clients * requests;
  const row = (k: string, v: string) => console.log(`${k.padEnd(30)} ${v}`);
  console.log(`\nvoxface load test: ${clients} clients × ${requests} requests, formats=${formats}, ${photos.length} photos from ${photoDir}`);
  console.log(`server: concurrency ${atStart.jobs.concurrency}, queue ${atStart.jobs.queue}, ${server.url}\n`);
  row('requests', `${total} in ${wall.toFixed(1)} s (${(total / wall).toFixed(2)} req/s, ${faces} faces)`);
  row('latency of 200s p50 / p95 / max', `${percentile(latencies, 50).toFixed(0)} / ${percentile(latencies, 95).toFixed(0)} / ${(latencies.at(-1) ?? NaN).toFixed(0)} ms`);
  row('answers by status', [...byStatus].sort().map(([s, n]) => `${s}: ${n}`).join(', '));
  row('RSS start / warm / end / idle', `${atStart.rssMB} / ${warm.rssMB} / ${end.rssMB} / ${idle.rssMB} MB`);
  row('JS heap / ArrayBuffers warm→idle', `${warm.heapMB}→${idle.heapMB} / ${warm.arrayBuffersMB}→${idle.arrayBuffersMB} MB`);
  row('TF.js tensors warm / end', `${warm.tensors} / ${end.tensors}`);
} finally {
  server.stop();
}
