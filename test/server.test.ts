/**
 * The HTTP server (fastify): its parts (request parsing, result store, limiter), the plugins' work over a real
 * socket with a stand-in pipeline (multipart uploads in memory, static files and their allow-lists, CORS, the
 * per-client rate limit), and the API with the real model: the happy paths (raw body, multipart, inline, GLB by
 * Accept, links) and every bad input (415, 400, 413, 422, 405, 404, 429, 503 + Retry-After, 504). Reconstructions run
 * on worker threads: `/healthz` answers while one runs (a stand-in thread that blocks until the test lets it go), bad
 * inputs are refused before they wait for a slot, non-Latin-1 file names go out as RFC 6266 `filename*`, every error
 * (a 500 included) is our JSON, and the request log has a line for a request whose client left.
 *
 * Where fastify's answers could differ from the node:http server's, the server keeps the old ones: a wrong method
 * on an API path is still 405 with Allow (a route per method answers it; fastify alone would say 404), a
 * conditional GET is still 304 although fetch() adds `Cache-Control: no-cache`. A CORS preflight from an origin
 * not on the allow-list gets no CORS headers (404), one from a listed origin 204.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import net from 'node:net';
import path from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { ResultStore } from '../src/server/results.ts';
import { BusyError, Limiter } from '../src/server/limiter.ts';
import { baseName, checkImage, parseReconstructRequest } from '../src/server/reconstruct.ts';
import { HttpError } from '../src/server/errors.ts';
import { asciiFileName, attachment } from '../src/server/disposition.ts';
import { browserDetectorFiles, createApp, DEFAULT_LANDMARKS, DEFAULT_MODEL, DEFAULT_PRIOR, detectorModelDir, mountAllows, startServer, staticMounts } from '../src/server/index.ts';
import { VoxfaceError } from '../src/types.ts';
import type { VoxfaceServer } from '../src/server/index.ts';
import type { Voxface } from '../src/node/index.ts';
import { GROUP_PHOTO, gltfValidator, needsPhotosAndModel, noisePNG, pngBomb, pngWithText, readPhoto, ROOT, MODEL } from './_server.ts';

const CRLF = '\r\n';
function multipartBody(boundary: string, parts: { name: string; filename?: string; type?: string; data: string | Uint8Array }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}${CRLF}Content-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += CRLF;
    if (p.type) head += `Content-Type: ${p.type}${CRLF}`;
    chunks.push(Buffer.from(head + CRLF), Buffer.from(p.data), Buffer.from(CRLF));
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return Buffer.concat(chunks);
}

describe('server parts', () => {
  test('request parsing: parameters, content types, base names', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff]);
    const q = (s: string) => new URLSearchParams(s);
    const r = parseReconstructRequest({ 'content-type': 'image/jpeg' }, q('faces=largest&formats=glb,stl&inline=1'), jpeg);
    assert.deepEqual([r.options.faces, r.options.formats, r.inline, r.glb, r.base], ['largest', ['glb', 'stl'], true, false, 'face']);
    assert.deepEqual(parseReconstructRequest({ 'content-type': 'application/octet-stream' }, q('formats=all'), jpeg).options.formats.length, 8);
    const g = parseReconstructRequest({ 'content-type': 'image/png', accept: 'model/gltf-binary' }, q(''), jpeg);
    assert.deepEqual([g.glb, g.options.faces], [true, 'largest']);
    const status = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof HttpError ? e.status : (e as { code?: string }).code;
      }
      return 200;
    };
    assert.equal(status(() => parseReconstructRequest({ 'content-type': 'text/plain' }, q(''), jpeg)), 415);
    assert.equal(status(() => parseReconstructRequest({}, q(''), jpeg)), 415);
    assert.equal(status(() => parseReconstructRequest({ 'content-type': 'image/jpeg' }, q(''), Buffer.alloc(0))), 400);
    assert.equal(status(() => parseReconstructRequest({ 'content-type': 'image/jpeg' }, q('faces=two'), jpeg)), 400);
    assert.equal(status(() => parseReconstructRequest({ 'content-type': 'image/jpeg' }, q('inline=yes'), jpeg)), 400);
    assert.equal(status(() => parseReconstructRequest({ 'content-type': 'image/jpeg' }, q('formats=gif'), jpeg)), 400);
    assert.equal(baseName('C:\\photos\\My Photo (1).JPG'), 'My_Photo_1');
    assert.equal(baseName('../../etc/passwd'), 'passwd');
    assert.equal(baseName('.jpg'), 'face');
  });

  test('result store: TTL, LRU eviction by bytes, oversized results refused', () => {
    let now = 0;
    const store = new ResultStore({ ttlMs: 1000, maxBytes: 100, now: () => now });
    const a = store.put({ 'a.glb': new Uint8Array(40) })!;
    const b = store.put({ 'b.glb': new Uint8Array(40) })!;
    assert.equal(store.get(a.id, 'a.glb')?.length, 40); // a is now the most recently used
    const c = store.put({ 'c.glb': new Uint8Array(40) })!; // 120 > 100: evicts b, the least recently used
    assert.equal(store.get(b.id, 'b.glb'), undefined);
    assert.ok(store.get(a.id, 'a.glb') && store.get(c.id, 'c.glb'));
    assert.equal(store.stats.bytes, 80);
    assert.equal(store.get(a.id, 'nope.glb'), undefined);
    assert.equal(store.put({ 'huge.glb': new Uint8Array(101) }), undefined);
    now = 1001;
    assert.equal(store.get(a.id, 'a.glb'), undefined);
    assert.equal(store.stats.results, 0);
    assert.equal(store.stats.bytes, 0);
    assert.notEqual(a.id, c.id);
    // what is dropped is told (the server collects its garbage then); a view holds only its own bytes
    const drops: number[] = [];
    const told = new ResultStore({ maxBytes: 100, onDrop: (n) => drops.push(n) });
    const big = new Uint8Array(1000);
    const d = told.put({ 'd.glb': big.subarray(10, 70) })!;
    assert.equal(told.get(d.id, 'd.glb')!.buffer.byteLength, 60, 'a copy of the view, not the 1000-byte buffer');
    told.put({ 'e.glb': new Uint8Array(50) }); // evicts d
    told.clear();
    assert.deepEqual(drops, [60, 50]);
  });

  test('limiter: runs at most `concurrency`, queues `queue`, refuses the rest, honours aborts while queued', async () => {
    const limiter = new Limiter({ concurrency: 1, queue: 1 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const first = limiter.run(async () => {
      order.push('first');
      await gate;
      return 1;
    });
    const second = limiter.run(async () => {
      order.push('second');
      return 2;
    });
    await assert.rejects(limiter.run(async () => 3), (e: unknown) => e instanceof BusyError && e.retryAfterS >= 1);
    assert.deepEqual(limiter.stats.running + limiter.stats.queued, 2);
    release();
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    assert.deepEqual(order, ['first', 'second']);
    // abort while waiting: removed from the queue, never run
    let release2!: () => void;
    const gate2 = new Promise<void>((r) => (release2 = r));
    const running = limiter.run(() => gate2);
    const ac = new AbortController();
    let ran = false;
    const queued = limiter.run(async () => {
      ran = true;
    }, ac.signal);
    ac.abort(new Error('gone'));
    await assert.rejects(queued, /gone/);
    assert.equal(limiter.stats.queued, 0);
    release2();
    await running;
    assert.equal(ran, false);
  });

  test('static mounts: allow-lists and no way out of a folder', () => {
    const mounts = staticMounts(path.join(ROOT, 'web'), MODEL);
    const find = (url: string) => {
      const m = [...mounts].sort((x, y) => y.prefix.length - x.prefix.length).find((x) => url.startsWith(x.prefix));
      return m && mountAllows(m, url.slice(m.prefix.length)) ? path.join(m.dir, decodeURIComponent(url.slice(m.prefix.length))) : undefined;
    };
    assert.ok(find('/style.css')?.endsWith(path.join('web', 'style.css')));
    assert.ok(find('/models/vrn-compact.onnx')?.endsWith('vrn-compact.onnx'));
    assert.ok(find('/models/vrn-compact.json')?.endsWith('vrn-compact.json'));
    assert.ok(find('/vendor/ort/ort-wasm-simd-threaded.wasm'));
    assert.ok(find('/vendor/tfjs-wasm/tfjs-backend-wasm-simd.wasm'));
    assert.ok(find('/vendor/human-models/facemesh.json'));
    for (const bad of [
      '/vendor/human-models/age.json', // a model the page does not need
      '/vendor/ort/ort.node.min.js',
      '/dist/../../package.json',
      '/dist/%2e%2e/%2e%2e/package.json',
      '/dist/..%2f..%2fpackage.json',
      '/src/main.ts', // web sources are not served
      '/.git/config',
      '/models/../package.json',
      '/dist/%00.js',
    ]) {
      assert.equal(find(bad), undefined, bad);
    }
  });

  test("the HTTP thread's own copies of the pipeline's paths and names are the pipeline's", async () => {
    const { defaultLandmarkModelPath, defaultModelPath, defaultPriorPath } = await import('../src/node/index.ts');
    const { defaultModelDir } = await import('../src/node/detectors.ts');
    const { BLAZE_SPECS } = await import('../src/detect/blazeface.ts');
    assert.equal(DEFAULT_MODEL, defaultModelPath());
    assert.equal(DEFAULT_PRIOR, defaultPriorPath());
    assert.equal(DEFAULT_LANDMARKS, defaultLandmarkModelPath());
    assert.equal(detectorModelDir(), defaultModelDir());
    const names = [...new Set([...Object.values(BLAZE_SPECS).map((x) => x.model), 'faceboxes', 'facemesh'])];
    assert.deepEqual(browserDetectorFiles().sort(), names.flatMap((n) => [`${n}.json`, `${n}.bin`]).sort());
  });

  test('Content-Disposition: the UTF-8 name as filename* (RFC 8187), an ASCII fallback, nothing but ASCII', () => {
    const cases: [string, string, string][] = [
      ['照片_Фото.glb', 'file.glb', '%E7%85%A7%E7%89%87_%D0%A4%D0%BE%D1%82%D0%BE.glb'],
      ['照片_Фото.face1.stl', 'file.face1.stl', '%E7%85%A7%E7%89%87_%D0%A4%D0%BE%D1%82%D0%BE.face1.stl'],
      ['Ü.glb', 'U.glb', '%C3%9C.glb'],
      ['Crème_brûlée.obj', 'Creme_brulee.obj', 'Cr%C3%A8me_br%C3%BBl%C3%A9e.obj'],
      ['face.glb', 'face.glb', 'face.glb'],
      ["a'b(c)*.png", "a'b(c)*.png", 'a%27b%28c%29%2A.png'],
      ['x"y\\z%.json', 'x_y_z_.json', 'x%22y%5Cz%25.json'],
    ];
    for (const [name, fallback, encoded] of cases) {
      const header = attachment(name);
      assert.equal(header, `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`, name);
      assert.match(header, /^[\x20-\x7e]+$/, `${name}: ASCII only`);
      assert.equal(decodeURIComponent(encoded), name, 'filename* decodes to the name');
      assert.equal(asciiFileName(name), fallback);
    }
  });

  test('header checks before the queue: type, truncation, size, pixels, a size that can hold a face', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof VoxfaceError ? e.code : String(e);
      }
      return 'ok';
    };
    const png = noisePNG(64, 48);
    assert.deepEqual(checkImage(png), { format: 'png', width: 64, height: 48 });
    assert.equal(code(() => checkImage(Buffer.from('hello, this is not a photo\n'))), 'NOT_AN_IMAGE');
    assert.equal(code(() => checkImage(png.subarray(0, png.length - 20))), 'TRUNCATED_IMAGE');
    assert.equal(code(() => checkImage(noisePNG(1, 1))), 'NO_FACE');
    assert.equal(code(() => checkImage(noisePNG(200, 15))), 'NO_FACE');
    assert.equal(code(() => checkImage(noisePNG(16, 16))), 'ok');
    assert.equal(code(() => checkImage(pngBomb())), 'IMAGE_TOO_LARGE');
    assert.equal(code(() => checkImage(png, { maxBytes: 100 })), 'IMAGE_TOO_LARGE');
  });
});

/** A stand-in for the pipeline: records the bytes it is given, finds no face (422). */
function recordingVoxface(seen: Uint8Array[]): Voxface {
  return {
    deps: { model: { name: 'stand-in' } },
    async reconstructBytes(bytes: Uint8Array) {
      seen.push(new Uint8Array(bytes));
      throw new VoxfaceError('NO_FACE', 'no face found');
    },
  } as unknown as Voxface;
}

describe('server plugins (a stand-in pipeline)', () => {
  let app: VoxfaceServer;
  const seen: Uint8Array[] = [];
  before(async () => {
    app = await startServer({ port: 0, voxface: recordingVoxface(seen), model: MODEL, maxBodyBytes: 64 * 1024, corsOrigins: ['https://app.example'], rateLimit: { max: 1000, windowMs: 60_000 } });
  });
  after(() => app?.close());

  test('multipart: a binary file with CRLFs and boundary-like bytes arrives intact, fields are read, malformed bodies are 400', async () => {
    // a valid PNG (the header is checked before the pipeline) carrying CRLFs and boundary-like bytes
    const file = pngWithText(32, 32, Buffer.from([0x0d, 0x0a, 0x2d, 0x2d, 0x41, 0x0d, 0x0a, 0x2d, 0x2d, 0x58, 0x79, 0x5a, 0x0d, 0x0a]));
    const body = multipartBody('XyZ', [
      { name: 'formats', data: 'glb,fbx' },
      { name: 'image', filename: 'my photo.jpg', type: 'image/jpeg', data: file },
    ]);
    const post = (b: string | Buffer, type: string) => fetch(`${app.url}/api/v1/reconstruct`, { method: 'POST', body: b as BodyInit, headers: { 'Content-Type': type } });
    // the form field is a parameter: its bad format is named before any reconstruction
    const bad = await post(body, 'multipart/form-data; boundary=XyZ');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /unknown format "fbx"/);
    const good = await post(multipartBody('a b', [{ name: 'image', filename: 'my photo.jpg', type: 'image/jpeg', data: file }]), 'multipart/form-data; boundary="a b"');
    assert.equal(good.status, 422, await good.clone().text());
    assert.deepEqual([...seen.at(-1)!], [...file]);
    for (const [b, type] of [
      ['no boundary here', 'multipart/form-data; boundary=XyZ'],
      ['--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nnever closed', 'multipart/form-data; boundary=XyZ'],
      ['--XyZ\r\nX: y\r\n\r\nv\r\n--XyZ--', 'multipart/form-data; boundary=XyZ'],
      ['--XyZ--', 'multipart/form-data'],
    ]) {
      const res = await post(b, type);
      assert.equal(res.status, 400, `${JSON.stringify(b)}: ${await res.clone().text()}`);
    }
    // a file over the limit inside a form: 413, like a raw body
    const big = await post(multipartBody('B', [{ name: 'image', filename: 'x.jpg', type: 'image/jpeg', data: new Uint8Array(65 * 1024) }]), 'multipart/form-data; boundary=B');
    assert.equal(big.status, 413);
    // two photos
    const two = await post(multipartBody('B', [{ name: 'image', filename: 'a.jpg', data: file }, { name: 'photo', filename: 'b.jpg', data: file }]), 'multipart/form-data; boundary=B');
    assert.equal(two.status, 400);
    assert.match(((await two.json()) as { error: string }).error, /one photo per request/);
  });

  test('static files: served where mounted, 404 elsewhere and outside every folder', async () => {
    assert.equal((await fetch(`${app.url}/style.css`)).status, 200);
    for (const bad of ['/vendor/human-models/age.json', '/vendor/ort/ort.node.min.js', '/dist/%2e%2e/%2e%2e/package.json', '/dist/..%2f..%2fpackage.json', '/src/main.ts', '/.git/config', '/dist/%00.js', '/package.json']) {
      const res = await fetch(`${app.url}${bad}`);
      assert.equal(res.status, 404, bad);
      assert.ok(!(await res.text()).includes('"dependencies"'), bad);
    }
  });

  test('CORS: same origin by default, listed origins allowed (preflight and answer), others get no CORS headers', async () => {
    const preflight = (origin: string) =>
      fetch(`${app.url}/api/v1/reconstruct`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
    const ok = await preflight('https://app.example');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/);
    const other = await preflight('https://elsewhere.example');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    // the answer itself carries the header for a listed origin (and exposes Retry-After), not for another
    const answer = await fetch(`${app.url}/api/v1/reconstruct`, { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/plain', Origin: 'https://app.example' } });
    assert.equal(answer.status, 415);
    assert.equal(answer.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(answer.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
    const foreign = await fetch(`${app.url}/healthz`, { headers: { Origin: 'https://elsewhere.example' } });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    // the default server: no origin but its own
    const plain = await startServer({ port: 0, voxface: recordingVoxface([]), model: MODEL });
    try {
      const p = await fetch(`${plain.url}/api/v1/reconstruct`, { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' } });
      assert.equal(p.headers.get('access-control-allow-origin'), null);
    } finally {
      await plain.close();
    }
  });

  test('rate limit: a client over its rate gets 429 with Retry-After (a full server is 503, below)', async () => {
    const limited = await startServer({ port: 0, voxface: recordingVoxface([]), model: MODEL, rateLimit: { max: 2, windowMs: 60_000 } });
    try {
      const send = () => fetch(`${limited.url}/api/v1/reconstruct`, { method: 'POST', body: noisePNG(32, 32) as BodyInit, headers: { 'Content-Type': 'image/png' } });
      assert.equal((await send()).status, 422);
      assert.equal((await send()).status, 422);
      const third = await send();
      assert.equal(third.status, 429);
      assert.ok(Number(third.headers.get('retry-after')) >= 1, `Retry-After: ${third.headers.get('retry-after')}`);
      const body = (await third.json()) as { error: string; code: string };
      assert.equal(body.code, 'RATE_LIMITED');
      assert.match(body.error, /too many/);
      // the page and other routes are not counted
      assert.equal((await fetch(`${limited.url}/style.css`)).status, 200);
    } finally {
      await limited.close();
    }
  });
});

/** A stand-in pipeline that waits at a gate the test opens, then finds no face (422). */
function gatedStandIn(): { voxface: Voxface; calls: () => number; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let calls = 0;
  const voxface = {
    deps: { model: { name: 'gated stand-in' } },
    async reconstructBytes() {
      calls++;
      await gate;
      throw new VoxfaceError('NO_FACE', 'no face found');
    },
  } as unknown as Voxface;
  return { voxface, calls: () => calls, open };
}

const until = async (what: string, check: () => boolean | Promise<boolean>) => {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > 30_000) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('worker threads, refusals, errors and the log (stand-ins)', () => {
  test('every error is our JSON { error, code } with a true status line, a 500 included', async () => {
    const failing = { deps: { model: { name: 'failing stand-in' } }, reconstructBytes: async () => Promise.reject(new TypeError('x is undefined')) } as unknown as Voxface;
    const lines: string[] = [];
    const built = await createApp({ voxface: failing, model: MODEL, log: (l) => lines.push(l) });
    // an answer that fails as it is sent: a header Node refuses (ERR_INVALID_CHAR), as a raw non-Latin-1 file name did
    built.app.get('/test/bad-header', async (_req, reply) => reply.header('Content-Disposition', 'attachment; filename="照片.glb"').send(Buffer.from('glTF')));
    await built.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = built.app.server.address() as net.AddressInfo;
      const base = `http://127.0.0.1:${port}`;
      for (const res of [
        await fetch(`${base}/test/bad-header`),
        await fetch(`${base}/api/v1/reconstruct`, { method: 'POST', body: noisePNG(32, 32) as BodyInit, headers: { 'Content-Type': 'image/png' } }),
      ]) {
        assert.equal(res.status, 500);
        assert.equal(res.statusText, 'Internal Server Error');
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(res.headers.get('content-disposition'), null);
        assert.deepEqual(await res.json(), { error: 'internal server error', code: 'INTERNAL' });
      }
      assert.ok(lines.some((l) => /^error GET \/test\/bad-header: .*ERR_INVALID_CHAR|Invalid character/.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /^error POST \/api\/v1\/reconstruct: TypeError: x is undefined/.test(l)), lines.join('\n'));
    } finally {
      await built.close();
    }
  });

  test('bad inputs are refused at once, not queued: with every slot and queue place taken, 415 / 400 / 413 / 422 instead of 503', async () => {
    const standIn = gatedStandIn();
    const app = await startServer({ port: 0, voxface: standIn.voxface, model: MODEL, concurrency: 1, queue: 0 });
    try {
      const post = (body: string | Uint8Array, type: string) => fetch(`${app.url}/api/v1/reconstruct`, { method: 'POST', body: body as BodyInit, headers: { 'Content-Type': type } });
      const first = post(noisePNG(64, 64), 'image/png');
      await until('the first request runs', () => app.limiter.stats.running === 1);
      const png = noisePNG(64, 64, 3);
      const cases: [string, Promise<Response>, number, string, RegExp][] = [
        ['text labelled image/jpeg', post('hello, this is not a photo\n', 'image/jpeg'), 415, 'NOT_AN_IMAGE', /text file/],
        ['truncated PNG', post(png.subarray(0, png.length - 30), 'image/png'), 400, 'TRUNCATED_IMAGE', /truncated/],
        ['1×1 PNG', post(noisePNG(1, 1), 'image/png'), 422, 'NO_FACE', /too small to hold a face \(1×1\)/],
        ['pixel bomb PNG', post(pngBomb(), 'image/png'), 413, 'IMAGE_TOO_LARGE', /megapixels/],
        ['a good photo, for comparison', post(png, 'image/png'), 503, 'BUSY', /busy/],
      ];
      for (const [name, pending, status, code, message] of cases) {
        const res = await pending;
        assert.equal(res.status, status, `${name}: ${await res.clone().text()}`);
        const body = (await res.json()) as { error: string; code: string };
        assert.equal(body.code, code, name);
        assert.match(body.error, message, name);
      }
      assert.equal(standIn.calls(), 1, 'only the first request reached the pipeline');
      standIn.open();
      assert.equal((await first).status, 422);
    } finally {
      standIn.open();
      await app.close();
    }
  });

  test('the request log has one line per request, "aborted" for a client that left (waiting, queued, or mid-upload)', async () => {
    const standIn = gatedStandIn();
    const lines: string[] = [];
    const app = await startServer({ port: 0, voxface: standIn.voxface, model: MODEL, concurrency: 1, queue: 1, log: (l) => lines.push(l) });
    try {
      const png = noisePNG(64, 64);
      const send = (signal: AbortSignal) => fetch(`${app.url}/api/v1/reconstruct`, { method: 'POST', body: png as BodyInit, headers: { 'Content-Type': 'image/png' }, signal }).catch(() => undefined);
      const running = new AbortController();
      const queued = new AbortController();
      const a = send(running.signal);
      await until('one runs', () => app.limiter.stats.running === 1);
      const b = send(queued.signal);
      await until('one waits', () => app.limiter.stats.queued === 1);
      running.abort();
      queued.abort();
      await Promise.all([a, b]);
      // a client that sends half its body and goes
      const socket = net.connect(Number(new URL(app.url).port), '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(`POST /api/v1/reconstruct HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${png.length}\r\n\r\n`);
      socket.write(png.subarray(0, 100));
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
      const aborted = () => lines.filter((l) => /^POST \/api\/v1\/reconstruct aborted \d+ms$/.test(l));
      await until('three aborted lines', () => aborted().length === 3);
      assert.equal(app.limiter.stats.queued, 0, 'the queued request left the queue');
      // the running job ends after its client left: no second line for it
      standIn.open();
      await until('the job ends', () => app.limiter.stats.running === 0);
      const h = await fetch(`${app.url}/healthz`);
      assert.equal(h.status, 200, `${await h.text()}\n${lines.join("\n")}`);
      await until('the healthz line', () => lines.some((l) => l.startsWith('GET /healthz 200 ')));
      assert.equal(lines.filter((l) => l.startsWith('POST ')).length, 3, lines.join('\n'));
    } finally {
      standIn.open();
      await app.close();
    }
  });

  test('/healthz and quick refusals answer while a reconstruction thread is blocked; a thread that stops is a 500 and is replaced', async () => {
    // the stand-in thread blocks synchronously on a job until the gate opens: on the HTTP thread nothing could answer
    const channel = new BroadcastChannel('voxface-test-gate');
    const gateShared = new Promise<Int32Array>((resolve) => {
      channel.onmessage = (e) => resolve(new Int32Array((e as { data: SharedArrayBuffer }).data));
    });
    const lines: string[] = [];
    const app = await startServer({ port: 0, model: MODEL, concurrency: 1, queue: 1, workerModule: new URL('./_blocking-worker.ts', import.meta.url), log: (l) => lines.push(l) });
    const gate = await gateShared;
    channel.close();
    try {
      let settled = false;
      const reconstruction = fetch(`${app.url}/api/v1/reconstruct`, { method: 'POST', body: noisePNG(64, 64) as BodyInit, headers: { 'Content-Type': 'image/png' } }).finally(() => (settled = true));
      await until('the thread blocks on the job', () => Atomics.load(gate, 1) === 1);
      const h = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(15_000) });
      assert.equal(h.status, 200);
      const health = (await h.json()) as { model: string; jobs: { running: number }; workers: { threads: number; busy: number } };
      assert.equal(health.model, 'blocking stand-in');
      assert.deepEqual([health.jobs.running, health.workers.threads, health.workers.busy], [1, 1, 1]);
      const text = await fetch(`${app.url}/api/v1/reconstruct`, { method: 'POST', body: 'not a photo', headers: { 'Content-Type': 'image/jpeg' }, signal: AbortSignal.timeout(15_000) });
      assert.equal(text.status, 415);
      assert.equal(settled, false, 'the reconstruction is still running');
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      const res = await reconstruction;
      assert.equal(res.status, 422);
      assert.equal(((await res.json()) as { code: string }).code, 'NO_FACE');
      // the thread ends in the middle of a job (the stand-in does for a photo named exit.png): that request is a 500,
      // the thread is replaced
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(noisePNG(64, 64))], { type: 'image/png' }), 'exit.png');
      const crashed = await fetch(`${app.url}/api/v1/reconstruct`, { method: 'POST', body: form });
      assert.equal(crashed.status, 500);
      assert.deepEqual(await crashed.json(), { error: 'internal server error', code: 'INTERNAL' });
      await until('the thread is replaced', async () => {
        const w = ((await (await fetch(`${app.url}/healthz`)).json()) as { workers: { threads: number; restarts: number } }).workers;
        return w.threads === 1 && w.restarts === 1;
      });
      assert.ok(lines.some((l) => /^reconstruction thread 0 stopped \(exit code 3\); starting another$/.test(l)), lines.join('\n'));
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await app.close();
    }
  });
});

const skip = needsPhotosAndModel();

describe('HTTP API', { skip }, () => {
  let app: VoxfaceServer;
  let url: string;
  let vox: Voxface;
  before(async () => {
    const { loadVoxface } = await import('../src/node/index.ts');
    // the pipeline in this thread for the gated stand-ins below; the server's own runs on a worker thread
    [vox, app] = await Promise.all([loadVoxface({ threads: 1 }), startServer({ port: 0, maxBodyBytes: 4 * 1024 * 1024, concurrency: 1, threads: 1 })]);
    url = app.url;
  });
  after(() => app?.close());

  const post = (query: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/v1/reconstruct${query}`, { method: 'POST', body: body as BodyInit, headers });
  const errorOf = async (res: Response) => {
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(typeof body.error, 'string');
    assert.ok(body.error.length > 0 && !body.error.includes('\n'), body.error);
    return body;
  };

  test('healthz and the OpenAPI description', async () => {
    const h = await fetch(`${url}/healthz`);
    assert.equal(h.status, 200);
    const health = (await h.json()) as { ok: boolean; model: string; tensors: number };
    assert.equal(health.ok, true);
    assert.equal(health.model, vox.deps.model.name);
    const o = await fetch(`${url}/api/v1/openapi.json`);
    assert.equal(o.status, 200);
    const spec = (await o.json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    assert.match(spec.openapi, /^3\./);
    for (const p of ['/api/v1/reconstruct', '/api/v1/results/{id}/{file}', '/healthz']) assert.ok(spec.paths[p], p);
    for (const s of ['200', '400', '405', '413', '415', '422', '500', '503', '504']) assert.ok(spec.paths['/api/v1/reconstruct'].post.responses[s], s);
    for (const [p, m] of [['/api/v1/results/{id}/{file}', 'get'], ['/healthz', 'get'], ['/api/v1/openapi.json', 'get']]) {
      for (const s of ['405', '500']) assert.ok(spec.paths[p][m].responses[s], `${p} ${s}`);
    }
    assert.ok(spec.paths['/api/v1/results/{id}/{file}'].get.responses['404']);
    assert.match(h.headers.get('cross-origin-opener-policy') ?? '', /same-origin/);
  });

  test('photo as the raw body: the CLI JSON plus links; the GLB validates; the JSON file matches; links 404 once unknown', async () => {
    const res = await post('?formats=glb,obj,json', readPhoto(), { 'Content-Type': 'image/jpeg' });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as {
      id: string;
      expires: string;
      image: { width: number; height: number };
      faces: { box: number[]; landmarks68: number[][]; pose: object; mesh: { vertices: number }; files: { name: string; format: string; bytes: number; url: string }[] }[];
      files: { name: string; url: string }[];
      timings: Record<string, number>;
    };
    assert.deepEqual(body.image, { width: 400, height: 400 });
    assert.equal(body.faces.length, 1);
    const face = body.faces[0];
    assert.equal(face.landmarks68.length, 68);
    assert.ok(face.mesh.vertices > 100);
    assert.ok(Date.parse(body.expires) > Date.now());
    for (const k of ['decode', 'reconstruct', 'export', 'total']) assert.ok(body.timings[k] >= 0, k);
    const names = face.files.map((f) => `${f.format}:${f.name}`).sort();
    assert.deepEqual(names, ['glb:face.glb', 'obj:face.mtl', 'obj:face.obj', 'obj:face.png']);
    const glbEntry = face.files.find((f) => f.format === 'glb')!;
    assert.equal(glbEntry.url, `/api/v1/results/${body.id}/face.glb`);
    const glb = await fetch(url + glbEntry.url);
    assert.equal(glb.status, 200);
    assert.equal(glb.headers.get('content-type'), 'model/gltf-binary');
    const bytes = new Uint8Array(await glb.arrayBuffer());
    assert.equal(bytes.length, glbEntry.bytes);
    const { issues } = await gltfValidator.validateBytes(bytes);
    assert.equal(issues.numErrors, 0, issues.messages.map((m) => m.message).join('; '));
    // the JSON file is the same contract as the answer (without the links)
    const jsonFile = (await (await fetch(url + body.files[0].url)).json()) as { faces: { landmarks68: number[][]; box: number[] }[] };
    assert.deepEqual(jsonFile.faces[0].landmarks68, face.landmarks68);
    assert.deepEqual(jsonFile.faces[0].box, face.box);
    // unknown files and ids
    const noFile = await fetch(`${url}/api/v1/results/${body.id}/face.stl`);
    assert.equal(noFile.status, 404);
    assert.match((await errorOf(noFile)).error, /no file/);
    const noId = await fetch(`${url}/api/v1/results/AAAAAAAAAAAAAAAA/face.glb`);
    assert.equal(noId.status, 404);
    assert.match((await errorOf(noId)).error, /unknown or expired/);
  });

  test('multipart upload with form fields, inline files (nothing kept), and the GLB by Accept header', async () => {
    const form = new FormData();
    form.append('faces', 'largest');
    form.append('formats', 'glb,stl');
    form.append('inline', '1');
    form.append('image', new Blob([new Uint8Array(readPhoto(GROUP_PHOTO))], { type: 'image/jpeg' }), 'two people.jpg');
    const stored = app.store.stats.results;
    const res = await fetch(`${url}/api/v1/reconstruct`, { method: 'POST', body: form });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { id?: string; faces: { files: { name: string; base64: string; url?: string; bytes: number }[] }[] };
    assert.equal(body.id, undefined);
    assert.equal(body.faces.length, 1, 'faces=largest');
    assert.deepEqual(body.faces[0].files.map((f) => f.name).sort(), ['two_people.glb', 'two_people.stl']);
    const glb = Buffer.from(body.faces[0].files.find((f) => f.name.endsWith('.glb'))!.base64, 'base64');
    assert.equal(glb.subarray(0, 4).toString('latin1'), 'glTF');
    assert.equal(app.store.stats.results, stored, 'inline results are not stored');

    const direct = await post('', readPhoto(), { 'Content-Type': 'image/jpeg', Accept: 'model/gltf-binary' });
    assert.equal(direct.status, 200);
    assert.equal(direct.headers.get('content-type'), 'model/gltf-binary');
    assert.match(direct.headers.get('content-disposition') ?? '', /face\.glb/);
    const { issues } = await gltfValidator.validateBytes(new Uint8Array(await direct.arrayBuffer()));
    assert.equal(issues.numErrors, 0);
  });

  test('a file name outside Latin-1: 200, and every Content-Disposition has filename* and an ASCII fallback', async () => {
    const disposition = /^attachment; filename="([\x20-\x7e]+)"; filename\*=UTF-8''([\x21-\x7e]+)$/;
    const check = (res: Response, name: string) => {
      const header = res.headers.get('content-disposition') ?? '';
      const m = disposition.exec(header);
      assert.ok(m, header);
      assert.equal(decodeURIComponent(m![2]), name);
      assert.equal(m![1], asciiFileName(name));
    };
    const form = (fields: Record<string, string> = {}) => {
      const f = new FormData();
      for (const [k, v] of Object.entries(fields)) f.append(k, v);
      f.append('image', new Blob([new Uint8Array(readPhoto())], { type: 'image/jpeg' }), '照片 Фото.jpg');
      return f;
    };
    // the GLB itself
    const glb = await fetch(`${url}/api/v1/reconstruct`, { method: 'POST', body: form(), headers: { Accept: 'model/gltf-binary' } });
    assert.equal(glb.status, 200, await glb.clone().text());
    check(glb, '照片_Фото.glb');
    assert.equal(new TextDecoder().decode(new Uint8Array(await glb.arrayBuffer()).subarray(0, 4)), 'glTF');
    // the JSON answer, and its links
    const res = await fetch(`${url}/api/v1/reconstruct`, { method: 'POST', body: form({ formats: 'glb,json' }) });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { faces: { files: { name: string; url: string }[] }[]; files: { name: string; url: string }[] };
    const files = [...body.faces[0].files, ...body.files];
    assert.deepEqual(files.map((f) => f.name).sort(), ['照片_Фото.glb', '照片_Фото.json']);
    for (const f of files) {
      const link = await fetch(url + f.url);
      assert.equal(link.status, 200, f.url);
      check(link, f.name);
      await link.arrayBuffer();
    }
    // a Latin-1 name goes out as ASCII too (not raw Latin-1 bytes)
    const latin = new FormData();
    latin.append('image', new Blob([new Uint8Array(readPhoto())], { type: 'image/jpeg' }), 'Ü.jpg');
    const u = await fetch(`${url}/api/v1/reconstruct`, { method: 'POST', body: latin, headers: { Accept: 'model/gltf-binary' } });
    assert.equal(u.status, 200);
    check(u, 'Ü.glb');
    assert.match(u.headers.get('content-disposition')!, /filename="U\.glb"/);
    await u.arrayBuffer();
  });

  test('/healthz answers while a reconstruction runs on the worker thread, before it finishes', async () => {
    let settled = false;
    const reconstruction = post('?formats=all', readPhoto(GROUP_PHOTO), { 'Content-Type': 'image/jpeg' }).finally(() => (settled = true));
    await until('the reconstruction runs', () => app.limiter.stats.running === 1);
    const h = await fetch(`${url}/healthz`);
    const health = (await h.json()) as { jobs: { running: number }; workers: { busy: number } };
    assert.deepEqual([h.status, health.jobs.running, health.workers.busy, settled], [200, 1, 1, false]);
    const res = await reconstruction;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { faces: unknown[] }).faces.length, 2);
  });

  test('bad inputs: 415 text, 400 empty / truncated / bad parameters, 413 too large body and pixel bomb, 422 noise', async () => {
    const photo = readPhoto();
    const cases: [string, Promise<Response>, number, RegExp?][] = [
      ['text as text/plain', post('', 'hello, this is not a photo', { 'Content-Type': 'text/plain' }), 415],
      ['text labelled image/jpeg', post('', 'hello, this is not a photo\n', { 'Content-Type': 'image/jpeg' }), 415, /not an image/],
      ['0 bytes', post('', new Uint8Array(0), { 'Content-Type': 'image/jpeg' }), 400, /0 bytes/],
      ['truncated JPEG', post('', photo.subarray(0, Math.floor(photo.length * 0.6)), { 'Content-Type': 'image/jpeg' }), 400, /truncated/i],
      ['body over the limit', post('', new Uint8Array(5 * 1024 * 1024), { 'Content-Type': 'image/jpeg' }), 413, /limit/],
      ['pixel bomb PNG', post('', pngBomb(), { 'Content-Type': 'image/png' }), 413, /megapixels|too large/],
      ['unknown format', post('?formats=glb,fbx', photo, { 'Content-Type': 'image/jpeg' }), 400, /fbx/],
      ['bad faces', post('?faces=3', photo, { 'Content-Type': 'image/jpeg' }), 400, /faces/],
      ['form-urlencoded body', fetch(`${url}/api/v1/reconstruct`, { method: 'POST', body: new URLSearchParams({ a: 'b' }) }), 415],
      [
        'multipart without a file field',
        post('', multipartBody('B0', [{ name: 'formats', data: 'glb' }]), { 'Content-Type': 'multipart/form-data; boundary=B0' }),
        400,
        /no file/,
      ],
      ['malformed multipart', post('', 'garbage', { 'Content-Type': 'multipart/form-data; boundary=B0' }), 400, /multipart/],
    ];
    for (const [name, pending, status, message] of cases) {
      const res = await pending;
      assert.equal(res.status, status, `${name}: ${await res.clone().text()}`);
      const { error } = await errorOf(res);
      if (message) assert.match(error, message, name);
    }
    // noise: a valid image with no face
    const noise = await post('', noisePNG(320, 240), { 'Content-Type': 'image/png' });
    assert.equal(noise.status, 422, await noise.clone().text());
    assert.equal((await errorOf(noise)).code, 'NO_FACE');
  });

  test('wrong methods are 405 with Allow, unknown API paths 404, the page and vendor files are served', async () => {
    const get = await fetch(`${url}/api/v1/reconstruct`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    await errorOf(get);
    const postHealth = await fetch(`${url}/healthz`, { method: 'POST' });
    assert.equal(postHealth.status, 405);
    const del = await fetch(`${url}/api/v1/results/x/face.glb`, { method: 'DELETE' });
    assert.equal(del.status, 405);
    assert.equal((await fetch(`${url}/api/v2/reconstruct`, { method: 'POST' })).status, 404);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /voxface/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const wasm = await fetch(`${url}/vendor/ort/ort-wasm-simd-threaded.wasm`, { method: 'HEAD' });
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    const sidecar = await fetch(`${url}/models/model.json`);
    assert.equal(((await sidecar.json()) as { inputSize: number }).inputSize, vox.deps.model.inputSize);
    const etag = sidecar.headers.get('etag')!;
    assert.equal((await fetch(`${url}/models/model.json`, { headers: { 'If-None-Match': etag } })).status, 304);
    assert.equal((await fetch(`${url}/vendor/human-models/age.json`)).status, 404);
    assert.equal((await fetch(`${url}/dist/%2e%2e/%2e%2e/package.json`)).status, 404);
  });

  test('no TF.js tensors leak across requests', async () => {
    const tensors = async () => ((await (await fetch(`${url}/healthz`)).json()) as { tensors: number }).tensors;
    const round = async () => {
      const res = await post('?formats=json', readPhoto(), { 'Content-Type': 'image/jpeg' });
      assert.equal(res.status, 200);
      assert.equal((await post('', noisePNG(320, 240, 2), { 'Content-Type': 'image/png' })).status, 422);
    };
    // the detector loads its later passes' models (their weights are tensors) on their first use: once, before counting
    await round();
    const before = await tensors();
    assert.ok(before > 0, 'the photo without a face ran FaceBoxes, a TF.js graph (its weights are tensors)');
    await round();
    assert.equal(await tensors(), before);
  });

  test('busy: 503 with Retry-After past the queue; 504 past the time limit', async () => {
    // a voxface that waits at a gate before the real work, so requests pile up deterministically
    let open!: () => void;
    let gate = new Promise<void>((r) => (open = r));
    const gated: Voxface = {
      ...vox,
      async reconstructBytes(b, o) {
        await gate;
        return vox.reconstructBytes(b, o);
      },
    };
    const busy = await startServer({ port: 0, voxface: gated, concurrency: 1, queue: 1, model: MODEL });
    try {
      const noise = noisePNG(320, 240, 4);
      const send = () => fetch(`${busy.url}/api/v1/reconstruct`, { method: 'POST', body: noise as BodyInit, headers: { 'Content-Type': 'image/png' } });
      const first = send();
      const second = send();
      while (busy.limiter.stats.running + busy.limiter.stats.queued < 2) await new Promise((r) => setTimeout(r, 10));
      const third = await send();
      assert.equal(third.status, 503);
      assert.ok(Number(third.headers.get('retry-after')) >= 1, `Retry-After: ${third.headers.get('retry-after')}`);
      assert.equal((await errorOf(third)).code, 'BUSY');
      open();
      assert.deepEqual([(await first).status, (await second).status], [422, 422]);
    } finally {
      await busy.close();
    }
    gate = new Promise<void>((r) => (open = r));
    const slow = await startServer({ port: 0, voxface: gated, timeoutMs: 200, model: MODEL });
    try {
      const res = await fetch(`${slow.url}/api/v1/reconstruct`, { method: 'POST', body: noisePNG(320, 240, 5) as BodyInit, headers: { 'Content-Type': 'image/png' } });
      assert.equal(res.status, 504);
      assert.equal((await errorOf(res)).code, 'TIMEOUT');
      assert.equal(slow.limiter.stats.running, 1, 'the timed-out job keeps its slot until it ends');
      open();
      while (slow.limiter.stats.running > 0) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await slow.close();
    }
  });
});
