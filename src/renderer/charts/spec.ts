/**
 * A chart as plain data: what every chart in the app draws (through Chart.js), and what every export writes
 * (SVG, PNG, CSV, JSON). Views build specs from the lab's data; nothing here touches the DOM.
 */

export interface SeriesSpec {
  label: string;
  color: string;
  x: readonly number[];
  y: readonly (number | null)[];
  /** The values before smoothing, when `y` is smoothed (exports write both). */
  raw?: readonly (number | null)[];
  /** The whole name behind a short label, for tooltips. */
  fullName?: string;
  dashed?: boolean;
  /** Draw a bar per point instead of a line (values per category); bar series share each category side by side. */
  bars?: boolean;
  /** Draw a dot on every point (sparse series such as val loss or evaluation lengths). */
  points?: boolean;
  width?: number;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: readonly SeriesSpec[];
  /** Vertical reference lines, e.g. the training length. */
  markers?: readonly { x: number; label: string }[];
  /** The EMA weight the series' `y` are smoothed with (their `raw` holds the values before). */
  smoothing?: number;
  /** Names for integer x values (categories such as scheme names). */
  xCategories?: readonly string[];
}

/** What an export menu offers: PNG on white or on the theme, SVG from the data, and the data as CSV or JSON. */
export type ExportKind = 'png-white' | 'png-theme' | 'svg' | 'csv' | 'json';

/** A matrix drawn as coloured cells (attention maps, position tables, bias matrices). */
export interface HeatmapSpec {
  title: string;
  rowLabel: string;
  colLabel: string;
  values: readonly (readonly number[])[];
  /** Labels of rows/columns (e.g. the probe text's characters); indices when absent. */
  rowNames?: readonly string[];
  colNames?: readonly string[];
  /** 'sequential' for weights in [0, 1], 'diverging' for signed values centred on 0. */
  scale: 'sequential' | 'diverging';
}

/** Ten distinguishable colours (Tableau 10); a run keeps its colour in every chart: it is chosen by run id. */
export const RUN_PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;

export function runColor(runId: number): string {
  return RUN_PALETTE[(((runId - 1) % RUN_PALETTE.length) + RUN_PALETTE.length) % RUN_PALETTE.length];
}

/**
 * Exponential moving average, debiased like TensorBoard's smoothing: weight `smoothing` on the past, so 0 leaves
 * the values as they are and 0.99 is very smooth. Nulls stay null and do not reset the average.
 */
export function emaSmooth(values: readonly (number | null)[], smoothing: number): (number | null)[] {
  if (smoothing <= 0) return [...values];
  let ema = 0;
  let weight = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    ema = smoothing * ema + (1 - smoothing) * v;
    weight = smoothing * weight + (1 - smoothing);
    return ema / weight;
  });
}

/** Round numbers (1, 2, 5 × 10^k) spanning [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Ticks of a log axis: powers of ten, with 2× and 5× between them when the range spans few decades. */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0)) return [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const multipliers = hi - lo <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of multipliers) {
    const t = Number((m * 10 ** e).toPrecision(12));
    if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.push(t);
  }
  return ticks.length >= 2 ? ticks : niceTicks(min, max, 4).filter((t) => t > 0);
}

export function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e4 && abs < 1e12) {
    const unit = SUFFIXES[suffixIndex(abs)];
    return `${Number((value / unit.size).toPrecision(3))}${unit.letter}`;
  }
  if (abs >= 1e12 || abs < 1e-3) return value.toExponential(1).replace('e+', 'e');
  return String(Number(value.toPrecision(4)));
}

/** Thousands, millions, billions: 20k, 1.5M (token counts read better so than as 2.0e4). */
const SUFFIXES = [
  { size: 1e3, letter: 'k' },
  { size: 1e6, letter: 'M' },
  { size: 1e9, letter: 'G' },
] as const;

function suffixIndex(abs: number): 0 | 1 | 2 {
  return abs >= 1e9 ? 2 : abs >= 1e6 ? 1 : 0;
}

/**
 * Labels for a set of ticks with just enough decimals to tell neighbours apart (3.085, 3.086, … rather than
 * 3.09, 3.09, …); counts from 10 000 with a k/M/G suffix (20k, 1.5M), extreme values in exponent form with as
 * many digits as it takes for neighbours to differ.
 */
export function tickFormatter(ticks: readonly number[]): (value: number) => string {
  const finite = ticks.filter(Number.isFinite);
  const biggest = Math.max(0, ...finite.map(Math.abs));
  if (biggest >= 1e12 || (biggest > 0 && biggest < 1e-3)) {
    const exponent = (digits: number) => (v: number) => (v === 0 ? '0' : v.toExponential(digits).replace('e+', 'e'));
    let digits = 1;
    while (digits < 6 && new Set(finite.map(exponent(digits))).size < finite.length) digits++;
    return exponent(digits);
  }
  const unit = biggest >= 1e4 ? SUFFIXES[suffixIndex(biggest)] : { size: 1, letter: '' };
  let step = Infinity;
  for (let i = 1; i < finite.length; i++) step = Math.min(step, Math.abs(finite[i] - finite[i - 1]) || Infinity);
  step /= unit.size;
  const decimals = Number.isFinite(step) ? Math.min(6, Math.max(0, Math.ceil(-Math.log10(step) + 1e-9))) : 2;
  return (v) => {
    if (v === 0) return '0';
    const text = (v / unit.size).toFixed(decimals);
    return `${text.includes('.') ? text.replace(/\.?0+$/, '') : text}${unit.letter}`;
  };
}

/** The finite [min, max] of every series' x (or y) values; log axes ignore values ≤ 0. */
export function extent(series: readonly SeriesSpec[], axis: 'x' | 'y', positiveOnly = false): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) {
    const values = s[axis];
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const y = s.y[i];
      if (v === null || !Number.isFinite(v) || y === null || !Number.isFinite(y)) continue;
      if (positiveOnly && v <= 0) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? [min, max] : null;
}
