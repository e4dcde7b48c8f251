/** What the analysis host does with one job: the same functions the CLI calls, on the host's own store handle. */
import type { RunStore } from '../store';
import { evalLengthForRun, probeForRun, taskLengthForRun } from './analysis';
import type { AnalysisJob } from './analysisProtocol';
import { getRecipe, runRecipe } from './recipes';

export async function runAnalysisJob(store: RunStore, job: AnalysisJob, log: (message: string) => void): Promise<unknown> {
  switch (job.kind) {
    case 'evalLength':
      return evalLengthForRun(store, job.runId, job.lengths, job.ropeScaling);
    case 'taskLength':
      return taskLengthForRun(store, job.runId, job.sizes);
    case 'probe':
      return probeForRun(store, job.runId, job.probeKind, job.text);
    case 'runRecipe': {
      const recipe = getRecipe(job.name);
      if (!recipe) throw new Error(`no recipe named ${JSON.stringify(job.name)}`);
      return runRecipe(recipe, { store, quick: job.quick, log });
    }
  }
}
