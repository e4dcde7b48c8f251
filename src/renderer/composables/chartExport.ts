/** What each export menu item does for a line chart or a heatmap. */
import { chartToCsv, chartToJson, fileSlug, heatmapToCsv, heatmapToJson } from '../charts/dataExport';
import { heatmapToPng } from '../charts/heatmap';
import { chartToPng } from '../charts/seriesChart';
import type { ChartSpec, ExportKind, HeatmapSpec } from '../charts/spec';
import { chartToSvg, heatmapToSvg, WHITE_PALETTE } from '../charts/svg';
import { saveBlob, saveText, themePalette } from './download';

export async function exportChart(spec: ChartSpec, kind: ExportKind): Promise<void> {
  const name = fileSlug(spec.title);
  switch (kind) {
    case 'png-white':
      return saveBlob(await chartToPng(spec, WHITE_PALETTE), `${name}.png`);
    case 'png-theme':
      return saveBlob(await chartToPng(spec, themePalette()), `${name}.png`);
    case 'svg':
      return saveText(chartToSvg(spec), `${name}.svg`, 'image/svg+xml');
    case 'csv':
      return saveText(chartToCsv(spec), `${name}.csv`, 'text/csv');
    case 'json':
      return saveText(chartToJson(spec), `${name}.json`, 'application/json');
  }
}

export async function exportHeatmap(spec: HeatmapSpec, kind: ExportKind): Promise<void> {
  const name = fileSlug(spec.title);
  switch (kind) {
    case 'png-white':
      return saveBlob(await heatmapToPng(spec, WHITE_PALETTE), `${name}.png`);
    case 'png-theme':
      return saveBlob(await heatmapToPng(spec, themePalette()), `${name}.png`);
    case 'svg':
      return saveText(heatmapToSvg(spec), `${name}.svg`, 'image/svg+xml');
    case 'csv':
      return saveText(heatmapToCsv(spec), `${name}.csv`, 'text/csv');
    case 'json':
      return saveText(heatmapToJson(spec), `${name}.json`, 'application/json');
  }
}
