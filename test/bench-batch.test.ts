/**
 * The batch bench's measurements (bench/batch.ts): per-thread CPU time from /proc, and a short run of the bench on
 * real worker processes (rates, the thread table, the V8 flags the workers run with).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBatch, threadTicks } from '../bench/batch.ts';
import { POOL_DEFAULTS, WorkerPool } from '../src/batch/pool.ts';
import { makePhotos } from './_batch.ts';

const linux = existsSync('/proc/self/task');

test('threadTicks: this process\'s JavaScript thread is `main`, and its ticks count the CPU time it spends', { skip: !linux && 'no /proc' }, () => {
  const before = threadTicks(process.pid)!;
  assert.equal(before.get(process.pid)?.name, 'main');
  assert.ok(before.size > 1, 'Node has helper threads');
  const c0 = process.cpuUsage();
  let x = 0;
  while ((process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1000 < 150) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const after = threadTicks(process.pid)!;
  const spent = after.get(process.pid)!.ticks - before.get(process.pid)!.ticks;
  let all = 0;
  for (const [tid, { ticks }] of after) all += ticks - (before.get(tid)?.ticks ?? 0);
  // 150 ms of the process's CPU = 15 ticks. Node's helper threads (GC, compiler, the test runner's I/O) may take some
  // of it, and the kernel samples ticks per thread, so the main thread is asked for most, not all, of them.
  assert.ok(spent >= 9, `main thread ticks +${spent} of ${all}`);
  assert.ok(spent >= 0.7 * all, `main thread ticks +${spent} of ${all} for all threads`);
  assert.equal(threadTicks(2 ** 22 + 12345), undefined, 'no such process');
});

test('batch bench: steady-state rate and CPU time per photo by thread, workers started with the V8 flags', { timeout: 180_000, skip: !linux && 'no /proc' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-bench-batch-test-'));
  try {
    const photos = (await makePhotos(dir, 2)).map((p) => p.file);
    // the workers' command line holds the pool's V8 flags
    const pool = await WorkerPool.start({ jobs: 1, threads: 1 });
    try {
      const argv = readFileSync(`/proc/${pool.pids[0]}/cmdline`, 'utf8').split('\0');
      for (const flag of POOL_DEFAULTS.v8Flags) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
    } finally {
      await pool.close();
    }
    const report = await benchBatch({ photos, rounds: 1, repeat: 1, warmup: 1, configs: [[1, 1]] });
    const [row] = report.rows;
    assert.equal(row.failed, 0);
    assert.ok(row.photos >= 1 && row.photosPerSecond > 0, JSON.stringify(row));
    const main = row.threadCpu?.find((t) => t.name === 'main');
    assert.ok(main && main.threads === 1 && main.msPerPhoto > 0, JSON.stringify(row.threadCpu));
    // every thread's time together is about the process's CPU time per photo: at least the main thread's
    const all = row.threadCpu!.reduce((a, t) => a + t.msPerPhoto, 0);
    assert.ok(all >= main.msPerPhoto);
    assert.match(report.markdown, /\| main \| \d+\.\d \(1\) \|/);
    assert.match(report.markdown, /\| all \| \d+\.\d \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
