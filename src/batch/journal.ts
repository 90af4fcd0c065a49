/**
 * The batch journal: one JSON object per line in `<out>/voxface-journal.jsonl`, appended as inputs finish. The
 * last record of an input decides its state, so a run that is killed and started again skips what is done.
 *
 * ```ts
 * const journal = await Journal.open('out/');
 * journal.state(id);                  // undefined (never seen), or { state: 'done' | 'failed', files } of the last record
 * await journal.append({ type: 'item', id, input: 'photos/a.jpg', name: 'a', state: 'done', faces: 1,
 *                        files: ['a.glb', 'a.json'], ms: 310, worker: 'host:123#0', attempts: 1 });
 * await journal.close();
 * ```
 * Records:
 * - `{"type":"run", "at", "mode":"local"|"queue", "optionsHash", "inputs", "pending", ...}` at the start of a run;
 * - `{"type":"item", "id", "input", "name", "state":"done", "faces", "files", "ms", "worker", "attempts", "at"}`;
 * - `{"type":"item", "id", "input", "name", "state":"failed", "code", "reason", "attempts", "at"}`;
 * - `{"type":"summary", "at", "done", "failed": {code: count}, "skipped", "failedBefore", "faces", "ms", "interrupted"}` at
 *   the end.
 *
 * One process writes a journal (the batch command or the queue producer; workers never do). A line cut short by a
 * crash is skipped when the journal is read, and the next record starts on a fresh line.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** The journal's file name inside the output folder. */
export const JOURNAL_NAME = 'voxface-journal.jsonl';

export interface RunRecord {
  type: 'run';
  at?: string;
  mode: 'local' | 'queue';
  optionsHash: string;
  inputs: number;
  pending: number;
  jobs?: number;
  threads?: number;
  queue?: string;
}

export interface ItemRecord {
  type: 'item';
  at?: string;
  /** Input and options digest: the same input with the same options has the same id (and BullMQ job id). */
  id: string;
  /** The input as given (path or URL). */
  input: string;
  /** Output base, relative to the output folder, '/'-separated (files are NAME.glb, NAME.json, ...). */
  name: string;
  state: 'done' | 'failed';
  faces?: number;
  /** Files written, relative to the output folder. */
  files?: string[];
  ms?: number;
  worker?: string;
  attempts?: number;
  /** Why it failed: a stable code (NO_FACE, NOT_AN_IMAGE, FETCH_FAILED, WORKER_DIED, ...) and one line. */
  code?: string;
  reason?: string;
}

export interface SummaryRecord {
  type: 'summary';
  at?: string;
  done: number;
  failed: Record<string, number>;
  /** Inputs not run again: done before (or failed before, without --retry-failed). */
  skipped: number;
  /** Of `skipped`: the ones whose last record is 'failed'. */
  failedBefore?: number;
  faces: number;
  /** Wall time of the run, and of loading the model apart (local mode). */
  ms: number;
  loadMs?: number;
  /** Stopped before the end: by a signal, or by `stopped`. */
  interrupted: boolean;
  /** Why the run stopped by itself (a full disk): the same command goes on once that is fixed. */
  stopped?: string;
}

export type JournalRecord = RunRecord | ItemRecord | SummaryRecord;

/** What the journal keeps in memory of an input's last record (a million inputs fit). */
export type ItemState = Pick<ItemRecord, 'state' | 'files'>;

export class Journal {
  private readonly items = new Map<string, ItemState>();
  private tail: Promise<unknown> = Promise.resolve();
  private constructor(
    readonly file: string,
    private fh: FileHandle,
    /** Lines that could not be read (a line cut short by a crash). */
    readonly badLines: number,
  ) {}

  /** Opens (creating) the journal of an output folder and reads the records already there. */
  static async open(outDir: string): Promise<Journal> {
    await mkdir(outDir, { recursive: true });
    const file = path.join(outDir, JOURNAL_NAME);
    const items = new Map<string, ItemState>();
    let bad = 0;
    let size = 0;
    try {
      size = (await stat(file)).size;
    } catch {
      size = 0;
    }
    if (size > 0) {
      const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line.trim()) continue;
        let rec: JournalRecord;
        try {
          rec = JSON.parse(line) as JournalRecord;
        } catch {
          bad++;
          continue;
        }
        if (rec && rec.type === 'item' && typeof rec.id === 'string') items.set(rec.id, { state: rec.state, files: rec.files });
      }
    }
    const fh = await open(file, 'a+');
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await fh.write('\n');
    }
    const j = new Journal(file, fh, bad);
    for (const [k, v] of items) j.items.set(k, v);
    return j;
  }

  /** The state and files of an input's last record (undefined when the journal has none). */
  state(id: string): ItemState | undefined {
    return this.items.get(id);
  }

  /** Appends one record (one line, one write) with its time. */
  async append(rec: JournalRecord): Promise<void> {
    const full = { ...rec, at: rec.at ?? new Date().toISOString() };
    if (full.type === 'item') this.items.set(full.id, { state: full.state, files: full.files });
    const line = JSON.stringify(full) + '\n';
    // one write at a time, in call order (appends from concurrent callers never interleave)
    const done = this.tail.then(() => this.fh.write(line));
    this.tail = done.catch(() => undefined);
    await done;
  }

  /** Flushes the journal to the disk and closes it. */
  async close(): Promise<void> {
    await this.tail;
    await this.fh.sync().catch(() => undefined);
    await this.fh.close();
  }
}
