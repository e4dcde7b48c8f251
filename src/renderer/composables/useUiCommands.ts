/** Commands from the desktop menu (New run, Open data file…, Export…, Toggle theme) and file downloads. */
import { ref, watch } from 'vue';
import type { LabClient } from '../client';

const pendingDataPath = ref<string | null>(null);

export interface UiCommandHandlers {
  newRun(): void;
  exportCurrent(): void;
  toggleTheme(): void;
}

/** Called once by the app shell. */
export function installUiCommands(lab: LabClient, handlers: UiCommandHandlers): () => void {
  return lab.onEvent((event) => {
    if (event.channel !== 'ui:command') return;
    const { command, path } = event.payload;
    if (command === 'new-run') handlers.newRun();
    else if (command === 'toggle-theme') handlers.toggleTheme();
    else if (command === 'export') handlers.exportCurrent();
    else if (command === 'open-data' && path) {
      pendingDataPath.value = path;
      handlers.newRun();
    }
  });
}

/** The New run form takes a data file chosen from the menu, also when it was chosen before the form was shown. */
export function useDataFileRequests(apply: (path: string) => void): void {
  watch(
    pendingDataPath,
    (path) => {
      if (!path) return;
      apply(path);
      pendingDataPath.value = null;
    },
    { immediate: true },
  );
}

/** Saves a run's data as a file through the browser's download (the desktop app asks where to save). */
export async function downloadRun(lab: LabClient, runId: number, format: 'csv' | 'json'): Promise<void> {
  const file = await lab.exportRun({ runId, format });
  const url = URL.createObjectURL(new Blob([file.content], { type: file.mimeType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
