/** Evaluations, probes and recipes running in the analysis host, from the lab's `job` events. */
import { computed, ref } from 'vue';
import type { JobEvent } from '../../shared/api';
import type { LabClient } from '../client';

const jobs = ref<JobEvent[]>([]);
let installed = false;

/** Progress lines per job (a recipe logs each run it trains). */
const logs = ref<Record<string, string[]>>({});

function onJob(event: JobEvent): void {
  const others = jobs.value.filter((j) => j.id !== event.id);
  const previous = jobs.value.find((j) => j.id === event.id);
  const merged = { ...event, message: event.message ?? previous?.message };
  jobs.value = [...others, merged].slice(-50);
  if (event.state === 'progress' && event.message) logs.value = { ...logs.value, [event.id]: [...(logs.value[event.id] ?? []), event.message] };
}

export function useJobs(lab: LabClient) {
  if (!installed) {
    installed = true;
    lab.onEvent((event) => {
      if (event.channel === 'job') onJob(event.payload);
    });
  }
  return {
    jobs,
    logs,
    active: computed(() => jobs.value.filter((j) => j.state === 'queued' || j.state === 'running' || j.state === 'progress')),
  };
}
