/**
 * CLI option values → RunConfig overrides. Every flag's value is checked here or by validateConfig, and every
 * problem is reported with the flag's name, so the user sees all mistakes at once.
 */
import { DEFAULT_CONFIG, PRESET_NAMES, type ConfigError, type PresetName, type RunConfig, type RunConfigInput } from '../engine/config';
import { resolve } from 'node:path';
import { allKnobs } from '../engine/model/positional/registry';
import { isFileSource } from '../lab/corpusLoader';
import { DECIMAL_INTEGER, DECIMAL_NUMBER, checkName } from '../shared/limits';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Config field → CLI flag, for translating validation problems back into the user's words. */
export const FLAG_OF_FIELD: Record<string, string> = {
  data: 'data',
  tokenizer: 'tokenizer',
  nLayer: 'layers',
  nHead: 'heads',
  nEmbd: 'embd',
  blockSize: 'block',
  batchSize: 'batch',
  steps: 'steps',
  lr: 'lr',
  minLr: 'min-lr',
  warmupSteps: 'warmup',
  weightDecay: 'weight-decay',
  gradClip: 'grad-clip',
  dropoutEmbd: 'dropout-embd',
  dropoutAttn: 'dropout-attn',
  dropoutResid: 'dropout-resid',
  pos: 'pos',
  norm: 'norm',
  normType: 'norm-type',
  attnLogScaling: 'attn-log-scaling',
  seed: 'seed',
  threads: 'threads',
  evalEvery: 'eval-every',
  sampleEvery: 'sample-every',
  checkpointEvery: 'checkpoint-every',
  randomPositions: 'random-positions',
};

/** Train options shared by `train` and `sweep`, as commander gives them (strings, camelCased). */
export type TrainOptionValues = Record<string, string | boolean | undefined>;

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Settings that count something: written as plain decimal integers. */
const INTEGER_FIELDS = new Set<keyof RunConfig>(['nLayer', 'nHead', 'nEmbd', 'blockSize', 'batchSize', 'steps', 'warmupSteps', 'seed', 'evalEvery', 'sampleEvery', 'checkpointEvery', 'randomPositions']);

/**
 * Parse a number option; problems collected rather than thrown one by one. Only decimal is accepted: Number()
 * would also read `0x3`, `0b11`, `Infinity` and `1e999` without a word.
 */
function parseNumber(flag: string, raw: string, problems: string[], integer = false): number | undefined {
  const pattern = integer ? DECIMAL_INTEGER : DECIMAL_NUMBER;
  const value = Number(raw);
  if (!pattern.test(raw) || !Number.isFinite(value)) {
    problems.push(`--${flag}: expected ${integer ? 'a decimal integer' : 'a decimal number'}, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  return value;
}

/** A `--name` value, trimmed; empty or longer than the shared limit is a UsageError. */
export function parseName(flag: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const checked = checkName(raw);
  if ('problem' in checked) throw new UsageError(`--${flag}: ${checked.problem}`);
  return checked.name;
}

/** `schemes`: the --pos values a scheme knob may belong to (a sweep's list; default: --pos, or the default scheme). */
export function trainOverrides(opts: TrainOptionValues, schemes?: readonly string[]): RunConfigInput {
  const problems: string[] = [];
  const overrides: RunConfigInput = {};
  const str = (flag: string): string | undefined => opts[camel(flag)] as string | undefined;

  const preset = str('preset');
  if (preset !== undefined) {
    if ((PRESET_NAMES as string[]).includes(preset)) overrides.preset = preset as PresetName;
    else problems.push(`--preset: must be one of ${PRESET_NAMES.join(', ')}, got ${JSON.stringify(preset)}`);
  }
  for (const field of ['tokenizer', 'pos', 'norm', 'normType', 'attnLogScaling'] as const) {
    const value = str(FLAG_OF_FIELD[field]);
    if (value !== undefined) (overrides as Record<string, unknown>)[field] = value;
  }
  // A file path is stored absolute, so the run resumes and evaluates from any directory.
  const data = str('data');
  if (data !== undefined) overrides.data = data.trim() !== '' && isFileSource(data) ? resolve(data) : data;
  const numeric: (keyof RunConfig)[] = ['nLayer', 'nHead', 'nEmbd', 'blockSize', 'batchSize', 'steps', 'lr', 'minLr', 'warmupSteps', 'weightDecay', 'gradClip', 'dropoutEmbd', 'dropoutAttn', 'dropoutResid', 'seed', 'evalEvery', 'sampleEvery', 'checkpointEvery', 'randomPositions'];
  const dropout = str('dropout');
  if (dropout !== undefined) {
    const p = parseNumber('dropout', dropout, problems);
    if (p !== undefined) Object.assign(overrides, { dropoutEmbd: p, dropoutAttn: p, dropoutResid: p });
  }
  for (const field of numeric) {
    const flag = FLAG_OF_FIELD[field];
    const raw = str(flag);
    if (raw === undefined) continue;
    const value = parseNumber(flag, raw, problems, INTEGER_FIELDS.has(field));
    if (value !== undefined) (overrides as Record<string, unknown>)[field] = value;
  }
  const threads = str('threads');
  if (threads === 'auto') overrides.threads = 'auto';
  else if (threads !== undefined) {
    if (DECIMAL_INTEGER.test(threads)) overrides.threads = Number(threads);
    else problems.push(`--threads: expected a decimal integer, got ${JSON.stringify(threads)} (or 'auto': every core)`);
  }

  // Commander sets these to false only when --no-attn-scale / --no-token-embedding is given.
  if (opts.attnScale === false) overrides.attnScale = false;
  if (opts.tokenEmbedding === false) overrides.tokenEmbedding = false;

  const posOptions: Record<string, number> = {};
  for (const knob of allKnobs()) {
    const raw = str(knob.flag);
    if (raw === undefined) continue;
    const given = schemes ?? [overrides.pos ?? DEFAULT_CONFIG.pos];
    if (!given.some((pos) => knob.schemes.includes(pos))) {
      problems.push(`--${knob.flag}: applies to --pos ${knob.schemes.join(' or ')}, not ${given.join(', ')}`);
      continue;
    }
    const value = parseNumber(knob.flag, raw, problems, knob.integer);
    if (value !== undefined) posOptions[knob.key] = value;
  }
  if (Object.keys(posOptions).length) overrides.posOptions = posOptions;

  if (problems.length) throw new UsageError(problems.join('\n'));
  return overrides;
}

/** A ConfigError in CLI terms: each problem names the flag the user typed. */
export function describeConfigError(error: ConfigError): string {
  return error.problems
    .map((p) => `--${p.flag ?? FLAG_OF_FIELD[p.field] ?? p.field}: ${p.message}`)
    .join('\n');
}
