/**
 * `gpt-lab`: train, list and export runs from the command line. Thin over the lab runner and the store.
 * Exit codes: 0 success, 1 a run or command failed, 2 bad arguments or input (nothing written).
 */
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_NAMES } from '../engine/backendNames';
import { ATTN_LOG_SCALINGS, ConfigError, NORM_PLACEMENTS, NORM_TYPES, PRESET_NAMES, TOKENIZER_KINDS } from '../engine/config';
import { DataError } from '../engine/data/errors';
import { SCHEME_NAMES, allKnobs } from '../engine/model/positional/registry';
import { ROPE_SCALINGS } from '../engine/model/positional/rope';
import { MAX_SEEDS } from '../lab/seedGroup';
import { StoreError } from '../store';
import { RunConflictError } from '../lab/runner';
import { FinetuneError } from '../lab/finetune';
import { UsageError, describeConfigError } from './args';
import { InterruptedError } from './interrupt';
import { exportCommand, runsCommand, resumeCommand } from './commands';
import { trainCommand } from './trainCommand';
import { exportModelCommand, importModelCommand, sampleCommand } from './modelCommands';
import { SampleError } from '../lab/sampling';
import { ModelTransferError } from '../lab/modelTransfer';
import { ModelFormatError } from '../engine/interop/gpt2';
import { PROBE_KINDS } from '../engine/eval/probes';

/**
 * A command whose module is loaded only when it runs: `train` then starts without the queue client (bullmq and
 * ioredis, ~0.3 s of CPU) and the analysis code it never uses.
 */
function lazy<M extends Record<K, (...args: never[]) => unknown>, K extends keyof M>(load: () => Promise<M>, name: K) {
  return async (...args: Parameters<M[K]>): Promise<void> => {
    await (await load())[name](...args);
  };
}
const analysis = () => import('./analysisCommands');

function trainOptions(command: Command): Command {
  command
    .option('--preset <name>', `model size (shakespeare-char also sets nanoGPT's block, batch, steps and lr): ${PRESET_NAMES.join(', ')}`)
    .option('--data <source>', 'a text file or builtin:NAME (copy, reverse, add, count, induction, toy-english, shakespeare)')
    .option('--tokenizer <kind>', `${TOKENIZER_KINDS.join(', ')}: characters of the data, UTF-8 bytes (256), or GPT-2 BPE (50,257)`)
    .option('--pos <scheme>', `positional scheme: ${SCHEME_NAMES.join(', ')}`)
    .option('--norm <placement>', `norm placement: ${NORM_PLACEMENTS.join(', ')}`)
    .option('--norm-type <type>', `norm type: ${NORM_TYPES.join(', ')}`)
    .option('--dropout <p>', 'sets embedding, attention and residual dropout together')
    .option('--dropout-embd <p>', 'embedding dropout')
    .option('--dropout-attn <p>', 'attention-weight dropout')
    .option('--dropout-resid <p>', 'residual dropout')
    .option('--layers <n>', 'transformer blocks')
    .option('--heads <n>', 'attention heads (must divide --embd)')
    .option('--embd <n>', 'embedding width')
    .option('--block <n>', 'training context length')
    .option('--batch <n>', 'sequences per step')
    .option('--steps <n>', 'optimisation steps')
    .option('--lr <x>', 'peak learning rate')
    .option('--min-lr <x>', 'learning rate at the end of the cosine decay')
    .option('--warmup <n>', 'warmup steps (default: 0, or 10% for post-norm)')
    .option('--weight-decay <x>', 'AdamW weight decay on matmul weights')
    .option('--grad-clip <x>', 'global gradient-norm clip (0 = off)')
    .option('--seed <n>', 'random seed')
    .option('--threads <auto|n>', "threads sharing every batch on the wasm/cpu backends (data parallel); 'auto' (default): every core, at most one per batch row")
    .option('--eval-every <n>', 'validation interval in steps (0 = automatic: about 20 points per run)')
    .option('--sample-every <n>', 'sample interval in steps (0 = off)')
    .option('--checkpoint-every <n>', 'checkpoint interval in steps (0 = only at the end)')
    .option('--no-attn-scale', 'ablation: drop the 1/sqrt(d_k) attention scaling')
    .option('--attn-log-scaling <kind>', `log-n attention scaling past the block: ${ATTN_LOG_SCALINGS.join(', ')} (fixed: logits × log(n)/log(block))`)
    .option('--no-token-embedding', 'ablation: positions only, no token embedding')
    .option('--random-positions <L>', 'randomized positions (Ruoss et al. 2023): each sequence reads sorted positions drawn from [0, L), L ≥ block (0 = off)');
  for (const knob of allKnobs()) command.option(`--${knob.flag} <x>`, `${knob.help} (--pos ${knob.schemes.join('/')})`);
  return command;
}

function dbOption(command: Command): Command {
  return command.option('--db <path>', 'database file (default: $GPT_LAB_DB or the user data directory)');
}

export function buildProgram(): Command {
  const program = new Command('gpt-lab')
    .description('Train small GPT models and study positional encodings')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  const train = dbOption(trainOptions(program.command('train').description('train a model and log the run')))
    .option('--name <name>', 'run name')
    .option('--seeds <k>', `train k runs on seeds seed, seed+1, … as one group (1–${MAX_SEEDS}) and report mean ± std of the final val loss`)
    .addOption(new Option('--backend <name>', 'force a backend (webgpu takes even a software adapter); stored with the run').choices([...BACKEND_NAMES]))
    .option('--json', 'print one JSON object with the result on stdout')
    .option('--profile', 'time every phase of the run (start-up, steps, evaluation, sampling, store, …): a table on stderr, or `profile` in --json');
  train.action(trainCommand);

  dbOption(program.command('resume').description('continue an interrupted or stopped run from its last checkpoint').argument('<runId>'))
    .option('--threads <auto|n>', "threads for the rest of the run (default: the run's own); the numbers do not depend on it")
    .option('--json', 'print the result as JSON')
    .action(resumeCommand);

  dbOption(program.command('finetune').description("continue a finished run's weights at a longer block, as a new run linked to it (Position Interpolation's protocol)").argument('<runId>'))
    .requiredOption('--block <n|kx>', "the new block: a length, or a multiple of the parent's block (2x)")
    .requiredOption('--steps <n>', 'fine-tuning steps (PI: a few hundred)')
    .option('--lr <x>', "peak learning rate (default: the parent's)")
    .addOption(new Option('--rope-scaling <method>', "rope runs only: train with this extension fixed at s = new block / parent's block").choices(ROPE_SCALINGS))
    .option('--name <name>', 'run name')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./finetuneCommand'), 'finetuneCommand'));

  dbOption(program.command('runs').description('list runs')).option('--json', 'print a JSON array').action(runsCommand);

  dbOption(program.command('export').description("write a run's metrics").argument('<runId>'))
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(exportCommand);

  dbOption(program.command('sample').description("generate text from a stored run's latest weights").argument('<runId>'))
    .option('--prompt <text>', 'text to continue', '\n')
    .option('--tokens <n>', 'tokens to generate', '200')
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', '0.8')
    .option('--top-k <k>', 'sample among the k most likely tokens only (0 = all)', '0')
    .option('--seed <n>', 'random seed: the same seed gives the same text', '1337')
    .option('--json', 'print the text, every token with its probability, and the context window as JSON')
    .action(sampleCommand);

  dbOption(program.command('export-model').description("write a run's weights as model.safetensors + config.json (GPT-2's layout where it fits) + tokenizer").argument('<runId>'))
    .requiredOption('--out <dir>', 'a new or empty directory')
    .option('--json', 'print the result as JSON')
    .action(exportModelCommand);

  dbOption(program.command('import-model').description('store an exported model (GPT Lab or Hugging Face GPT-2 safetensors) as a run to sample, evaluate or fine-tune').argument('<dir>'))
    .option('--data <source>', 'data to evaluate and fine-tune on (default: what the export names)')
    .option('--steps <n>', 'steps a fine-tune (`gpt-lab resume`) trains to')
    .option('--name <name>', 'run name')
    .option('--json', 'print the result as JSON')
    .action(importModelCommand);

  dbOption(program.command('eval-length').description('loss, perplexity and accuracy at several lengths (default 1, 2, 4, 8 × block)').argument('<runId>'))
    .option('--lengths <list>', 'comma-separated evaluation lengths, e.g. 32,64,128,256')
    .addOption(new Option('--rope-scaling <method>', 'rope runs only: stretch the rotation per length (s = length / block): Position Interpolation, NTK-aware base, YaRN').choices(ROPE_SCALINGS))
    .option('--json', 'print the result as JSON')
    .action(lazy(analysis, 'evalLengthCommand'));

  dbOption(program.command('task-length').description('exact-match accuracy of a synthetic-task run at example sizes beyond training').argument('<runId>'))
    .option('--sizes <list>', 'comma-separated example sizes')
    .option('--examples <n>', 'prompts per size (default 24; more narrows the 95% interval printed beside each accuracy)')
    .option('--json', 'print the result as JSON')
    .action(lazy(analysis, 'taskLengthCommand'));

  dbOption(program.command('probe').description('attention maps, position tables, bias matrices, RoPE decay, equivariance').argument('[runId]'))
    .requiredOption('--kind <kind>', `one of ${PROBE_KINDS.join(', ')}`)
    .option('--text <text>', 'input text for attention / equivariance')
    .option('--json', 'print the result as JSON')
    .action(lazy(analysis, 'probeCommand'));

  dbOption(trainOptions(program.command('sweep').description('train and evaluate a grid; --pos, --norm and --dropout take comma-separated lists; finished cells are skipped on re-run')))
    .option('--eval-lengths <list>', 'comma-separated evaluation lengths (default 1, 2, 4, 8 × block)')
    .option('--seeds <k>', `each cell on seeds seed, seed+1, … (1–${MAX_SEEDS}): k times the grid, each cell's seeds one group`)
    .option('--name <prefix>', 'run name prefix')
    .option('--queue <url>', 'train the cells on `gpt-lab worker` processes through Redis: redis://[user:password@]host:port (rediss:// for TLS)')
    .option('--json', 'print the summary as JSON')
    .action(lazy(analysis, 'sweepCommand'));

  program
    .command('worker')
    .description('train sweep cells from a queue until Ctrl+C (which hands the current cell back); holds no database')
    .requiredOption('--queue <url>', 'redis://[user:password@]host:port (rediss:// for TLS); a host beyond loopback needs a password')
    .option('--name <name>', 'how the lab shows this worker (default: hostname-pid)')
    .option('--concurrency <n>', 'cells trained at once (default 1)')
    .addOption(new Option('--backend <name>', 'force a backend (default: the best this machine has)').choices(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']))
    .option('--threads <n>', 'threads per cell on the wasm/cpu backends (default: what the cell asks for)')
    .option('--lock-seconds <n>', 'a killed worker\'s cell goes to another worker after about this long (default 30)')
    .action(lazy(() => import('./workerCommand'), 'workerCommand'));

  const recipe = program.command('recipe').description('one-click experiments that test a textbook claim and give a verdict');
  recipe.command('list').description('the recipes and their claims').option('--json', 'print JSON').action(lazy(analysis, 'recipeListCommand'));
  dbOption(recipe.command('run').description('train, evaluate and judge one recipe').argument('<name>'))
    .option('--quick', 'small models and few steps: minutes on 2 cores')
    .option('--json', 'print the result as JSON')
    .action(lazy(analysis, 'recipeRunCommand'));

  for (const command of [...program.commands, ...recipe.commands]) command.exitOverride();
  return program;
}

/** Map errors to exit codes and one clear message; never a stack trace for a user mistake. */
function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message (unknown option, missing argument, invalid choice…).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`gpt-lab: invalid settings\n${describeConfigError(error)}\n`);
    return 2;
  }
  if (error instanceof InterruptedError) {
    process.stderr.write(`gpt-lab: ${error.message}\n`);
    return 130;
  }
  if (error instanceof UsageError || error instanceof DataError || error instanceof StoreError || error instanceof RunConflictError ||
    error instanceof SampleError || error instanceof ModelTransferError || error instanceof ModelFormatError || error instanceof FinetuneError) {
    process.stderr.write(`gpt-lab: ${error.message}\n`);
    return 2;
  }
  process.stderr.write(`gpt-lab: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

/** Runs one command line (`argv` as process.argv has it) and returns the exit code; bin/gpt-lab.mjs sets it. */
export async function runCli(argv: readonly string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return report(error);
  }
}
