/**
 * The batch over a real Redis (Debian's redis-server on a free loopback port) with BullMQ: two `voxface worker`
 * processes and a `voxface batch --queue` producer, all real processes running the real pipeline.
 * - one worker is killed (its whole process group, like a machine going down) in the middle of a photo: the other
 *   takes the job over when its lock runs out, and every photo ends with one valid output and one "done" record;
 * - the producer is interrupted, then run again: it records what finished meanwhile and nothing is redone;
 * - a bad photo and a URL answering 404 fail with their reasons, a URL answering 503 once is retried, the rest done;
 * - the same picture made by the two workers gives the same GLB bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertGLB, hasRedis, items, makePhotos, readJournal, root, startRedis } from './_batch.ts';
import { readGLB } from './_readers.ts';

interface Proc {
  proc: ChildProcess;
  out: string[];
  err: string[];
  exit: Promise<number | null>;
}

/** `voxface <args>` from the sources, in its own process group, output collected by line. */
function voxface(args: string[]): Proc {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/voxface.ts', ...args], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  const lines = (into: string[]) => {
    let buf = '';
    return (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      into.push(...parts);
    };
  };
  proc.stdout!.on('data', lines(out));
  proc.stderr!.on('data', lines(err));
  const exit = new Promise<number | null>((res) => proc.once('exit', (code, signal) => res(code ?? (signal ? 128 : null))));
  return { proc, out, err, exit };
}

/** Waits until `cond()`; fails with the output of `procs` when it times out or one of them exits. */
async function waitFor(what: string, cond: () => boolean, procs: Proc[], timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs || procs.some((p) => p.proc.exitCode !== null || p.proc.signalCode !== null)) {
      const logs = procs.map((p, i) => `--- process ${i} ${p.proc.spawnargs.slice(3, 5).join(' ')} (exit ${p.proc.exitCode ?? p.proc.signalCode ?? 'running'}):\n${[...p.out, ...p.err].join('\n')}`);
      throw new Error(`timed out waiting for ${what}\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

const killGroup = (p: Proc, sig: NodeJS.Signals) => {
  try {
    process.kill(-p.proc.pid!, sig);
  } catch {
    /* already gone */
  }
};

test('queue: two workers, one killed mid-photo; producer interrupted and run again; failures with reasons', { skip: hasRedis() ? false : 'redis-server is not installed (apt-get install redis-server)', timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-queue-'));
  const out = join(dir, 'out');
  const redis = await startRedis();
  const procs: Proc[] = [];
  // a photo server: /flaky.jpg answers 503 the first time, /gone.jpg always 404
  const photoBytes = readFileSync(join(root, 'examples', 'face.jpg'));
  let flakyHits = 0;
  const http = createServer((req, res) => {
    if (req.url === '/flaky.jpg' && ++flakyHits > 1) {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photoBytes);
    } else res.writeHead(req.url === '/flaky.jpg' ? 503 : 404).end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  try {
    const photos = await makePhotos(join(dir, 'in'), 20, 10);
    writeFileSync(join(dir, 'in', 'bad.jpg'), 'this is not an image\n');
    const workerArgs = ['worker', '--queue', redis.url, '--jobs', '1', '--lock-ms', '3000', '--stall-ms', '1000'];
    const a = voxface(workerArgs);
    const b = voxface(workerArgs);
    procs.push(a, b);
    await waitFor('the workers', () => [a, b].every((w) => w.out.some((l) => l.includes('waiting for jobs'))), [a, b]);
    const batchArgs = ['batch', join(dir, 'in'), `${base}/flaky.jpg`, `${base}/gone.jpg`, '-o', out, '--queue', redis.url, '--backoff-ms', '200', '--flip', 'off', '--texture-size', '128'];
    const p1 = voxface(batchArgs);
    procs.push(p1);

    // kill worker A in the middle of its second photo (after it has made one)
    const started = (w: Proc) => w.out.filter((l) => l.startsWith('voxface worker: started '));
    let killedInput = '';
    await waitFor('worker A to start a photo after one done', () => {
      const lines = a.out;
      const firstDone = lines.findIndex((l) => l.startsWith('voxface worker: done '));
      const next = firstDone >= 0 ? lines.slice(firstDone).find((l) => /^voxface worker: started .*\/p\d\d\.jpg /.test(l)) : undefined;
      if (next) killedInput = /started (.*) \(job/.exec(next)![1];
      return next !== undefined;
    }, [a, b, p1]);
    killGroup(a, 'SIGKILL');
    assert.equal(await a.exit, 128);

    // interrupt the producer once a few photos are recorded
    const doneRecords = () => {
      try {
        return items(readJournal(out)).filter((r) => r.state === 'done').length;
      } catch {
        return 0;
      }
    };
    await waitFor('a few done records', () => doneRecords() >= 4, [b, p1]);
    killGroup(p1, 'SIGINT');
    assert.equal(await p1.exit, 130, p1.err.join('\n'));
    const doneByP1 = doneRecords();

    // run the producer again: it finishes the batch
    const p2 = voxface(batchArgs);
    procs.push(p2);
    assert.equal(await p2.exit, 1, `exit 1: some inputs failed\n${p2.err.join('\n')}`);
    killGroup(b, 'SIGTERM');
    assert.equal(await b.exit, 0, 'a worker stops cleanly on SIGTERM');

    const recs = items(readJournal(out));
    const byInput = new Map<string, typeof recs>();
    for (const r of recs) byInput.set(r.input, [...(byInput.get(r.input) ?? []), r]);
    const hostB = `${hostname()}:${b.proc.pid}#`;
    const hostA = `${hostname()}:${a.proc.pid}#`;
    // every photo: one done record, one valid output of its own photo
    for (const p of photos) {
      const rs = byInput.get(p.file) ?? [];
      assert.equal(rs.length, 1, `${p.file}: ${JSON.stringify(rs)}`);
      assert.equal(rs[0].state, 'done');
      const name = rs[0].name;
      assertGLB(join(out, `${name}.glb`));
      assert.equal(JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')).image.width, p.width);
    }
    const flaky = byInput.get(`${base}/flaky.jpg`) ?? [];
    assert.deepEqual(
      flaky.map((r) => [r.state, r.attempts]),
      [['done', 2]],
      'the 503 was retried',
    );
    assert.deepEqual(
      (byInput.get(join(dir, 'in', 'bad.jpg')) ?? []).map((r) => r.code),
      ['NOT_AN_IMAGE'],
      JSON.stringify(byInput.get(join(dir, 'in', 'bad.jpg'))),
    );
    const gone = byInput.get(`${base}/gone.jpg`) ?? [];
    assert.deepEqual(
      gone.map((r) => r.code),
      ['FETCH_FAILED'],
    );
    assert.match(gone[0].reason ?? '', /HTTP 404/);

    // the killed job was run again by worker B
    const killed = byInput.get(killedInput)!;
    assert.ok(killed[0].worker?.startsWith(hostB), `${killedInput} made by ${killed[0].worker}`);
    assert.ok(started(b).some((l) => l.includes(`started ${killedInput} `)));

    // nothing redone: each input started once over both workers, but the killed one (A, then B) and the retried URL
    const starts = new Map<string, number>();
    for (const l of [...started(a), ...started(b)]) {
      const input = /started (.*) \(job/.exec(l)![1];
      starts.set(input, (starts.get(input) ?? 0) + 1);
    }
    for (const [input, n] of starts) {
      const expected = input === killedInput || input === `${base}/flaky.jpg` ? 2 : 1;
      assert.equal(n, expected, `${input} started ${n} times`);
    }
    const runs = readJournal(out).filter((r) => r.type === 'summary');
    assert.equal(runs.length, 2);
    assert.equal(runs[0].type === 'summary' && runs[0].interrupted, true);
    assert.equal(runs[1].type === 'summary' && runs[1].done, 21 - doneByP1);

    // the same picture made by either worker: the same GLB (binary chunk byte for byte; the JSON chunk names the
    // mesh after its file, so the names are set aside)
    let compared = 0;
    const glbOf = (name: string) => {
      const g = readGLB(new Uint8Array(readFileSync(join(out, `${name}.glb`))));
      return { json: JSON.stringify(g.json).replaceAll(`"${name}`, '"NAME'), bin: Buffer.from(g.bin) };
    };
    for (let i = 0; i < 10; i++) {
      const [r1, r2] = [photos[i], photos[i + 10]].map((p) => byInput.get(p.file)![0]);
      if (r1.worker?.startsWith(hostA) === r2.worker?.startsWith(hostA)) continue;
      const [g1, g2] = [glbOf(r1.name), glbOf(r2.name)];
      assert.ok(g1.bin.equals(g2.bin), `${r1.name} vs ${r2.name}: binary chunks differ`);
      assert.equal(g1.json, g2.json);
      compared++;
    }
    assert.ok(compared >= 1, 'at least one picture made by both workers');
  } catch (e) {
    // the processes' own words, for a failure in CI
    for (const [i, p] of procs.entries()) console.error(`--- process ${i}: ${p.proc.spawnargs.slice(3, 5).join(' ')}\n${[...p.out, ...p.err].join('\n')}`);
    throw e;
  } finally {
    for (const p of procs) killGroup(p, 'SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    await new Promise((r) => http.close(r));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
