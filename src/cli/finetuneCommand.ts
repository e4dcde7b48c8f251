/** `gpt-lab finetune RUN --block 2x --steps N`: a stored run's weights trained further at a longer block, as a child run. */
import type { RopeScaling } from '../engine/model/positional/rope';
import { createFinetuneRun } from '../lab/finetune';
import { resumeRun } from '../lab/runner';
import { DECIMAL_INTEGER, DECIMAL_NUMBER } from '../shared/limits';
import { UsageError, parseName } from './args';
import { openStore, parseRunId, printResult, progressReporter, resultSummary } from './commands';
import { SignalStop } from './interrupt';

export interface FinetuneOptions {
  db?: string;
  block: string;
  steps: string;
  lr?: string;
  ropeScaling?: RopeScaling;
  name?: string;
  json?: boolean;
}

/** `--block`: a length (128) or a multiple of the parent's block (2x). */
export function parseBlock(raw: string, parentBlock: number): number {
  const multiple = /^(\d+)x$/i.exec(raw);
  if (multiple) return Number(multiple[1]) * parentBlock;
  if (DECIMAL_INTEGER.test(raw)) return Number(raw);
  throw new UsageError(`--block: expected a length or a multiple of the parent's block (e.g. 2x), got ${JSON.stringify(raw)}`);
}

function parseSteps(raw: string): number {
  const steps = Number(raw);
  if (!DECIMAL_INTEGER.test(raw) || steps < 1) throw new UsageError(`--steps: expected a positive decimal integer, got ${JSON.stringify(raw)}`);
  return steps;
}

function parseLr(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const lr = Number(raw);
  if (!DECIMAL_NUMBER.test(raw) || !(lr > 0)) throw new UsageError(`--lr: expected a positive decimal number, got ${JSON.stringify(raw)}`);
  return lr;
}

export async function finetuneCommand(rawId: string, opts: FinetuneOptions): Promise<void> {
  const parentId = parseRunId(rawId);
  const steps = parseSteps(opts.steps);
  const lr = parseLr(opts.lr);
  const name = parseName('name', opts.name);
  const store = openStore(opts, true);
  const interrupt = new SignalStop();
  try {
    const parentBlock = (store.getRun(parentId)?.config as { blockSize?: number } | undefined)?.blockSize ?? 0;
    const blockSize = parseBlock(opts.block, parentBlock);
    const child = createFinetuneRun(store, { parentId, blockSize, steps, lr, ropeScaling: opts.ropeScaling, name });
    const progress = progressReporter(steps, 0);
    const result = await resumeRun(store, child.runId, interrupt.wrap(progress)).finally(() => progress.finish());
    const extension = child.config.posExtension ?? null;
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...resultSummary(result), parentId, blockSize, posExtension: extension })}\n`);
    else {
      process.stdout.write(`fine-tuned run ${parentId} at block ${blockSize}${extension ? ` with ${extension.method} ×${extension.scale}` : ''}: `);
      printResult(result, false);
    }
    if (result.status === 'diverged') process.exitCode = 1;
  } finally {
    interrupt.dispose();
    store.close();
  }
}
