/**
 * Result files kept in memory for a while so clients can fetch them by link: a time-to-live per result
 * and a byte budget over all results, least recently used evicted first. Nothing touches the disk. The budget is the
 * memory the files hold: a file that is a view into a larger buffer is copied out first, so no hidden remainder of
 * that buffer stays alive with it.
 *
 * ```ts
 * const store = new ResultStore({ ttlMs: 600_000, maxBytes: 256 << 20 });
 * const id = store.put({ 'face.glb': glbBytes });   // undefined if it can never fit
 * store.get(id!, 'face.glb');                         // Uint8Array, or undefined once expired/evicted
 * ```
 */
import { randomBytes } from 'node:crypto';

export interface ResultStoreOptions {
  /** How long a result lives after it is stored (default 10 minutes). */
  ttlMs?: number;
  /** Bytes of all stored files together (default 256 MiB). */
  maxBytes?: number;
  /** Clock (default Date.now), for tests. */
  now?: () => number;
  /** Told how many bytes of files were dropped (expired, evicted, cleared): the server collects garbage then. */
  onDrop?: (bytes: number) => void;
}

interface Entry {
  files: Map<string, Uint8Array>;
  bytes: number;
  expires: number;
}

export class ResultStore {
  readonly ttlMs: number;
  readonly maxBytes: number;
  private readonly now: () => number;
  private readonly onDrop?: (bytes: number) => void;
  /** Insertion order = recency order (a hit moves the entry to the end). */
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(options: ResultStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10 * 60 * 1000;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.onDrop = options.onDrop;
  }

  /** Results held and their bytes. */
  get stats(): { results: number; bytes: number; maxBytes: number; ttlMs: number } {
    this.sweep();
    return { results: this.entries.size, bytes: this.total, maxBytes: this.maxBytes, ttlMs: this.ttlMs };
  }

  /**
   * Stores a result's files under a new unguessable id and returns it with the expiry time; evicts the
   * least recently used results to make room. A result larger than the whole budget is not stored.
   */
  put(files: Record<string, Uint8Array>): { id: string; expires: number } | undefined {
    // a view smaller than its buffer would keep the whole buffer alive: keep a copy of just the file
    const map = new Map(Object.entries(files).map(([name, b]) => [name, b.byteLength < b.buffer.byteLength ? b.slice() : b]));
    let bytes = 0;
    for (const b of map.values()) bytes += b.byteLength;
    if (bytes > this.maxBytes) return undefined;
    this.sweep();
    for (const [id] of this.entries) {
      if (this.total + bytes <= this.maxBytes) break;
      this.delete(id);
    }
    const id = randomBytes(12).toString('base64url');
    const expires = this.now() + this.ttlMs;
    this.entries.set(id, { files: map, bytes, expires });
    this.total += bytes;
    return { id, expires };
  }

  /** One file of a result, or undefined when the id or name is unknown or expired. */
  get(id: string, name: string): Uint8Array | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.delete(id);
      return undefined;
    }
    this.entries.delete(id);
    this.entries.set(id, e);
    return e.files.get(name);
  }

  /** Whether a result id is held (and not expired). */
  has(id: string): boolean {
    const e = this.entries.get(id);
    return !!e && e.expires > this.now();
  }

  /** Drops expired results (also done on every put). */
  sweep(): void {
    const t = this.now();
    for (const [id, e] of this.entries) if (e.expires <= t) this.delete(id);
  }

  /** Drops everything. */
  clear(): void {
    const dropped = this.total;
    this.entries.clear();
    this.total = 0;
    if (dropped > 0) this.onDrop?.(dropped);
  }

  private delete(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.total -= e.bytes;
    this.onDrop?.(e.bytes);
  }
}
