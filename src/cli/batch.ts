/**
 * The `voxface batch` and `voxface worker` subcommands (the first argument only; a file named `batch` is given
 * as `./batch`).
 *
 * ```sh
 * voxface batch photos/ -o out/ --jobs 2                       # this machine: 2 worker processes, resumable
 * voxface batch /shared/photos/ -o /shared/out/ --queue redis://10.0.0.5:6379   # enqueue, wait, journal
 * voxface worker --queue redis://10.0.0.5:6379 --jobs 4        # on each machine, until Ctrl-C
 * ```
 * The pipeline and export options are the options table's (src/options.ts), the batch's own rows are below.
 */
import { BATCH_DEFAULTS, BatchModelError, runBatch } from '../batch/run.ts';
import type { BatchIO, BatchSummary } from '../batch/run.ts';
import { enqueueBatch, QUEUE_DEFAULTS, QueueUnreachableError, redisOptions, runQueueWorker } from '../batch/queue.ts';
import { jobSettings } from '../batch/plan.ts';
import { commandLineHelp, option, optionName, optionsOf } from '../options.ts';
import type { OptionKey } from '../options.ts';
import { WriteError } from '../node/write.ts';
import { parseCommandLine } from './args.ts';

/** Exit codes of the subcommands (0–3 as for `voxface`). */
export const BATCH_EXIT = { OK: 0, FAILED: 1, USAGE: 2, MODEL: 3, WRITE: 4, QUEUE: 5, INTERRUPTED: 130 } as const;

const queueRow = (help: string) => option.optPath({ default: undefined, metavar: 'redis://host:port', help });
const jobsRow = option.optInt({ min: 1, max: 256, default: undefined, defaultText: "the machine's cores, at most one per GiB of memory", help: 'worker processes, each with its own pipeline' });
const common = {
  quiet: option.boolean({ default: false, switch: true, short: 'q', help: 'no progress bar and no summary, only errors' }),
  help: option.boolean({ default: false, switch: true, short: 'h', help: 'this help' }),
};

/** `voxface batch`'s own options (the pipeline's come from the options table). */
export const BATCH_OPTIONS = {
  out: option.path({ default: 'out', short: 'o', metavar: 'dir', help: 'output folder; the journal voxface-journal.jsonl is kept in it' }),
  jobs: jobsRow,
  retryFailed: option.boolean({ default: false, switch: true, help: 'run again the inputs that failed before (otherwise skipped)' }),
  attempts: option.int({ min: 1, max: 100, default: BATCH_DEFAULTS.attempts, help: 'tries of a photo whose failure may pass (a full disk, a dead worker, a busy server)' }),
  backoffMs: option.int({ min: 0, max: 3_600_000, default: BATCH_DEFAULTS.backoffMs, metavar: 'ms', help: 'first retry delay, doubled at each try' }),
  queue: queueRow('enqueue the photos as BullMQ jobs on this Redis, wait for `voxface worker`s, keep the journal'),
  queueName: option.path({ default: QUEUE_DEFAULTS.name, metavar: 'name', help: 'the BullMQ queue' }),
  keep: option.int({ min: 1, max: 10 * 365 * 86400, default: QUEUE_DEFAULTS.keepS, metavar: 's', help: 'seconds Redis keeps finished jobs (enqueued again meanwhile: not redone)' }),
  ...common,
};

/** `voxface worker`'s own options; of the table only --model and --threads apply (the rest travel in the jobs). */
export const WORKER_OPTIONS = {
  queue: queueRow('the Redis of the queue (required)'),
  queueName: option.path({ default: QUEUE_DEFAULTS.name, metavar: 'name', help: 'the BullMQ queue' }),
  jobs: jobsRow,
  lockMs: option.int({ min: 100, max: 86_400_000, default: QUEUE_DEFAULTS.lockMs, metavar: 'ms', help: "a job's lock; a dead worker's job is taken over after it runs out" }),
  stallMs: option.int({ min: 100, max: 86_400_000, default: QUEUE_DEFAULTS.stallMs, metavar: 'ms', help: 'how often to look for jobs of dead workers' }),
  maxStalls: option.int({ min: 0, max: 1000, default: QUEUE_DEFAULTS.maxStalls, help: 'takeovers of a job before it fails with STALLED' }),
  ...common,
};

const WORKER_TABLE_KEYS: readonly OptionKey[] = ['model', 'threads'];

/** The CLI's option help with only the table rows a worker takes (--model, --threads) and its own. */
function workerOptionsHelp(): string {
  const drop = new Set<string>();
  for (const [key, spec] of optionsOf('cli')) {
    if (WORKER_TABLE_KEYS.includes(key)) continue;
    drop.add(optionName(key, 'cli'));
    for (const s of spec.shortcuts ?? []) drop.add(`--${s.flag}`);
  }
  const out: string[] = [];
  let keep = true;
  for (const line of commandLineHelp('cli', WORKER_OPTIONS).split('\n')) {
    const flag = /^ {2}(?:-\w, | {4})(--[\w-]+)/.exec(line)?.[1];
    if (flag) keep = !drop.has(flag); // a new entry; lines without a flag continue the one before
    if (keep) out.push(line);
  }
  return out.join('\n');
}

export const BATCH_HELP = `voxface batch — many photos, resumable, on this machine or on many through a queue

Usage: voxface batch <image|folder|http(s) URL>... -o <dir> [options]

Options:
${commandLineHelp('cli', BATCH_OPTIONS)}

--threads counts per worker process (default: the cores / --jobs, at least 1).

Every output is written atomically (never half a file); the workers die with this command (killed alone, they
rename nothing and remove their temporary files), and a run removes the temporary files dead processes left. The journal (one JSON line per input) records each input's
state; running the same command again skips what is done, --retry-failed retries what failed. Files in a folder keep
their path inside it (photos/a/b.jpg → out/a/b.glb). With --queue the inputs and the output folder must be paths
every worker machine sees (or URLs for inputs); start workers with 'voxface worker --queue …'.

Exit codes: 0 every input done; 1 some inputs failed (each named on stderr and in the journal); 2 usage error;
3 the model or the detectors could not be loaded; 4 the output folder cannot be written (or the disk filled up: the
batch stops, the same command goes on later); 5 the queue's Redis cannot be reached; 130 interrupted (run the same
command again to go on).`;

export const WORKER_HELP = `voxface worker — runs the photos enqueued by 'voxface batch --queue' until stopped (Ctrl-C, SIGTERM)

Usage: voxface worker --queue redis://host:port [options]

Options:
${workerOptionsHelp()}

--threads counts per worker process (default: the cores / --jobs). Every worker must have the producer's model
(jobs for another model or shape prior fail with MODEL_MISMATCH). A job of a worker that dies is taken over by another after
--lock-ms; stopping a worker lets its running photos finish first.

Exit codes: 0 stopped; 2 usage error; 3 the model could not be loaded; 5 Redis cannot be reached.`;

interface IO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY?: boolean;
}

/** Ctrl-C / SIGTERM → an AbortSignal (a second Ctrl-C exits at once). */
function interrupts(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(BATCH_EXIT.INTERRUPTED);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function usage(io: IO, cmd: string, e: unknown): number {
  io.stderr(`voxface ${cmd}: ${(e as Error).message}\nTry 'voxface ${cmd} --help'.\n`);
  return BATCH_EXIT.USAGE;
}

function exitOf(s: BatchSummary): number {
  if (s.stopped) return BATCH_EXIT.WRITE;
  if (s.interrupted) return BATCH_EXIT.INTERRUPTED;
  // inputs that failed before and were skipped are not done either
  return Object.keys(s.failed).length > 0 || (s.failedBefore ?? 0) > 0 ? BATCH_EXIT.FAILED : BATCH_EXIT.OK;
}

/** `voxface batch …` (argv without 'batch'); resolves to the exit code. */
export async function batchMain(argv: string[], io: IO, signal?: AbortSignal): Promise<number> {
  let cl;
  try {
    cl = parseCommandLine(argv, 'cli', BATCH_OPTIONS);
    if (cl.local.help) {
      io.stdout(BATCH_HELP + '\n');
      return BATCH_EXIT.OK;
    }
    if (cl.positionals.length === 0) throw new Error('no inputs given (images, folders or http(s) URLs)');
    if (cl.local.queue !== undefined) redisOptions(cl.local.queue);
  } catch (e) {
    return usage(io, 'batch', e);
  }
  const { options, local, positionals } = cl;
  const sig = signal ? { signal, dispose: () => undefined } : interrupts();
  const bio: BatchIO = { ...io, quiet: local.quiet, signal: sig.signal };
  const base = {
    out: local.out,
    settings: jobSettings(options),
    jobs: local.jobs,
    threads: options.threads,
    model: options.model,
    retryFailed: local.retryFailed,
    attempts: local.attempts,
    backoffMs: local.backoffMs,
  };
  try {
    const summary = local.queue
      ? await enqueueBatch(positionals, { ...base, queue: { url: local.queue, name: local.queueName, keepS: local.keep } }, bio)
      : await runBatch(positionals, base, bio);
    return exitOf(summary);
  } catch (e) {
    if (e instanceof BatchModelError) {
      io.stderr(`voxface batch: cannot load the model: ${e.message}\n`);
      return BATCH_EXIT.MODEL;
    }
    if (e instanceof QueueUnreachableError) {
      io.stderr(`voxface batch: ${e.message}\n`);
      return BATCH_EXIT.QUEUE;
    }
    if (e instanceof WriteError) {
      io.stderr(`voxface batch: ${e.message}\n`);
      return BATCH_EXIT.WRITE;
    }
    throw e;
  } finally {
    sig.dispose();
  }
}

/** `voxface worker …` (argv without 'worker'); resolves to the exit code when stopped. */
export async function workerMain(argv: string[], io: IO, signal?: AbortSignal): Promise<number> {
  let cl;
  try {
    cl = parseCommandLine(argv, 'cli', WORKER_OPTIONS);
    if (cl.local.help) {
      io.stdout(WORKER_HELP + '\n');
      return BATCH_EXIT.OK;
    }
    if (cl.positionals.length > 0) throw new Error(`a worker takes no inputs (they come from the queue), got "${cl.positionals[0]}"`);
    const other = Object.keys(cl.given).find((k) => !WORKER_TABLE_KEYS.includes(k as OptionKey));
    if (other) throw new Error(`${optionName(other, 'cli')} is an option of 'voxface batch' (the producer's options travel with each job)`);
    if (cl.local.queue === undefined) throw new Error('--queue redis://host:port is required');
    redisOptions(cl.local.queue);
  } catch (e) {
    return usage(io, 'worker', e);
  }
  const { options, local } = cl;
  const sig = signal ? { signal, dispose: () => undefined } : interrupts();
  try {
    await runQueueWorker(
      {
        queue: { url: local.queue!, name: local.queueName, lockMs: local.lockMs, stallMs: local.stallMs, maxStalls: local.maxStalls },
        jobs: local.jobs,
        threads: options.threads,
        model: options.model,
      },
      { ...io, quiet: local.quiet, signal: sig.signal },
    );
    return BATCH_EXIT.OK;
  } catch (e) {
    if (e instanceof BatchModelError) {
      io.stderr(`voxface worker: cannot load the model: ${e.message}\n`);
      return BATCH_EXIT.MODEL;
    }
    if (e instanceof QueueUnreachableError) {
      io.stderr(`voxface worker: ${e.message}\n`);
      return BATCH_EXIT.QUEUE;
    }
    throw e;
  } finally {
    sig.dispose();
  }
}
