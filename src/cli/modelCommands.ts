/** `gpt-lab sample`, `export-model` and `import-model`: a stored run's model in and out of the lab. */
import { initBackend } from '../engine/backend';
import { sampleRun } from '../lab/sampling';
import { defaultDbPath, RunStore } from '../store';
import { UsageError } from './args';
import { parseRunId } from './commands';

function openStore(opts: { db?: string }, mustExist: boolean): RunStore {
  return RunStore.open(opts.db ?? defaultDbPath(), { mustExist });
}

function parseInteger(flag: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value)) throw new UsageError(`--${flag}: expected an integer, got ${JSON.stringify(raw)}`);
  return value;
}

function parseFloatFlag(flag: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${flag}: expected a number, got ${JSON.stringify(raw)}`);
  return value;
}

export interface SampleOptionValues {
  db?: string;
  prompt: string;
  tokens: string;
  temperature: string;
  topK: string;
  seed: string;
  json?: boolean;
}

export async function sampleCommand(rawId: string, opts: SampleOptionValues): Promise<void> {
  const request = {
    runId: parseRunId(rawId),
    prompt: opts.prompt,
    tokens: parseInteger('tokens', opts.tokens),
    temperature: parseFloatFlag('temperature', opts.temperature),
    topK: parseInteger('top-k', opts.topK),
    seed: parseInteger('seed', opts.seed),
  };
  const store = openStore(opts, true);
  try {
    if (!store.getRun(request.runId)) throw new UsageError(`run ${request.runId} does not exist in this database`);
    await initBackend();
    // Plain output streams the prompt, then the text as it is generated (nothing before the prompt is known
    // good); --json prints one object at the end.
    let streamed = false;
    const stream = (text: string): void => {
      if (!streamed) process.stdout.write(request.prompt);
      streamed = true;
      process.stdout.write(text);
    };
    const result = await sampleRun(store, request, opts.json ? undefined : (token) => stream(token.text));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    process.stdout.write('\n');
    if (result.slid) process.stderr.write(`gpt-lab: ${result.windowNote}\n`);
  } finally {
    store.close();
  }
}
