/** The series of the live metric charts (metricChart.ts), apart from Chart.js's runtime so they can be checked alone. */
import type { ChartDataset, ScatterDataPoint } from 'chart.js';

export type MetricChartKind = 'loss' | 'optim';

/** Weight of the previous value in the smoothed training loss (debiased, so the first points are not dragged). */
export const EMA_DECAY = 0.9;

/**
 * The series of a metric chart with their colours from the start: Chart.js resolves point styles once and, in the
 * 'none' updates used for streaming, never again, so a colour set later reached the line and the legend but left the
 * val markers in the default grey. `colors` are in the datasets' order.
 */
export function metricDatasets(kind: MetricChartKind, colors: readonly string[]): ChartDataset<'line', ScatterDataPoint[]>[] {
  const line = { pointRadius: 0, borderWidth: 1.5, tension: 0, spanGaps: true };
  const painted = (i: number) => ({ borderColor: colors[i], backgroundColor: colors[i], pointBackgroundColor: colors[i], pointBorderColor: colors[i] });
  if (kind === 'loss')
    return [
      { ...line, ...painted(0), label: 'train', data: [], borderWidth: 1 },
      { ...line, ...painted(1), label: `train (EMA ${EMA_DECAY})`, data: [], borderWidth: 2 },
      // Few points (about 20 a run): a thick line with markers, drawn on top, so it reads beside the train curve.
      { ...line, ...painted(2), label: 'val', data: [], pointRadius: 4, pointHoverRadius: 6, borderWidth: 2.5, order: -1 },
    ];
  return [
    { ...line, ...painted(0), label: 'learning rate', data: [], yAxisID: 'y' },
    { ...line, ...painted(1), label: 'grad norm', data: [], yAxisID: 'y1', borderWidth: 1 },
  ];
}

