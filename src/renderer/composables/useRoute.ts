/** A small hash router: #/new, #/live/12, #/runs/12, #/compare, #/extrapolation, #/probes, #/sweeps, #/recipes, #/playground/12. */
import { readonly, ref } from 'vue';

export type ViewName = 'new' | 'live' | 'runs' | 'compare' | 'extrapolation' | 'probes' | 'sweeps' | 'recipes' | 'playground';
export interface Route {
  view: ViewName;
  runId: number | null;
}

const VIEWS: readonly ViewName[] = ['new', 'live', 'runs', 'compare', 'extrapolation', 'probes', 'sweeps', 'recipes', 'playground'];

export function parseHash(hash: string): Route {
  const [view, id] = hash.replace(/^#\/?/, '').split('/');
  const runId = Number(id);
  return {
    view: VIEWS.includes(view as ViewName) ? (view as ViewName) : 'new',
    runId: Number.isInteger(runId) && runId > 0 ? runId : null,
  };
}

const current = ref<Route>(parseHash(window.location.hash));
window.addEventListener('hashchange', () => {
  current.value = parseHash(window.location.hash);
});

export function navigate(view: ViewName, runId: number | null = null): void {
  const hash = `#/${view}${runId === null ? '' : `/${runId}`}`;
  if (window.location.hash !== hash) window.location.hash = hash;
  current.value = { view, runId };
}

export function useRoute() {
  return { route: readonly(current), navigate };
}
