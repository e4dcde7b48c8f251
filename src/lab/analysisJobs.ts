/**
 * What the analysis host (src/hosts/analysis) does with one job: the same functions the CLI calls, on the host's own
 * store handle. The job's shape is the host's message (a type-only import: nothing of the host is loaded here).
 */
import type { RunStore } from '../store';
import { evalLengthForRun, probeForRun, taskLengthForRun } from './analysis';
import type { AnalysisJob } from '../hosts/analysis/protocol';
import { getRecipe, runRecipe } from './recipes';
import { sampleRun, type SampledToken } from './sampling';

export interface JobReporter {
  log(message: string): void;
  token(index: number, token: SampledToken): void;
}

export async function runAnalysisJob(store: RunStore, job: AnalysisJob, report: JobReporter): Promise<unknown> {
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
      return runRecipe(recipe, { store, quick: job.quick, log: report.log });
    }
    case 'sampleText': {
      let index = 0;
      return sampleRun(store, job, (token) => report.token(index++, token));
    }
  }
}
