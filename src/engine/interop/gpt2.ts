/**
 * A GPT Lab model as files other tools load: model.safetensors + config.json (+ the tokenizer), in Hugging Face's
 * GPT-2 layout when GPT-2's architecture can express the run, in GPT Lab's own names otherwise; and back.
 *
 * GPT-2 (transformers' GPT2LMHeadModel) is exactly GPT Lab's pre-norm LayerNorm model with learned positions and the
 * tanh GELU ("gelu_new"), LayerNorm eps 1e-5, scores scaled by 1/sqrt(head size). Its Conv1D projections store
 * weights (in, out) like GPT Lab's, and c_attn's 3C outputs are q | k | v with head h at columns h·hs..(h+1)·hs in
 * each, as GPT Lab splits w_qkv. Only lm_head is an nn.Linear, (out, in) = (V, C): it is transposed.
 */
import { resolveConfig, type RunConfig, type TokenizerKind } from '../config';
import { NORM_EPS } from '../model/ops';
import { parameterLayout, modelConfigOf, type ParamInfo } from '../model/gpt';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type NamedTensor } from './safetensors';

export type ModelLayout = 'gpt2' | 'gpt-lab';
export const EXPORT_FORMAT_VERSION = 1;

/** What GPT Lab writes into config.json under "gpt_lab", so an import rebuilds the run exactly. */
export interface GptLabSection {
  format: number;
  layout: ModelLayout;
  config: RunConfig;
  tokenizer: TokenizerKind;
  /** The char tokenizer's characters, id = index; null for byte and bpe. */
  vocab: string[] | null;
  step: number;
  runName: string;
  /** Why the run could not use GPT-2's layout (empty for gpt2). */
  notGpt2Because: string[];
}

export interface ExportSource {
  config: RunConfig;
  vocabSize: number;
  weights: Record<string, Float32Array>;
  tokenizer: TokenizerKind;
  vocab: readonly string[] | null;
  step: number;
  runName: string;
}

export interface ModelFiles {
  layout: ModelLayout;
  notGpt2Because: string[];
  /** File name → contents. */
  files: Record<string, Uint8Array | string>;
}

export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

/** The reasons a run is not a GPT-2; empty when GPT2LMHeadModel computes exactly what GPT Lab does. */
export function gpt2Blockers(config: RunConfig): string[] {
  const reasons: string[] = [];
  if (config.pos !== 'learned') reasons.push(`positions are ${config.pos}, GPT-2's are learned`);
  if (config.norm !== 'pre') reasons.push(`norm placement is ${config.norm}, GPT-2's is pre`);
  if (config.normType !== 'layer') reasons.push(`norm type is ${config.normType}, GPT-2's is LayerNorm`);
  if (!config.attnScale) reasons.push('the 1/sqrt(d) attention scaling is ablated');
  if (config.attnLogScaling === 'fixed') reasons.push('log-n attention scaling has no GPT-2 equivalent');
  if (!config.tokenEmbedding) reasons.push('the token embedding is ablated');
  if (!config.causal) reasons.push('attention is not causal');
  return reasons;
}

const GPT2_NAMES: [RegExp, string][] = [
  [/^wte$/, 'transformer.wte.weight'],
  [/^pos\.wpe$/, 'transformer.wpe.weight'],
  [/^h\.(\d+)\.ln([12])\.g$/, 'transformer.h.$1.ln_$2.weight'],
  [/^h\.(\d+)\.ln([12])\.b$/, 'transformer.h.$1.ln_$2.bias'],
  [/^h\.(\d+)\.attn\.w_qkv$/, 'transformer.h.$1.attn.c_attn.weight'],
  [/^h\.(\d+)\.attn\.b_qkv$/, 'transformer.h.$1.attn.c_attn.bias'],
  [/^h\.(\d+)\.attn\.w_proj$/, 'transformer.h.$1.attn.c_proj.weight'],
  [/^h\.(\d+)\.attn\.b_proj$/, 'transformer.h.$1.attn.c_proj.bias'],
  [/^h\.(\d+)\.mlp\.w_fc$/, 'transformer.h.$1.mlp.c_fc.weight'],
  [/^h\.(\d+)\.mlp\.b_fc$/, 'transformer.h.$1.mlp.c_fc.bias'],
  [/^h\.(\d+)\.mlp\.w_proj$/, 'transformer.h.$1.mlp.c_proj.weight'],
  [/^h\.(\d+)\.mlp\.b_proj$/, 'transformer.h.$1.mlp.c_proj.bias'],
  [/^ln_f\.g$/, 'transformer.ln_f.weight'],
  [/^ln_f\.b$/, 'transformer.ln_f.bias'],
  [/^lm_head\.w$/, 'lm_head.weight'],
];
/** GPT Lab keeps the head (C, V) like every other projection; nn.Linear stores (V, C). */
const TRANSPOSED = new Set(['lm_head.w']);
/** Buffers some transformers versions save beside the weights (the causal mask): not parameters. */
const GPT2_BUFFERS = /\.attn\.(masked_)?bias$/;

export function gpt2Name(labName: string): string {
  for (const [pattern, name] of GPT2_NAMES) if (pattern.test(labName)) return labName.replace(pattern, name);
  throw new ModelFormatError(`parameter ${labName} has no GPT-2 counterpart`);
}

/** (rows, cols) row-major → (cols, rows). */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function fileTensor(p: ParamInfo, data: Float32Array, layout: ModelLayout): NamedTensor {
  if (layout === 'gpt-lab') return { name: p.name, shape: p.shape, data };
  if (TRANSPOSED.has(p.name)) return { name: gpt2Name(p.name), shape: [p.shape[1], p.shape[0]], data: transpose(data, p.shape[0], p.shape[1]) };
  return { name: gpt2Name(p.name), shape: p.shape, data };
}

function gpt2Config(config: RunConfig, vocabSize: number, tokenizer: TokenizerKind): Record<string, unknown> {
  const endOfText = tokenizer === 'bpe' ? { bos_token_id: 50256, eos_token_id: 50256 } : {};
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: vocabSize,
    n_positions: config.blockSize,
    n_ctx: config.blockSize,
    n_embd: config.nEmbd,
    n_layer: config.nLayer,
    n_head: config.nHead,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: NORM_EPS,
    embd_pdrop: config.dropoutEmbd,
    attn_pdrop: config.dropoutAttn,
    resid_pdrop: config.dropoutResid,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: false,
    use_cache: true,
    torch_dtype: 'float32',
    ...endOfText,
  };
}

function tokenizerFile(tokenizer: TokenizerKind, vocab: readonly string[] | null): string {
  const notes: Record<TokenizerKind, string> = {
    char: 'one token per Unicode code point; the id of a character is its index in vocab',
    byte: "one token per byte of the text's UTF-8 encoding; the id is the byte value",
    bpe: "GPT-2's byte-level BPE (tiktoken r50k_base): the same ids as transformers' GPT2TokenizerFast.from_pretrained('gpt2')",
  };
  return `${JSON.stringify({ kind: tokenizer, note: notes[tokenizer], vocab }, null, 2)}\n`;
}

export function exportModelFiles(source: ExportSource): ModelFiles {
  const notGpt2Because = gpt2Blockers(source.config);
  const layout: ModelLayout = notGpt2Because.length ? 'gpt-lab' : 'gpt2';
  const params = parameterLayout(modelConfigOf(source.config, source.vocabSize));
  const tensors = params.map((p) => {
    const data = source.weights[p.name];
    if (!data) throw new ModelFormatError(`the run's weights lack ${p.name}`);
    return fileTensor(p, data, layout);
  });
  const gptLab: GptLabSection = {
    format: EXPORT_FORMAT_VERSION,
    layout,
    config: source.config,
    tokenizer: source.tokenizer,
    vocab: source.vocab ? [...source.vocab] : null,
    step: source.step,
    runName: source.runName,
    notGpt2Because,
  };
  const head = layout === 'gpt2' ? gpt2Config(source.config, source.vocabSize, source.tokenizer) : { architectures: ['GptLabGPT'], model_type: 'gpt-lab' };
  return {
    layout,
    notGpt2Because,
    files: {
      // transformers refuses a safetensors file whose metadata lacks format "pt".
      'model.safetensors': encodeSafetensors(tensors, { format: 'pt', producer: 'gpt-lab', layout }),
      'config.json': `${JSON.stringify({ ...head, gpt_lab: gptLab }, null, 2)}\n`,
      'tokenizer.json': tokenizerFile(source.tokenizer, source.vocab),
    },
  };
}

export interface ImportedModel {
  layout: ModelLayout;
  config: RunConfig;
  tokenizer: TokenizerKind;
  vocab: string[] | null;
  weights: Record<string, Float32Array>;
  /** Steps the weights were trained for where the export says so (0 for a foreign GPT-2). */
  step: number;
  runName: string | null;
}

/** The run a plain transformers GPT-2 config describes (no gpt_lab section): GPT-2 BPE, learned, pre-norm. */
function configFromGpt2(hf: Record<string, unknown>): { config: RunConfig; tokenizer: TokenizerKind } {
  const problems: string[] = [];
  if (hf.model_type !== 'gpt2') problems.push(`model_type is ${JSON.stringify(hf.model_type)}, not "gpt2" or a GPT Lab export`);
  if (hf.activation_function !== undefined && hf.activation_function !== 'gelu_new') problems.push(`activation_function ${JSON.stringify(hf.activation_function)} is not gelu_new`);
  if (hf.layer_norm_epsilon !== undefined && hf.layer_norm_epsilon !== NORM_EPS) problems.push(`layer_norm_epsilon ${hf.layer_norm_epsilon} is not ${NORM_EPS}`);
  if (hf.n_inner !== undefined && hf.n_inner !== null && hf.n_inner !== 4 * Number(hf.n_embd)) problems.push(`n_inner ${hf.n_inner} is not 4 × n_embd`);
  if (hf.scale_attn_by_inverse_layer_idx === true) problems.push('scale_attn_by_inverse_layer_idx is not supported');
  if (hf.vocab_size !== 50257) problems.push(`vocab_size ${hf.vocab_size} is not GPT-2's 50257, and the config does not say which tokenizer it uses`);
  if (problems.length) throw new ModelFormatError(`config.json is not a GPT-2 GPT Lab can run: ${problems.join('; ')}`);
  const config = resolveConfig({
    // A text to evaluate and fine-tune on until the importer names another.
    data: 'builtin:shakespeare',
    tokenizer: 'bpe',
    nLayer: hf.n_layer as number,
    nHead: hf.n_head as number,
    nEmbd: hf.n_embd as number,
    blockSize: hf.n_positions as number,
    pos: 'learned',
    norm: 'pre',
    normType: 'layer',
  });
  return { config, tokenizer: 'bpe' };
}

function parseConfigJson(text: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ModelFormatError('config.json is not a JSON object');
}

export function importModelFiles(configJson: string, safetensors: Uint8Array): ImportedModel {
  const hf = parseConfigJson(configJson);
  const lab = hf.gpt_lab as GptLabSection | undefined;
  if (lab && lab.format !== EXPORT_FORMAT_VERSION) throw new ModelFormatError(`config.json is GPT Lab export format ${lab.format}; this version reads format ${EXPORT_FORMAT_VERSION}`);
  const { config, tokenizer } = lab ? { config: resolveConfig(lab.config), tokenizer: lab.tokenizer } : configFromGpt2(hf);
  const layout: ModelLayout = lab?.layout ?? 'gpt2';
  const vocab = lab?.vocab ?? null;
  if (tokenizer === 'char' && !vocab?.length) throw new ModelFormatError('config.json says the tokenizer is char but lists no vocabulary');
  const vocabSize = tokenizer === 'char' ? (vocab?.length ?? 0) : tokenizer === 'byte' ? 256 : 50257;
  let decoded;
  try {
    decoded = decodeSafetensors(safetensors);
  } catch (err) {
    throw err instanceof SafetensorsError ? new ModelFormatError(`model.safetensors: ${err.message}`) : err;
  }
  const tensors = decoded.tensors;
  // Hugging Face's own GPT-2 checkpoints tie the head to wte and leave lm_head out of the file.
  if (layout === 'gpt2' && !tensors.has('lm_head.weight') && hf.tie_word_embeddings !== false && tensors.has('transformer.wte.weight'))
    tensors.set('lm_head.weight', { ...tensors.get('transformer.wte.weight')!, name: 'lm_head.weight' });
  const weights: Record<string, Float32Array> = {};
  const used = new Set<string>();
  for (const p of parameterLayout(modelConfigOf(config, vocabSize))) {
    const name = layout === 'gpt2' ? gpt2Name(p.name) : p.name;
    const t = tensors.get(name);
    if (!t) throw new ModelFormatError(`model.safetensors has no tensor ${name}`);
    const transposed = layout === 'gpt2' && TRANSPOSED.has(p.name);
    const expected = transposed ? [p.shape[1], p.shape[0]] : p.shape;
    if (t.shape.join(',') !== expected.join(','))
      throw new ModelFormatError(`tensor ${name} has shape [${t.shape.join(', ')}], but config.json makes it [${expected.join(', ')}]`);
    weights[p.name] = transposed ? transpose(t.data, expected[0], expected[1]) : t.data;
    used.add(name);
  }
  const extra = [...tensors.keys()].filter((n) => !used.has(n) && !(layout === 'gpt2' && GPT2_BUFFERS.test(n)));
  if (extra.length) throw new ModelFormatError(`model.safetensors has tensors config.json does not account for: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
  return { layout, config, tokenizer, vocab, weights, step: lab?.step ?? 0, runName: lab?.runName ?? null };
}
