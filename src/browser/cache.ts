/**
 * The models in the browser's Cache API: a second visit reads them from there without a request (the detectors'
 * graph models, the ONNX networks and their sidecars). Each cached answer is served at once and checked again in
 * the background (a conditional request the browser's HTTP cache answers, usually 304), and replaced when the file
 * changed, so a rebuilt site reaches the visit after. Where the Cache API is missing (an insecure origin other than
 * localhost) or fails, a plain fetch.
 *
 * ```ts
 * const res = await cachedFetch('models/model.onnx');
 * ```
 */

/** The cache's name (a new name drops what older builds stored). */
export const MODEL_CACHE = 'voxface-models-1';

/** Fetches `url` through the model cache; resolves to a Response whose body is unread. */
export async function cachedFetch(url: string): Promise<Response> {
  const cache = await openCache();
  if (!cache) return fetch(url);
  const hit = await cache.match(url).catch(() => undefined);
  if (hit) {
    void refresh(cache, url, hit);
    return hit;
  }
  const res = await fetch(url);
  if (res.ok) await cache.put(url, res.clone()).catch(() => {});
  return res;
}

async function openCache(): Promise<Cache | undefined> {
  try {
    return typeof caches === 'undefined' ? undefined : await caches.open(MODEL_CACHE);
  } catch {
    return undefined;
  }
}

/** Checks a cached answer against the server; stores the new one where the file changed. */
async function refresh(cache: Cache, url: string, hit: Response): Promise<void> {
  try {
    const res = await fetch(url, { cache: 'no-cache' });
    if (!res.ok) return;
    const same = ['etag', 'last-modified', 'content-length'].every((h) => res.headers.get(h) === hit.headers.get(h));
    if (same) await res.body?.cancel();
    else await cache.put(url, res);
  } catch {
    // offline or refused: the cached answer stays
  }
}
