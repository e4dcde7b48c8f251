/**
 * Text from a stored run: the prompt checked against the run's tokenizer, then the engine's generate() with the
 * run's weights, each token reported as it comes (the Playground streams them).
 */
import { DataError } from '../engine/data/errors';
import type { Tokenizer } from '../engine/data/tokenizer';
import { createRng } from '../engine/rng';
import { generate } from '../engine/train/sample';
import type { RunStore } from '../store';
import { loadRunModel } from './runModel';

/** Schemes that work at any length still read at most this many blocks back: attention costs O(T²). */
export const CONTEXT_BLOCKS_CAP = 8;
export const MAX_SAMPLE_TOKENS = 10_000;
export const MAX_PROMPT_CHARS = 10_000;

export interface SampleRequest {
  runId: number;
  prompt: string;
  tokens: number;
  /** 0 is greedy. */
  temperature: number;
  /** 0 keeps every token. */
  topK: number;
  seed: number;
}

export interface SampledToken {
  id: number;
  /** The text this token completed; empty while it is the first byte(s) of a longer character. */
  text: string;
  /** The model's probability of this token (softmax of its logits, temperature 1). */
  probability: number;
}

export interface SampleResult {
  runId: number;
  step: number;
  prompt: string;
  text: string;
  tokens: SampledToken[];
  /** Longest context the model saw; earlier tokens fell out of it once the text grew past it. */
  window: number;
  /** True when the text outgrew the window, so the model saw a sliding window of it. */
  slid: boolean;
  /** Why the window is what it is, for the user. */
  windowNote: string;
}

export class SampleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SampleError';
  }
}

/** Every problem with a request's knobs, named; the prompt is checked against the run's tokenizer later. */
export function checkSampleRequest(req: SampleRequest): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(req.tokens) || req.tokens < 1 || req.tokens > MAX_SAMPLE_TOKENS) problems.push(`tokens must be an integer in [1, ${MAX_SAMPLE_TOKENS}], got ${req.tokens}`);
  if (!Number.isFinite(req.temperature) || req.temperature < 0 || req.temperature > 100) problems.push(`temperature must be a number in [0, 100] (0 = greedy), got ${req.temperature}`);
  if (!Number.isInteger(req.topK) || req.topK < 0) problems.push(`top-k must be a non-negative integer (0 = all tokens), got ${req.topK}`);
  if (!Number.isInteger(req.seed) || req.seed < 0 || req.seed > 2 ** 31 - 1) problems.push(`seed must be an integer in [0, ${2 ** 31 - 1}], got ${req.seed}`);
  if (req.prompt.length === 0) problems.push('prompt must not be empty (the model needs at least one token to continue)');
  if (req.prompt.length > MAX_PROMPT_CHARS) problems.push(`prompt must be at most ${MAX_PROMPT_CHARS} characters, got ${req.prompt.length}`);
  return problems;
}

function encodePrompt(tokenizer: Tokenizer, prompt: string, runId: number): Int32Array {
  try {
    return tokenizer.encode(prompt);
  } catch (err) {
    if (err instanceof DataError && err.code === 'unknown-char')
      throw new SampleError(`the prompt's ${err.message} of run ${runId} (its char tokenizer knows only the ${tokenizer.size} characters of its training data)`);
    throw err;
  }
}

/**
 * Decodes a growing token list into text pieces that never change once given out: a piece ending in U+FFFD
 * (a character whose remaining bytes are still to come, with byte or BPE tokens) is held back until it completes.
 */
export class TextStream {
  private readonly ids: number[] = [];
  private emitted = '';

  constructor(private readonly tokenizer: Tokenizer) {}

  push(id: number): string {
    this.ids.push(id);
    const full = this.tokenizer.decode(this.ids);
    if (full.endsWith('\uFFFD') || !full.startsWith(this.emitted)) return '';
    const piece = full.slice(this.emitted.length);
    this.emitted = full;
    return piece;
  }
}

export async function sampleRun(store: RunStore, req: SampleRequest, onToken?: (token: SampledToken) => void): Promise<SampleResult> {
  const problems = checkSampleRequest(req);
  if (problems.length) throw new SampleError(problems.join('\n'));
  const { config, tokenizer, model, step } = await loadRunModel(store, req.runId);
  try {
    const prompt = encodePrompt(tokenizer, req.prompt, req.runId);
    const positionTable = Number.isFinite(model.maxLength);
    const window = Math.min(model.maxLength, CONTEXT_BLOCKS_CAP * config.blockSize);
    const stream = new TextStream(tokenizer);
    const tokens: SampledToken[] = [];
    const ids = await generate(model, prompt, {
      maxNewTokens: req.tokens,
      temperature: req.temperature,
      topK: req.topK,
      rng: createRng(req.seed),
      contextLimit: window,
      onToken: (id, probability) => {
        const token = { id, text: stream.push(id), probability };
        tokens.push(token);
        onToken?.(token);
      },
    });
    const windowNote = positionTable
      ? `${config.pos} positions have a table of ${config.blockSize} rows: past ${window} tokens the model sees a sliding window of the last ${window}`
      : `${config.pos} positions work at any length; the context is capped at ${CONTEXT_BLOCKS_CAP} × block = ${window} tokens`;
    return {
      runId: req.runId,
      step,
      prompt: req.prompt,
      text: tokenizer.decode(ids),
      tokens,
      window,
      slid: prompt.length + req.tokens > window,
      windowNote,
    };
  } finally {
    model.dispose();
  }
}
