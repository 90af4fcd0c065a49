/**
 * Runs inside `unshare -m` (as root) for test/write.test.ts: `full` is a 64 KiB tmpfs and `ro` a read-only bind
 * mount, both made by the caller's shell; this tries src/node/write.ts on them and prints one JSON line with what
 * each attempt threw and which files were left.
 *
 * ```sh
 * unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs $D/full && mount --bind $D/ro $D/ro && mount -o remount,bind,ro $D/ro &&
 *   node --import tsx test/_write-run.ts $D'
 * ```
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { prepareOutputFolder, writeFileAtomic, writeFilesAtomic, WriteError } from '../src/node/write.ts';

const dir = process.argv[2];
const full = path.join(dir, 'full');
const ro = path.join(dir, 'ro');

async function attempt(f: () => Promise<void>): Promise<{ ok: true } | { problem: string; errno: string; fatal: boolean; message: string }> {
  try {
    await f();
    return { ok: true };
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    return { problem: e.problem, errno: e.errno, fatal: e.fatal, message: e.message };
  }
}

const out = {
  smallFile: await attempt(() => writeFileAtomic(path.join(full, 'small.bin'), new Uint8Array(8 * 1024).fill(1))),
  bigFile: await attempt(() => writeFileAtomic(path.join(full, 'big.glb'), new Uint8Array(200 * 1024).fill(2))),
  fullAfter: readdirSync(full).sort(),
  photoSet: await attempt(async () => void (await writeFilesAtomic(full, [{ name: 'b.json', bytes: new Uint8Array(1024) }, { name: 'b.glb', bytes: new Uint8Array(200 * 1024) }]))),
  fullAfterSet: readdirSync(full).sort(),
  roNewFolder: await attempt(() => prepareOutputFolder(path.join(ro, 'new'))),
  roFolder: await attempt(() => prepareOutputFolder(ro)),
  roFile: await attempt(() => writeFileAtomic(path.join(ro, 'face.glb'), new Uint8Array(10))),
  roAfter: readdirSync(ro).sort(),
};
console.log(JSON.stringify(out));
