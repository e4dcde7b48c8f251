/**
 * Chart.js line charts of a run's metrics that grow in place: `append` pushes the new points and redraws without
 * animation; nothing is rebuilt while a run trains. Lives outside Vue's reactivity (the component keeps it in a
 * plain variable), because Chart.js mutates its data and deep proxies would make every push expensive.
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

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

export type MetricChartKind = 'loss' | 'optim';

/** Weight of the previous value in the smoothed training loss (debiased, so the first points are not dragged). */
const EMA_DECAY = 0.9;

type Point = ScatterDataPoint;

export class MetricChart {
  private readonly chart: Chart<'line', Point[]>;
  private lastStep = -1;
  private ema = 0;
  private emaSteps = 0;
  private points = 0;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly kind: MetricChartKind,
    private readonly onPoints?: (count: number) => void,
  ) {
    this.chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets: this.datasets() },
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
        },
      },
    });
    this.applyTheme();
  }

  get pointCount(): number {
    return this.points;
  }

  /** Replaces everything with `rows` (a run's stored history). */
  reset(rows: readonly MetricRowData[]): void {
    for (const dataset of this.chart.data.datasets) dataset.data = [];
    this.lastStep = -1;
    this.ema = 0;
    this.emaSteps = 0;
    this.points = 0;
    this.append(rows);
  }

  /** Adds rows newer than the last step shown; older or repeated steps (history vs live overlap) are skipped. */
  append(rows: readonly MetricRowData[]): void {
    let added = 0;
    const sets = this.chart.data.datasets;
    for (const row of rows) {
      if (row.step <= this.lastStep) continue;
      this.lastStep = row.step;
      const x = row.step + 1;
      if (this.kind === 'loss') {
        if (row.trainLoss !== null) {
          this.ema = EMA_DECAY * this.ema + (1 - EMA_DECAY) * row.trainLoss;
          this.emaSteps++;
          sets[0].data.push({ x, y: row.trainLoss });
          sets[1].data.push({ x, y: this.ema / (1 - EMA_DECAY ** this.emaSteps) });
          added++;
        }
        if (row.valLoss !== null) {
          sets[2].data.push({ x, y: row.valLoss });
          added++;
        }
      } else {
        if (row.lr !== null) sets[0].data.push({ x, y: row.lr });
        if (row.gradNorm !== null) sets[1].data.push({ x, y: row.gradNorm });
        added++;
      }
    }
    this.points += added;
    if (added > 0 || rows.length === 0) this.chart.update('none');
    this.onPoints?.(this.points);
  }

  setLogScale(log: boolean): void {
    this.chart.options.scales = this.scales(log);
    this.applyTheme();
  }

  /** Re-reads the theme's colours (after a theme switch). */
  applyTheme(): void {
    const text = cssVar('--muted') || '#666';
    const grid = cssVar('--grid') || 'rgba(128,128,128,0.2)';
    const colors = this.kind === 'loss' ? [cssVar('--series-train-raw'), cssVar('--series-train'), cssVar('--series-val')] : [cssVar('--series-lr'), cssVar('--series-grad')];
    this.chart.data.datasets.forEach((dataset, i) => {
      dataset.borderColor = colors[i] || '#888';
      dataset.backgroundColor = colors[i] || '#888';
    });
    for (const scale of Object.values(this.chart.options.scales ?? {})) {
      if (!scale) continue;
      scale.ticks = { ...scale.ticks, color: text };
      scale.grid = { ...scale.grid, color: grid };
      if ('title' in scale && scale.title) scale.title = { ...scale.title, color: text };
    }
    const legend = this.chart.options.plugins?.legend;
    if (legend?.labels) legend.labels.color = text;
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }

  private datasets(): ChartDataset<'line', Point[]>[] {
    const line = { pointRadius: 0, borderWidth: 1.5, tension: 0, spanGaps: true };
    if (this.kind === 'loss')
      return [
        { ...line, label: 'train', data: [], borderWidth: 1 },
        { ...line, label: 'train (EMA)', data: [], borderWidth: 2 },
        { ...line, label: 'val', data: [], pointRadius: 3, borderWidth: 2 },
      ];
    return [
      { ...line, label: 'learning rate', data: [], yAxisID: 'y' },
      { ...line, label: 'grad norm', data: [], yAxisID: 'y1', borderWidth: 1 },
    ];
  }

  private scales(log: boolean): NonNullable<Chart<'line', Point[]>['options']['scales']> {
    const x = { type: 'linear' as const, title: { display: true, text: 'step' }, ticks: { maxTicksLimit: 8 } };
    if (this.kind === 'loss') return { x, y: { type: log ? ('logarithmic' as const) : ('linear' as const), title: { display: true, text: 'loss' } } };
    return {
      x,
      y: { type: 'linear' as const, position: 'left' as const, title: { display: true, text: 'lr' }, ticks: { callback: (v: string | number) => Number(v).toExponential(2) } },
      y1: { type: 'linear' as const, position: 'right' as const, title: { display: true, text: 'grad norm' }, grid: { drawOnChartArea: false } },
    };
  }
}
