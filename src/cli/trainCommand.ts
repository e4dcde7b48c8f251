/** `gpt-lab train`: one run through the lab's facade, as New run starts one in the app (throughService.ts). */
import { PhaseProfile, timePhase } from '../engine/train/profile';
import type { ConfigOverrides } from '../shared/api';
import { parseName, trainOverrides } from './args';
import type { TrainCommandOptions } from './commands';
import { SignalStop } from './interrupt';
import { printResult, progressReporter } from './runOutput';
import { followRun, openService } from './throughService';

export async function trainCommand(opts: TrainCommandOptions): Promise<void> {
  // `--seeds k` trains a group of runs in this process, on the lab's use-cases directly (not through the service yet).
  if (opts.seeds !== undefined) return (await import('./commands')).trainSeedsCommand({ ...opts, seeds: opts.seeds });
  // performance.now() counts from the process's start: what came before this line is start-up the user waited for.
  const profile = opts.profile ? new PhaseProfile() : undefined;
  profile?.add('boot', 0);
  const config = { ...trainOverrides(opts), ...(opts.backend && { backend: opts.backend }) } as ConfigOverrides;
  const name = parseName('name', opts.name);
  const service = openService(opts, { backend: opts.backend, profile });
  const interrupt = new SignalStop();
  let progress: ReturnType<typeof progressReporter> | undefined;
  try {
    const result = await followRun(
      service,
      async () => {
        const { runId } = await timePhase(profile, 'prepare', () => service.startRun({ config, name }));
        progress = progressReporter((await service.getRun({ runId })).config.steps, 0);
        return runId;
      },
      { step: (row) => progress?.step(row) },
      interrupt,
    );
    progress?.finish();
    printResult(result, opts.json === true, profile?.report());
    if (result.status === 'diverged') process.exitCode = 1;
  } finally {
    interrupt.dispose();
    progress?.finish();
    await service.close();
  }
}
