/**
 * The evaluation's plots as self-contained SVG (no plotting library): the cumulative error distribution of
 * NME 2D / 3D, and NME vs |yaw| with the bin means and the published bin means.
 *
 * ```ts
 * await writeFile('ced.svg', cedSvg([{ label: 'NME 2D', values: rows.map((r) => r.nme2d), color: '#1f77b4' }]));
 * await writeFile('nme-vs-yaw.svg', yawScatterSvg(rows, PUBLISHED));
 * ```
 */
import type { ImageEval } from '../src/metrics/index.ts';
import { meanOf, yawBin } from '../src/metrics/index.ts';
import type { PublishedResult } from './published.ts';

const W = 640;
const H = 420;
const M = { left: 60, right: 170, top: 36, bottom: 48 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f1 = (v: number) => (Math.round(v * 10) / 10).toString();

/** A nice tick step for a range. */
function tickStep(range: number, target = 6): number {
  const raw = range / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string[];
}

function frame(title: string, xLabel: string, yLabel: string, xMax: number, yMax: number, xStep?: number): Frame {
  const x = (v: number) => M.left + (v / xMax) * PW;
  const y = (v: number) => M.top + PH - (v / yMax) * PH;
  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left + PW / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  const xs = xStep ?? tickStep(xMax);
  for (let v = 0; v <= xMax + 1e-9; v += xs) {
    svg.push(`<line x1="${x(v)}" y1="${M.top}" x2="${x(v)}" y2="${M.top + PH}" stroke="#eee"/>`);
    svg.push(`<text x="${x(v)}" y="${M.top + PH + 16}" text-anchor="middle">${f1(v)}</text>`);
  }
  const ys = tickStep(yMax, 5);
  for (let v = 0; v <= yMax + 1e-9; v += ys) {
    svg.push(`<line x1="${M.left}" y1="${y(v)}" x2="${M.left + PW}" y2="${y(v)}" stroke="#eee"/>`);
    svg.push(`<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${f1(v)}</text>`);
  }
  svg.push(`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`);
  svg.push(`<text x="${M.left + PW / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`);
  svg.push(`<text transform="translate(16 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  return { x, y, svg };
}

function legend(svg: string[], items: { label: string; color: string; dash?: boolean; marker?: 'dot' | 'ring' | 'cross' }[]): void {
  items.forEach((it, i) => {
    const lx = M.left + PW + 12;
    const ly = M.top + 10 + i * 18;
    if (it.marker === 'dot') svg.push(`<circle cx="${lx + 10}" cy="${ly}" r="3.5" fill="${it.color}"/>`);
    else if (it.marker === 'ring') svg.push(`<circle cx="${lx + 10}" cy="${ly}" r="3.5" fill="none" stroke="${it.color}" stroke-width="1.5"/>`);
    else if (it.marker === 'cross') svg.push(cross(lx + 10, ly, it.color));
    else svg.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${it.color}" stroke-width="2"${it.dash ? ' stroke-dasharray="5 3"' : ''}/>`);
    svg.push(`<text x="${lx + 26}" y="${ly + 4}">${esc(it.label)}</text>`);
  });
}

function cross(cx: number, cy: number, color: string): string {
  return `<path d="M${cx - 4} ${cy - 4}L${cx + 4} ${cy + 4}M${cx - 4} ${cy + 4}L${cx + 4} ${cy - 4}" stroke="${color}" stroke-width="1.5"/>`;
}

export interface CedSeries {
  label: string;
  /** One value per image, a fraction (0.041 = 4.1 %); NaN = a failure (never reached). */
  values: readonly number[];
  color: string;
}

/**
 * Cumulative error distribution: for each NME threshold (x, %), the fraction of all images (y) whose error is at
 * most that. Failures count in the denominator and never get reached, so a curve ends below 1 when some failed.
 *
 * ```ts
 * cedSvg([{ label: 'NME 2D', values: [0.03, 0.05, NaN], color: '#1f77b4' }]); // the curve stops at 2/3
 * ```
 */
export function cedSvg(series: readonly CedSeries[], title = 'Cumulative error distribution'): string {
  const all = series.flatMap((s) => s.values.filter(Number.isFinite).map((v) => v * 100));
  const sorted = [...all].sort((a, b) => a - b);
  const p95 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] : 10;
  const xMax = Math.max(10, Math.ceil(p95 / 5) * 5);
  const { x, y, svg } = frame(title, 'NME (%)', 'fraction of images', xMax, 1);
  for (const s of series) {
    const n = s.values.length;
    const v = s.values.filter(Number.isFinite).map((e) => e * 100).sort((a, b) => a - b);
    let d = `M${x(0)} ${y(0)}`;
    v.forEach((e, i) => {
      const ex = x(Math.min(e, xMax));
      d += `L${ex} ${y(i / n)}L${ex} ${y((i + 1) / n)}`;
    });
    if (n > 0) d += `L${x(xMax)} ${y(v.length / n)}`;
    svg.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
  }
  legend(svg, series.map((s) => {
    const ok = s.values.filter(Number.isFinite).length;
    return { label: `${s.label} (${ok}/${s.values.length})`, color: s.color };
  }));
  svg.push('</svg>');
  return svg.join('\n') + '\n';
}

const PALETTE = ['#8c564b', '#9467bd', '#2ca02c', '#d62728', '#17becf', '#7f7f7f'];

/**
 * NME (%) vs |yaw| (degrees): each detected image as a dot (NME 2D) and a ring (NME 3D), failures as crosses on
 * the top edge, our bin means as solid segments and each published method's bin means as dashed segments.
 *
 * ```ts
 * yawScatterSvg(rows, PUBLISHED);
 * ```
 */
export function yawScatterSvg(rows: readonly ImageEval[], published: readonly PublishedResult[], title = 'NME vs |yaw|'): string {
  const vals = rows.flatMap((r) => [r.nme2d, r.nme3d]).filter(Number.isFinite).map((v) => v * 100);
  const top = Math.max(10, ...published.flatMap((p) => p.bins), ...vals.map((v) => Math.min(v, 40)));
  const yMax = Math.ceil(top / 5) * 5;
  const { x, y, svg } = frame(title, '|yaw| (degrees)', 'NME (%)', 90, yMax, 15);
  for (const b of [30, 60]) svg.push(`<line x1="${x(b)}" y1="${M.top}" x2="${x(b)}" y2="${M.top + PH}" stroke="#999" stroke-dasharray="2 3"/>`);
  const edges = [0, 30, 60, 90];
  published.forEach((p, i) => {
    const c = PALETTE[i % PALETTE.length];
    p.bins.forEach((v, b) => svg.push(`<line x1="${x(edges[b])}" y1="${y(v)}" x2="${x(edges[b + 1])}" y2="${y(v)}" stroke="${c}" stroke-width="1.5" stroke-dasharray="5 3"/>`));
  });
  const ours = '#1f77b4';
  const ours3 = '#ff7f0e';
  for (const b of [0, 1, 2]) {
    const m2 = meanOf(rows.filter((r) => r.detected && yawBin(r.yaw) === b).map((r) => r.nme2d)) * 100;
    if (Number.isFinite(m2)) svg.push(`<line x1="${x(edges[b])}" y1="${y(Math.min(m2, yMax))}" x2="${x(edges[b + 1])}" y2="${y(Math.min(m2, yMax))}" stroke="${ours}" stroke-width="2.5"/>`);
  }
  for (const r of rows) {
    const a = Math.min(Math.abs(r.yaw), 90);
    if (!r.detected) {
      svg.push(cross(x(a), y(yMax) + 6, '#d62728'));
      continue;
    }
    const v2 = Math.min(r.nme2d * 100, yMax);
    const v3 = Math.min(r.nme3d * 100, yMax);
    svg.push(`<circle cx="${x(a)}" cy="${y(v3)}" r="3.5" fill="none" stroke="${ours3}" stroke-width="1.5"><title>${esc(r.name)} NME 3D ${f1(r.nme3d * 100)}%</title></circle>`);
    svg.push(`<circle cx="${x(a)}" cy="${y(v2)}" r="3.5" fill="${ours}"><title>${esc(r.name)} NME 2D ${f1(r.nme2d * 100)}%</title></circle>`);
  }
  legend(svg, [
    { label: 'ours NME 2D', color: ours, marker: 'dot' },
    { label: 'ours NME 3D', color: ours3, marker: 'ring' },
    { label: 'ours bin mean 2D', color: ours },
    { label: 'not detected', color: '#d62728', marker: 'cross' },
    ...published.map((p, i) => ({ label: `${p.method} (2D)`, color: PALETTE[i % PALETTE.length], dash: true })),
  ]);
  svg.push('</svg>');
  return svg.join('\n') + '\n';
}
