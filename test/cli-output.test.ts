/**
 * The CLI's output folder and progress: an output folder that cannot be written exits 4 at once with a message
 * naming it and the cause (also under /proc, where a recursive mkdir would spin); a full disk (a tiny tmpfs under
 * `unshare -m`) stops the run with a summary and leaves no partial file; a read-only folder (a read-only bind
 * mount) is named; any other write failure skips that photo and the rest go on; a 24-face photo prints progress
 * lines while it runs; --quiet prints nothing. The mount tests skip with a message where mounts are not permitted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mountsUnavailable } from './_mounts.ts';
import { createProgress } from '../src/cli/progress.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.VOXFACE_SHARED ?? path.resolve(root, '..', 'shared');
const CLI = ['--import', 'tsx', path.join(root, 'scripts', 'voxface.ts')];
const FACE = path.join(root, 'examples', 'face.jpg');
const PROFILE = path.join(root, 'examples', 'profile.jpg');
const GROUP24 = path.join(shared, 'faces', 'dlib-faces', 'bald_guys.jpg');
const noModel = existsSync(path.join(root, 'models', 'vrn-compact.onnx')) ? false : 'needs models/vrn-compact.onnx';
const noMounts = mountsUnavailable();
if (noMounts) console.log(`# CLI mount tests skipped: ${noMounts}`);

const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

function withDir(f: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxface-cli-out-'));
    try {
      await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('an output folder that cannot be written: exit 4 at once, naming the folder and the cause', { skip: noModel }, withDir((dir) => {
  const t0 = performance.now();
  let r = cli([FACE, '-o', '/proc/x']);
  assert.equal(r.status, 4, r.stderr);
  assert.equal(r.stderr, 'voxface: cannot create the folder /proc/x: /proc does not allow new folders (ENOENT)\n');
  assert.ok(performance.now() - t0 < 60_000, 'no spinning');
  writeFileSync(path.join(dir, 'out'), 'a file');
  r = cli([FACE, '-o', path.join(dir, 'out', 'sub')]);
  assert.equal(r.status, 4);
  assert.match(r.stderr, /out is a file, not a folder/);
}));

test('a write failure other than a full disk skips that photo; the others are written; exit 4', { skip: noModel }, withDir((dir) => {
  const out = path.join(dir, 'out');
  mkdirSync(path.join(out, 'face.glb'), { recursive: true }); // a folder where face.glb should go
  const r = cli([FACE, PROFILE, '-o', out, '--format', 'glb']);
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /face\.jpg: cannot write to .*out: a folder of that name is in the way \(EISDIR\)/);
  assert.match(r.stdout, /profile\.jpg: 1 face → 1 files/);
  assert.deepEqual(readdirSync(out).sort(), ['face.glb', 'profile.glb']);
}));

test('full disk (a tmpfs with room for one photo’s files): the run stops with a summary, no partial or temporary file', { skip: noModel || noMounts, timeout: 180_000 }, withDir((dir) => {
  const out = path.join(dir, 'full');
  mkdirSync(out);
  for (const n of ['a', 'b', 'c']) copyFileSync(FACE, path.join(dir, `${n}.jpg`));
  // the files of one photo, measured; the tmpfs takes them once and a half
  const once = path.join(dir, 'once');
  assert.equal(cli([FACE, '-o', once, '--format', 'glb,json', '--quiet']).status, 0);
  const bytes = readdirSync(once).reduce((n, f) => n + statSync(path.join(once, f)).size, 0);
  const script = `mount -t tmpfs -o size=${Math.ceil((bytes * 1.5) / 4096) * 4}k tmpfs ${JSON.stringify(out)} && { ${JSON.stringify(process.execPath)} ${CLI.map((a) => JSON.stringify(a)).join(' ')} "$@"; rc=$?; echo '--- ls'; ls -A ${JSON.stringify(out)}; exit $rc; }`;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', ...['a', 'b', 'c'].map((n) => path.join(dir, `${n}.jpg`)), '-o', out, '--format', 'glb,json'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stdout, /a\.jpg: 1 face → 2 files/);
  assert.doesNotMatch(r.stdout, /b\.jpg|c\.jpg/);
  assert.match(r.stderr, /b\.jpg: cannot write to .*full: the disk is full \(ENOSPC\)/);
  const mb = (bytes / 1048576).toFixed(1).replace('.', '\\.');
  assert.match(r.stderr, new RegExp(`stopped: cannot write to .*full: the disk is full \\(ENOSPC\\)\\. Written: 1 of 3 photos \\(2 files, ${mb} MB\\) in .*full; .*b\\.jpg and 1 more not written\\.`));
  assert.doesNotMatch(r.stderr, /internal error/);
  // whole files only, and no temporary file: the listing taken inside the namespace, after the CLI
  assert.deepEqual(r.stdout.split('--- ls\n')[1].trim().split('\n').sort(), ['a.glb', 'a.json']);
}));

test('read-only folder (read-only bind mount): exit 4 before any work, naming the folder', { skip: noModel || noMounts }, withDir((dir) => {
  const ro = path.join(dir, 'ro');
  mkdirSync(ro);
  const script = `mount --bind ${JSON.stringify(ro)} ${JSON.stringify(ro)} && mount -o remount,bind,ro ${JSON.stringify(ro)} && exec ${JSON.stringify(process.execPath)} ${CLI.map((a) => JSON.stringify(a)).join(' ')} "$@"`;
  for (const target of [ro, path.join(ro, 'new')]) {
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', FACE, '-o', target], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`^voxface: cannot (write to|create the folder) ${target}: the file system is read-only \\(EROFS\\)\\n$`));
    assert.equal(r.stdout, '');
  }
}));

test('--quiet: nothing on stdout or stderr for a good photo', { skip: noModel }, withDir((dir) => {
  const r = cli([FACE, '-o', dir, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
  assert.ok(existsSync(path.join(dir, 'face.glb')));
}));

test('a 24-face photo prints progress lines while it runs, not only at the end', { skip: noModel || (!existsSync(GROUP24) && 'needs ../shared/faces/dlib-faces/bald_guys.jpg'), timeout: 300_000 }, withDir(async (dir) => {
  const lines: { t: number; stream: string; text: string }[] = [];
  const t0 = performance.now();
  const child = spawn(process.execPath, [...CLI, GROUP24, '-o', dir, '--format', 'json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [name, s] of [['stdout', child.stdout], ['stderr', child.stderr]] as const) {
    let buf = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let k = buf.indexOf('\n'); k >= 0; k = buf.indexOf('\n')) {
        lines.push({ t: performance.now() - t0, stream: name, text: buf.slice(0, k) });
        buf = buf.slice(k + 1);
      }
    });
  }
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0, lines.map((l) => l.text).join('\n'));
  const result = lines.find((l) => l.stream === 'stdout' && /bald_guys\.jpg: 24 faces →/.test(l.text));
  const found = lines.find((l) => l.stream === 'stderr' && /bald_guys\.jpg: 24 faces found$/.test(l.text));
  assert.ok(result && found, lines.map((l) => `${l.stream}: ${l.text}`).join('\n'));
  // reconstructing 24 faces takes seconds on any CPU: the count comes at its start, not with the result
  assert.ok(found.t < result.t - 1000, `"24 faces found" at ${found.t.toFixed(0)} ms, the result at ${result.t.toFixed(0)} ms`);
  const steps = lines.filter((l) => /face \d+ of 24 \(/.test(l.text));
  assert.ok(steps.every((l) => l.t < result.t), 'step lines come before the result');
}));

test('progress display: the bar on a terminal (photos, faces, rate, ETA, face i of n), plain lines elsewhere, none when quiet', () => {
  let screen = '';
  const stream = { isTTY: true, columns: 160, write: (s: string) => ((screen += s), true) } as unknown as NodeJS.WriteStream;
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };
  let clock = 0;
  const bar = createProgress(2, { mode: 'bar', io, stream, now: () => clock });
  bar.startPhoto('group.jpg');
  bar.step({ stage: 'detect', done: 0, total: 0 });
  bar.step({ stage: 'face', done: 1, total: 3 });
  clock = 4000;
  bar.donePhoto(3);
  bar.result('group.jpg: 3 faces → 4 files\n');
  bar.stop();
  const plain = screen.replaceAll(String.fromCharCode(27), '').replace(/\[[0-9;?]*[A-Za-z]/g, '');
  assert.match(plain, /voxface .* 0\/2 photos \| 0 faces \| – photos\/s \| ETA .* \| group\.jpg: face 2 of 3/);
  assert.match(plain, /1\/2 photos \| 3 faces \| 0\.25 photos\/s/);
  assert.match(plain, /group\.jpg: 3 faces → 4 files/, 'the result line is printed above the bar');
  assert.deepEqual([out, err], [[], []]);

  clock = 0;
  const lines = createProgress(1, { mode: 'lines', io, now: () => clock, lineEvery: 2 });
  lines.startPhoto('group.jpg');
  for (let k = 0; k < 24; k++) {
    clock = k * 500;
    lines.step({ stage: 'face', done: k, total: 24 });
  }
  lines.donePhoto(24);
  assert.deepEqual(err.slice(0, 3), ['voxface: group.jpg…\n', 'voxface: group.jpg: 24 faces found\n', 'voxface: group.jpg: face 5 of 24 (2.0 s)\n']);
  assert.equal(err.length, 2 + 5, 'one step line every 2 s of the 11.5 s');

  err.length = 0;
  const quiet = createProgress(3, { mode: 'none', io });
  quiet.startPhoto('a.jpg');
  quiet.step({ stage: 'face', done: 0, total: 24 });
  quiet.donePhoto(1);
  quiet.result('a.jpg: 1 face\n');
  assert.deepEqual([out, err], [[], []]);
});
