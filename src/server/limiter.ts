/**
 * A concurrency limit with a small FIFO queue: at most `concurrency` jobs run at once, at most `queue`
 * wait; past that `run` refuses at once (the server answers 503 + Retry-After).
 *
 * ```ts
 * const limiter = new Limiter({ concurrency: 2, queue: 8 });
 * const result = await limiter.run(() => work(), abortSignal); // throws BusyError when full
 * ```
 */

/** Thrown when every slot and queue place is taken; `retryAfterS` is a guess of when to come back. */
export class BusyError extends Error {
  constructor(public readonly retryAfterS: number) {
    super('the server is busy');
    this.name = 'BusyError';
  }
}

export interface LimiterOptions {
  /** Jobs running at once (default 2). */
  concurrency?: number;
  /** Jobs waiting for a slot (default 8; 0 = refuse when all slots are taken). */
  queue?: number;
}

interface Waiter {
  start: () => void;
}

export class Limiter {
  readonly concurrency: number;
  readonly queueSize: number;
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Exponential moving average of job durations in ms (for Retry-After). */
  private avgMs = 5000;

  constructor(options: LimiterOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 2));
    this.queueSize = Math.max(0, Math.floor(options.queue ?? 8));
  }

  /** Jobs running and waiting now. */
  get stats(): { running: number; queued: number; concurrency: number; queue: number; avgMs: number } {
    return { running: this.running, queued: this.waiting.length, concurrency: this.concurrency, queue: this.queueSize, avgMs: Math.round(this.avgMs) };
  }

  /** Seconds until a slot is likely free for a newcomer. */
  retryAfter(): number {
    const ahead = this.running + this.waiting.length + 1;
    return Math.max(1, Math.ceil((this.avgMs * ahead) / this.concurrency / 1000));
  }

  /**
   * Runs `job` when a slot is free. Rejects with BusyError when the queue is full, or with the signal's
   * reason when it aborts while the job still waits (a job that has started always runs to its end and
   * keeps its slot until then, so the limit stays true even when its caller gave up).
   */
  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running >= this.concurrency && this.waiting.length >= this.queueSize) {
      return Promise.reject(new BusyError(this.retryAfter()));
    }
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener('abort', onAbort);
        this.running++;
        const t0 = performance.now();
        job()
          .then(resolve, reject)
          .finally(() => {
            this.avgMs = 0.7 * this.avgMs + 0.3 * (performance.now() - t0);
            this.running--;
            this.next();
          });
      };
      const waiter: Waiter = { start };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          reject(signal!.reason);
        }
      };
      if (this.running < this.concurrency) start();
      else {
        this.waiting.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  private next(): void {
    if (this.running < this.concurrency) this.waiting.shift()?.start();
  }
}
