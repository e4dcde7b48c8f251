/** `gpt-lab sample`, `export-model` and `import-model`: a stored run's model in and out of the lab. */
import { initBackend } from '../engine/backend';
import { exportRunModel, importRunModel } from '../lab/modelTransfer';
import { sampleRun } from '../lab/sampling';
import { defaultDbPath } from '../store';
import { UsageError } from './args';
import { openStore, parseRunId } from './commands';

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

export function exportModelCommand(rawId: string, opts: { db?: string; out: string; json?: boolean }): void {
  const runId = parseRunId(rawId);
  const dbPath = opts.db ?? defaultDbPath();
  const store = openStore(opts, true);
  try {
    if (!store.getRun(runId)) throw new UsageError(`run ${runId} does not exist in this database`);
    const result = exportRunModel(store, runId, opts.out, dbPath);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const layout = result.layout === 'gpt2'
      ? "Hugging Face GPT-2 layout (GPT2LMHeadModel.from_pretrained loads it)"
      : `GPT Lab's own tensor names (not a GPT-2: ${result.notGpt2Because.join('; ')})`;
    process.stdout.write(`wrote run ${runId} (step ${result.step}) to ${result.dir} in the ${layout}: ${result.files.join(', ')}\n`);
  } finally {
    store.close();
  }
}

export function importModelCommand(dir: string, opts: { db?: string; data?: string; steps?: string; name?: string; json?: boolean }): void {
  const steps = opts.steps === undefined ? undefined : parseInteger('steps', opts.steps);
  const store = openStore(opts, false);
  try {
    const result = importRunModel(store, dir, { data: opts.data, steps, name: opts.name });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ runId: result.runId, layout: result.layout, config: result.config })}\n`);
      return;
    }
    process.stdout.write(
      `imported ${dir} (${result.layout} layout) as run ${result.runId}: sample it with \`gpt-lab sample ${result.runId}\`, ` +
        `evaluate with \`gpt-lab eval-length ${result.runId}\`, fine-tune on ${result.config.data} with \`gpt-lab resume ${result.runId}\`\n`,
    );
  } finally {
    store.close();
  }
}
