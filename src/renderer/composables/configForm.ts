/**
 * The New run form as data, and the pure parts of its validation: what the form can see itself (an empty box, no
 * data path) and how it turns into the overrides validateConfig and startRun receive. The rules about values are
 * the engine's (validateConfig on the service), so the form and the CLI say the same thing.
 */
import type { ATTN_LOG_SCALING_VALUES, BackendChoiceData, ConfigOverrides, ConfigProblemData, PRESET_VALUES, RunConfigData, SchemeInfo, TextSummary, TOKENIZER_VALUES } from '../../shared/api';

export type NumberField =
  | 'nLayer' | 'nHead' | 'nEmbd' | 'blockSize' | 'batchSize' | 'steps' | 'lr' | 'minLr' | 'weightDecay' | 'gradClip'
  | 'seed' | 'threads' | 'evalEvery' | 'sampleEvery' | 'checkpointEvery' | 'dropoutEmbd' | 'dropoutAttn' | 'dropoutResid';

export const NUMBER_FIELDS: readonly NumberField[] = [
  'nLayer', 'nHead', 'nEmbd', 'blockSize', 'batchSize', 'steps', 'lr', 'minLr', 'weightDecay', 'gradClip',
  'seed', 'threads', 'evalEvery', 'sampleEvery', 'checkpointEvery', 'dropoutEmbd', 'dropoutAttn', 'dropoutResid',
];

export type Preset = (typeof PRESET_VALUES)[number];
export type TokenizerChoice = (typeof TOKENIZER_VALUES)[number];

export interface RunForm {
  name: string;
  preset: Preset;
  tokenizer: TokenizerChoice;
  /** A builtin corpus, a path on the lab's machine, or a text picked or dropped here and uploaded to the lab. */
  dataKind: 'builtin' | 'file' | 'upload';
  builtin: string;
  filePath: string;
  uploaded: TextSummary | null;
  pos: string;
  posOptions: Record<string, number | ''>;
  norm: 'pre' | 'post' | 'none';
  normType: 'layer' | 'rms';
  /** Log-n attention scaling past the block (a training-time option). */
  attnLogScaling: (typeof ATTN_LOG_SCALING_VALUES)[number];
  /** Randomized positions' range L (Ruoss et al. 2023): 0 trains on positions 0…block−1 as usual. */
  randomPositions: number | '';
  /** One dropout for embedding, attention and residual, unless separateDropout. */
  dropout: number | '';
  separateDropout: boolean;
  warmupAuto: boolean;
  warmupSteps: number | '';
  /** 'auto' threads: every core of the lab's machine, at most one per batch row (numbers.threads is then unused). */
  threadsAuto: boolean;
  /** 'auto' (the lab's ladder) or a rung by name, which also takes a software WebGPU adapter. */
  backend: BackendChoiceData;
  numbers: Partial<Record<NumberField, number | ''>>;
  /** Settings the form has no box for (betas, eval batches, ablations…), kept as they were in a cloned run. */
  kept?: ConfigOverrides;
}

/** Problems the form sees before asking the service: empty number boxes and a missing file path. */
export function formProblems(form: RunForm, scheme: SchemeInfo | undefined): ConfigProblemData[] {
  const found: ConfigProblemData[] = [];
  const separate = new Set(['dropoutEmbd', 'dropoutAttn', 'dropoutResid']);
  for (const [field, value] of Object.entries(form.numbers)) {
    if ((separate.has(field) && !form.separateDropout) || (field === 'threads' && form.threadsAuto)) continue;
    if (value === '' || (typeof value === 'number' && Number.isNaN(value))) found.push({ field, message: 'enter a number' });
  }
  if (!form.separateDropout && form.dropout === '') found.push({ field: 'dropoutEmbd', message: 'enter a number' });
  if (!form.warmupAuto && form.warmupSteps === '') found.push({ field: 'warmupSteps', message: 'enter a number' });
  if (form.randomPositions === '') found.push({ field: 'randomPositions', message: 'enter a number (0 = off)' });
  for (const knob of scheme?.knobs ?? []) if (form.posOptions[knob.key] === '') found.push({ field: `posOptions.${knob.key}`, message: 'enter a number' });
  const dataProblem = dataFormProblem(form);
  if (dataProblem) found.push({ field: 'data', message: dataProblem });
  return found;
}

/** A path the lab can use whatever folder it runs in: POSIX `/…`, Windows `C:\…` or `\\server\share`. */
export function isAbsolutePath(path: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path);
}

function dataFormProblem(form: RunForm): string | undefined {
  if (form.dataKind === 'upload' && !form.uploaded) return 'needs a text file: pick one or drop it here';
  if (form.dataKind !== 'file') return undefined;
  const path = form.filePath.trim();
  if (path === '') return 'needs the absolute path of a text file on the lab’s machine';
  // The lab runs in its own folder, not the user's, so a relative path would name some other file.
  if (!isAbsolutePath(path)) return `path ${JSON.stringify(path)} is relative: type an absolute path, or pick or drop the file`;
  return undefined;
}

function dataSource(form: RunForm): string {
  if (form.dataKind === 'builtin') return `builtin:${form.builtin}`;
  if (form.dataKind === 'upload') return form.uploaded?.source ?? '';
  return form.filePath.trim();
}

/** What the form asks for: the preset, then every filled-in field; only the chosen scheme's knobs. */
export function formOverrides(form: RunForm, scheme: SchemeInfo | undefined): ConfigOverrides {
  const config: ConfigOverrides = {
    ...form.kept,
    preset: form.preset,
    tokenizer: form.tokenizer,
    data: dataSource(form),
    pos: form.pos,
    norm: form.norm,
    normType: form.normType,
    attnLogScaling: form.attnLogScaling,
    warmupSteps: form.warmupAuto || form.warmupSteps === '' ? null : form.warmupSteps,
    backend: form.backend,
  };
  const separate = new Set(['dropoutEmbd', 'dropoutAttn', 'dropoutResid']);
  for (const [field, value] of Object.entries(form.numbers)) {
    if ((separate.has(field) && !form.separateDropout) || (field === 'threads' && form.threadsAuto)) continue;
    if (typeof value === 'number' && !Number.isNaN(value)) (config as Record<string, unknown>)[field] = value;
  }
  if (form.threadsAuto) config.threads = 'auto';
  // Off is the absence of the field, as in every run stored before randomized positions existed.
  if (typeof form.randomPositions === 'number' && form.randomPositions !== 0) config.randomPositions = form.randomPositions;
  if (!form.separateDropout && form.dropout !== '') Object.assign(config, { dropoutEmbd: form.dropout, dropoutAttn: form.dropout, dropoutResid: form.dropout });
  const posOptions: Record<string, number> = {};
  for (const knob of scheme?.knobs ?? []) {
    const value = form.posOptions[knob.key];
    if (typeof value === 'number' && !Number.isNaN(value)) posOptions[knob.key] = value;
  }
  config.posOptions = posOptions;
  return config;
}

type PresetSizes = { name: Preset; nLayer: number; nHead: number; nEmbd: number };

/**
 * The form that trains `config` again: every box filled from it, the preset whose size it has (or the first
 * preset: the size boxes override it), and the settings without a box kept aside so the clone is the same run.
 */
export function formFromConfig(config: RunConfigData, presets: readonly PresetSizes[]): RunForm {
  const { data, pos, posOptions, norm, normType, warmupSteps } = config;
  const numbers: RunForm['numbers'] = {};
  for (const field of NUMBER_FIELDS) if (field !== 'threads') numbers[field] = config[field] ?? '';
  // Runs stored before data-parallel training have no threads field: they ran on one thread.
  numbers.threads = typeof config.threads === 'number' ? config.threads : 1;
  const onForm = new Set<string>([...NUMBER_FIELDS, 'data', 'pos', 'posOptions', 'norm', 'normType', 'attnLogScaling', 'randomPositions', 'warmupSteps', 'backend', 'tokenizer']);
  const kept = Object.fromEntries(Object.entries(config).filter(([field]) => !onForm.has(field))) as ConfigOverrides;
  const sameDropout = config.dropoutEmbd === config.dropoutAttn && config.dropoutAttn === config.dropoutResid;
  const preset = presets.find((p) => p.nLayer === config.nLayer && p.nHead === config.nHead && p.nEmbd === config.nEmbd) ?? presets[0];
  // An uploaded text (`text:<sha256>`) is picked again: the form holds its summary, which the config does not.
  const dataKind = data.startsWith('builtin:') ? 'builtin' : data.startsWith('text:') ? 'upload' : 'file';
  return {
    name: '',
    preset: preset?.name ?? 'nano',
    // Runs stored before the tokenizer choice existed were character-level.
    tokenizer: config.tokenizer ?? 'char',
    dataKind,
    builtin: dataKind === 'builtin' ? data.slice('builtin:'.length) : '',
    filePath: dataKind === 'file' ? data : '',
    uploaded: null,
    pos,
    posOptions: { ...posOptions },
    norm,
    normType,
    // Runs stored before log-n scaling existed trained without it.
    attnLogScaling: config.attnLogScaling ?? 'none',
    randomPositions: config.randomPositions ?? 0,
    dropout: config.dropoutEmbd,
    separateDropout: !sameDropout,
    warmupAuto: warmupSteps === null,
    warmupSteps: warmupSteps ?? 0,
    // A stored run holds its resolved count, which the clone asks for again (tick automatic for this machine's cores).
    threadsAuto: config.threads === 'auto',
    // Runs stored before the backend choice existed took the lab's ladder.
    backend: config.backend ?? 'auto',
    numbers,
    kept,
  };
}

/** Service problems name the request's path ('config.nLayer'); the form names the field ('nLayer'). */
export function asFieldProblems(problems: readonly ConfigProblemData[]): ConfigProblemData[] {
  return problems.map((p) => ({ field: p.field.replace(/^config\./, ''), message: p.message }));
}

/**
 * One problem per field label, the form's own first: it and the service may both see an empty data path, and the
 * three dropouts share one box. So the count the status bar shows is the count of fields to fix.
 */
export function distinctProblems(problems: readonly ConfigProblemData[], label: (field: string) => string): ConfigProblemData[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = label(p.field);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** "Layers must be at least 1"; a message that already starts with the label is not prefixed again ("Data file …"). */
export function problemSentence(label: string, message: string): string {
  if (message.toLowerCase().startsWith(`${label.toLowerCase()} `)) return message.charAt(0).toUpperCase() + message.slice(1);
  return `${label} ${message}`;
}

/** Vocabulary sizes fixed by the tokenizer; char's is the data's distinct characters (65 for Shakespeare). */
export const TOKENIZER_VOCAB: Record<TokenizerChoice, number | null> = { char: null, byte: 256, bpe: 50257 };

export interface TokenizerCost {
  /** wte (V × C) + lm_head (C × V). */
  embeddingParams: number;
  /** 12·L·C² in the blocks (attention 4C², MLP 8C²), ignoring biases and norms. */
  blockParams: number;
  /** The embedding and head's share of the two. */
  share: number;
  /** True when they outweigh the transformer itself. */
  dominates: boolean;
}

export function tokenizerCost(vocabSize: number, nLayer: number, nEmbd: number): TokenizerCost {
  const embeddingParams = 2 * vocabSize * nEmbd;
  const blockParams = 12 * nLayer * nEmbd * nEmbd;
  const share = embeddingParams / (embeddingParams + blockParams);
  return { embeddingParams, blockParams, share, dominates: share > 0.5 };
}
