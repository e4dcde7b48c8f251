/** Heatmaps on a canvas (attention maps, position tables, bias matrices): cells coloured like the SVG export. */
import { canvasBlob } from './seriesChart';
import type { HeatmapSpec } from './spec';
import { heatColor, matrixRange, type SvgPalette } from './svg';

/** Draws the cells into the canvas at its CSS size × pixelRatio; returns the cell size in CSS pixels. */
export function drawHeatmap(canvas: HTMLCanvasElement, spec: HeatmapSpec, opts: { cssWidth: number; pixelRatio?: number; background?: string } ): number {
  const rows = spec.values.length;
  const cols = spec.values[0]?.length ?? 0;
  const ratio = opts.pixelRatio ?? window.devicePixelRatio ?? 1;
  const cell = Math.max(1, Math.floor(opts.cssWidth / Math.max(cols, 1)));
  const w = cols * cell;
  const h = rows * cell;
  canvas.width = Math.max(1, Math.round(w * ratio));
  canvas.height = Math.max(1, Math.round(h * ratio));
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return cell;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  if (opts.background) {
    ctx.fillStyle = opts.background;
    ctx.fillRect(0, 0, w, h);
  }
  const [min, max] = matrixRange(spec.values);
  spec.values.forEach((row, r) =>
    row.forEach((v, c) => {
      ctx.fillStyle = heatColor(v, min, max, spec.scale);
      ctx.fillRect(c * cell, r * cell, cell, cell);
    }),
  );
  return cell;
}

/** A PNG of the heatmap with its title, on the palette's background, at 2× pixel density. */
export function heatmapToPng(spec: HeatmapSpec, palette: SvgPalette, pixelRatio = 2): Promise<Blob> {
  const cells = document.createElement('canvas');
  drawHeatmap(cells, spec, { cssWidth: Math.min(640, Math.max(240, (spec.values[0]?.length ?? 1) * 12)), pixelRatio });
  const cssW = cells.width / pixelRatio;
  const cssH = cells.height / pixelRatio;
  const margin = { top: 40, left: 48, right: 16, bottom: 32 };
  const canvas = document.createElement('canvas');
  canvas.width = (margin.left + cssW + margin.right) * pixelRatio;
  canvas.height = (margin.top + cssH + margin.bottom) * pixelRatio;
  const ctx = canvas.getContext('2d')!;
  ctx.scale(pixelRatio, pixelRatio);
  ctx.fillStyle = palette.background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = palette.text;
  ctx.font = '600 14px system-ui, sans-serif';
  ctx.fillText(spec.title, margin.left, 24);
  ctx.drawImage(cells, margin.left, margin.top, cssW, cssH);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = palette.muted;
  ctx.textAlign = 'center';
  ctx.fillText(spec.colLabel, margin.left + cssW / 2, margin.top + cssH + 20);
  ctx.save();
  ctx.translate(16, margin.top + cssH / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(spec.rowLabel, 0, 0);
  ctx.restore();
  return canvasBlob(canvas);
}
