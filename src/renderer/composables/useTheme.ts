/** Light or dark, from the user's last choice or the system; applied as data-theme on <html> for the CSS variables. */
import { ref, watch } from 'vue';

export type Theme = 'light' | 'dark';
const STORAGE_KEY = 'gpt-lab-theme';

function initialTheme(): Theme {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const theme = ref<Theme>(initialTheme());
document.documentElement.dataset.theme = theme.value;
watch(theme, (value) => {
  document.documentElement.dataset.theme = value;
  localStorage.setItem(STORAGE_KEY, value);
});

export function useTheme() {
  return {
    theme,
    toggleTheme: () => {
      theme.value = theme.value === 'dark' ? 'light' : 'dark';
    },
  };
}

/** A CSS variable's current value (charts read their colours from the theme). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
