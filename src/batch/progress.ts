/**
 * The batch's progress: on a terminal the CLI's cli-progress bar (src/cli/progress.ts: photos done of the total,
 * faces, rate, ETA; failure lines above it); elsewhere (a log file, CI) one status line every 10 seconds rather than
 * one per photo, which a million-photo batch would turn into a million lines.
 *
 * ```ts
 * const bar = new BatchProgress(120, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), isTTY: true });
 * bar.tick(true, 1);   // a photo done, with one face
 * bar.tick(false);     // one failed
 * bar.stop();
 * ```
 */
import { createProgress } from '../cli/progress.ts';
import type { Progress } from '../cli/progress.ts';

export interface ProgressIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY?: boolean;
}

/** Seconds between status lines when stderr is not a terminal. */
export const STATUS_EVERY_S = 10;

const duration = (s: number) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

export class BatchProgress {
  private readonly bar?: Progress;
  private done = 0;
  private failed = 0;
  private faces = 0;
  private readonly t0 = Date.now();
  private last = Date.now();

  constructor(
    readonly total: number,
    private readonly io: ProgressIO,
  ) {
    if (io.isTTY) this.bar = createProgress(total, { mode: 'bar', io });
  }

  /** One photo finished: done (with its faces) or failed. */
  tick(ok: boolean, faces = 0): void {
    this.done++;
    if (!ok) this.failed++;
    this.faces += faces;
    if (this.bar) {
      this.bar.donePhoto(faces);
      return;
    }
    const now = Date.now();
    if (now - this.last < STATUS_EVERY_S * 1000 && this.done < this.total) return;
    this.last = now;
    const s = (now - this.t0) / 1000;
    const rate = s > 0 ? this.done / s : 0;
    const eta = rate > 0 ? `, ETA ${duration((this.total - this.done) / rate)}` : '';
    this.io.stderr(`voxface: ${this.done}/${this.total} photos, ${this.faces} faces, ${this.failed} failed, ${rate.toFixed(2)} photos/s${eta}\n`);
  }

  /** A failure line: above the bar on a terminal, else on stderr. */
  log(line: string): void {
    if (this.bar) this.bar.error(line);
    else this.io.stderr(line);
  }

  stop(): void {
    this.bar?.stop();
  }
}
