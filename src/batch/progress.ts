/**
 * The batch progress bar (cli-progress): photos done of the total, the rate, the ETA and the failures. On a
 * terminal it redraws in place on stderr; otherwise (a log file, CI) it writes one line every 10 seconds.
 *
 * ```ts
 * const bar = new BatchProgress(120, { stderr: (s) => process.stderr.write(s), isTTY: process.stderr.isTTY });
 * bar.tick(true);     // one photo done
 * bar.tick(false);    // one failed
 * bar.stop();
 * ```
 */
import { Presets, SingleBar } from 'cli-progress';

export interface ProgressIO {
  stderr: (s: string) => void;
  isTTY?: boolean;
}

export class BatchProgress {
  private readonly bar: SingleBar;
  private failed = 0;
  private count = 0;
  private readonly t0 = Date.now();

  constructor(
    readonly total: number,
    io: ProgressIO,
  ) {
    const stream = io.isTTY ? process.stderr : ({ isTTY: false, write: (s: string) => (io.stderr(s), true) } as unknown as NodeJS.WritableStream);
    this.bar = new SingleBar(
      {
        format: 'voxface {bar} {value}/{total} photos | {rate} photos/s | ETA {eta_formatted} | {failed} failed',
        stream,
        noTTYOutput: !io.isTTY,
        notTTYSchedule: 10_000,
        etaBuffer: 64,
        hideCursor: io.isTTY ? true : null,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    this.bar.start(total, 0, { rate: '–', failed: 0 });
  }

  /** One photo finished (ok or failed). */
  tick(ok: boolean): void {
    this.count++;
    if (!ok) this.failed++;
    const s = (Date.now() - this.t0) / 1000;
    this.bar.update(this.count, { rate: s > 0 ? (this.count / s).toFixed(2) : '–', failed: this.failed });
  }

  /** Writes a message above the bar (a failure line). */
  log(io: ProgressIO, s: string): void {
    if (io.isTTY) {
      process.stderr.write('\r\x1b[K' + s);
      this.bar.render();
    } else {
      io.stderr(s);
    }
  }

  stop(): void {
    this.bar.stop();
  }
}
