/**
 * The evaluation's printed table and Markdown report.
 *
 * ```ts
 * console.log(formatTable(report));     // ends with the summary line "NME 2D 4.12%"
 * await writeFile('eval.md', markdownReport(report));
 * ```
 */
import type { GroupStats, ImageEval, Summary } from '../src/metrics/index.ts';
import { LANDMARK_GROUPS, PITCH_BINS, YAW_BINS, groupStats } from '../src/metrics/index.ts';
import type { LandmarkGroup } from '../src/metrics/index.ts';
import { PUBLISHED, PUBLISHED_NOTE, SAME_PHOTOS_BASELINE } from './published.ts';

/** Everything a report shows. */
export interface EvalReport {
  dataset: string;
  format: string;
  yawConvention: string;
  model: string;
  images: number;
  rows: ImageEval[];
  summary: Summary;
  /** Ground-truth entries skipped for lack of an image. */
  missing: string[];
  /** Images whose dataset yaw sign disagrees with the yaw fitted to their ground-truth landmarks (|yaw| > 10°). */
  yawSignMismatches: string[];
  /** Total pipeline seconds. */
  seconds: number;
  date: string;
}

const pct = (v: number, d = 2) => (Number.isFinite(v) ? (v * 100).toFixed(d) : '—');
const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');

/**
 * The summary line, exactly `NME 2D <number>%`: the mean NME 2D over the detected faces of the run.
 *
 * ```ts
 * summaryLine(summary); // 'NME 2D 4.12%'
 * ```
 */
export function summaryLine(summary: Summary): string {
  return `NME 2D ${Number.isFinite(summary.all.nme2d) ? (summary.all.nme2d * 100).toFixed(2) : 'nan'}%`;
}

interface Metric {
  label: string;
  get: (g: GroupStats) => number;
}

const METRICS: Metric[] = [
  { label: 'NME 2D (%)', get: (g) => g.nme2d },
  { label: 'NME 3D (%)', get: (g) => g.nme3d },
  { label: 'NME 2D vs re-annotated 2D (%)', get: (g) => g.nme2dReannotated },
  { label: 'surface depth err, all 68 (%)', get: (g) => g.depthAll68 },
  { label: '  flat-face floor, all 68 (%)', get: (g) => g.flatAll68 },
  { label: 'surface depth err, 17-67 (%)', get: (g) => g.depthInterior },
  { label: '  flat-face floor, 17-67 (%)', get: (g) => g.flatInterior },
  { label: 'surface depth err, visible (%)', get: (g) => g.depthVisible },
  { label: '  flat-face floor, visible (%)', get: (g) => g.flatVisible },
  { label: 'coverage, all 68 (%)', get: (g) => g.hitAll68 },
  { label: 'coverage, 17-67 (%)', get: (g) => g.hitInterior },
];

/** Millimetre rows (shown when the dataset has dense ground truth). */
const MM_METRICS: Metric[] = [{ label: 'dense shape error (mm)', get: (g) => g.denseMM }];

/** Rows of the shapes-side-by-side table. */
const COMPARED = METRICS.filter((m) => !m.label.includes('floor') && !m.label.includes('re-annotated'));

/**
 * Several runs of the same dataset side by side (one per `--shape`): each metric by yaw bin and over all faces.
 *
 * ```ts
 * console.log(compareTable({ prior: reportA, network: reportB }));
 * ```
 */
export function compareTable(reports: Record<string, EvalReport>): string {
  const names = Object.keys(reports);
  const head = ['', ...names.flatMap((n) => [...YAW_BINS, 'all'].map((b) => `${n} ${b}`))];
  const lines: string[][] = [head];
  for (const m of COMPARED) {
    lines.push([m.label, ...names.flatMap((n) => [...reports[n].summary.bins, reports[n].summary.all].map((g) => pct(m.get(g))))]);
  }
  for (const m of MM_METRICS) {
    if (!names.some((n) => Number.isFinite(m.get(reports[n].summary.all)))) continue;
    lines.push([m.label, ...names.flatMap((n) => [...reports[n].summary.bins, reports[n].summary.all].map((g) => num(m.get(g))))]);
  }
  lines.push(['detected', ...names.flatMap((n) => [...reports[n].summary.bins, reports[n].summary.all].map(detectedCell))]);
  const widths = head.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
  return [
    `shapes side by side (${names.join(' | ')}), by |yaw| bin; coverage = the landmarks whose ray hits the surface`,
    ...lines.map((l) => l.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')),
  ].join('\n');
}

function detectedCell(g: GroupStats): string {
  return g.images ? `${g.detected}/${g.images}` : '—';
}

/**
 * Where the error is: NME 2D of each landmark group by yaw bin, and NME 2D / 3D by |pitch| bin (datasets with a
 * pitch), over the detected faces.
 *
 * ```ts
 * console.log(breakdownTable(report));
 * ```
 */
export function breakdownTable(r: EvalReport): string {
  const det = r.rows.filter((x) => x.detected);
  const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
  const lines: string[][] = [['NME 2D by landmark group (%)', ...YAW_BINS, 'all']];
  for (const g of Object.keys(LANDMARK_GROUPS) as LandmarkGroup[]) {
    const [a, b] = LANDMARK_GROUPS[g];
    const cell = (rows: typeof det) => pct(mean(rows.map((x) => x.groups?.[g]).filter((v): v is number => Number.isFinite(v))));
    lines.push([`${g} (${a}–${b - 1})`, ...YAW_BINS.map((_, k) => cell(det.filter((x) => x.bin === k))), cell(det)]);
  }
  const pitched = r.rows.filter((x) => Number.isFinite(x.pitch));
  if (pitched.length) {
    lines.push([]);
    lines.push(['by |pitch| bin', 'images', 'detected', 'NME 2D (%)', 'NME 3D (%)']);
    let lo = -1;
    for (const b of PITCH_BINS) {
      const rows = pitched.filter((x) => Math.abs(x.pitch) > lo && Math.abs(x.pitch) <= b.max);
      lo = b.max;
      const g = groupStats(b.label, rows);
      lines.push([`|pitch| ${b.label}`, String(g.images), String(g.detected), pct(g.nme2d), pct(g.nme3d)]);
    }
  }
  const n = Math.max(...lines.map((l) => l.length));
  const widths = Array.from({ length: n }, (_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
  return lines.map((l) => (l.length ? l.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ') : '')).join('\n');
}

/**
 * The console table: metrics by yaw bin, the bin-balanced mean and the overall mean, detection counts, the
 * published numbers beside ours, and last the summary line.
 */
export function formatTable(r: EvalReport): string {
  const { summary: s } = r;
  const cols = [...s.bins, s.all];
  const head = ['', ...YAW_BINS, 'mean*', 'all'];
  const lines: string[][] = [head];
  for (const m of METRICS) {
    const balanced = m.label === 'NME 2D (%)' ? s.balanced.nme2d : m.label === 'NME 3D (%)' ? s.balanced.nme3d : NaN;
    lines.push([m.label, ...s.bins.map((g) => pct(m.get(g))), pct(balanced), pct(m.get(s.all))]);
  }
  for (const m of MM_METRICS) if (Number.isFinite(m.get(s.all))) lines.push([m.label, ...s.bins.map((g) => num(m.get(g))), '', num(m.get(s.all))]);
  lines.push(['detected', ...s.bins.map(detectedCell), '', detectedCell(s.all)]);
  lines.push(['failure rate (%)', ...cols.slice(0, 3).map((g) => (g.images ? pct(g.failureRate, 1) : '—')), '', pct(s.all.failureRate, 1)]);
  lines.push([]);
  lines.push(['published NME 2D (%)', ...YAW_BINS, 'mean*', '']);
  for (const p of PUBLISHED) lines.push([p.method, ...p.bins.map((v) => v.toFixed(2)), p.mean.toFixed(2), '']);
  lines.push(['voxface (this run)', ...s.bins.map((g) => pct(g.nme2d)), pct(s.balanced.nme2d), '']);
  const base = SAME_PHOTOS_BASELINE;
  if (r.dataset.replace(/\\/g, '/').replace(/\/+$/, '').endsWith(base.folder)) {
    lines.push([]);
    lines.push(['the line to beat, same photos', ...YAW_BINS, 'mean*', '']);
    lines.push(['3DDFA_V2 ×0.5 NME 2D (%)', ...base.nme2d.bins.map((v) => v.toFixed(2)), base.nme2d.mean.toFixed(2), '']);
    lines.push(['voxface NME 2D (%)', ...s.bins.map((g) => pct(g.nme2d)), pct(s.balanced.nme2d), '']);
    lines.push(['3DDFA_V2 ×0.5 NME 3D (%)', ...base.nme3d.bins.map((v) => v.toFixed(2)), base.nme3d.mean.toFixed(2), '']);
    lines.push(['voxface NME 3D (%)', ...s.bins.map((g) => pct(g.nme3d)), pct(s.balanced.nme3d), '']);
  }
  const widths = head.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
  const text = lines.map((l) => (l.length ? l.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ') : ''));
  return [
    `voxface evaluation: ${r.dataset} (${r.images} images, ${r.format}), model ${r.model}`,
    ...text,
    '',
    breakdownTable(r),
    '',
    `* mean of the non-empty yaw bins' means (the papers' "mean"); "all" = mean over all detected faces`,
    `  ${PUBLISHED_NOTE}`,
    `  depth err: our mesh's z at each ground-truth landmark's (x, y) vs its z, both centred, ÷ √(w·h); floor = a flat face;`,
    `  visible = the landmarks the dataset flags as seen by the camera (synthetic benchmark), all 68 where it has no flags`,
    ...(r.yawSignMismatches.length ? [`warning: dataset yaw sign disagrees with the ground-truth landmarks on ${r.yawSignMismatches.length} images`] : []),
    summaryLine(s),
  ].join('\n');
}

/**
 * The Markdown report: settings, the summary table with the published numbers, the per-image table, the plots,
 * and the protocol notes.
 */
export function markdownReport(r: EvalReport, plots: { ced: string; yaw: string }): string {
  const s = r.summary;
  const md: string[] = [];
  md.push(`# voxface evaluation: \`${r.dataset}\``, '');
  md.push(`${r.images} images (${r.format}; yaw sign: ${r.yawConvention}), model \`${r.model}\`, ${r.date}, ${r.seconds.toFixed(1)} s of pipeline time.`, '');
  md.push(`**${summaryLine(s)}** (mean over ${s.all.detected} detected faces), NME 3D ${pct(s.all.nme3d)}%, detection failures ${s.all.images - s.all.detected}/${s.all.images} (${pct(s.all.failureRate, 1)}%).`, '');
  md.push('## By yaw bin', '');
  md.push(`| | ${YAW_BINS.join(' | ')} | mean* | all |`, `|---|${'---:|'.repeat(5)}`);
  for (const m of METRICS) {
    const balanced = m.label === 'NME 2D (%)' ? s.balanced.nme2d : m.label === 'NME 3D (%)' ? s.balanced.nme3d : NaN;
    md.push(`| ${m.label.trim()} | ${s.bins.map((g) => pct(m.get(g))).join(' | ')} | ${pct(balanced)} | ${pct(m.get(s.all))} |`);
  }
  for (const m of MM_METRICS) if (Number.isFinite(m.get(s.all))) md.push(`| ${m.label} | ${s.bins.map((g) => num(m.get(g))).join(' | ')} | | ${num(m.get(s.all))} |`);
  md.push(`| detected | ${s.bins.map(detectedCell).join(' | ')} | | ${detectedCell(s.all)} |`);
  md.push(`| failure rate (%) | ${s.bins.map((g) => (g.images ? pct(g.failureRate, 1) : '—')).join(' | ')} | | ${pct(s.all.failureRate, 1)} |`);
  md.push('', `\\* mean of the non-empty bins' means, as the papers' "mean" column; "all" = mean over every detected face.`, '');
  md.push('## Where the error is', '', '```', breakdownTable(r), '```', '');
  md.push('## Published results beside ours (NME 2D, %)', '');
  md.push(`| method | ${YAW_BINS.join(' | ')} | mean | source |`, `|---|---:|---:|---:|---:|---|`);
  for (const p of PUBLISHED) md.push(`| ${p.method} | ${p.bins.map((v) => v.toFixed(2)).join(' | ')} | ${p.mean.toFixed(2)} | ${p.source} |`);
  md.push(`| **voxface (this run)** | ${s.bins.map((g) => pct(g.nme2d)).join(' | ')} | ${pct(s.balanced.nme2d)} | ${s.all.images} images of \`${r.dataset}\` |`);
  md.push('', `The published numbers were measured on **all 2000 AFLW2000-3D images** (1312 / 383 / 305 per bin in the 3DDFA split); ours only on the images of this run${r.images < 2000 ? ` (${r.images}; a bin with few images is a rough estimate)` : ''}. The published methods are given a face crop (3DDFA's roi boxes or a detector); our numbers include our own detector, and faces it misses are reported as failures, not in the NME.`, '');
  md.push('## Plots', '', `![cumulative error distribution](${plots.ced})`, '', `![NME vs yaw](${plots.yaw})`, '');
  md.push('## Per image', '');
  md.push('| image | yaw | bin | faces | IoU | NME 2D % | NME 3D % | NME 2D re-ann. % | depth all 68 % (flat) | depth 17-67 % (flat) | depth visible % (flat) | hit % | our yaw | s |');
  md.push(`|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const x of r.rows) {
    md.push(`| ${x.name}${x.error ? ` (error: ${x.error.replace(/\|/g, '/')})` : ''} | ${num(x.yaw, 1)} | ${YAW_BINS[x.bin]} | ${x.faces} | ${x.detected ? num(x.iou) : 'not detected'} | ${pct(x.nme2d)} | ${pct(x.nme3d)} | ${pct(x.nme2dReannotated)} | ${pct(x.depthAll68.error)} (${pct(x.depthAll68.flat)}) | ${pct(x.depthInterior.error)} (${pct(x.depthInterior.flat)}) | ${pct(x.depthVisible.error)} (${pct(x.depthVisible.flat)}) | ${pct(x.depthAll68.hit, 0)} | ${num(x.predictedYaw, 1)} | ${x.ms !== undefined ? (x.ms / 1000).toFixed(1) : ''} |`);
  }
  md.push('', '## Protocol', '');
  md.push(
    '- Every image goes through the same pipeline as the `voxface` command (`loadVoxface` → `reconstructFile(path, { faces: "all" })`, default geometry settings; the texture map is skipped, it does not change the geometry).',
    '- "The" face is the reconstructed face whose detection box overlaps the ground-truth 68-landmark box most (IoU); none overlapping = not detected (a failure, excluded from the NME means).',
    '- NME = mean over the 68 landmarks of the point error ÷ √(w·h) of the ground truth\'s 2D landmark box (x, y of the 3D landmarks, the 3DDFA / PRNet protocol). NME 2D: x, y error against the x, y of the 3D landmarks. NME 3D: x, y, z error with each set\'s z centred on its own mean. "vs re-annotated 2D": x, y error against `landmarks68_2d_reannotated` (same normaliser), when present.',
    '- Yaw bins by the ground truth\'s |yaw|: [0,30], (30,60], (60,90] (|yaw| > 90 counts in the last bin), as 3DDFA\'s benchmark splits them.',
    '- Surface depth error: a ray along z through each ground-truth landmark\'s (x, y) hits our mesh (front-most hit); those depths and the ground-truth z, each centred on their mean over the landmarks hit, differ by a mean |Δz| ÷ √(w·h). Over all 68 landmarks, over the interior 17–67, and over the visible landmarks (the dataset\'s flags: the synthetic benchmark marks a landmark visible when the rendered face surface lies within max(2 cells, 5% of √(w·h)) of it; all 68 for datasets without flags). Hidden landmarks of a turned face lie behind the surface the camera sees, so only the visible set measures that surface. The flat-face floor is the same number for a constant depth.',
    `- Yaw sign: this report shows yaw in voxface's convention (+ = the face turned toward the photo's right). The dataset's yaw sign is ${r.yawConvention === 'aflw' ? "AFLW2000-3D's (the opposite), so it was negated" : "voxface's"}.${r.yawSignMismatches.length ? ` **Warning:** on ${r.yawSignMismatches.join(', ')} the converted yaw disagrees in sign with the yaw fitted to the ground-truth landmarks.` : ' The converted yaws agree in sign with the yaws fitted to the ground-truth landmarks (|yaw| > 10°).'}`,
  );
  if (r.missing.length) md.push(`- Skipped for lack of an image: ${r.missing.join(', ')}.`);
  md.push('');
  return md.join('\n');
}
