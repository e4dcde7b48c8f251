/**
 * The runs picked for comparison, shared by Runs, Compare, Extrapolation and Probes (a sweep lands with its runs
 * picked). Kept for the browser tab, so a reload keeps the selection.
 */
import { ref, watch } from 'vue';

const STORAGE_KEY = 'gpt-lab-selection';

function initial(): number[] {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? '[]') as unknown;
    return Array.isArray(saved) ? saved.filter((id): id is number => Number.isInteger(id) && id > 0) : [];
  } catch {
    return [];
  }
}

const selected = ref<number[]>(initial());
watch(selected, (ids) => sessionStorage.setItem(STORAGE_KEY, JSON.stringify(ids)), { deep: true });

export function useSelection() {
  return {
    selected,
    isSelected: (runId: number) => selected.value.includes(runId),
    toggle(runId: number): void {
      selected.value = selected.value.includes(runId) ? selected.value.filter((id) => id !== runId) : [...selected.value, runId];
    },
    set(ids: readonly number[]): void {
      selected.value = [...new Set(ids)];
    },
    /** Drops runs that no longer exist. */
    keepOnly(existing: readonly number[]): void {
      const keep = selected.value.filter((id) => existing.includes(id));
      if (keep.length !== selected.value.length) selected.value = keep;
    },
  };
}
