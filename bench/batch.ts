/**
 * Batch throughput bench (`npm run bench -- --batch`): photos per second of the batch's worker-process pool for
 * `--jobs 1` (one onnxruntime thread: the base rate), `--jobs 2` (one thread each) and `--jobs 1 --threads 2`, on the
 * same photos, in steady state, and the ratio of each to the ideal (the base rate × jobs).
 *
 *   npm run bench -- --batch [--photos <dir>]... [--rounds 2] [--repeat 2] [--warmup <n>] [--json <file>] [--model <onnx>]
 *
 * Steady state: every process first runs `--warmup` photos untimed (default: each photo once; V8 goes on compiling
 * the hot code on its helper threads for the first 10–20 photos), then the timed phase starts with every process idle; its rate counts the photos finished while every process still had work (up to the moment the last
 * photo is handed out), so neither loading nor the tail of the last photos is in it. Model loading is timed apart
 * (per process, in the table). The configurations take turns `--repeat` times (A B C A B C …) so a change of the
 * machine's load hits each of them alike; the rates are the sums over the turns. Each task is the batch's own: read
 * the file, reconstruct (every face), export GLB + JSON, write them atomically into a temporary folder.
 *
 * A shared machine: besides the wall-clock rates, each row has the median CPU time per photo of its processes
 * (user + system, every thread; more than the 1 × 1 row's when processes slow each other, e.g. through the memory
 * bus) and how many cores the rest of the machine kept busy meanwhile (from /proc/stat, less the CPU time of this
 * process and of the row's worker processes). A wall-clock ratio below the target with other work on the machine is
 * a measurement of the machine; the "of ideal by CPU time" column (1 × 1 CPU ms per photo / this row's, one-thread
 * rows) is what the row would reach with a free core per process.
 *
 * Where a process's CPU time goes: a second table has the CPU ms per photo of each kind of thread of the row's
 * processes (Linux: /proc/<pid>/task/<tid>/stat before and after each timed phase): the JavaScript thread (`main`),
 * Node's and V8's helper threads (named `node`: garbage collection, concurrent compilation, libuv's pool),
 * libvips's, onnxruntime's. A one-job row's helper-thread time is what a second job on the same cores loses.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkerPool } from '../src/batch/pool.ts';
import { jobSettings } from '../src/batch/plan.ts';
import type { JobSettings } from '../src/batch/plan.ts';
import type { TaskOutcome, TaskSpec } from '../src/batch/task.ts';

export interface BatchBenchOptions {
  photos: string[];
  /** Times each photo is run per turn (default 2). */
  rounds?: number;
  /** Turns of every configuration (default 2). */
  repeat?: number;
  /** Untimed photos per process before the timed turns (default: every photo once). */
  warmup?: number;
  model?: string;
  settings?: JobSettings;
  /** Configurations as [jobs, threads] (default [[1,1],[2,1],[1,2]]). */
  configs?: [number, number][];
}

export interface BatchBenchRow {
  jobs: number;
  threads: number;
  /** Photos counted in steady state, over every turn. */
  photos: number;
  /** Seconds of the steady-state phases, summed. */
  seconds: number;
  photosPerSecond: number;
  /** photosPerSecond / (base rate × jobs); the base is the 1 job × 1 thread row. */
  ofIdeal?: number;
  /**
   * One-thread rows: the base row's CPU ms per photo / this row's — the ratio to ideal this row would reach with
   * every process on a core of its own (what other programs on a shared machine take away is not in it).
   */
  cpuEfficiency?: number;
  /** Each process's model + detector loading, ms. */
  loadMs: number[];
  failed: number;
  /** Median wall and CPU (this process, every thread) ms per photo. */
  wallMsPerPhoto: number;
  cpuMsPerPhoto: number;
  /** Cores kept busy by other programs during the timed phases (mean); undefined without /proc/stat. */
  otherCores?: number;
  /**
   * CPU ms per photo of the row's processes by thread name over the timed phases (Linux /proc/<pid>/task; every
   * photo finished in them, the tail's too), most first; `main` is each process's JavaScript thread.
   */
  threadCpu?: ThreadCpu[];
}

export interface ThreadCpu {
  name: string;
  /** Threads of that name that ran in the timed phases (summed over the row's processes). */
  threads: number;
  msPerPhoto: number;
}

/** A process's threads by thread id: name and CPU ticks so far (user + system, 1/100 s). */
export type ThreadTicks = Map<number, { name: string; ticks: number }>;

/** Each thread of a process: its name and CPU ticks so far, by thread id; undefined off Linux. */
export function threadTicks(pid: number): ThreadTicks | undefined {
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return undefined;
  const out: ThreadTicks = new Map();
  for (const t of readdirSync(dir)) {
    try {
      const stat = readFileSync(`${dir}/${t}/stat`, 'utf8');
      // "tid (comm) state ..." — comm may hold spaces and parentheses: the fields start after the last ')'
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = Number(t) === pid ? 'main' : readFileSync(`${dir}/${t}/comm`, 'utf8').trim();
      out.set(Number(t), { name, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU ms by thread name between two threadTicks() snapshots of the same processes (new threads from 0). */
function threadDelta(before: ThreadTicks[], after: ThreadTicks[]): Map<string, { threads: number; ms: number }> {
  const hz = 100; // USER_HZ
  const byName = new Map<string, { threads: number; ms: number }>();
  after.forEach((a, i) => {
    for (const [tid, { name, ticks }] of a) {
      const d = ticks - (before[i]?.get(tid)?.ticks ?? 0);
      if (d <= 0) continue;
      const e = byName.get(name) ?? { threads: 0, ms: 0 };
      e.threads++;
      e.ms += (d * 1000) / hz;
      byName.set(name, e);
    }
  });
  return byName;
}

/** Busy and total CPU seconds of the whole machine so far (Linux /proc/stat), or undefined. */
function machineCpu(): { busy: number; total: number } | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const hz = 100; // USER_HZ
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / hz, total: total / hz };
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(0)}%`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function steadyRun(
  pool: WorkerPool,
  specs: TaskSpec[],
): Promise<{
  photos: number;
  seconds: number;
  failed: number;
  wall: number[];
  cpu: number[];
  otherCoreSeconds?: number;
  phaseSeconds: number;
  finished: number;
  threads?: Map<string, { threads: number; ms: number }>;
}> {
  let next = 0;
  let finished = 0;
  let failed = 0;
  let tEnd = 0;
  let countAtEnd = 0;
  const wall: number[] = [];
  const cpu: number[] = [];
  const t0Threads = pool.pids.map(threadTicks);
  const self0 = process.cpuUsage();
  const m0 = machineCpu();
  const t0 = performance.now();
  const lane = async () => {
    for (;;) {
      if (next >= specs.length) {
        if (tEnd === 0) {
          tEnd = performance.now();
          countAtEnd = finished;
        }
        return;
      }
      const o: TaskOutcome = await pool.run(specs[next++]);
      finished++;
      if (!o.ok) failed++;
      wall.push(o.ms);
      cpu.push(o.cpuMs ?? NaN);
    }
  };
  await Promise.all(Array.from({ length: pool.jobs }, lane));
  const phaseSeconds = (performance.now() - t0) / 1000;
  const m1 = machineCpu();
  const t1Threads = pool.pids.map(threadTicks);
  const all = (xs: (ThreadTicks | undefined)[]): xs is ThreadTicks[] => xs.every((x) => x !== undefined);
  const threads = all(t0Threads) && all(t1Threads) ? threadDelta(t0Threads, t1Threads) : undefined;
  const self = process.cpuUsage(self0);
  // our CPU time: every thread of the workers where /proc has them (else each task's own count), and this process
  const workers = threads ? [...threads.values()].reduce((a, t) => a + t.ms, 0) : cpu.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const ours = (workers + (self.user + self.system) / 1000) / 1000;
  const otherCoreSeconds = m0 && m1 ? Math.max(0, m1.busy - m0.busy - ours) : undefined;
  return { photos: countAtEnd, seconds: (tEnd - t0) / 1000, failed, wall, cpu, otherCoreSeconds, phaseSeconds, finished, threads };
}

export async function benchBatch(o: BatchBenchOptions): Promise<{ rows: BatchBenchRow[]; loadavgBefore: number[]; loadavgAfter: number[]; markdown: string }> {
  const rounds = o.rounds ?? 2;
  const repeat = o.repeat ?? 2;
  const configs = o.configs ?? [
    [1, 1],
    [2, 1],
    [1, 2],
  ];
  const settings: JobSettings = o.settings ?? jobSettings();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'voxface-bench-batch-'));
  const loadavgBefore = os.loadavg();
  const rows: BatchBenchRow[] = [];
  const pools: WorkerPool[] = [];
  try {
    for (const [jobs, threads] of configs) {
      const pool = await WorkerPool.start({ jobs, threads, model: o.model });
      pools.push(pool);
      rows.push({ jobs, threads, photos: 0, seconds: 0, photosPerSecond: 0, loadMs: pool.loadMs.map(Math.round), failed: 0, wallMsPerPhoto: 0, cpuMsPerPhoto: 0 });
    }
    let k = 0;
    const specsFor = (pool: WorkerPool, n: number, tag: string): TaskSpec[] =>
      Array.from({ length: n }, (_, i) => {
        const file = o.photos[i % o.photos.length];
        return { id: `b${k++}`, input: file, source: file, out: tmp, name: `${tag}/${i}`, settings, model: pool.model };
      });
    // warm-up, untimed: V8 goes on compiling hot code on its helper threads for the first 10–20 photos (60–130 ms
    // of CPU per photo at first, 10–40 after), which on a core that another process needs is not steady state
    const warmup = o.warmup ?? o.photos.length;
    for (const pool of pools) await Promise.all(specsFor(pool, pool.jobs * warmup, 'warm').map((s) => pool.run(s)));
    const wall: number[][] = pools.map(() => []);
    const cpu: number[][] = pools.map(() => []);
    const other: { coreSeconds: number; seconds: number }[] = pools.map(() => ({ coreSeconds: 0, seconds: 0 }));
    const threads: { photos: number; byName: Map<string, { threads: number; ms: number }> }[] = pools.map(() => ({ photos: 0, byName: new Map() }));
    for (let turn = 0; turn < repeat; turn++) {
      for (let c = 0; c < pools.length; c++) {
        const r = await steadyRun(pools[c], specsFor(pools[c], o.photos.length * rounds, `t${turn}c${c}`));
        rows[c].photos += r.photos;
        rows[c].seconds += r.seconds;
        rows[c].failed += r.failed;
        wall[c].push(...r.wall);
        cpu[c].push(...r.cpu);
        if (r.otherCoreSeconds !== undefined) {
          other[c].coreSeconds += r.otherCoreSeconds;
          other[c].seconds += r.phaseSeconds;
        }
        if (r.threads) {
          threads[c].photos += r.finished;
          for (const [name, d] of r.threads) {
            const e = threads[c].byName.get(name) ?? { threads: 0, ms: 0 };
            // thread counts: the most seen in one turn, not a sum over turns
            threads[c].byName.set(name, { threads: Math.max(e.threads, d.threads), ms: e.ms + d.ms });
          }
        }
      }
    }
    rows.forEach((r, c) => {
      r.wallMsPerPhoto = median(wall[c]);
      r.cpuMsPerPhoto = median(cpu[c]);
      if (other[c].seconds > 0) r.otherCores = other[c].coreSeconds / other[c].seconds;
      if (threads[c].photos > 0) {
        r.threadCpu = [...threads[c].byName]
          .map(([name, d]) => ({ name, threads: d.threads, msPerPhoto: d.ms / threads[c].photos }))
          .sort((a, b) => b.msPerPhoto - a.msPerPhoto);
      }
    });
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const r of rows) r.photosPerSecond = r.photos / r.seconds;
  const base = rows.find((r) => r.jobs === 1 && r.threads === 1);
  if (base) {
    for (const r of rows) {
      r.ofIdeal = r.photosPerSecond / (base.photosPerSecond * r.jobs);
      if (r.threads === 1) r.cpuEfficiency = base.cpuMsPerPhoto / r.cpuMsPerPhoto;
    }
  }
  const loadavgAfter = os.loadavg();
  const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  const lines = [
    `voxface batch bench: ${o.photos.length} photos × ${rounds} per turn × ${repeat} turns per configuration, steady state; ` +
      `${os.cpus()[0]?.model ?? 'cpu'} ×${os.availableParallelism()}, load average ${la(loadavgBefore)} → ${la(loadavgAfter)}`,
    '',
    '| jobs × onnxruntime threads | photos counted | seconds | photos/s | of ideal (1×1 rate × jobs) | median wall ms / photo | median CPU ms / photo | of ideal by CPU time | other programs, cores busy | model load per process, ms | failed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    ...rows.map(
      (r) =>
        `| ${r.jobs} × ${r.threads} | ${r.photos} | ${r.seconds.toFixed(1)} | ${r.photosPerSecond.toFixed(2)} | ${pct(r.ofIdeal)} | ` +
        `${r.wallMsPerPhoto.toFixed(0)} | ${r.cpuMsPerPhoto.toFixed(0)} | ${pct(r.cpuEfficiency)} | ` +
        `${r.otherCores === undefined ? '–' : r.otherCores.toFixed(2)} | ${r.loadMs.join(', ')} | ${r.failed} |`,
    ),
  ];
  if (rows.some((r) => r.threadCpu)) {
    // names as rows, configurations as columns: where each process's CPU time per photo goes, thread by thread
    const names = [...new Set(rows.flatMap((r) => (r.threadCpu ?? []).map((t) => t.name)))];
    const total = (r: BatchBenchRow) => (r.threadCpu ?? []).reduce((a, t) => a + t.msPerPhoto, 0);
    const cell = (r: BatchBenchRow, name: string) => {
      const t = r.threadCpu?.find((x) => x.name === name);
      return t ? `${t.msPerPhoto.toFixed(1)} (${t.threads})` : '–';
    };
    lines.push(
      '',
      'CPU ms per photo by thread (/proc/<pid>/task, the timed phases, summed over a row\'s processes; in brackets how many threads of that name ran; `main` = the JavaScript thread):',
      '',
      `| thread | ${rows.map((r) => `${r.jobs} × ${r.threads}`).join(' | ')} |`,
      `|---|${rows.map(() => '---:').join('|')}|`,
      ...names.map((n) => `| ${n} | ${rows.map((r) => cell(r, n)).join(' | ')} |`),
      `| all | ${rows.map((r) => total(r).toFixed(1)).join(' | ')} |`,
    );
  }
  const busy = Math.max(...rows.map((r) => r.otherCores ?? 0));
  if (busy > 0.2) {
    // with autogroup, the scheduler shares the CPU between sessions first: our processes (one session) get one
    // share however many they are, so on a busy machine more jobs cannot get more CPU
    const autogroup = existsSync('/proc/sys/kernel/sched_autogroup_enabled') && readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
    lines.push(
      '',
      `Other programs kept up to ${busy.toFixed(2)} cores busy during the timed phases: the wall-clock ratios measure the shared machine as ` +
        'much as the batch; re-run on a quiet machine (the CPU-time ratio is the estimate for free cores).' +
        (autogroup ? ' Linux autogroup is on: every process of this bench shares one session\'s CPU share, so more jobs get no more CPU while other sessions are busy.' : ''),
    );
  }
  return { rows, loadavgBefore, loadavgAfter, markdown: lines.join('\n') };
}
