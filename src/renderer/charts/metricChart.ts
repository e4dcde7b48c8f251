/**
 * Chart.js line charts of a run's metrics that grow in place: `append` feeds the new points to a min/max
 * downsampler per series (downsample.ts) and redraws without animation, so a 100k-step run draws ~2k points per
 * series and no update re-reads the history. Lives outside Vue's reactivity (the component keeps it in a plain
 * variable), because Chart.js mutates its data and deep proxies would make every push expensive.
 */
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type ScatterDataPoint,
} from 'chart.js';
import type { MetricRowData } from '../../shared/api';
import { cssVar } from '../composables/useTheme';
import { MinMaxDownsampler } from './downsample';
import { resetZoomOnDoubleClick, ZOOM_OPTIONS } from './interaction';
import { EMA_DECAY, metricDatasets, type MetricChartKind } from './metricSeries';
import { tickFormatter, type ChartSpec } from './spec';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

export type { MetricChartKind } from './metricSeries';


type Point = ScatterDataPoint;

/** Buckets per series: about two points per horizontal pixel of a wide chart. */
const MAX_BUCKETS = 1000;

/** One series: every value (for export), and the downsampled points Chart.js draws. */
class SeriesData {
  readonly x: number[] = [];
  readonly y: number[] = [];
  readonly sampler = new MinMaxDownsampler(MAX_BUCKETS);

  push(x: number, y: number): void {
    this.x.push(x);
    this.y.push(y);
    this.sampler.push(x, y);
  }
}

export class MetricChart {
  private readonly chart: Chart<'line', Point[]>;
  private lastStep = -1;
  private ema = 0;
  private emaSteps = 0;
  private points = 0;
  private series: SeriesData[] = [];
  private logScale = false;
  private readonly offDoubleClick: () => void;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly kind: MetricChartKind,
    private readonly onPoints?: (count: number) => void,
  ) {
    const datasets = metricDatasets(this.kind, this.colors());
    this.series = datasets.map(() => new SeriesData());
    this.chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: this.scales(false),
        plugins: {
          legend: { position: 'top', align: 'end', labels: { boxWidth: 12, boxHeight: 2 } },
          tooltip: { callbacks: { title: (items) => `step ${items[0]?.parsed.x ?? ''}` } },
          zoom: ZOOM_OPTIONS,
        },
      },
    });
    this.offDoubleClick = resetZoomOnDoubleClick(canvas, () => this.chart);
    this.applyTheme();
  }

  get pointCount(): number {
    return this.points;
  }

  /** Replaces everything with `rows` (a run's stored history). */
  reset(rows: readonly MetricRowData[]): void {
    for (const dataset of this.chart.data.datasets) dataset.data = [];
    this.series = this.series.map(() => new SeriesData());
    this.lastStep = -1;
    this.ema = 0;
    this.emaSteps = 0;
    this.points = 0;
    this.append(rows);
  }

  /** Adds rows newer than the last step shown; older or repeated steps (history vs live overlap) are skipped. */
  append(rows: readonly MetricRowData[]): void {
    let added = 0;
    const sets = this.series;
    for (const row of rows) {
      if (row.step <= this.lastStep) continue;
      this.lastStep = row.step;
      // Steps as the store and the run exports count them (0 = the first step), so every file agrees.
      const x = row.step;
      if (this.kind === 'loss') {
        if (row.trainLoss !== null) {
          this.ema = EMA_DECAY * this.ema + (1 - EMA_DECAY) * row.trainLoss;
          this.emaSteps++;
          sets[0].push(x, row.trainLoss);
          sets[1].push(x, this.ema / (1 - EMA_DECAY ** this.emaSteps));
          added++;
        }
        if (row.valLoss !== null) {
          sets[2].push(x, row.valLoss);
          added++;
        }
      } else {
        if (row.lr !== null) sets[0].push(x, row.lr);
        if (row.gradNorm !== null) sets[1].push(x, row.gradNorm);
        added++;
      }
    }
    this.points += added;
    if (added > 0 || rows.length === 0) {
      this.chart.data.datasets.forEach((dataset, i) => (dataset.data = this.series[i].sampler.points()));
      this.chart.update('none');
    }
    this.onPoints?.(this.points);
  }

  /** Points Chart.js draws now (after downsampling), across series. */
  get drawnCount(): number {
    return this.chart.data.datasets.reduce((n, d) => n + d.data.length, 0);
  }

  /** Everything the chart shows, every point (not the downsampled ones), for export. */
  spec(title: string): ChartSpec {
    const colors = this.chart.data.datasets.map((d) => String(d.borderColor ?? '#888'));
    const labels = this.chart.data.datasets.map((d) => d.label ?? '');
    return {
      title,
      xLabel: 'step',
      yLabel: this.kind === 'loss' ? 'loss' : 'learning rate / grad norm',
      yLog: this.kind === 'loss' && this.logScale,
      series: this.series.map((s, i) => ({ label: labels[i], color: colors[i], x: s.x, y: s.y, points: this.kind === 'loss' && i === 2, width: i === 0 && this.kind === 'loss' ? 1 : 2 })),
    };
  }

  setLogScale(log: boolean): void {
    this.logScale = log;
    this.chart.options.scales = this.scales(log);
    this.applyTheme();
  }

  /** Re-reads the theme's colours (after a theme switch). */
  applyTheme(): void {
    const text = cssVar('--muted') || '#666';
    const grid = cssVar('--grid') || 'rgba(128,128,128,0.2)';
    const colors = this.colors();
    this.chart.data.datasets.forEach((dataset, i) => {
      dataset.borderColor = colors[i];
      dataset.backgroundColor = colors[i];
      dataset.pointBackgroundColor = colors[i];
      dataset.pointBorderColor = colors[i];
    });
    for (const scale of Object.values(this.chart.options.scales ?? {})) {
      if (!scale) continue;
      scale.ticks = { ...scale.ticks, color: text };
      scale.grid = { ...scale.grid, color: grid };
      if ('title' in scale && scale.title) scale.title = { ...scale.title, color: text };
    }
    const legend = this.chart.options.plugins?.legend;
    if (legend?.labels) legend.labels.color = text;
    // A full update (instant: animation is off) re-resolves the points' colours too; 'none' would not.
    this.chart.update();
  }

  destroy(): void {
    this.offDoubleClick();
    this.chart.destroy();
  }

  /** Series colours from the theme, in the datasets' order. */
  private colors(): string[] {
    const names = this.kind === 'loss' ? ['--series-train-raw', '--series-train', '--series-val'] : ['--series-lr', '--series-grad'];
    return names.map((name) => cssVar(name) || '#888');
  }

  private scales(log: boolean): NonNullable<Chart<'line', Point[]>['options']['scales']> {
    const x = { type: 'linear' as const, title: { display: true, text: 'step' }, ticks: { maxTicksLimit: 8 } };
    if (this.kind === 'loss') return { x, y: { type: log ? ('logarithmic' as const) : ('linear' as const), title: { display: true, text: 'loss' } } };
    return {
      x,
      y: { type: 'linear' as const, position: 'left' as const, title: { display: true, text: 'lr' }, ticks: { callback: (v: string | number, _i: number, ticks: { value: number }[]) => tickFormatter(ticks.map((t) => t.value))(Number(v)) } },
      y1: { type: 'linear' as const, position: 'right' as const, title: { display: true, text: 'grad norm' }, grid: { drawOnChartArea: false } },
    };
  }
}
