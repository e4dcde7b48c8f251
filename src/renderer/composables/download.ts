/** Saving files from the renderer (browser download; the desktop app asks where) and the chart palettes. */
import type { SvgPalette } from '../charts/svg';
import { cssVar } from './useTheme';

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function saveText(text: string, filename: string, mimeType: string): void {
  saveBlob(new Blob([text], { type: mimeType }), filename);
}

/** The current theme's colours, for charts on screen and "theme background" exports. */
export function themePalette(): SvgPalette {
  return {
    background: cssVar('--panel') || '#ffffff',
    text: cssVar('--text') || '#1c1f24',
    muted: cssVar('--muted') || '#667080',
    grid: cssVar('--grid') || 'rgba(100,110,130,0.15)',
    axis: cssVar('--border') || '#dde1e7',
  };
}
