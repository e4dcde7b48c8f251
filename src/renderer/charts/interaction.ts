/**
 * What every on-screen chart does with the mouse: the wheel (or a pinch) zooms the x axis, dragging pans, a double
 * click resets (chartjs-plugin-zoom). Each chart also writes what the user did to it onto its box (data-zoomed,
 * data-hidden: series the legend hides), so that state is visible to tests as well as on screen.
 */
import { Chart, type Plugin } from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';

const describePlugin: Plugin = {
  id: 'gptLabDescribe',
  afterUpdate(chart) {
    const box = chart.canvas.parentElement;
    if (!box) return;
    box.dataset.zoomed = String(chart.isZoomedOrPanned());
    box.dataset.hidden = String(chart.data.datasets.filter((_, i) => !chart.isDatasetVisible(i)).length);
  },
};

Chart.register(zoomPlugin, describePlugin);

/** The zoom plugin's options: along x only (curves are read along the steps); y follows the axis's own bounds. */
export const ZOOM_OPTIONS = {
  zoom: { wheel: { enabled: true }, pinch: { enabled: true }, mode: 'x' as const },
  pan: { enabled: true, mode: 'x' as const },
};

/** Resets zoom and pan on a double click on the canvas; returns the remover. */
export function resetZoomOnDoubleClick(canvas: HTMLCanvasElement, chart: () => Chart | null): () => void {
  const reset = (): void => chart()?.resetZoom();
  canvas.addEventListener('dblclick', reset);
  return () => canvas.removeEventListener('dblclick', reset);
}

/** The labels of the series the legend hides now, so they stay hidden when the chart gets new data. */
export function hiddenLabels(chart: Chart): Set<string> {
  return new Set(chart.data.datasets.filter((_, i) => !chart.isDatasetVisible(i)).map((d) => d.label ?? ''));
}
