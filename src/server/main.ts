/**
 * `npm start`: runs the voxface server with settings from the environment.
 *
 * ```sh
 * PORT=8080 HOST=0.0.0.0 VOXFACE_THREADS=2 node --import tsx src/server/main.ts
 * ```
 * Environment: PORT (8080), HOST (127.0.0.1), VOXFACE_MODEL (models/vrn-compact.onnx), VOXFACE_THREADS, VOXFACE_THREAD_NICE (0),
 * VOXFACE_CONCURRENCY (2), VOXFACE_QUEUE (8), VOXFACE_TIMEOUT_S (60), VOXFACE_MAX_BODY_MB (20),
 * VOXFACE_RESULT_TTL_S (600), VOXFACE_RESULT_MB (256), VOXFACE_CORS_ORIGINS (none: same origin only; a comma list of
 * origins, or *), VOXFACE_RATE_PER_MIN (60 reconstructions per client and minute; 0: no limit).
 *
 * Memory given back: on Linux with glibc, the server runs as a child of this process with
 * `MALLOC_MMAP_THRESHOLD_=131072` (glibc reads it only as a process starts), unless that variable is already set: every
 * allocation of 128 kB or more (photos, result files, volumes, textures) is then its own mapping, returned to the
 * system when freed, instead of a hole in a heap that glibc keeps. And `gc` is exposed, so the threads collect their
 * garbage when idle and this thread when the result store has dropped results (docs/api.md, "Memory").
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** glibc's malloc settings the server runs with (see above). */
const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };

/** Whether this process runs on glibc (its malloc reads MALLOC_* variables). */
function onGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return !!header?.glibcVersionRuntime;
}

/** Runs this same program as a child with MALLOC_ENV; signals go to it, and its exit status is ours. */
function superviseWithMallocEnv(): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, ...MALLOC_ENV },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (signal ? os.constants.signals[signal] : 1);
  });
}

/** A positive number from the environment, or undefined when unset; exits with a message when invalid. */
function envNumber(name: string, { integer = true, min = 0 } = {}): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    console.error(`voxface server: ${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const MB = 1024 * 1024;
const seconds = (name: string) => {
  const s = envNumber(name, { integer: false, min: 0.001 });
  return s === undefined ? undefined : s * 1000;
};
const megabytes = (name: string) => {
  const m = envNumber(name, { integer: false, min: 0.001 });
  return m === undefined ? undefined : Math.round(m * MB);
};

/** Starts the server with settings from the environment (gc exposed: see above). */
async function serve(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  (globalThis as { gc?: unknown }).gc ??= runInNewContext('gc');
  const { startServer } = await import('./index.ts');
  const corsOrigins = (process.env.VOXFACE_CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const ratePerMin = envNumber('VOXFACE_RATE_PER_MIN');

  const t0 = performance.now();
  try {
    const app = await startServer({
      port: envNumber('PORT') ?? 8080,
      host: process.env.HOST || '127.0.0.1',
      model: process.env.VOXFACE_MODEL || undefined,
      threads: envNumber('VOXFACE_THREADS', { min: 1 }),
      threadNice: envNumber('VOXFACE_THREAD_NICE'),
      concurrency: envNumber('VOXFACE_CONCURRENCY', { min: 1 }),
      queue: envNumber('VOXFACE_QUEUE'),
      timeoutMs: seconds('VOXFACE_TIMEOUT_S'),
      maxBodyBytes: megabytes('VOXFACE_MAX_BODY_MB'),
      resultTtlMs: seconds('VOXFACE_RESULT_TTL_S'),
      resultMaxBytes: megabytes('VOXFACE_RESULT_MB'),
      corsOrigins,
      rateLimit: ratePerMin === undefined ? undefined : ratePerMin === 0 ? false : { max: ratePerMin, windowMs: 60_000 },
      log: (line) => console.log(`${new Date().toISOString()} ${line}`),
    });
    console.log(`voxface: model ${app.model} loaded in ${Math.round(performance.now() - t0)} ms by ${app.workers?.size ?? 0} reconstruction threads (${app.workers?.threads ?? '?'} onnxruntime threads each); listening on ${app.url}`);
    let closing = false;
    const stop = (why: string) => {
      if (closing) return; // Ctrl-C reaches this process twice: from the terminal and from its parent
      closing = true;
      console.log(`voxface: ${why}, closing`);
      app.close().then(() => process.exit(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGHUP', () => stop('SIGHUP'));
    // started by the supervisor above: it going away (even killed) ends the server too
    if (process.channel) process.on('disconnect', () => stop('the parent process ended'));
  } catch (e) {
    console.error(`voxface server: ${(e as Error).message}`);
    process.exit(1);
  }
}

if (onGlibc() && process.env.MALLOC_MMAP_THRESHOLD_ === undefined) superviseWithMallocEnv();
else await serve();
