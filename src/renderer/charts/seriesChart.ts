/**
 * Chart.js drawing of a ChartSpec, on screen and off screen (PNG export at any pixel ratio). The Chart instance is
 * owned by a plain object, never by Vue's reactivity; series are downsampled (min/max per bucket) before they
 * reach Chart.js, so a chart of many long runs stays quick.
 */
import {
  BarController,
  BarElement,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Title,
  Tooltip,
  type ChartConfiguration,
  type Plugin,
  type ScatterDataPoint,
} from 'chart.js';
import { downsampleMinMax } from './downsample';
import { hiddenLabels, resetZoomOnDoubleClick, ZOOM_OPTIONS } from './interaction';
import { tickFormatter, type ChartSpec } from './spec';
import type { SvgPalette } from './svg';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Title, Tooltip);

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
    extras.markers.forEach((m, i) => {
      const px = x.getPixelForValue(m.x);
      if (px < chartArea.left - 1 || px > chartArea.right + 1) return;
      ctx.beginPath();
      ctx.moveTo(px, chartArea.bottom);
      ctx.lineTo(px, chartArea.top);
      ctx.stroke();
      // Labels stay inside the plot (never over the axis ticks) and on their own rows when there are several.
      const width = ctx.measureText(m.label).width;
      ctx.textAlign = px - width / 2 < chartArea.left ? 'left' : px + width / 2 > chartArea.right ? 'right' : 'center';
      const offset = ctx.textAlign === 'left' ? 4 : ctx.textAlign === 'right' ? -4 : 0;
      ctx.fillText(m.label, px + offset, chartArea.top + 12 + 14 * i);
    });
    ctx.restore();
  },
};

/** `fill`: drawn off screen for an export (background, title, no zoom); `hidden`: series labels the legend hides. */
function chartConfig(spec: ChartSpec, palette: SvgPalette, opts: { fill?: boolean; title?: boolean; hidden?: Set<string> } = {}): ChartConfiguration<'line', ScatterDataPoint[]> {
  const datasets = spec.series.map((s) => {
    const keep = (x: number, y: number | null): boolean => y !== null && Number.isFinite(y) && (!spec.yLog || y > 0) && (!spec.xLog || x > 0);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < s.x.length; i++) if (keep(s.x[i], s.y[i])) {
      xs.push(s.x[i]);
      ys.push(s.y[i]!);
    }
    return {
      ...(s.bars ? { type: 'bar' as never, barPercentage: 0.8, categoryPercentage: 0.8 } : {}),
      label: s.label,
      fullName: s.fullName,
      hidden: opts.hidden?.has(s.label) ?? false,
      data: downsampleMinMax(xs, ys, MAX_BUCKETS),
      borderColor: s.color,
      backgroundColor: s.color,
      borderWidth: s.width ?? 2,
      borderDash: s.dashed ? [6, 4] : undefined,
      pointRadius: s.points ? 3 : 0,
      pointBackgroundColor: s.color,
      pointBorderColor: s.color,
      pointHoverRadius: 4,
      tension: 0,
      spanGaps: true,
    };
  });
  const categories = spec.xCategories;
  // Bars stand on their category: half a category of room at each end.
  const barRange = spec.series.some((s) => s.bars) && categories ? { min: -0.5, max: categories.length - 0.5 } : {};
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
          ...barRange,
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
          labels: { boxWidth: 14, boxHeight: 2, color: palette.text },
        },
        tooltip: {
          callbacks: {
            title: (items: { parsed: { x: number | null } }[]) => (categories ? categories[Number(items[0]?.parsed.x)] ?? '' : `${spec.xLabel} ${items[0]?.parsed.x ?? ''}`),
            // Labels are short; the tooltip names the run in full.
            label: (item: { dataset: { label?: string; fullName?: string }; formattedValue: string }) => `${item.dataset.fullName ?? item.dataset.label ?? ''}: ${item.formattedValue}`,
          },
        },
        ...(opts.fill ? {} : { zoom: ZOOM_OPTIONS }),
        gptLabExtras: { markers: spec.markers, palette, fill: opts.fill },
      } as never,
    },
    plugins: [extrasPlugin],
  };
}

/** A chart on the page. `show` swaps in a new spec; the Chart.js instance is reused. */
export class SeriesChart {
  private chart: LineChart | null = null;
  private xLabel = '';
  private readonly offDoubleClick: () => void;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.offDoubleClick = resetZoomOnDoubleClick(canvas, () => this.chart);
  }

  /** New data keeps what the user set: series hidden in the legend stay hidden, a zoom stays (on the same x axis). */
  show(spec: ChartSpec, palette: SvgPalette): void {
    const config = chartConfig(spec, palette, { hidden: this.chart ? hiddenLabels(this.chart) : undefined });
    if (!this.chart) {
      this.chart = new Chart(this.canvas, config);
      this.xLabel = spec.xLabel;
      return;
    }
    const zoomed = this.chart.isZoomedOrPanned() && this.xLabel === spec.xLabel ? this.chart.getZoomedScaleBounds().x : undefined;
    this.xLabel = spec.xLabel;
    this.chart.data = config.data;
    this.chart.options = config.options!;
    this.chart.update('none');
    if (zoomed) this.chart.zoomScale('x', zoomed, 'none');
  }

  destroy(): void {
    this.offDoubleClick();
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
