/**
 * Helpers of the batch tests: small real photos, a real Redis server on a free loopback port, journal reading,
 * and a check that a GLB is whole.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import type { ItemRecord, JournalRecord } from '../src/batch/journal.ts';
import { JOURNAL_NAME } from '../src/batch/journal.ts';
import { isTempName } from '../src/node/write.ts';
import { readGLB } from './_readers.ts';

export const root = resolve(import.meta.dirname, '..');

/**
 * `n` photos of the example face in `dir`: `variants` different sizes (so a swapped output shows in its JSON's
 * image size), repeated, so photos i and i + variants are the same picture. Returns their paths and sizes.
 */
export async function makePhotos(dir: string, n: number, variants = n, first = 0): Promise<{ file: string; width: number }[]> {
  mkdirSync(dir, { recursive: true });
  const src = readFileSync(join(root, 'examples', 'face.jpg'));
  const out: { file: string; width: number }[] = [];
  for (let i = 0; i < n; i++) {
    const width = 200 + 8 * (i % variants);
    const file = join(dir, `p${String(first + i).padStart(2, '0')}.jpg`);
    await sharp(src).resize(width, width).jpeg({ quality: 90 }).toFile(file);
    out.push({ file, width });
  }
  return out;
}

/** Every record of an output folder's journal. */
export function readJournal(out: string): JournalRecord[] {
  return readFileSync(join(out, JOURNAL_NAME), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JournalRecord);
}

export function items(records: JournalRecord[]): ItemRecord[] {
  return records.filter((r): r is ItemRecord => r.type === 'item');
}

/** Throws unless the file is a whole GLB with a mesh. */
export function assertGLB(file: string): void {
  const glb = readGLB(new Uint8Array(readFileSync(file)));
  if (!(glb.json.meshes.length > 0 && glb.bin.length > 0)) throw new Error(`${file}: GLB without a mesh`);
}

export function hasRedis(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Starts Debian's redis-server on a free loopback port, nothing saved to disk. */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`redis-server did not start: ${log}`)), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      if (/Ready to accept connections/i.test(log)) {
        clearTimeout(t);
        res();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      rej(new Error(`redis-server exited (${code}): ${log}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((res) => {
        if (proc.exitCode !== null) return res();
        proc.once('exit', () => res());
        proc.kill('SIGTERM');
      }),
  };
}

/** The pids of the processes whose parent is `pid` (from /proc: Linux). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid …": the fields after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Every file under `dir` (relative paths) whose name is one of writeFileAtomic's temporary files. */
export function tempFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => isTempName(basename(f)));
}
