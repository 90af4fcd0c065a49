/**
 * The voxface HTTP server: the reconstruction API, the result links, and the web page with the files it
 * needs to run the pipeline in the browser. Node's `http` only. Photos and results stay in memory.
 *
 * ```ts
 * import { startServer } from './server/index.ts';
 * const app = await startServer({ port: 8080 });     // loads the model and detectors once
 * console.log(app.url);                               // http://127.0.0.1:8080
 * await app.close();
 * ```
 * Endpoints: see docs/api.md and `GET /api/v1/openapi.json`.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLAZE_SPECS } from '../detect/blazeface.ts';
import { defaultModelDir } from '../node/detectors.ts';
import { defaultModelPath, loadVoxface } from '../node/index.ts';
import type { Voxface, VoxfaceOptions } from '../node/index.ts';
import { readBody } from './body.ts';
import { errorResponse, HttpError } from './errors.ts';
import { Limiter } from './limiter.ts';
import { parseReconstructRequest, reconstructRequest, SERVER_OPTIONS } from './reconstruct.ts';
import { openapiParameters, optionsObjectSchema } from '../options.ts';
import { ResultStore } from './results.ts';
import { contentType, StaticFiles } from './static.ts';
import type { Mount } from './static.ts';
import openapiSpec from './openapi.json' with { type: 'json' };

export interface ServerOptions {
  /** TCP port (default 8080; 0 = any free port). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** A loaded voxface (default: `loadVoxface({ model, threads, limits })`, once, before listening). */
  voxface?: Voxface | Promise<Voxface>;
  /** The ONNX model (default models/vrn-compact.onnx); also what `/models/model.onnx` serves. */
  model?: string;
  /** onnxruntime threads for the default voxface. */
  threads?: number;
  /** Decode limits (pixels) for the default voxface. */
  limits?: VoxfaceOptions['limits'];
  /** Largest accepted upload in bytes (default 20 MB). */
  maxBodyBytes?: number;
  /** Reconstructions running at once (default 2) and waiting (default 8); more get 503 + Retry-After. */
  concurrency?: number;
  queue?: number;
  /** Per-request time limit in ms, queueing included (default 60 s) → 504. */
  timeoutMs?: number;
  /** Result links live this long (default 10 min) within this many bytes (default 256 MiB, LRU). */
  resultTtlMs?: number;
  resultMaxBytes?: number;
  /** The page's folder (default web/; its bundle in web/dist/). */
  webRoot?: string;
  /** Request log, one line each (default: none). */
  log?: (line: string) => void;
}

/** A running server. */
export interface VoxfaceServer {
  server: http.Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  voxface: Voxface;
  limiter: Limiter;
  store: ResultStore;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const MB = 1024 * 1024;

/** The detector model files the browser loads (BlazeFace variants, FaceBoxes, Face Mesh). */
export function browserDetectorFiles(): string[] {
  const names = [...new Set([...Object.values(BLAZE_SPECS).map((s) => s.model), 'faceboxes', 'facemesh'])];
  return names.flatMap((n) => [`${n}.json`, `${n}.bin`]);
}

/** The folder of an installed package (found from its entry point, whatever its `exports` allow). */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (path.basename(dir) !== name.split('/').pop() && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** URL mounts of the page, the model and the vendor files. */
export function staticMounts(webRoot: string, modelPath: string): Mount[] {
  const ortDist = path.join(packageDir('onnxruntime-web'), 'dist');
  const tfWasmDist = path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  const sidecar = modelPath.replace(/\.onnx$/i, '') + '.json';
  const vendor = 'public, max-age=86400';
  return [
    { prefix: '/', file: path.join(webRoot, 'index.html') },
    { prefix: '/dist/', dir: path.join(webRoot, 'dist'), exts: ['.js', '.css', '.map'] },
    { prefix: '/', dir: webRoot, exts: ['.html', '.css', '.svg', '.png', '.ico', '.webmanifest'] },
    { prefix: '/models/model.onnx', file: modelPath },
    { prefix: '/models/model.json', file: sidecar },
    { prefix: `/models/${path.basename(modelPath)}`, file: modelPath },
    { prefix: `/models/${path.basename(sidecar)}`, file: sidecar },
    { prefix: '/vendor/ort/', dir: ortDist, allow: ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'], cache: vendor },
    {
      prefix: '/vendor/tfjs-wasm/',
      dir: tfWasmDist,
      allow: ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'],
      cache: vendor,
    },
    { prefix: '/vendor/human-models/', dir: defaultModelDir(), allow: browserDetectorFiles(), cache: vendor },
  ];
}

/**
 * The OpenAPI document: openapi.json with the reconstruct parameters (query and form fields) generated from the
 * options table.
 */
export function openapiDocument(): typeof openapiSpec {
  const doc = structuredClone(openapiSpec);
  const post = doc.paths['/api/v1/reconstruct'].post as { parameters: unknown[]; requestBody: { content: Record<string, { schema: { properties?: object } }> } };
  post.parameters = openapiParameters('server', SERVER_OPTIONS);
  const form = post.requestBody.content['multipart/form-data'].schema;
  form.properties = { ...form.properties, ...optionsObjectSchema('server', SERVER_OPTIONS).properties };
  return doc;
}

/** Headers on every answer: no sniffing, cross-origin isolation (threads in wasm), no referrer. */
const COMMON_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};
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

function sendJSON(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': data.length, 'Cache-Control': 'no-store', ...headers });
  res.end(data);
}

/**
 * Loads the model (unless `voxface` is given), then listens. Resolves once requests are accepted.
 */
export async function startServer(options: ServerOptions = {}): Promise<VoxfaceServer> {
  const modelPath = path.resolve(options.model ?? defaultModelPath());
  const voxface = await (options.voxface ?? loadVoxface({ model: modelPath, threads: options.threads, limits: options.limits }));
  const webRoot = path.resolve(options.webRoot ?? path.join(here, '..', '..', 'web'));
  const limiter = new Limiter({ concurrency: options.concurrency, queue: options.queue });
  const store = new ResultStore({ ttlMs: options.resultTtlMs, maxBytes: options.resultMaxBytes });
  const files = new StaticFiles(staticMounts(webRoot, modelPath));
  if (!existsSync(path.join(webRoot, 'dist', 'main.js'))) {
    options.log?.('warning: the page is not built (web/dist/main.js is missing): run node --import tsx scripts/build-web.ts');
  }
  const maxBody = options.maxBodyBytes ?? 20 * MB;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const openapi = Buffer.from(JSON.stringify(openapiDocument(), null, 1));
  const started = Date.now();
  const sweeper = setInterval(() => store.sweep(), 30_000);
  sweeper.unref();

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const only = (...allowed: string[]) => {
      if (!allowed.includes(method)) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here (use ${allowed.join(' or ')})`, { Allow: allowed.join(', ') });
    };
    if (p === '/healthz') {
      only('GET', 'HEAD');
      const tf = await import('@tensorflow/tfjs');
      sendJSON(res, 200, {
        ok: true,
        model: voxface.deps.model.name,
        uptimeS: Math.round((Date.now() - started) / 1000),
        jobs: limiter.stats,
        results: store.stats,
        tensors: tf.memory().numTensors,
        ...memoryMB(),
      });
      return;
    }
    if (p === '/api/v1/openapi.json') {
      only('GET', 'HEAD');
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': openapi.length, 'Cache-Control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : openapi);
      return;
    }
    if (p === '/api/v1/reconstruct') {
      only('POST');
      const body = await readBody(req, maxBody);
      const request = parseReconstructRequest(req.headers, url.searchParams, body);
      const left = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) left.abort(new HttpError(499, 'CLIENT_LEFT', 'the client closed the connection'));
      });
      const out = await reconstructRequest(request, { voxface, limiter, store, timeoutMs }, left.signal);
      if (out.kind === 'glb') {
        res.writeHead(200, {
          'Content-Type': 'model/gltf-binary',
          'Content-Length': out.bytes.byteLength,
          'Content-Disposition': `attachment; filename="${out.name}"`,
          'Cache-Control': 'no-store',
        });
        res.end(out.bytes);
      } else sendJSON(res, 200, out.body);
      return;
    }
    const m = /^\/api\/v1\/results\/([\w-]+)\/([^/]+)$/.exec(p);
    if (m) {
      only('GET', 'HEAD');
      let name: string;
      try {
        name = decodeURIComponent(m[2]);
      } catch {
        throw new HttpError(404, 'NOT_FOUND', 'no such result file');
      }
      const bytes = store.get(m[1], name);
      if (!bytes) {
        const why = store.has(m[1]) ? `result ${m[1]} has no file "${name}"` : `no result ${m[1]} (unknown or expired)`;
        throw new HttpError(404, 'NOT_FOUND', why);
      }
      res.writeHead(200, {
        'Content-Type': name.endsWith('.glb') ? 'model/gltf-binary' : name.endsWith('.stl') ? 'model/stl' : contentType(name),
        'Content-Length': bytes.byteLength,
        'Content-Disposition': `attachment; filename="${name.replace(/"/g, '')}"`,
        'Cache-Control': 'private, no-store',
      });
      res.end(method === 'HEAD' ? undefined : bytes);
      return;
    }
    if (p.startsWith('/api/')) throw new HttpError(404, 'NOT_FOUND', `no endpoint ${p}`);
    if (method === 'GET' || method === 'HEAD') {
      if (p === '/' || p.endsWith('.html')) res.setHeader('Content-Security-Policy', CSP);
      if (await files.serve(req, res, p)) return;
      throw new HttpError(404, 'NOT_FOUND', `not found: ${p}`);
    }
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`, { Allow: 'GET, HEAD' });
  }

  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      url = new URL('http://localhost/400');
    }
    res.on('finish', () => options.log?.(`${req.method} ${url.pathname} ${res.statusCode} ${Math.round(performance.now() - t0)}ms`));
    handle(req, res, url).catch((e: unknown) => {
      const { status, headers, body } = errorResponse(e);
      if (status >= 500 && !(e instanceof HttpError)) options.log?.(`error ${req.method} ${url.pathname}: ${(e as Error)?.stack ?? e}`);
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      res.removeHeader('Content-Security-Policy');
      sendJSON(res, status, body, headers);
    });
  });
  server.requestTimeout = Math.max(timeoutMs + 30_000, 120_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`,
    voxface,
    limiter,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweeper);
        store.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
