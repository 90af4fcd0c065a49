/**
 * The local batch: the journal (torn lines, last record wins), planning (names, ids), and real runs on a pool of
 * worker processes: outcomes recorded, a killed (SIGKILL) and an interrupted run resume without redoing work, a run
 * with nothing left starts no worker, a deleted output is made again, --retry-failed retries failures, a worker
 * process killed mid-photo is replaced and the photo retried, a full disk stops the batch and it goes on later.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, JOURNAL_NAME } from '../src/batch/journal.ts';
import { itemId, optionsHash, planInputs } from '../src/batch/plan.ts';
import { jobSettings } from '../src/batch/plan.ts';
import type { JobSettings } from '../src/batch/plan.ts';
import { WorkerPool } from '../src/batch/pool.ts';
import { defaultModel, runBatch } from '../src/batch/run.ts';
import { modelDigest } from '../src/batch/plan.ts';
import { isTempName, processAlive } from '../src/node/write.ts';
import { assertGLB, childPids, items, makePhotos, readJournal, root, tempFiles } from './_batch.ts';
import { mountsUnavailable } from './_mounts.ts';

// flip off and a small texture: the same pipeline, faster (these tests are about the batch, not the mesh)
const SETTINGS: JobSettings = jobSettings({ flip: false, textureSize: 128 });

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), isTTY: false, quiet: true }, out, err };
}

test('journal: the last record of an input wins, a line cut short by a crash is skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-journal-'));
  try {
    let j = await Journal.open(dir);
    await j.append({ type: 'item', id: 'a', input: 'a.jpg', name: 'a', state: 'failed', code: 'IO_ERROR', reason: 'x' });
    await j.append({ type: 'item', id: 'b', input: 'b.jpg', name: 'b', state: 'done', files: ['b.glb'] });
    await j.append({ type: 'item', id: 'a', input: 'a.jpg', name: 'a', state: 'done', files: ['a.glb'] });
    await j.close();
    appendFileSync(join(dir, JOURNAL_NAME), '{"type":"item","id":"c","inp'); // killed mid-write
    j = await Journal.open(dir);
    assert.equal(j.badLines, 1);
    assert.equal(j.state('a')?.state, 'done');
    assert.equal(j.state('b')?.state, 'done');
    assert.equal(j.state('c'), undefined);
    await j.append({ type: 'item', id: 'c', input: 'c.jpg', name: 'c', state: 'done' });
    await j.close();
    j = await Journal.open(dir);
    assert.equal(j.badLines, 1, 'the new record starts on its own line');
    assert.equal(j.state('c')?.state, 'done');
    await j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('planning: names from files, folders and URLs; taken names; ids depend on the input and the options', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-plan-'));
  try {
    await makePhotos(join(dir, 'in', 'sub'), 1);
    writeFileSync(join(dir, 'in', 'a.jpg'), 'x');
    writeFileSync(join(dir, 'in', 'a.png'), 'x');
    writeFileSync(join(dir, 'in', 'notes.txt'), 'x');
    writeFileSync(join(dir, 'in', 'm n.jpg'), 'x'); // → m_n, as every output name is made safe
    writeFileSync(join(dir, 'in', 'm_n.jpg'), 'x');
    await makePhotos(join(dir, 'in', 'out'), 1); // the output folder inside the input folder: not an input
    const { items: list, problems } = await planInputs([join(dir, 'in'), 'https://example.com/photos/x%20y.jpeg?s=1', join(dir, 'nope.jpg')], {
      exclude: join(dir, 'in', 'out'),
    });
    assert.deepEqual(
      list.map((i) => i.name),
      ['a', 'm_n', 'sub/p00', 'x_y'],
    );
    assert.deepEqual(
      problems.map((p) => [p.code, p.name]),
      [
        ['NAME_TAKEN', 'a'],
        ['NAME_TAKEN', 'm_n'],
        ['NOT_FOUND', 'nope'],
      ],
    );
    const h1 = optionsHash(SETTINGS, 'm1', '1.0.0');
    assert.equal(h1, optionsHash(jobSettings({ flip: false, textureSize: 128, smooth: 10 }), 'm1', '1.0.0'), 'a default given or not: the same');
    assert.equal(h1, optionsHash({ ...SETTINGS, box: undefined }, 'm1', '1.0.0'), 'undefined options do not count');
    assert.deepEqual(Object.keys(jobSettings({ threads: 3, model: 'x.onnx' })).filter((k) => k === 'threads' || k === 'model'), []);
    assert.notEqual(h1, optionsHash({ ...SETTINGS, formats: ['glb'] }, 'm1', '1.0.0'));
    assert.notEqual(h1, optionsHash(SETTINGS, 'm2', '1.0.0'));
    assert.notEqual(h1, optionsHash(SETTINGS, 'm1', '1.0.1'));
    assert.equal(itemId(list[0].source, h1), itemId(list[0].source, h1));
    assert.notEqual(itemId(list[0].source, h1), itemId(list[1].source, h1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('local batch: outcomes in the journal; a killed and an interrupted run resume without redoing work; --retry-failed', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-batch-'));
  const out = join(dir, 'out');
  try {
    const N = 10;
    const photos = await makePhotos(join(dir, 'in'), N);
    writeFileSync(join(dir, 'in', 'bad.jpg'), 'this is not an image\n');
    const input = [join(dir, 'in')];

    // 0. the command killed (SIGKILL, its whole process group) once a photo is recorded: the records stay
    const doneCount = () => (existsSync(join(out, JOURNAL_NAME)) ? items(readJournal(out)).filter((r) => r.state === 'done').length : 0);
    const killed = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts', 'voxface.ts'), 'batch', ...input, '-o', out, '--jobs', '2', '--flip', 'off', '--texture-size', '128', '-q'],
      { cwd: root, detached: true, stdio: 'ignore' },
    );
    const killedExit = new Promise<string | null>((res) => killed.once('exit', (_code, sig) => res(sig)));
    for (let t = 0; doneCount() < 1; t++) {
      assert.ok(t < 4000 && killed.exitCode === null, 'the batch to record a photo');
      await new Promise((r) => setTimeout(r, 25));
    }
    process.kill(-killed.pid!, 'SIGKILL');
    assert.equal(await killedExit, 'SIGKILL');
    const doneKilled = doneCount();
    assert.ok(doneKilled >= 1 && doneKilled < N, `done before the kill: ${doneKilled}`);

    // 1. interrupted (Ctrl-C: an abort signal) after one more photo finishes
    // aborted from the record callback itself, so no timer on a busy machine can let more photos start
    const ac = new AbortController();
    let c = capture();
    const io = {
      ...c.io,
      stderr: (s: string) => void c.err.push(s),
      signal: ac.signal,
      onRecord: (r: { state: string }) => {
        if (r.state === 'done') ac.abort();
      },
    };
    let s = await runBatch(input, { out, jobs: 2, settings: SETTINGS }, io);
    assert.equal(s.interrupted, true);
    assert.equal(s.skipped >= doneKilled, true, 'what the killed run recorded is skipped');
    // the photo that ended it, one more whose record was being written, and at most one running on each process
    assert.ok(s.done >= 1 && s.done <= 4 && doneKilled + s.done < N, `done before the kill ${doneKilled}, then ${s.done}`);
    const firstDone = items(readJournal(out)).filter((r) => r.state === 'done').map((r) => r.id);
    const badBefore = items(readJournal(out)).some((r) => r.state === 'failed');

    // 2. run again: only the rest is done, each photo once
    c = capture();
    s = await runBatch(input, { out, jobs: 2, settings: SETTINGS }, c.io);
    assert.equal(s.interrupted, false);
    assert.equal(s.skipped, firstDone.length + (badBefore ? 1 : 0), 'what run 1 finished is skipped');
    assert.equal(s.done, N - firstDone.length);
    let recs = items(readJournal(out));
    const done = recs.filter((r) => r.state === 'done');
    assert.equal(done.length, N, 'one done record per photo');
    assert.equal(new Set(done.map((r) => r.id)).size, N);
    for (const p of photos) {
      const name = p.file.split('/').pop()!.replace('.jpg', '');
      assertGLB(join(out, `${name}.glb`));
      assert.equal(JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')).image.width, p.width, `${name}.json is of its own photo`);
    }
    const bad = recs.filter((r) => r.state === 'failed');
    assert.ok(bad.length === 1 && bad.every((r) => r.input.endsWith('bad.jpg') && r.code === 'NOT_AN_IMAGE'), JSON.stringify(bad));
    const summary = readJournal(out).at(-1)!;
    assert.equal(summary.type, 'summary');

    // 3. nothing left: no worker started, everything skipped
    c = capture();
    s = await runBatch(input, { out, jobs: 2, settings: SETTINGS }, c.io);
    assert.deepEqual([s.done, s.skipped, s.failedBefore, s.loadMs], [0, N + 1, 1, undefined], 'the bad photo counts as failed before');

    // 4. an output deleted: that photo is made again; --retry-failed tries the bad photo again
    unlinkSync(join(out, 'p03.glb'));
    c = capture();
    s = await runBatch(input, { out, jobs: 1, settings: SETTINGS, retryFailed: true }, c.io);
    assert.deepEqual([s.done, s.failed, s.skipped], [1, { NOT_AN_IMAGE: 1 }, N - 1]);
    assertGLB(join(out, 'p03.glb'));
    assert.match(c.err.join(''), /bad\.jpg: not an image/);
    recs = items(readJournal(out));
    assert.equal(recs.filter((r) => r.state === 'done' && r.name === 'p03').length, 2);

    // 5. other options: other ids, so the photos are made again
    c = capture();
    const flat = jobSettings({ flip: false, textureSize: 128, formats: ['json'] });
    s = await runBatch([photos[0].file], { out, jobs: 1, settings: flat }, c.io);
    assert.deepEqual([s.done, s.skipped], [1, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pool: a worker process killed mid-photo fails that photo with WORKER_DIED and is replaced', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-pool-'));
  const pool = await WorkerPool.start({ jobs: 1 });
  try {
    const [photo] = await makePhotos(dir, 1);
    const model = await modelDigest(defaultModel());
    assert.equal(pool.model, model);
    const spec = { id: 'x', input: photo.file, source: photo.file, out: join(dir, 'out'), name: 'x', settings: SETTINGS, model };
    const first = pool.run(spec);
    const pid = pool.pids[0];
    setTimeout(() => process.kill(pid, 'SIGKILL'), 50);
    const o1 = await first;
    assert.equal(o1.ok, false);
    assert.equal(!o1.ok && o1.code, 'WORKER_DIED');
    assert.equal(!o1.ok && o1.retryable, true);
    const o2 = await pool.run(spec);
    assert.ok(o2.ok, JSON.stringify(o2));
    assert.notEqual(pool.pids[0], pid, 'a new process');
    assertGLB(join(dir, 'out', 'x.glb'));
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the batch command alone killed (SIGKILL, as the OOM killer does): its workers exit, leave no temporary file, and the same command finishes the batch', { skip: process.platform !== 'linux' && 'needs /proc', timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-orphan-'));
  const out = join(dir, 'out');
  try {
    const N = 8;
    const photos = await makePhotos(join(dir, 'in', 'sub'), N);
    const input = [join(dir, 'in')];
    const cmd = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts', 'voxface.ts'), 'batch', ...input, '-o', out, '--jobs', '2', '--flip', 'off', '--texture-size', '128', '-q'],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    cmd.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise<string | null>((res) => cmd.once('exit', (_code, sig) => res(sig)));
    const doneCount = () => (existsSync(join(out, JOURNAL_NAME)) ? items(readJournal(out)).filter((r) => r.state === 'done').length : 0);
    // until a worker is writing a photo's files, or one photo is recorded
    const workers = new Set<number>();
    let writing = false;
    for (let t = 0; ; t++) {
      assert.ok(t < 20_000 && cmd.exitCode === null, `the batch to start writing (exit ${cmd.exitCode}, workers ${[...workers]}): ${stderr}`);
      for (const pid of childPids(cmd.pid!)) workers.add(pid);
      writing = tempFiles(out).some((f) => !f.includes('.probe.'));
      if (workers.size >= 2 && (writing || doneCount() >= 1)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    process.kill(cmd.pid!, 'SIGKILL'); // the parent only: its workers are left running
    assert.equal(await exited, 'SIGKILL');
    const doneBefore = doneCount();
    assert.ok(doneBefore < N, `done before the kill: ${doneBefore}`);
    // the orphaned workers notice and exit (a liveness bound, not a timing measurement)
    for (let t = 0; [...workers].some((pid) => processAlive(pid)); t++) {
      assert.ok(t < 600, `workers ${[...workers].filter((pid) => processAlive(pid)).join(', ')} still running 60 s after their parent died`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(tempFiles(out), [], `temporary files left by the orphaned workers (one was writing at the kill: ${writing})`);
    // every file there is whole: a worker stopped before its renames, or renamed all of a photo's files
    for (const f of readdirSync(join(out, 'sub')).filter((f) => f.endsWith('.glb'))) assertGLB(join(out, 'sub', f));

    // the same command again: the rest is made, nothing is left behind
    const c = capture();
    const s = await runBatch(input, { out, jobs: 2, settings: SETTINGS }, c.io);
    assert.deepEqual([s.done + s.skipped, s.failed, s.interrupted], [N, {}, false], c.err.join(''));
    assert.ok(s.skipped >= doneBefore);
    for (const p of photos) {
      const name = p.file.split('/').pop()!.replace('.jpg', '');
      assertGLB(join(out, 'sub', `${name}.glb`));
      assert.equal(JSON.parse(readFileSync(join(out, 'sub', `${name}.json`), 'utf8')).image.width, p.width);
    }
    assert.deepEqual(tempFiles(out), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a resume removes the temporary files of dead writers, and no other file; inputs refused by their header start no worker', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-stale-'));
  const out = join(dir, 'out');
  try {
    // a pid that is surely dead: a process that has exited and been reaped
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const dead = Number(gone.stdout.trim());
    assert.ok(dead > 0 && !processAlive(dead));
    mkdirSync(join(out, 'sub'), { recursive: true });
    const stale = [`.p00.glb.${dead}.0123abcd.tmp`, join('sub', `.p01.json.${dead}.89abcdef.tmp`)];
    const keep = [
      `.p02.glb.${process.ppid}.0123abcd.tmp`, // a live process's (the one that started this test)
      '.notes.tmp', // not our pattern
      `p03.glb.${dead}.0123abcd.tmp`, // not hidden
      `.p04.glb.${dead}.0123abcd.tmp.bak`,
      'p05.glb',
    ];
    for (const f of [...stale, ...keep]) writeFileSync(join(out, f), 'x');
    const c = capture();
    // nothing that can run (a missing file, a pixel bomb refused by its header): the clean-up still happens, and
    // no worker starts
    mkdirSync(join(dir, 'in'));
    const ihdr = Buffer.alloc(25);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4, 'latin1');
    ihdr.writeUInt32BE(30000, 8);
    ihdr.writeUInt32BE(30000, 12);
    ihdr.set([8, 2, 0, 0, 0], 16);
    writeFileSync(join(dir, 'in', 'bomb.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]));
    const s = await runBatch([join(dir, 'in'), join(dir, 'missing.jpg')], { out, jobs: 1, settings: SETTINGS }, c.io);
    assert.equal(s.loadMs, undefined, 'no worker started');
    assert.deepEqual(s.failed, { NOT_FOUND: 1, IMAGE_TOO_LARGE: 1 });
    assert.match(c.err.join(''), /bomb\.png: the image is 30000×30000 = 900\.0 megapixels/);
    for (const f of stale) assert.ok(!existsSync(join(out, f)), `${f} not removed`);
    for (const f of keep) assert.ok(existsSync(join(out, f)), `${f} removed`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('batch and worker subcommands: help, usage errors, an unreachable queue; ./batch is a file', async () => {
  const { main } = await import('../src/cli/main.ts');
  const run = async (argv: string[]) => {
    const c = capture();
    const code = await main(argv, c.io);
    return { code, out: c.out.join(''), err: c.err.join('') };
  };
  let r = await run(['batch', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /--jobs <n>/);
  assert.match(r.out, /--retry-failed/);
  assert.match(r.out, /--flip <on\|off>/, 'the pipeline options are the table rows');
  r = await run(['worker', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /--lock-ms <ms>/);
  assert.match(r.out, /--threads <n>/);
  assert.doesNotMatch(r.out, /--flip/, 'a worker takes the pipeline options from its jobs');
  for (const [argv, why] of [
    [['batch'], /no inputs given/],
    [['batch', 'a.jpg', '--jobs', '0'], /--jobs must be an integer from 1 to 256/],
    [['batch', 'a.jpg', '--queue', 'http://host:6379'], /redis:\/\/host:port/],
    [['worker'], /--queue redis:\/\/host:port is required/],
    [['worker', '--queue', 'redis://127.0.0.1:6379', 'a.jpg'], /takes no inputs/],
    [['worker', '--queue', 'redis://127.0.0.1:6379', '--flip', 'off'], /--flip is an option of 'voxface batch'/],
  ] as const) {
    r = await run([...argv]);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, why);
  }
  // a port nobody listens on: exit 5 at once, before any model is loaded
  r = await run(['batch', 'a.jpg', '--queue', 'redis://127.0.0.1:1']);
  assert.equal(r.code, 5, r.err);
  assert.match(r.err, /cannot reach the queue at redis:\/\/127\.0\.0\.1:1/);
  r = await run(['worker', '--queue', 'redis://127.0.0.1:1']);
  assert.equal(r.code, 5, r.err);
  // './batch' is the plain CLI with a file of that name
  r = await run(['./batch', '-o', join(tmpdir(), 'voxface-none')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /\.\/batch: no such file/);
});

test('full disk: the batch stops without marking the photo failed; with room again the same command goes on', { skip: mountsUnavailable(), timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-full-'));
  try {
    await makePhotos(join(dir, 'in'), 3);
    const out = join(dir, 'out');
    mkdirSync(out);
    const cli = [process.execPath, '--import', 'tsx', join(root, 'scripts', 'voxface.ts'), 'batch', '--jobs', '1', '--flip', 'off', '--texture-size', '128', '-o', out];
    const q = (a: string[]) => a.map((x) => JSON.stringify(x)).join(' ');
    // one photo on a roomy tmpfs, then the tmpfs shrunk to what is used + half a photo, the folder run, then room again
    const script = [
      `mount -t tmpfs -o size=16m tmpfs ${q([out])}`,
      `${q([...cli, join(dir, 'in', 'p00.jpg')])} >/dev/null 2>&1 || exit 90`,
      `used=$(df -k --output=used ${q([out])} | tail -1)`,
      `mount -o remount,size=$(( (used + used / 2) / 4 * 4 + 4 ))k ${q([out])}`,
      `${q([...cli, join(dir, 'in')])}; echo "rc1=$?"`,
      `mount -o remount,size=16m ${q([out])}`,
      `${q([...cli, join(dir, 'in')])}; echo "rc2=$?"`,
      `echo '--- ls'; ls -A ${q([out])}; echo '--- journal'; cat ${q([join(out, JOURNAL_NAME)])}`,
    ].join(' && ');
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { cwd: root, encoding: 'utf8' });
    const text = r.stdout + r.stderr;
    assert.equal(r.status, 0, text);
    assert.match(text, /rc1=4/, 'exit 4: stopped on the full disk');
    assert.match(text, /stopping: cannot write to .*the disk is full/);
    assert.match(text, /rc2=0/, 'with room again the same command finishes');
    const [, ls, journal] = r.stdout.split(/--- ls\n|--- journal\n/);
    assert.deepEqual(
      ls.trim().split('\n').filter((f) => isTempName(f)),
      [],
      'no temporary file left',
    );
    const recs = journal.trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.type === 'item');
    assert.deepEqual(
      recs.filter((x) => x.state === 'failed'),
      [],
      'the photo that met the full disk is not marked failed',
    );
    assert.deepEqual(recs.map((x) => x.name).sort(), ['p00', 'p01', 'p02'], 'one done record each');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
