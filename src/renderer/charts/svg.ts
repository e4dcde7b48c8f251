/**
 * SVG written from a chart's data, not from pixels: axes, ticks, grid, labels, a legend, and one <path> per series
 * (markers are <line>s and dots <circle>s, so the paths are exactly the series). Text is XML-escaped: run names
 * are user input.
 */
import { extent, formatTick, logTicks, niceTicks, tickFormatter, type ChartSpec, type HeatmapSpec } from './spec';

export interface SvgPalette {
  background: string;
  text: string;
  muted: string;
  grid: string;
  axis: string;
}

/** The palette for exports on white (what papers and slides want). */
export const WHITE_PALETTE: SvgPalette = { background: '#ffffff', text: '#1c1f24', muted: '#555d6b', grid: '#e3e6eb', axis: '#8a93a3' };

export interface SvgOptions {
  width?: number;
  height?: number;
  palette?: SvgPalette;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const num = (v: number): string => String(Math.round(v * 100) / 100);
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

interface Axis {
  min: number;
  max: number;
  log: boolean;
  ticks: number[];
}

function axisOf(range: [number, number] | null, log: boolean): Axis {
  let [min, max] = range ?? [0, 1];
  if (min === max) {
    const pad = log ? min * 0.5 : Math.abs(min) * 0.1 || 1;
    min -= pad;
    max += pad;
  }
  if (log) return { min, max, log, ticks: logTicks(min, max) };
  // As Chart.js does on screen: the axis runs from a round tick below the data to one above, both labelled.
  const inner = niceTicks(min, max, 6);
  const step = inner.length > 1 ? inner[1] - inner[0] : 0;
  if (step <= 0) return { min, max, log, ticks: inner };
  const lo = Number((Math.floor(min / step + 1e-9) * step).toPrecision(12));
  const hi = Number((Math.ceil(max / step - 1e-9) * step).toPrecision(12));
  return { min: lo, max: hi, log, ticks: niceTicks(lo, hi, Math.round((hi - lo) / step)) };
}

function scale(axis: Axis, from: number, to: number): (v: number) => number {
  const f = axis.log ? Math.log10 : (v: number) => v;
  const a = f(axis.min);
  const b = f(axis.max);
  return (v) => from + ((f(v) - a) / (b - a || 1)) * (to - from);
}

export function chartToSvg(spec: ChartSpec, options: SvgOptions = {}): string {
  const width = options.width ?? 800;
  const height = options.height ?? 480;
  const p = options.palette ?? WHITE_PALETTE;
  const legendRows = Math.ceil(spec.series.length / 3);
  const margin = { top: 44 + legendRows * 18, right: 24, bottom: 56, left: 72 };
  const plot = { x0: margin.left, x1: width - margin.right, y0: height - margin.bottom, y1: margin.top };

  const bars = spec.series.filter((s) => s.bars);
  const dataRange = extent(spec.series, 'x', !!spec.xLog);
  // Bars stand on their category: half a category of room at each end.
  const xRange: [number, number] | null = dataRange && bars.length ? [dataRange[0] - 0.5, dataRange[1] + 0.5] : dataRange;
  const marked = spec.markers?.map((m) => m.x) ?? [];
  const xAxis = axisOf(xRange && marked.length ? [Math.min(xRange[0], ...marked), Math.max(xRange[1], ...marked)] : xRange, !!spec.xLog);
  const yAxis = axisOf(extent(spec.series, 'y', !!spec.yLog), !!spec.yLog);
  const sx = scale(xAxis, plot.x0, plot.x1);
  const sy = scale(yAxis, plot.y0, plot.y1);
  const xFormat = tickFormatter(xAxis.ticks);
  const yFormat = tickFormatter(yAxis.ticks);
  const xTickLabel = (t: number): string => (spec.xCategories && Number.isInteger(t) && spec.xCategories[t] !== undefined ? spec.xCategories[t] : xFormat(t));
  const xTicks = spec.xCategories ? spec.xCategories.map((_, i) => i).filter((i) => i >= xAxis.min && i <= xAxis.max) : xAxis.ticks;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="${p.background}"/>`);
  out.push(`<text x="${margin.left}" y="24" ${FONT} font-size="16" font-weight="600" fill="${p.text}">${escapeXml(spec.title)}</text>`);

  // Legend: a short line and the label, three per row.
  const colWidth = (plot.x1 - plot.x0) / 3;
  spec.series.forEach((s, i) => {
    const x = plot.x0 + (i % 3) * colWidth;
    const y = 44 + Math.floor(i / 3) * 18;
    out.push(`<g class="legend-item"><line x1="${num(x)}" y1="${y - 4}" x2="${num(x + 18)}" y2="${y - 4}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${num(x + 24)}" y="${y}" ${FONT} font-size="12" fill="${p.text}">${escapeXml(s.label)}</text></g>`);
  });

  // Grid and ticks.
  out.push(`<g class="grid" stroke="${p.grid}" stroke-width="1">`);
  for (const t of yAxis.ticks) out.push(`<line x1="${plot.x0}" y1="${num(sy(t))}" x2="${plot.x1}" y2="${num(sy(t))}"/>`);
  for (const t of xTicks) out.push(`<line x1="${num(sx(t))}" y1="${plot.y0}" x2="${num(sx(t))}" y2="${plot.y1}"/>`);
  out.push('</g>');
  out.push(`<g class="axes" stroke="${p.axis}" stroke-width="1"><line x1="${plot.x0}" y1="${plot.y0}" x2="${plot.x1}" y2="${plot.y0}"/><line x1="${plot.x0}" y1="${plot.y0}" x2="${plot.x0}" y2="${plot.y1}"/></g>`);
  out.push(`<g class="x-ticks" ${FONT} font-size="11" fill="${p.muted}" text-anchor="middle">`);
  for (const t of xTicks) out.push(`<text x="${num(sx(t))}" y="${plot.y0 + 16}">${escapeXml(xTickLabel(t))}</text>`);
  out.push('</g>');
  out.push(`<g class="y-ticks" ${FONT} font-size="11" fill="${p.muted}" text-anchor="end">`);
  for (const t of yAxis.ticks) out.push(`<text x="${plot.x0 - 6}" y="${num(sy(t) + 4)}">${escapeXml(yFormat(t))}</text>`);
  out.push('</g>');
  out.push(`<text class="x-label" x="${num((plot.x0 + plot.x1) / 2)}" y="${height - 14}" ${FONT} font-size="13" fill="${p.text}" text-anchor="middle">${escapeXml(spec.xLabel)}${spec.xLog ? ' (log)' : ''}</text>`);
  out.push(
    `<text class="y-label" transform="translate(18 ${num((plot.y0 + plot.y1) / 2)}) rotate(-90)" ${FONT} font-size="13" fill="${p.text}" text-anchor="middle">${escapeXml(spec.yLabel)}${spec.yLog ? ' (log)' : ''}</text>`,
  );

  // Markers (e.g. the training length).
  for (const m of spec.markers ?? []) {
    if (m.x < xAxis.min || m.x > xAxis.max) continue;
    const x = num(sx(m.x));
    out.push(`<g class="marker"><line x1="${x}" y1="${plot.y0}" x2="${x}" y2="${plot.y1}" stroke="${p.muted}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${x}" y="${plot.y1 - 4}" ${FONT} font-size="11" fill="${p.muted}" text-anchor="middle">${escapeXml(m.label)}</text></g>`);
  }

  // One path per series; a gap (null, or ≤ 0 on a log axis) starts a new subpath.
  out.push(`<g class="series" fill="none" stroke-linejoin="round" stroke-linecap="round">`);
  const barWidth = bars.length ? (Math.abs(sx(1) - sx(0)) * 0.8) / bars.length : 0;
  const barBase = spec.yLog ? plot.y0 : sy(Math.max(0, yAxis.min));
  for (const s of spec.series) {
    if (s.bars) {
      const shift = (bars.indexOf(s) - (bars.length - 1) / 2) * barWidth;
      out.push(`<g class="bars" fill="${s.color}" stroke="none"><title>${escapeXml(s.fullName ?? s.label)}</title>`);
      s.x.forEach((x, i) => {
        const y = s.y[i];
        if (y === null || !Number.isFinite(y) || (spec.yLog && y <= 0)) return;
        const top = Math.min(sy(y), barBase);
        out.push(`<rect x="${num(sx(x) + shift - barWidth / 2)}" y="${num(top)}" width="${num(barWidth)}" height="${num(Math.abs(barBase - sy(y)))}"/>`);
      });
      out.push('</g>');
      continue;
    }
    let d = '';
    let pen = false;
    const dots: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i];
      const y = s.y[i];
      const usable = y !== null && Number.isFinite(y) && Number.isFinite(x) && (!spec.yLog || y > 0) && (!spec.xLog || x > 0);
      if (!usable) {
        pen = false;
        continue;
      }
      const px = num(sx(x));
      const py = num(sy(y));
      d += `${pen ? 'L' : 'M'}${px} ${py}`;
      pen = true;
      if (s.points) dots.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.color}"/>`);
    }
    out.push(`<path d="${d}" stroke="${s.color}" stroke-width="${s.width ?? 2}"${s.dashed ? ' stroke-dasharray="6 4"' : ''}><title>${escapeXml(s.fullName ?? s.label)}</title></path>`);
    out.push(...dots);
  }
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Colour of a heatmap cell: viridis-like for [0, 1] weights, blue–white–red for signed values. */
export function heatColor(value: number, min: number, max: number, kind: HeatmapSpec['scale']): string {
  if (!Number.isFinite(value)) return '#888888';
  if (kind === 'diverging') {
    const bound = Math.max(Math.abs(min), Math.abs(max)) || 1;
    const t = Math.max(-1, Math.min(1, value / bound));
    const mix = (a: number, b: number, f: number): number => Math.round(a + (b - a) * f);
    const [r, g, b] = t < 0 ? [mix(255, 33, -t), mix(255, 102, -t), mix(255, 172, -t)] : [mix(255, 178, t), mix(255, 24, t), mix(255, 43, t)];
    return `rgb(${r},${g},${b})`;
  }
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const t = max > min ? Math.max(0, Math.min(1, (value - min) / (max - min))) : 0;
  const f = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(f));
  const w = f - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * w));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * The colour scale a heatmap's cells use, as a CSS gradient from its low to its high end and the values there:
 * [min, max] for weights, ±the largest magnitude for signed values (white is 0).
 */
export function heatScale(spec: Pick<HeatmapSpec, 'values' | 'scale'>): { gradient: string; low: number; high: number } {
  const [min, max] = matrixRange(spec.values);
  const bound = Math.max(Math.abs(min), Math.abs(max)) || 1;
  const [low, high] = spec.scale === 'diverging' ? [-bound, bound] : [min, max];
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `${heatColor(low + (high - low) * t, min, max, spec.scale)} ${t * 100}%`);
  return { gradient: `linear-gradient(to right, ${stops.join(', ')})`, low, high };
}

export function matrixRange(values: readonly (readonly number[])[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const row of values) for (const v of row) if (Number.isFinite(v)) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : [0, 1];
}

/** One <rect> per cell, with the axis names, a title and the value range. */
export function heatmapToSvg(spec: HeatmapSpec, options: SvgOptions = {}): string {
  const p = options.palette ?? WHITE_PALETTE;
  const rows = spec.values.length;
  const cols = spec.values[0]?.length ?? 0;
  const cell = Math.max(2, Math.min(24, Math.floor(640 / Math.max(rows, cols, 1))));
  const margin = { top: 48, left: 64, right: 24, bottom: 48 };
  const width = margin.left + cols * cell + margin.right;
  const height = margin.top + rows * cell + margin.bottom;
  const [min, max] = matrixRange(spec.values);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="${p.background}"/>`);
  out.push(`<text x="${margin.left}" y="22" ${FONT} font-size="15" font-weight="600" fill="${p.text}">${escapeXml(spec.title)}</text>`);
  out.push(`<text x="${margin.left}" y="38" ${FONT} font-size="11" fill="${p.muted}">range ${escapeXml(formatTick(min))} … ${escapeXml(formatTick(max))}</text>`);
  out.push('<g class="cells" shape-rendering="crispEdges">');
  spec.values.forEach((row, r) =>
    row.forEach((v, c) => out.push(`<rect x="${margin.left + c * cell}" y="${margin.top + r * cell}" width="${cell}" height="${cell}" fill="${heatColor(v, min, max, spec.scale)}"/>`)),
  );
  out.push('</g>');
  const every = Math.max(1, Math.ceil(12 / cell));
  out.push(`<g ${FONT} font-size="10" fill="${p.muted}">`);
  for (let r = 0; r < rows; r += every) out.push(`<text x="${margin.left - 4}" y="${margin.top + r * cell + cell / 2 + 3}" text-anchor="end">${escapeXml(spec.rowNames?.[r] ?? String(r))}</text>`);
  for (let c = 0; c < cols; c += every) out.push(`<text x="${margin.left + c * cell + cell / 2}" y="${margin.top + rows * cell + 12}" text-anchor="middle">${escapeXml(spec.colNames?.[c] ?? String(c))}</text>`);
  out.push('</g>');
  out.push(`<text x="${margin.left + (cols * cell) / 2}" y="${height - 10}" ${FONT} font-size="12" fill="${p.text}" text-anchor="middle">${escapeXml(spec.colLabel)}</text>`);
  out.push(`<text transform="translate(16 ${margin.top + (rows * cell) / 2}) rotate(-90)" ${FONT} font-size="12" fill="${p.text}" text-anchor="middle">${escapeXml(spec.rowLabel)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
