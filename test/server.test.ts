/**
 * The HTTP server (fastify): its parts (request parsing, result store, limiter), the plugins' work over a real
 * socket with a stand-in pipeline (multipart uploads in memory, static files and their allow-lists, CORS, the
 * per-client rate limit), and the API with the real model: the happy paths (raw body, multipart, inline, GLB by
 * Accept, links) and every bad input (415, 400, 413, 422, 405, 404, 429, 503 + Retry-After, 504).
 *
 * Where fastify's answers could differ from the node:http server's, the server keeps the old ones: a wrong method
 * on an API path is still 405 with Allow (a route per method answers it; fastify alone would say 404), a
 * conditional GET is still 304 although fetch() adds `Cache-Control: no-cache`. A CORS preflight from an origin
 * not on the allow-list gets no CORS headers (404), one from a listed origin 204.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { ResultStore } from '../src/server/results.ts';
import { BusyError, Limiter } from '../src/server/limiter.ts';
import { baseName, parseReconstructRequest } from '../src/server/reconstruct.ts';
import { HttpError } from '../src/server/errors.ts';
import { mountAllows, startServer, staticMounts } from '../src/server/index.ts';
import { VoxfaceError } from '../src/types.ts';
import type { VoxfaceServer } from '../src/server/index.ts';
import type { Voxface } from '../src/node/index.ts';
import { GROUP_PHOTO, gltfValidator, needsPhotosAndModel, noisePNG, pngBomb, readPhoto, ROOT, MODEL } from './_server.ts';

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
    const file = Buffer.from([0xff, 0xd8, 0x0d, 0x0a, 0x2d, 0x2d, 0x41, 0x0d, 0x0a, 0xff, 0xd9]);
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
      const send = () => fetch(`${limited.url}/api/v1/reconstruct`, { method: 'POST', body: new Uint8Array([0xff, 0xd8]), headers: { 'Content-Type': 'image/jpeg' } });
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

const skip = needsPhotosAndModel();

describe('HTTP API', { skip }, () => {
  let app: VoxfaceServer;
  let url: string;
  let vox: Voxface;
  before(async () => {
    const { loadVoxface } = await import('../src/node/index.ts');
    vox = await loadVoxface({ threads: 1 });
    app = await startServer({ port: 0, voxface: vox, maxBodyBytes: 4 * 1024 * 1024 });
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
    for (const s of ['200', '400', '413', '415', '422', '503', '504']) assert.ok(spec.paths['/api/v1/reconstruct'].post.responses[s], s);
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
    const before = await tensors();
    const res = await post('?formats=json', readPhoto(), { 'Content-Type': 'image/jpeg' });
    assert.equal(res.status, 200);
    assert.equal((await post('', noisePNG(320, 240, 2), { 'Content-Type': 'image/png' })).status, 422);
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
