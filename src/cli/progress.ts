/**
 * The CLI's progress display. On a terminal: a cli-progress bar on stderr with photos done of the total, faces
 * so far, the rate, the ETA and the step within the current photo ("group.jpg: face 7 of 24"); the per-photo
 * result lines print above it. Elsewhere (a pipe, a log file, CI): plain lines on stderr, one when a photo starts,
 * and within a big group photo one every few seconds. `quiet`: nothing (errors are the caller's).
 *
 * ```ts
 * const progress = createProgress(files.length, { mode: 'bar', io });
 * progress.startPhoto('group.jpg');
 * await vox.reconstructFile('group.jpg', { onProgress: (p) => progress.step(p) });
 * progress.donePhoto(24);
 * progress.stop();
 * ```
 */
import { MultiBar, Presets } from 'cli-progress';
import type { SingleBar } from 'cli-progress';
import type { ReconstructProgress } from '../pipeline.ts';

export type ProgressMode = 'bar' | 'lines' | 'none';

export interface ProgressIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface Progress {
  /** A photo starts. */
  startPhoto(name: string): void;
  /** Where the pipeline is within the current photo. */
  step(p: ReconstructProgress): void;
  /** The current photo is done (or failed: `faces` 0). */
  donePhoto(faces: number): void;
  /** A result line for stdout, printed above the bar on a terminal. */
  result(line: string): void;
  /** An error line for stderr, printed above the bar on a terminal. */
  error(line: string): void;
  /** Ends the display (the bar stays on screen at its last state). */
  stop(): void;
}

export interface ProgressSettings {
  mode: ProgressMode;
  io: ProgressIO;
  /** The terminal stream of the bar (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** On a terminal: print result lines above the bar (stdout is the same terminal) rather than to stdout (default true). */
  resultsAboveBar?: boolean;
  /** Seconds between plain step lines within one photo (default 2). */
  lineEvery?: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

const seconds = (ms: number) => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

/** The progress display for `total` photos. */
export function createProgress(total: number, settings: ProgressSettings): Progress {
  const { mode, io } = settings;
  const now = settings.now ?? (() => Date.now());
  const t0 = now();
  let done = 0;
  let faces = 0;
  let name = '';
  let photoStart = t0;
  let lastLine = 0;
  const lineEvery = (settings.lineEvery ?? 2) * 1000;
  const counter = () => (total > 1 ? `[${done + 1}/${total}] ` : '');
  const rate = () => {
    const s = (now() - t0) / 1000;
    return done > 0 && s > 0 ? (done / s).toFixed(2) : '–';
  };

  if (mode === 'none') {
    return { startPhoto() {}, step() {}, donePhoto() {}, result() {}, error: (l) => io.stderr(l), stop() {} };
  }

  if (mode === 'lines') {
    return {
      startPhoto(n) {
        name = n;
        photoStart = lastLine = now();
        io.stderr(`voxface: ${counter()}${name}…\n`);
      },
      step(p) {
        const t = now();
        if (p.stage !== 'face' || p.total < 2 || p.done === p.total) return;
        // the first face of a group photo, then one line every few seconds
        if (p.done === 0) io.stderr(`voxface: ${counter()}${name}: ${p.total} faces found\n`);
        else if (t - lastLine >= lineEvery) io.stderr(`voxface: ${counter()}${name}: face ${p.done + 1} of ${p.total} (${seconds(t - photoStart)})\n`);
        else return;
        lastLine = t;
      },
      donePhoto(n) {
        faces += n;
        done++;
        if (total > 1 && done < total) {
          const perPhoto = (now() - t0) / done;
          io.stderr(`voxface: ${done}/${total} photos, ${faces} face${faces === 1 ? '' : 's'}, ${rate()} photos/s, ETA ${seconds(perPhoto * (total - done))}\n`);
        }
      },
      result: (l) => io.stdout(l),
      error: (l) => io.stderr(l),
      stop() {},
    };
  }

  // a terminal: the bar redraws in place on stderr
  const stream = settings.stream ?? process.stderr;
  const bars = new MultiBar(
    {
      format: 'voxface {bar} {photos}/{total} photos | {faces} faces | {rate} photos/s | ETA {eta_formatted} | {step}',
      stream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 32,
      fps: 5,
      autopadding: true,
    },
    Presets.shades_classic,
  );
  const bar: SingleBar = bars.create(total, 0, { photos: 0, faces: 0, rate: '–', step: '' });
  // redrawn at once (the steps are few: per face, per photo); the timer redraws the clock in between
  const show = (value: number, step: string) => {
    bar.update(value, { photos: done, faces, rate: rate(), step });
    bars.update();
  };
  const log = (l: string) => {
    bars.log(l);
    bars.update();
  };
  return {
    startPhoto(n) {
      name = n.length > 40 ? `…${n.slice(-39)}` : n;
      show(done, `${name}: finding faces`);
    },
    step(p) {
      if (p.stage === 'detect') return show(done, `${name}: finding faces`);
      if (p.done < p.total) show(done + p.done / p.total, p.total > 1 ? `${name}: face ${p.done + 1} of ${p.total}` : `${name}: reconstructing`);
      else show(done + 1, `${name}: writing files`);
    },
    donePhoto(n) {
      faces += n;
      done++;
      show(done, '');
    },
    result: (l) => (settings.resultsAboveBar === false ? io.stdout(l) : log(l)),
    error: log,
    stop: () => bars.stop(),
  };
}
