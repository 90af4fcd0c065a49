/**
 * `npm start`: runs the voxface server with settings from the environment.
 *
 * ```sh
 * PORT=8080 HOST=0.0.0.0 VOXFACE_THREADS=2 node --import tsx src/server/main.ts
 * ```
 * Environment: PORT (8080), HOST (127.0.0.1), VOXFACE_MODEL (models/vrn-compact.onnx), VOXFACE_THREADS,
 * VOXFACE_CONCURRENCY (2), VOXFACE_QUEUE (8), VOXFACE_TIMEOUT_S (60), VOXFACE_MAX_BODY_MB (20),
 * VOXFACE_RESULT_TTL_S (600), VOXFACE_RESULT_MB (256), VOXFACE_CORS_ORIGINS (none: same origin only; a comma list of
 * origins, or *), VOXFACE_RATE_PER_MIN (60 reconstructions per client and minute; 0: no limit).
 */
import { startServer } from './index.ts';

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
  const stop = (signal: string) => {
    console.log(`voxface: ${signal}, closing`);
    app.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (e) {
  console.error(`voxface server: ${(e as Error).message}`);
  process.exit(1);
}
