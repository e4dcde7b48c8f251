/**
 * Chart.js drawing of a ChartSpec, on screen and off screen (PNG export at any pixel ratio). The Chart instance is
 * owned by a plain object, never by Vue's reactivity; series are downsampled (min/max per bucket) before they
 * reach Chart.js, so a chart of many long runs stays quick.
 */
import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type Plugin,
  type ScatterDataPoint,
} from 'chart.js';
import { downsampleMinMax } from './downsample';
import { tickFormatter, type ChartSpec, type SeriesSpec } from './spec';
import type { SvgPalette } from './svg';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Filler);

type LineChart = Chart<'line', ScatterDataPoint[]>;

/** Points per series handed to Chart.js at most (about two per horizontal pixel). */
const MAX_BUCKETS = 800;

interface ChartExtras {
  markers?: ChartSpec['markers'];
  palette: SvgPalette;
}

/** Vertical reference lines with a label, and (for exports) the background colour. */
const extrasPlugin: Plugin<'line'> = {
  id: 'gptLabExtras',
  beforeDraw(chart) {
    const extras = (chart.options.plugins as { gptLabExtras?: ChartExtras & { fill?: boolean } }).gptLabExtras;
    if (!extras?.fill) return;
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.fillStyle = extras.palette.background;
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
  afterDatasetsDraw(chart) {
    const extras = (chart.options.plugins as { gptLabExtras?: ChartExtras }).gptLabExtras;
    const x = chart.scales.x;
    if (!extras?.markers?.length || !x) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.strokeStyle = extras.palette.muted;
    ctx.fillStyle = extras.palette.muted;
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const m of extras.markers) {
      const px = x.getPixelForValue(m.x);
      if (px < chartArea.left - 1 || px > chartArea.right + 1) continue;
      ctx.beginPath();
      ctx.moveTo(px, chartArea.bottom);
      ctx.lineTo(px, chartArea.top);
      ctx.stroke();
      ctx.fillText(m.label, px, chartArea.top + 12);
    }
    ctx.restore();
  },
};

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A band as two unlabelled datasets, the second filled up to the first; the legend leaves them out. */
function bandDatasets(s: SeriesSpec): object[] {
  if (!s.band) return [];
  const edge = (ys: readonly number[]): ScatterDataPoint[] => s.x.map((x, i) => ({ x, y: ys[i]! }));
  const common = { label: '', borderWidth: 0, pointRadius: 0, pointHoverRadius: 0, tension: 0, borderColor: 'transparent' };
  return [
    { ...common, data: edge(s.band.high), fill: false },
    { ...common, data: edge(s.band.low), fill: '-1', backgroundColor: `${s.color}2e` },
  ];
}

function chartConfig(spec: ChartSpec, palette: SvgPalette, opts: { fill?: boolean; title?: boolean } = {}): ChartConfiguration<'line', ScatterDataPoint[]> {
  const lines = spec.series.map((s) => {
    const keep = (x: number, y: number | null): boolean => y !== null && Number.isFinite(y) && (!spec.yLog || y > 0) && (!spec.xLog || x > 0);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < s.x.length; i++) if (keep(s.x[i], s.y[i])) {
      xs.push(s.x[i]);
      ys.push(s.y[i]!);
    }
    return {
      label: s.label,
      data: downsampleMinMax(xs, ys, MAX_BUCKETS),
      borderColor: s.color,
      backgroundColor: s.color,
      borderWidth: s.width ?? 2,
      borderDash: s.dashed ? [6, 4] : undefined,
      pointRadius: s.points ? 3 : 0,
      pointHoverRadius: 4,
      tension: 0,
      spanGaps: true,
    };
  });
  const datasets = [...spec.series.flatMap(bandDatasets), ...lines] as typeof lines;
  const categories = spec.xCategories;
  const tickText = { color: palette.muted };
  const title = (text: string) => ({ display: true, text, color: palette.text });
  return {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: !opts.fill,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: {
          type: spec.xLog ? 'logarithmic' : 'linear',
          title: title(spec.xLog ? `${spec.xLabel} (log)` : spec.xLabel),
          grid: { color: palette.grid },
          ticks: {
            ...tickText,
            maxTicksLimit: categories ? categories.length : 8,
            ...(categories ? { stepSize: 1, autoSkip: false, maxRotation: 40 } : {}),
            callback: (v: string | number, _i: number, ticks: { value: number }[]) => (categories ? categories[Number(v)] ?? '' : tickFormatter(ticks.map((t) => t.value))(Number(v))),
          },
        },
        y: {
          type: spec.yLog ? 'logarithmic' : 'linear',
          title: title(spec.yLog ? `${spec.yLabel} (log)` : spec.yLabel),
          grid: { color: palette.grid },
          ticks: { ...tickText, callback: (v: string | number, _i: number, ticks: { value: number }[]) => tickFormatter(ticks.map((t) => t.value))(Number(v)) },
        },
      },
      plugins: {
        title: { display: !!opts.title, text: spec.title, color: palette.text, font: { size: 15 } },
        legend: {
          position: 'top',
          align: 'end',
          labels: {
            boxWidth: 14,
            boxHeight: 2,
            color: palette.text,
            // Long run names would fill the chart with legend; the tooltip and the exports keep them whole.
            generateLabels: (chart: Chart) =>
              Chart.defaults.plugins.legend.labels
                .generateLabels(chart)
                .filter((item) => item.text !== '')
                .map((item) => ({ ...item, text: shorten(item.text, opts.fill ? 60 : 34) })),
          },
        },
        tooltip: { callbacks: { title: (items: { parsed: { x: number | null } }[]) => (categories ? categories[Number(items[0]?.parsed.x)] ?? '' : `${spec.xLabel} ${items[0]?.parsed.x ?? ''}`) } },
        gptLabExtras: { markers: spec.markers, palette, fill: opts.fill },
      } as never,
    },
    plugins: [extrasPlugin],
  };
}

/** A chart on the page. `show` swaps in a new spec; the Chart.js instance is reused. */
export class SeriesChart {
  private chart: LineChart | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  show(spec: ChartSpec, palette: SvgPalette): void {
    const config = chartConfig(spec, palette);
    if (!this.chart) {
      this.chart = new Chart(this.canvas, config);
      return;
    }
    this.chart.data = config.data;
    this.chart.options = config.options!;
    this.chart.update('none');
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}

/** A PNG of the chart drawn off screen at `pixelRatio` (2 = high DPI) on the palette's background. */
export async function chartToPng(spec: ChartSpec, palette: SvgPalette, size = { width: 900, height: 520 }, pixelRatio = 2): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.style.width = `${size.width}px`;
  canvas.style.height = `${size.height}px`;
  canvas.width = size.width;
  canvas.height = size.height;
  const config = chartConfig(spec, palette, { fill: true, title: true });
  config.options = { ...config.options, devicePixelRatio: pixelRatio };
  const holder = document.createElement('div');
  holder.style.cssText = `position:fixed;left:-10000px;top:0;width:${size.width}px;height:${size.height}px`;
  holder.append(canvas);
  document.body.append(holder);
  const chart = new Chart(canvas, config);
  try {
    return await canvasBlob(canvas);
  } finally {
    chart.destroy();
    holder.remove();
  }
}

export function canvasBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png'));
}
