/**
 * The New run form as data, and the pure parts of its validation: what the form can see itself (an empty box, no
 * data path) and how it turns into the overrides validateConfig and startRun receive. The rules about values are
 * the engine's (validateConfig on the service), so the form and the CLI say the same thing.
 */
import type { ConfigOverrides, ConfigProblemData, PRESET_VALUES, SchemeInfo, TOKENIZER_VALUES } from '../../shared/api';

export type NumberField =
  | 'nLayer' | 'nHead' | 'nEmbd' | 'blockSize' | 'batchSize' | 'steps' | 'lr' | 'minLr' | 'weightDecay' | 'gradClip'
  | 'seed' | 'threads' | 'evalEvery' | 'sampleEvery' | 'checkpointEvery' | 'dropoutEmbd' | 'dropoutAttn' | 'dropoutResid';

export type Preset = (typeof PRESET_VALUES)[number];
export type TokenizerChoice = (typeof TOKENIZER_VALUES)[number];

export interface RunForm {
  name: string;
  preset: Preset;
  tokenizer: TokenizerChoice;
  dataKind: 'builtin' | 'file';
  builtin: string;
  filePath: string;
  pos: string;
  posOptions: Record<string, number | ''>;
  norm: 'pre' | 'post' | 'none';
  normType: 'layer' | 'rms';
  /** One dropout for embedding, attention and residual, unless separateDropout. */
  dropout: number | '';
  separateDropout: boolean;
  warmupAuto: boolean;
  warmupSteps: number | '';
  numbers: Partial<Record<NumberField, number | ''>>;
}

/** Problems the form sees before asking the service: empty number boxes and a missing file path. */
export function formProblems(form: RunForm, scheme: SchemeInfo | undefined): ConfigProblemData[] {
  const found: ConfigProblemData[] = [];
  const separate = new Set(['dropoutEmbd', 'dropoutAttn', 'dropoutResid']);
  for (const [field, value] of Object.entries(form.numbers)) {
    if (separate.has(field) && !form.separateDropout) continue;
    if (value === '' || (typeof value === 'number' && Number.isNaN(value))) found.push({ field, message: 'enter a number' });
  }
  if (!form.separateDropout && form.dropout === '') found.push({ field: 'dropoutEmbd', message: 'enter a number' });
  if (!form.warmupAuto && form.warmupSteps === '') found.push({ field: 'warmupSteps', message: 'enter a number' });
  for (const knob of scheme?.knobs ?? []) if (form.posOptions[knob.key] === '') found.push({ field: `posOptions.${knob.key}`, message: 'enter a number' });
  if (form.dataKind === 'file' && form.filePath.trim() === '') found.push({ field: 'data', message: 'enter the path of a text file' });
  return found;
}

/** What the form asks for: the preset, then every filled-in field; only the chosen scheme's knobs. */
export function formOverrides(form: RunForm, scheme: SchemeInfo | undefined): ConfigOverrides {
  const config: ConfigOverrides = {
    preset: form.preset,
    tokenizer: form.tokenizer,
    data: form.dataKind === 'builtin' ? `builtin:${form.builtin}` : form.filePath.trim(),
    pos: form.pos,
    norm: form.norm,
    normType: form.normType,
    warmupSteps: form.warmupAuto || form.warmupSteps === '' ? null : form.warmupSteps,
  };
  const separate = new Set(['dropoutEmbd', 'dropoutAttn', 'dropoutResid']);
  for (const [field, value] of Object.entries(form.numbers)) {
    if (separate.has(field) && !form.separateDropout) continue;
    if (typeof value === 'number' && !Number.isNaN(value)) (config as Record<string, unknown>)[field] = value;
  }
  if (!form.separateDropout && form.dropout !== '') Object.assign(config, { dropoutEmbd: form.dropout, dropoutAttn: form.dropout, dropoutResid: form.dropout });
  const posOptions: Record<string, number> = {};
  for (const knob of scheme?.knobs ?? []) {
    const value = form.posOptions[knob.key];
    if (typeof value === 'number' && !Number.isNaN(value)) posOptions[knob.key] = value;
  }
  config.posOptions = posOptions;
  return config;
}

/** Service problems name the request's path ('config.nLayer'); the form names the field ('nLayer'). */
export function asFieldProblems(problems: readonly ConfigProblemData[]): ConfigProblemData[] {
  return problems.map((p) => ({ field: p.field.replace(/^config\./, ''), message: p.message }));
}

/** One message per field label and text (the three dropouts share one box, so one message). */
export function distinctProblems(problems: readonly ConfigProblemData[], label: (field: string) => string): ConfigProblemData[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${label(p.field)}: ${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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
