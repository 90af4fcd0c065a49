/**
 * Safe output files (src/node/write.ts): atomic writes leave no partial file, and every failure names the folder
 * and the cause. The full disk (a 64 KiB tmpfs) and the read-only folder (a read-only bind mount; as root `chmod`
 * alone does not stop writes) are made in a private mount namespace with `unshare -m`; those tests skip with a
 * message where mounts are not permitted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTempName, prepareOutputFolder, tempOwner, writeFileAtomic, writeFilesAtomic, WriteError } from '../src/node/write.ts';
import { mountsUnavailable } from './_mounts.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const noMounts = mountsUnavailable();
if (noMounts) console.log(`# mount tests skipped: ${noMounts}`);

const rejectsWith = (p: Promise<unknown>, problem: string, message: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof WriteError, String(e));
    assert.equal(e.problem, problem);
    assert.match(e.message, message);
    return true;
  });

test('writeFileAtomic replaces the file whole and leaves no temporary file; bad targets are named at once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxface-write-'));
  try {
    const out = path.join(dir, 'a', 'b');
    await prepareOutputFolder(out);
    assert.deepEqual(readdirSync(out), [], 'the probe file is gone');
    await writeFileAtomic(path.join(out, 'face.glb'), new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path.join(out, 'face.glb'), new Uint8Array([4, 5]));
    assert.deepEqual([...readFileSync(path.join(out, 'face.glb'))], [4, 5]);
    assert.deepEqual(readdirSync(out), ['face.glb']);
    assert.ok(isTempName(`.face.glb.${process.pid}.0123abcd.tmp`) && !isTempName('face.glb'));

    // a file where the folder should be
    writeFileSync(path.join(dir, 'photo.jpg'), 'x');
    await rejectsWith(prepareOutputFolder(path.join(dir, 'photo.jpg')), 'NOT_A_FOLDER', /photo\.jpg is a file, not a folder/);
    await rejectsWith(prepareOutputFolder(path.join(dir, 'photo.jpg', 'sub')), 'NOT_A_FOLDER', /photo\.jpg is a file, not a folder/);
    // a folder where the file should be: the rename fails, nothing is left behind
    mkdirSync(path.join(out, 'busy.glb'));
    await rejectsWith(writeFileAtomic(path.join(out, 'busy.glb'), new Uint8Array(4)), 'NOT_A_FOLDER', /cannot write to .*b: a folder of that name is in the way \(EISDIR\)/);
    assert.deepEqual(readdirSync(out).sort(), ['busy.glb', 'face.glb']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a writer stopped by its signal (its process is going away) renames nothing and removes its temporary files', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxface-write-stop-'));
  try {
    writeFileSync(path.join(dir, 'a.json'), 'old');
    const files = [
      { name: 'a.json', bytes: new Uint8Array([1]) },
      { name: 'a.glb', bytes: new Uint8Array(300_000).fill(7) },
    ];
    for (const n of [1, 2]) {
      const ac = new AbortController();
      // the first file is under way when the signal fires: stopped before the next file (2) or the renames (1)
      const p = writeFilesAtomic(dir, files.slice(0, n), { signal: ac.signal });
      ac.abort();
      await assert.rejects(p, /the writer is stopping \(nothing renamed\)/);
      assert.deepEqual(readdirSync(dir), ['a.json'], 'no temporary file, nothing renamed');
      assert.equal(readFileSync(path.join(dir, 'a.json'), 'utf8'), 'old');
    }
    assert.equal(await writeFilesAtomic(dir, files, { signal: new AbortController().signal }), 300_001);
    assert.deepEqual(readdirSync(dir).sort(), ['a.glb', 'a.json']);
    assert.equal(tempOwner(`.a.glb.${process.pid}.0123abcd.tmp`), process.pid);
    assert.equal(tempOwner('.a.glb.tmp'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an output folder under /proc is refused at once (a recursive mkdir would spin forever there)', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const t0 = performance.now();
  await rejectsWith(prepareOutputFolder('/proc/x/y'), 'CANNOT_CREATE', /^cannot create the folder \/proc\/x\/y: \/proc does not allow new folders \(ENOENT\)$/);
  assert.ok(performance.now() - t0 < 5000);
});

test('full disk and read-only folder (tmpfs and read-only bind mount under unshare -m)', { skip: noMounts }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxface-mounts-'));
  try {
    mkdirSync(path.join(dir, 'full'));
    mkdirSync(path.join(dir, 'ro'));
    writeFileSync(path.join(dir, 'ro', 'old.glb'), 'old');
    const d = JSON.stringify(dir);
    const script = [
      `mount -t tmpfs -o size=64k tmpfs ${d}/full`,
      `mount --bind ${d}/ro ${d}/ro`,
      `mount -o remount,bind,ro ${d}/ro`,
      `exec ${JSON.stringify(process.execPath)} --import tsx test/_write-run.ts ${d}`,
    ].join(' && ');
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(out.smallFile, { ok: true });
    assert.deepEqual(out.bigFile, { problem: 'DISK_FULL', errno: 'ENOSPC', fatal: true, message: `cannot write to ${dir}/full: the disk is full (ENOSPC)` });
    assert.deepEqual(out.fullAfter, ['small.bin'], 'no partial big.glb and no temporary file on the full disk');
    assert.equal(out.photoSet.problem, 'DISK_FULL');
    assert.deepEqual(out.fullAfterSet, ['small.bin'], 'all or nothing: b.json (which fitted) is not left without b.glb');
    assert.equal(out.roNewFolder.problem, 'READ_ONLY');
    assert.equal(out.roNewFolder.message, `cannot create the folder ${dir}/ro/new: the file system is read-only (EROFS)`);
    assert.equal(out.roFolder.message, `cannot write to ${dir}/ro: the file system is read-only (EROFS)`);
    assert.equal(out.roFile.errno, 'EROFS');
    assert.deepEqual(out.roAfter, ['old.glb']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
