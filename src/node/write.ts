/**
 * Safe output files for the Node front-ends (CLI, batch): the output folder is checked (and created) before any
 * work, each file is written atomically (a hidden temporary file in the same folder, flushed, then renamed over the
 * target; removed when anything fails), and every file-system failure becomes a `WriteError` whose message names
 * the folder and the cause in words.
 *
 * ```ts
 * import { prepareOutputFolder, writeFileAtomic, WriteError } from 'voxface/dist/node/write.js';
 * await prepareOutputFolder('out');                    // creates it; WriteError if it cannot be written
 * try {
 *   await writeFileAtomic('out/face.glb', bytes);       // out/.face.glb.<pid>.<random>.tmp → out/face.glb
 * } catch (e) {
 *   if (e instanceof WriteError && e.fatal) stop();     // the disk is full: later files would fail too
 * }
 * ```
 * A process killed between the write and the rename leaves its hidden temporary file behind, never a partial file
 * under the output's own name; `isTempName()` recognises them, `removeStaleTemps()` removes the ones whose process
 * (the pid in the name) is gone, and `removeLiveTemps()` removes this process's own before it exits. A writer given
 * an AbortSignal stops before its renames once the signal fires (its temporary files removed, nothing renamed).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { VoxfaceError } from '../types.ts';

/** Why a file could not be written. */
export type WriteProblem = 'DISK_FULL' | 'READ_ONLY' | 'NO_PERMISSION' | 'NOT_A_FOLDER' | 'CANNOT_CREATE' | 'IO';

/** What each errno means for the user, and whether it stops a whole run (every later file would fail too). */
const CAUSES: Record<string, { problem: WriteProblem; words: string; fatal: boolean }> = {
  ENOSPC: { problem: 'DISK_FULL', words: 'the disk is full', fatal: true },
  EDQUOT: { problem: 'DISK_FULL', words: 'the disk quota is used up', fatal: true },
  EFBIG: { problem: 'DISK_FULL', words: 'the file is larger than this file system allows', fatal: false },
  EROFS: { problem: 'READ_ONLY', words: 'the file system is read-only', fatal: false },
  EACCES: { problem: 'NO_PERMISSION', words: 'permission denied', fatal: false },
  EPERM: { problem: 'NO_PERMISSION', words: 'the operation is not permitted', fatal: false },
  ENOTDIR: { problem: 'NOT_A_FOLDER', words: 'a part of the path is a file, not a folder', fatal: false },
  EEXIST: { problem: 'NOT_A_FOLDER', words: 'a file of that name is in the way', fatal: false },
  EISDIR: { problem: 'NOT_A_FOLDER', words: 'a folder of that name is in the way', fatal: false },
  ENOENT: { problem: 'CANNOT_CREATE', words: 'the folder does not exist or takes no new files', fatal: false },
  ENAMETOOLONG: { problem: 'CANNOT_CREATE', words: 'the name is too long', fatal: false },
  EMFILE: { problem: 'IO', words: 'too many open files', fatal: false },
  EIO: { problem: 'IO', words: 'an input/output error of the disk', fatal: false },
};

/** A file or folder that cannot be written. `code` is 'IO_ERROR'; `problem`, `errno` and `folder` say more. */
export class WriteError extends VoxfaceError {
  constructor(
    /** The folder the output was going to. */
    public readonly folder: string,
    public readonly problem: WriteProblem,
    /** The system error code (ENOSPC, EROFS, …), or '' when the check itself found the problem. */
    public readonly errno: string,
    /** True when the run should stop: the same cause would fail every later file (a full disk). */
    public readonly fatal: boolean,
    message: string,
  ) {
    super('IO_ERROR', message);
    this.name = 'WriteError';
  }
}

/** The WriteError for a file-system error met while writing into `folder`. */
export function writeError(e: unknown, folder: string): WriteError {
  if (e instanceof WriteError) return e;
  const errno = (e as NodeJS.ErrnoException)?.code ?? '';
  const cause = CAUSES[errno];
  const words = cause?.words ?? ((e as Error)?.message ?? String(e)).split('\n')[0];
  return new WriteError(folder, cause?.problem ?? 'IO', errno, cause?.fatal ?? false, `cannot write to ${folder}: ${words}${errno ? ` (${errno})` : ''}`);
}

const TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** True for the names of writeFileAtomic's temporary files (`.NAME.<pid>.<8 hex>.tmp`). */
export function isTempName(name: string): boolean {
  return TEMP.test(name);
}

/** The pid of the process that made a temporary file (from its name), or undefined for any other name. */
export function tempOwner(name: string): number | undefined {
  const m = TEMP.exec(name);
  return m ? Number(m[1]) : undefined;
}

function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** This process's temporary files not yet renamed or removed (what `removeLiveTemps` removes). */
const liveTemps = new Set<string>();

/**
 * Removes, synchronously, every temporary file this process has open or not yet renamed: for a process that must
 * exit now (its parent died) from its 'exit' handler. Returns how many it removed.
 */
export function removeLiveTemps(): number {
  let n = 0;
  for (const tmp of liveTemps) {
    try {
      unlinkSync(tmp);
      n++;
    } catch {
      // already renamed or removed
    }
  }
  liveTemps.clear();
  return n;
}

/** True while process `pid` exists on this machine and is not a zombie (which writes nothing any more). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists, owned by someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S …": the state follows the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(0) said it exists
  }
}

/**
 * Removes the temporary files that dead writers left in `folder` and its subfolders: names of writeFileAtomic's
 * pattern (`.NAME.<pid>.<8 hex>.tmp`) whose pid is no running process on this machine. Every other file, and the
 * temporary files of live processes, stay. Only for folders no other machine writes into (the pid is this
 * machine's). Returns the paths removed; a folder that cannot be read is skipped.
 */
export async function removeStaleTemps(folder: string, alive: (pid: number) => boolean = processAlive): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(folder, { recursive: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const rel of entries) {
    const pid = tempOwner(path.basename(rel));
    if (pid === undefined || pid === process.pid || alive(pid)) continue;
    const file = path.join(folder, rel);
    try {
      if (!(await stat(file)).isFile()) continue;
      await unlink(file);
      removed.push(file);
    } catch {
      // gone meanwhile, or not ours to remove: left as it is
    }
  }
  return removed;
}

/**
 * Makes sure `folder` exists and can take files: creates the missing folders one level at a time (never a
 * recursive mkdir, which loops forever where the system refuses new folders, as under /proc), then creates and
 * removes an empty temporary file in it. Rejects with a WriteError naming the folder and the cause.
 */
export async function prepareOutputFolder(folder: string): Promise<void> {
  const missing: string[] = [];
  let p = path.resolve(folder);
  for (;;) {
    try {
      const s = await stat(p);
      if (!s.isDirectory()) throw new WriteError(folder, 'NOT_A_FOLDER', '', true, `cannot write to ${folder}: ${p} is a file, not a folder`);
      break;
    } catch (e) {
      if (e instanceof WriteError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw writeError(e, folder);
      const parent = path.dirname(p);
      if (parent === p) throw writeError(e, folder);
      missing.push(p);
      p = parent;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(dir).catch(() => undefined))?.isDirectory()) continue;
      const err = writeError(e, folder);
      const parent = path.dirname(dir);
      const where = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${parent} does not allow new folders (ENOENT)` : err.message.slice(`cannot write to ${folder}: `.length);
      throw new WriteError(folder, err.problem, err.errno, true, `cannot create the folder ${folder}: ${where}`);
    }
  }
  const probe = tempPath(path.join(folder, 'probe'));
  liveTemps.add(probe);
  try {
    await (await open(probe, 'wx')).close();
  } catch (e) {
    liveTemps.delete(probe);
    const err = writeError(e, folder);
    throw new WriteError(folder, err.problem, err.errno, true, err.message);
  }
  await unlink(probe).catch(() => undefined);
  liveTemps.delete(probe);
}

/**
 * Writes `bytes` to `file` atomically: a hidden temporary file in the same folder, flushed to the disk, then
 * renamed over the target, so a reader sees the old file or the whole new one, never a part. On any failure the
 * temporary file is removed and a WriteError is thrown.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  await writeFilesAtomic(path.dirname(file), [{ name: path.basename(file), bytes }]);
}

/**
 * Writes a set of files into `folder` (one photo's outputs) all or nothing: every file goes to its temporary file
 * first, and only when all are on the disk are they renamed into place. When any write fails, every temporary
 * file is removed, the files already there stay as they were, and a WriteError is thrown. Returns the bytes written.
 *
 *   await writeFilesAtomic('out', [{ name: 'face.glb', bytes: glb }, { name: 'face.json', bytes: json }]);
 */
export async function writeFilesAtomic(
  folder: string,
  files: readonly { name: string; bytes: Uint8Array }[],
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const temps: { tmp: string; file: string }[] = [];
  let bytes = 0;
  const { signal } = options;
  const stopped = () => new WriteError(folder, 'IO', '', false, `cannot write to ${folder}: the writer is stopping (nothing renamed)`);
  try {
    for (const f of files) {
      if (signal?.aborted) throw stopped();
      const file = path.join(folder, f.name);
      const tmp = tempPath(file);
      liveTemps.add(tmp);
      const fh = await open(tmp, 'wx').catch((e: unknown) => {
        liveTemps.delete(tmp);
        throw e;
      });
      temps.push({ tmp, file });
      try {
        await fh.writeFile(f.bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      bytes += f.bytes.byteLength;
    }
    // the last chance to stop: once the renames start they all run (a photo's files are all there or none)
    if (signal?.aborted) throw stopped();
    while (temps.length) {
      const { tmp, file } = temps[0];
      await rename(tmp, file);
      liveTemps.delete(tmp);
      temps.shift();
    }
    return bytes;
  } catch (e) {
    throw writeError(e, folder);
  } finally {
    for (const { tmp } of temps) {
      await unlink(tmp).catch(() => undefined);
      liveTemps.delete(tmp);
    }
  }
}
