/**
 * State several views share: the run list, the queue and the backend. Kept fresh by the lab's events; refetched
 * after a dropped event connection comes back. Created once per app (the first useLabState() call starts it).
 */
import { ref, shallowRef, type Ref, type ShallowRef } from 'vue';
import type { BackendInfoData, QueueState, RunInfo } from '../../shared/api';
import type { LabClient } from '../client';
import { useLab } from './lab';

export interface LabState {
  runs: ShallowRef<RunInfo[]>;
  runsLoaded: Ref<boolean>;
  queue: Ref<QueueState>;
  backend: Ref<BackendInfoData | null>;
  backendError: Ref<string | null>;
  connection: Ref<'connecting' | 'open' | 'closed'>;
  refreshRuns(): Promise<void>;
  runById(runId: number): RunInfo | undefined;
}

let state: LabState | null = null;

function createState(lab: LabClient): LabState {
  const runs = shallowRef<RunInfo[]>([]);
  const runsLoaded = ref(false);
  const queue = ref<QueueState>({ running: null, queued: [] });
  const backend = ref<BackendInfoData | null>(null);
  const backendError = ref<string | null>(null);
  const connection = ref<'connecting' | 'open' | 'closed'>('connecting');
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  const refreshRuns = async (): Promise<void> => {
    runs.value = await lab.listRuns();
    runsLoaded.value = true;
  };
  const refreshSoon = (): void => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refreshRuns().catch(() => undefined), 150);
  };
  const refreshQueue = async (): Promise<void> => {
    queue.value = await lab.queueState();
  };

  lab.onEvent((event) => {
    switch (event.channel) {
      case 'run:status': {
        const { runId, status } = event.payload;
        // Show the new status at once; the debounced refetch brings losses, steps and times.
        if (runs.value.some((r) => r.id === runId)) runs.value = runs.value.map((r) => (r.id === runId ? { ...r, status } : r));
        refreshSoon();
        return;
      }
      case 'runs:changed':
        refreshSoon();
        return;
      case 'queue':
        queue.value = event.payload;
        return;
      default:
    }
  });
  let wasClosed = false;
  lab.onConnection((value) => {
    connection.value = value;
    if (value === 'closed') wasClosed = true;
    if (value === 'open' && wasClosed) {
      wasClosed = false;
      void refreshRuns().catch(() => undefined);
      void refreshQueue().catch(() => undefined);
    }
  });

  void refreshRuns().catch(() => undefined);
  void refreshQueue().catch(() => undefined);
  lab
    .backendInfo()
    .then((info) => (backend.value = info))
    .catch((error: unknown) => (backendError.value = error instanceof Error ? error.message : String(error)));

  return {
    runs,
    runsLoaded,
    queue,
    backend,
    backendError,
    connection,
    refreshRuns,
    runById: (runId) => runs.value.find((r) => r.id === runId),
  };
}

export function useLabState(): LabState {
  state ??= createState(useLab());
  return state;
}
