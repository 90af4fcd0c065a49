import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedFetch, MODEL_CACHE } from '../src/browser/cache.ts';

/** A Cache API stand-in (one named cache of URL → Response) and a fetch that counts its calls. */
function stubs(files: Map<string, { body: string; etag: string }>) {
  const store = new Map<string, Response>();
  const opened: string[] = [];
  const calls: { url: string; cache?: string }[] = [];
  const cache = {
    match: async (url: string) => store.get(url)?.clone(),
    put: async (url: string, res: Response) => void store.set(url, res),
  };
  const g = globalThis as unknown as { caches?: unknown; fetch: typeof fetch };
  const saved = { caches: g.caches, fetch: g.fetch };
  g.caches = { open: async (name: string) => (opened.push(name), cache) };
  g.fetch = (async (url: string, init?: RequestInit) => {
    calls.push({ url, cache: init?.cache });
    const f = files.get(url);
    return f ? new Response(f.body, { headers: { etag: f.etag } }) : new Response('', { status: 404 });
  }) as typeof fetch;
  return { store, opened, calls, restore: () => Object.assign(g, saved) };
}

test('the model cache: a second read needs no request, a changed file reaches the read after, errors are not kept', async () => {
  const files = new Map([['https://x/models/a.onnx', { body: 'v1', etag: '"1"' }]]);
  const s = stubs(files);
  try {
    assert.equal(await (await cachedFetch('https://x/models/a.onnx')).text(), 'v1');
    assert.equal(s.calls.length, 1);
    assert.deepEqual(s.opened, [MODEL_CACHE]);
    // second read: from the cache, then one background check (a conditional request through the HTTP cache)
    assert.equal(await (await cachedFetch('https://x/models/a.onnx')).text(), 'v1');
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(s.calls.slice(1), [{ url: 'https://x/models/a.onnx', cache: 'no-cache' }]);
    // the file changes on the server: this read still gets v1, the next one v2
    files.set('https://x/models/a.onnx', { body: 'v2', etag: '"2"' });
    assert.equal(await (await cachedFetch('https://x/models/a.onnx')).text(), 'v1');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(await (await cachedFetch('https://x/models/a.onnx')).text(), 'v2');
    // a missing file: the 404 is answered, not stored
    assert.equal((await cachedFetch('https://x/models/missing.onnx')).status, 404);
    assert.equal(s.store.has('https://x/models/missing.onnx'), false);
  } finally {
    s.restore();
  }
});

test('without the Cache API: a plain fetch', async () => {
  const g = globalThis as unknown as { caches?: unknown; fetch: typeof fetch };
  const saved = { caches: g.caches, fetch: g.fetch };
  let n = 0;
  g.caches = undefined;
  g.fetch = (async () => (n++, new Response('x'))) as unknown as typeof fetch;
  try {
    assert.equal(await (await cachedFetch('https://x/a')).text(), 'x');
    assert.equal(await (await cachedFetch('https://x/a')).text(), 'x');
    assert.equal(n, 2);
  } finally {
    Object.assign(g, saved);
  }
});
