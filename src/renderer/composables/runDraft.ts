/**
 * The New run form's state, kept outside the view so it survives the view closing: after Train the next run starts
 * from the last settings, and Clone (Runs, Live, Compare) fills it from a stored run before opening New run.
 */
import { reactive, ref } from 'vue';
import type { RunInfo } from '../../shared/api';
import type { RunForm } from './configForm';
import { navigate } from './useRoute';

const form = reactive<RunForm>({
  name: '',
  preset: 'nano',
  tokenizer: 'char',
  dataKind: 'builtin',
  builtin: 'toy-english',
  filePath: '',
  uploaded: null,
  pos: 'learned',
  posOptions: {},
  norm: 'pre',
  normType: 'layer',
  attnLogScaling: 'none',
  randomPositions: 0,
  dropout: 0,
  separateDropout: false,
  warmupAuto: true,
  warmupSteps: 0,
  threadsAuto: true,
  backend: 'auto',
  numbers: {},
});
/** Whether the form holds settings yet (the lab's defaults, a previous run's, or a clone's). */
const filled = ref(false);
/** The run the form was cloned from, until New run has applied it. */
const pendingClone = ref<RunInfo | null>(null);
/** The run the form was last cloned from, for the view to say so. */
const clonedFrom = ref<{ id: number; name: string } | null>(null);

export function useRunDraft() {
  return { form, filled, pendingClone, clonedFrom };
}

/** Opens New run with `run`'s settings. */
export function cloneRun(run: RunInfo): void {
  pendingClone.value = run;
  navigate('new');
}
