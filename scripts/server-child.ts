/**
 * Shared parts of the server's measuring scripts (scripts/load.ts, scripts/memory.ts): the server as a child process
 * (as `npm start` runs it), the photos, its health, and what Linux's /proc says of its CPU time and memory.
 *
 * ```ts
 * const server = await startServerChild({ VOXFACE_CONCURRENCY: '2' });
 * const cpu0 = processCpu(server.pid);
 * // … load …
 * const cpu = processCpu(server.pid).total - cpu0.total;   // CPU seconds of the process and its children
 * server.stop();
 * ```
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = process.env.VOXFACE_SHARED ?? path.resolve(ROOT, '..', 'shared');

export interface Photo {
  name: string;
  bytes: Buffer;
}

/** The folders the scripts take photos from by default: ../shared/faces/deepface and examples/. */
export const PHOTO_DIRS = [path.join(SHARED, 'faces', 'deepface'), path.join(ROOT, 'examples')];

/**
 * The first `max` photos of each folder by name, the files `isPhoto` accepts (the scripts give src/decode's
 * `isImageFile`).
 */
export function loadPhotos(dirs: string[], isPhoto: (name: string) => boolean, max = 12): Photo[] {
  const photos: Photo[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) throw new Error(`no photos at ${dir} (set --photos or VOXFACE_SHARED)`);
    const names = readdirSync(dir).filter(isPhoto).sort().slice(0, max);
    for (const f of names) photos.push({ name: f, bytes: readFileSync(path.join(dir, f)) });
  }
  if (photos.length === 0) throw new Error(`no photos in ${dirs.join(', ')}`);
  return photos;
}

/** What `/healthz` answers (the parts the scripts read). */
export interface Health {
  rssMB: number;
  heapMB: number;
  arrayBuffersMB: number;
  tensors: number;
  jobs: { running: number; queued: number; concurrency: number; queue: number };
  results: { results: number; bytes: number; maxBytes: number };
  workers?: { threads: number; heapMB: number };
}

export async function health(url: string): Promise<Health> {
  return (await fetch(`${url}/healthz`)).json() as Promise<Health>;
}

/** A server started by `startServerChild`. */
export interface ServerChild {
  url: string;
  /** The process that serves (on glibc, main.ts runs it as its child: see src/server/main.ts), 0 for --url. */
  pid: number;
  /** The process started (main.ts; the server's parent on glibc). */
  rootPid: number;
  stop: () => Promise<void>;
}

/** The process of the tree under `pid` that runs the server: the deepest one running main.ts. */
function serverProcess(pid: number): number {
  for (const child of childrenOf(pid)) {
    try {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('main.ts')) return serverProcess(child);
    } catch {
      // gone
    }
  }
  return pid;
}

/**
 * Starts `src/server/main.ts` on a free loopback port with extra environment variables (no per-client rate limit
 * unless given); resolves once it listens. Its request log goes to `log` (default: dropped).
 */
export function startServerChild(env: Record<string, string | undefined>, log?: (line: string) => void): Promise<ServerChild> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', VOXFACE_RATE_PER_MIN: '0', ...env };
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'server', 'main.ts')], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    const onData = (s: string) => {
      out += s;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (!m) return;
      child.stdout.off('data', onData);
      let rest = '';
      child.stdout.on('data', (d: string) => {
        rest += d;
        const lines = rest.split('\n');
        rest = lines.pop()!;
        for (const l of lines) log?.(l);
      });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      resolve({
        url: m[1],
        pid: serverProcess(child.pid!),
        rootPid: child.pid!,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

const TICKS = 100; // USER_HZ: clock ticks per second in /proc on Linux

/** The children of a process (from /proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** user + system CPU seconds of one /proc stat file. */
function statCpu(file: string): number {
  const text = readFileSync(file, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14 and 15 of stat)
}

/**
 * CPU seconds so far (user + system, every thread) of a process and its descendants (`total`), and of its main
 * thread alone (`main`: the one that answers HTTP); undefined where there is no /proc.
 */
export function processCpu(pid: number): { total: number; main: number } | undefined {
  try {
    let total = 0;
    const stack = [pid];
    while (stack.length) {
      const p = stack.pop()!;
      try {
        total += statCpu(`/proc/${p}/stat`);
      } catch {
        continue; // gone meanwhile
      }
      stack.push(...childrenOf(p));
    }
    return { total, main: statCpu(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine so far (every process: other users' work included). */
export function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / TICKS, total: total / TICKS };
  } catch {
    return undefined;
  }
}

/**
 * Resident memory of a process and its descendants now, and the sum of their peaks so far, in MB (VmRSS, VmHWM);
 * undefined where there is no /proc.
 */
export function processRss(pid: number): { rssMB: number; peakMB: number } | undefined {
  let rss = 0;
  let peak = 0;
  const stack = [pid];
  try {
    while (stack.length) {
      const p = stack.pop()!;
      const s = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
      rss += kb('VmRSS');
      peak += kb('VmHWM');
      stack.push(...childrenOf(p));
    }
  } catch {
    if (rss === 0) return undefined;
  }
  return { rssMB: Math.round(rss / 1024), peakMB: Math.round(peak / 1024) };
}

/** The p-th percentile of sorted numbers (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}

/** Command-line `--name=value` arguments (`--flag` alone is 'true'); exits 2 on anything else. */
export function parseArgs(argv: string[], usage: string): Map<string, string> {
  if (argv.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return new Map(
    argv.map((a) => {
      const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
      if (!m) {
        console.error(`unknown argument ${a}\n${usage}`);
        process.exit(2);
      }
      return [m[1], m[2] ?? 'true'] as const;
    }),
  );
}
