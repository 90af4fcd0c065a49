/**
 * Atomic file writes for batch outputs: the bytes go to a hidden temporary file beside the target, are flushed to
 * the disk, and the temporary file is renamed over the target. A reader (or a resumed batch) sees the old file or
 * the whole new one, never a part, even when the process is killed mid-write.
 *
 * ```ts
 * import { writeFileAtomic } from './atomic.ts';
 * await writeFileAtomic('out/face.glb', bytes);   // out/.face.glb.<pid>.<random>.tmp → out/face.glb
 * ```
 * A process killed between the write and the rename leaves its hidden `.NAME.<pid>.<random>.tmp` file behind
 * (never a file under the output's own name); `isTempName()` recognises them.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

const TEMP = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

/** True for the names of writeFileAtomic's temporary files. */
export function isTempName(name: string): boolean {
  return TEMP.test(name);
}

/** Writes `bytes` to `file` atomically (same folder temporary file, fsync, rename). Rejects with the fs error. */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    renamed = true;
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
}
