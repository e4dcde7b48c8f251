/**
 * RunConfig: every knob of a training run, its defaults, the named presets, and validation that reports
 * every problem at once with the field name and what is allowed.
 */
import { availableParallelism } from 'node:os';
import { BACKEND_CHOICES, type BackendChoice } from './backendNames';
import { getScheme, SCHEME_NAMES, resolveSchemeOptions } from './model/positional/registry';
import { randomPositionsRefusal } from './model/randomPositions';

export const PRESETS = {
  nano: { nLayer: 3, nHead: 3, nEmbd: 48 },
  micro: { nLayer: 4, nHead: 4, nEmbd: 128 },
  mini: { nLayer: 6, nHead: 6, nEmbd: 192 },
  /** nanoGPT's config/train_shakespeare_char.py scaled to its CPU recipe (its README reports val 1.88). */
  'shakespeare-char': {
    nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batchSize: 12, steps: 2000, lr: 1e-3, minLr: 1e-4,
    dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0,
  },
} as const satisfies Record<string, Partial<RunConfig>>;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export const NORM_PLACEMENTS = ['pre', 'post', 'none'] as const;
export type NormPlacement = (typeof NORM_PLACEMENTS)[number];
export const NORM_TYPES = ['layer', 'rms'] as const;
export type NormType = (typeof NORM_TYPES)[number];
/** Log-n attention scaling (see model/logScaling.ts): none, or the fixed log(n)/log(L_train) past the training length. */
export const ATTN_LOG_SCALINGS = ['none', 'fixed'] as const;
export type AttnLogScaling = (typeof ATTN_LOG_SCALINGS)[number];
/** char: one token per code point seen in the data; byte: the 256 byte values of UTF-8; bpe: GPT-2's 50,257 tokens. */
export const TOKENIZER_KINDS = ['char', 'byte', 'bpe'] as const;
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number];

export interface RunConfig {
  data: string;
  tokenizer: TokenizerKind;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  batchSize: number;
  steps: number;
  lr: number;
  minLr: number;
  /** null = automatic: 0 for pre-norm and no-norm, 10% of steps (max 200) for post-norm, which needs it. */
  warmupSteps: number | null;
  weightDecay: number;
  beta1: number;
  beta2: number;
  gradClip: number;
  dropoutEmbd: number;
  dropoutAttn: number;
  dropoutResid: number;
  pos: string;
  /** The chosen scheme's knobs, complete after resolveConfig (defaults filled in), so runs compare field by field. */
  posOptions: Record<string, number>;
  /**
   * Context extension this run trains and evaluates with at a fixed scale (set by `gpt-lab finetune --rope-scaling`,
   * PI's protocol: scale = the run's block / its parent's). Absent for every other run, so their configs and sweep
   * keys are what they were before the field existed.
   */
  posExtension?: PosExtension;
  norm: NormPlacement;
  normType: NormType;
  /** Causal masking; only probes turn it off. */
  causal: boolean;
  /** Ablation: false removes the 1/sqrt(d_k) score scaling. */
  attnScale: boolean;
  /** Training-time option for length generalisation: 'fixed' multiplies a query's logits by log(n)/log(blockSize) past the block. */
  attnLogScaling: AttnLogScaling;
  /** Ablation: false trains on positions alone, without a token embedding. */
  tokenEmbedding: boolean;
  /**
   * Randomized positions (Ruoss et al. 2023): each sequence reads sorted positions drawn from [0, L) instead of
   * 0…T−1, in training and evaluation. Absent (or 0, which resolveConfig drops) = off, so older configs are unchanged.
   */
  randomPositions?: number;
  seed: number;
  /**
   * Threads that share every batch (data parallel, wasm/cpu backends): 1 trains on this thread alone. Always a count
   * in a resolved config; 'auto' (the default) resolves to this machine's cores, see resolveThreads.
   */
  threads: number;
  /** The backend this run asks for; 'auto' takes the lab's ladder (which skips software WebGPU adapters). */
  backend: BackendChoice;
  /** Steps between val losses; 0 = automatic, about 20 points whatever the run's length (see evalInterval). */
  evalEvery: number;
  evalBatches: number;
  sampleEvery: number;
  sampleLength: number;
  checkpointEvery: number;
  valFraction: number;
}

export interface PosExtension {
  /** One of the scheme's `extensions` other than 'none' (rope: pi, ntk, yarn). */
  method: string;
  /** s > 1: positions stretched s-fold, whatever the length evaluated. */
  scale: number;
}

export const POS_EXTENSION_SCALE_RULE: NumberRule = { min: 1, max: 4096, integer: false };

/** `threads` as a user gives it: a count, or 'auto' for every core the batch can use. */
export type ThreadsChoice = number | 'auto';

/** What resolveConfig takes: any subset of the settings, threads possibly 'auto', and a preset. */
export type RunConfigInput = Omit<Partial<RunConfig>, 'threads'> & { threads?: ThreadsChoice; preset?: PresetName };

export const DEFAULT_CONFIG: Omit<RunConfig, 'threads'> & { threads: ThreadsChoice } = {
  data: 'builtin:toy-english',
  tokenizer: 'char',
  ...PRESETS.nano,
  blockSize: 64,
  batchSize: 32,
  steps: 500,
  lr: 1e-3,
  minLr: 1e-4,
  warmupSteps: null,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  gradClip: 1.0,
  dropoutEmbd: 0,
  dropoutAttn: 0,
  dropoutResid: 0,
  pos: 'learned',
  posOptions: {},
  norm: 'pre',
  normType: 'layer',
  causal: true,
  attnScale: true,
  attnLogScaling: 'none',
  tokenEmbedding: true,
  seed: 1337,
  threads: 'auto',
  backend: 'auto',
  evalEvery: 0,
  evalBatches: 4,
  sampleEvery: 250,
  sampleLength: 120,
  checkpointEvery: 250,
  valFraction: 0.1,
};

export interface ConfigProblem {
  field: string;
  message: string;
  /** The scheme knob's command-line flag, when the field is one (several schemes share knob keys). */
  flag?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
}

const NUMBER_RULES: Partial<Record<keyof RunConfig, NumberRule>> = {
  nLayer: { min: 1, max: 48, integer: true },
  nHead: { min: 1, max: 64, integer: true },
  nEmbd: { min: 2, max: 4096, integer: true },
  blockSize: { min: 1, max: 4096, integer: true },
  batchSize: { min: 1, max: 4096, integer: true },
  steps: { min: 1, max: 10_000_000, integer: true },
  lr: { min: 0, max: 10, integer: false },
  minLr: { min: 0, max: 10, integer: false },
  weightDecay: { min: 0, max: 10, integer: false },
  beta1: { min: 0, max: 0.999999, integer: false },
  beta2: { min: 0, max: 0.999999, integer: false },
  gradClip: { min: 0, max: 1e6, integer: false },
  dropoutEmbd: { min: 0, max: 0.95, integer: false },
  dropoutAttn: { min: 0, max: 0.95, integer: false },
  dropoutResid: { min: 0, max: 0.95, integer: false },
  seed: { min: 0, max: 2 ** 31 - 1, integer: true },
  evalEvery: { min: 0, max: 10_000_000, integer: true },
  evalBatches: { min: 1, max: 1000, integer: true },
  sampleEvery: { min: 0, max: 10_000_000, integer: true },
  sampleLength: { min: 1, max: 10_000, integer: true },
  checkpointEvery: { min: 0, max: 10_000_000, integer: true },
  valFraction: { min: 0.01, max: 0.5, integer: false },
};

export function checkNumber(value: unknown, rule: NumberRule): string | undefined {
  const kind = rule.integer ? 'an integer' : 'a number';
  if (typeof value !== 'number' || !Number.isFinite(value)) return `must be ${kind} in [${rule.min}, ${rule.max}], got ${JSON.stringify(value)}`;
  if (rule.integer && !Number.isInteger(value)) return `must be an integer in [${rule.min}, ${rule.max}], got ${value}`;
  if (value < rule.min || value > rule.max) return `must be in [${rule.min}, ${rule.max}], got ${value}`;
  return undefined;
}

export const THREADS_RULE: NumberRule = { min: 1, max: 16, integer: true };

/**
 * 'auto' → this machine's cores, capped by the batch's rows (each thread takes whole rows) and THREADS_RULE.max. A
 * run's numbers do not depend on its thread count (dropout masks are keyed by global row), so the count is free to
 * follow the machine; resolveConfig stores it resolved, so the run records what it trained with.
 */
export function resolveThreads(choice: ThreadsChoice, batchSize: number, cores = availableParallelism()): number {
  return choice === 'auto' ? Math.max(1, Math.min(cores, batchSize, THREADS_RULE.max)) : choice;
}

function oneOf(value: unknown, allowed: readonly string[]): string | undefined {
  return typeof value === 'string' && allowed.includes(value)
    ? undefined
    : `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`;
}

/** Every problem with `config`, each naming its field and the allowed range or values; empty when valid. */
export function validateConfig(config: RunConfigInput & Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report = (field: string, message: string | undefined): void => {
    if (message) problems.push({ field, message });
  };
  const known = new Set([...Object.keys(DEFAULT_CONFIG), 'posExtension', 'randomPositions']);
  for (const key of Object.keys(config)) if (!known.has(key)) report(key, 'is not a known setting');

  for (const [field, rule] of Object.entries(NUMBER_RULES)) report(field, checkNumber(config[field], rule as NumberRule));
  if (config.warmupSteps !== null) report('warmupSteps', checkNumber(config.warmupSteps, { min: 0, max: 10_000_000, integer: true }));
  report('norm', oneOf(config.norm, NORM_PLACEMENTS));
  report('normType', oneOf(config.normType, NORM_TYPES));
  report('tokenizer', oneOf(config.tokenizer, TOKENIZER_KINDS));
  report('backend', oneOf(config.backend, BACKEND_CHOICES));
  report('attnLogScaling', oneOf(config.attnLogScaling, ATTN_LOG_SCALINGS));
  for (const flag of ['causal', 'attnScale', 'tokenEmbedding'] as const)
    if (typeof config[flag] !== 'boolean') report(flag, `must be true or false, got ${JSON.stringify(config[flag])}`);
  if (typeof config.data !== 'string' || config.data.trim() === '') report('data', 'must name a file or builtin:NAME');

  if (typeof config.threads === 'number') report('threads', checkNumber(config.threads, THREADS_RULE));
  else if (config.threads !== 'auto') report('threads', `must be 'auto' or an integer in [${THREADS_RULE.min}, ${THREADS_RULE.max}], got ${JSON.stringify(config.threads)}`);

  const { nEmbd, nHead, lr, minLr, steps, warmupSteps, threads, batchSize } = config;
  if (Number.isInteger(nEmbd) && Number.isInteger(nHead) && nHead! > 0 && nEmbd! % nHead! !== 0)
    report('nHead', `must divide nEmbd (${nEmbd}); ${nHead} heads do not`);
  if (config.attnLogScaling === 'fixed' && config.blockSize === 1)
    report('attnLogScaling', 'fixed needs a block of at least 2 tokens: the factor log(n)/log(blockSize) divides by log(1) = 0');
  if (typeof lr === 'number' && typeof minLr === 'number' && minLr > lr) report('minLr', `must not exceed lr (${lr}), got ${minLr}`);
  if (typeof warmupSteps === 'number' && typeof steps === 'number' && warmupSteps > steps)
    report('warmupSteps', `must not exceed steps (${steps}), got ${warmupSteps}`);
  if (typeof threads === 'number' && Number.isInteger(threads) && Number.isInteger(batchSize) && batchSize! >= 1 && threads > batchSize!)
    report('threads', `must not exceed batchSize (${batchSize}): each thread takes whole rows of the batch, got ${threads}`);

  const scheme = getScheme(String(config.pos));
  if (!scheme) {
    report('pos', oneOf(config.pos, SCHEME_NAMES));
  } else {
    const posOptions = (config.posOptions ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(posOptions)) {
      const knob = scheme.knobs.find((k) => k.key === key);
      if (!knob) {
        const allowed = scheme.knobs.map((k) => k.key);
        report(`posOptions.${key}`, `is not a knob of ${scheme.name} (${allowed.length ? `its knobs: ${allowed.join(', ')}` : 'it has none'})`);
      } else {
        const message = checkNumber(posOptions[key], knob);
        if (message) problems.push({ field: `posOptions.${key}`, message, flag: knob.flag });
      }
    }
    if (config.posExtension !== undefined) for (const problem of posExtensionProblems(config.posExtension, scheme.name, scheme.extensions ?? [])) problems.push(problem);
    // Model checks need sane dimensions and knobs; they still run when unrelated fields are wrong.
    const shapeOk = !problems.some((p) => ['nEmbd', 'nHead', 'blockSize'].includes(p.field) || p.field.startsWith('posOptions.'));
    if (shapeOk) {
      const options = resolveSchemeOptions(scheme.name, posOptions as Record<string, number>);
      for (const problem of scheme.checkModel?.({ nEmbd: nEmbd!, nHead: nHead!, blockSize: config.blockSize! }, options) ?? [])
        problems.push(problem);
    }
  }
  if (config.randomPositions !== undefined) problems.push(...randomPositionProblems(config.randomPositions, config.blockSize, scheme));
  return problems;
}

function posExtensionProblems(value: unknown, scheme: string, offered: readonly string[]): ConfigProblem[] {
  const methods = offered.filter((m) => m !== 'none');
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [{ field: 'posExtension', message: `must be { method, scale }, got ${JSON.stringify(value)}` }];
  const { method, scale, ...extra } = value as Record<string, unknown>;
  const problems: ConfigProblem[] = Object.keys(extra).map((key) => ({ field: `posExtension.${key}`, message: 'is not a known setting' }));
  if (!methods.length) problems.push({ field: 'posExtension', message: `${scheme} offers no context-extension method to keep` });
  else {
    const wrong = oneOf(method, methods);
    if (wrong) problems.push({ field: 'posExtension.method', message: wrong });
  }
  const badScale = checkNumber(scale, POS_EXTENSION_SCALE_RULE);
  if (badScale) problems.push({ field: 'posExtension.scale', message: badScale });
  return problems;
}

/** L must be a count ≥ the block (each sequence draws T distinct positions) and the scheme must read positions. */
function randomPositionProblems(range: unknown, blockSize: unknown, scheme: ReturnType<typeof getScheme>): ConfigProblem[] {
  const field = 'randomPositions';
  const message = checkNumber(range, RANDOM_POSITIONS_RULE);
  if (message) return [{ field, message }];
  if (range === 0) return [];
  if (typeof blockSize === 'number' && (range as number) < blockSize)
    return [{ field, message: `must be at least blockSize (${blockSize}): each sequence draws blockSize distinct positions below it, got ${range}` }];
  if (scheme && !scheme.readsPositions) return [{ field, message: randomPositionsRefusal(scheme.name) }];
  return [];
}

const RANDOM_POSITIONS_RULE: NumberRule = { min: 0, max: 65_536, integer: true };

/**
 * Defaults, then the preset, then the overrides; knobs of the scheme filled in and threads resolved on this machine
 * (`cores`: its core count, for tests); throws ConfigError if invalid.
 */
export function resolveConfig(overrides: RunConfigInput = {}, cores?: number): RunConfig {
  const { preset, ...rest } = overrides;
  if (preset !== undefined && !(preset in PRESETS))
    throw new ConfigError([{ field: 'preset', message: oneOf(preset, PRESET_NAMES)! }]);
  const base = { ...DEFAULT_CONFIG, ...(preset ? PRESETS[preset] : {}) };
  const { randomPositions, ...merged } = { ...base, ...lrFloor(rest, base.minLr), ...rest };
  const problems = validateConfig({ ...merged, ...(randomPositions === undefined ? {} : { randomPositions }) } as RunConfigInput & Record<string, unknown>);
  if (problems.length) throw new ConfigError(problems);
  const resolved = { ...merged, threads: resolveThreads(merged.threads, merged.batchSize, cores), posOptions: resolveSchemeOptions(merged.pos, merged.posOptions) };
  return randomPositions ? { ...resolved, randomPositions } : resolved;
}

/**
 * A learning rate given without the floor of its cosine decay keeps the floor below it: the base floor, or a tenth
 * of the rate when that is lower (a --lr of 1e-4 would otherwise end above where it started). One rule for every
 * edge (the CLI's --lr, a contract call that names lr alone), so the same settings make the same run.
 */
function lrFloor(given: RunConfigInput, baseFloor: number): { minLr?: number } {
  const { lr, minLr } = given as { lr?: unknown; minLr?: unknown };
  if (minLr !== undefined || typeof lr !== 'number' || !Number.isFinite(lr)) return {};
  return { minLr: Math.min(baseFloor, lr / 10) };
}

/** The warmup actually used: post-norm transformers diverge without one (Xiong et al. 2020). */
export function effectiveWarmup(config: RunConfig): number {
  if (config.warmupSteps !== null) return config.warmupSteps;
  return config.norm === 'post' ? Math.min(200, Math.max(1, Math.round(config.steps * 0.1))) : 0;
}
