/**
 * Sampling stored runs: seeded and reproducible, a prompt character outside a char vocabulary named, a learned-position
 * model slid along a window of its block, the text streamed in pieces that never change, and BPE runs that train and sample.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/engine/config';
import { ByteTokenizer } from '../../src/engine/data/tokenizer';
import { trainNewRun } from '../../src/lab/runner';
import { prepareRun } from '../../src/lab/prepare';
import { loadRunModel } from '../../src/lab/runModel';
import { SampleError, TextStream, sampleRun, type SampleRequest } from '../../src/lab/sampling';
import { RunStore } from '../../src/store';
import { useWasmBackend } from '../helpers/backend';

useWasmBackend();

const TINY: Partial<RunConfig> = {
  nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 4, steps: 4, lr: 1e-2, minLr: 1e-3,
  evalEvery: 4, evalBatches: 1, checkpointEvery: 0, sampleEvery: 0,
};

let dir: string;
let store: RunStore;
let dataFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-sampling-'));
  store = RunStore.open(join(dir, 'runs.db'));
  dataFile = join(dir, 'text.txt');
  writeFileSync(dataFile, 'the cat sat on the mat. '.repeat(40));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function trainRun(config: Partial<RunConfig>): Promise<number> {
  const result = await trainNewRun(store, prepareRun({ config: { ...TINY, data: dataFile, ...config } }));
  expect(result.status).toBe('completed');
  return result.runId;
}

const request = (runId: number, over: Partial<SampleRequest> = {}): SampleRequest => ({ runId, prompt: 'the ', tokens: 12, temperature: 1, topK: 0, seed: 7, ...over });

describe('sampleRun', () => {
  let learned: number;
  beforeAll(async () => {
    learned = await trainRun({ pos: 'learned' });
  });

  it('is reproducible for a seed, differs across seeds, and reports every token it streamed', async () => {
    const streamed: string[] = [];
    const a = await sampleRun(store, request(learned), (token) => streamed.push(token.text));
    const b = await sampleRun(store, request(learned));
    const c = await sampleRun(store, request(learned, { seed: 8 }));
    expect(a.tokens).toHaveLength(12);
    expect(b.text).toBe(a.text);
    expect(c.text).not.toBe(a.text);
    expect(streamed.join('')).toBe(a.text);
    for (const token of a.tokens) expect(token.probability).toBeGreaterThan(0);
    expect(a.tokens.every((t) => t.probability <= 1)).toBe(true);
  });

  it("names a prompt character outside the run's vocabulary, and rejects bad knobs by name", async () => {
    await expect(sampleRun(store, request(learned, { prompt: 'the Zoo' }))).rejects.toThrow(/character "Z" at position 4 is not in the vocabulary of run \d+/);
    await expect(sampleRun(store, request(learned, { prompt: 'x' }))).rejects.toBeInstanceOf(SampleError);
    await expect(sampleRun(store, request(learned, { tokens: 0, temperature: -1, topK: 1.5, prompt: '' }))).rejects.toThrow(
      /tokens must be[\s\S]*temperature must be[\s\S]*top-k must be[\s\S]*prompt must not be empty/,
    );
  });

  it("slides a learned-position model along its block: greedy tokens are the argmax over the last 8 tokens only", async () => {
    const result = await sampleRun(store, request(learned, { prompt: 'the cat ', tokens: 6, temperature: 0 }));
    expect(result.window).toBe(8);
    expect(result.slid).toBe(true);
    expect(result.windowNote).toMatch(/sliding window of the last 8/);
    const { model, tokenizer } = await loadRunModel(store, learned);
    const ids = [...tokenizer.encode('the cat ')];
    for (let n = 0; n < 6; n++) {
      const context = ids.slice(-8);
      const row = tf.tidy(() => model.forward(tf.tensor2d(context, [1, context.length], 'int32')).arraySync()[0][context.length - 1]);
      ids.push(row.indexOf(Math.max(...row)));
    }
    model.dispose();
    expect(result.tokens.map((t) => t.id)).toEqual(ids.slice(8));
  });

  it('lets a scheme without a position table read up to 8 blocks back', async () => {
    const rope = await trainRun({ pos: 'rope' });
    const result = await sampleRun(store, request(rope, { prompt: 'the cat sat ', tokens: 4 }));
    expect(result.window).toBe(64);
    expect(result.slid).toBe(false);
  });

  it('trains and samples with GPT-2 BPE (50,257 tokens) and with bytes', async () => {
    const bpe = await trainRun({ tokenizer: 'bpe', steps: 2, evalEvery: 2 });
    expect(store.getRun(bpe)!.vocab).toBeNull();
    const text = await sampleRun(store, request(bpe, { prompt: 'The Zoo', tokens: 3 }));
    expect(text.tokens).toHaveLength(3);
    expect(text.tokens.every((t) => t.id >= 0 && t.id < 50257)).toBe(true);
    const bytes = await trainRun({ tokenizer: 'byte', steps: 2, evalEvery: 2 });
    expect((await sampleRun(store, request(bytes, { prompt: 'Zoë', tokens: 3 }))).tokens).toHaveLength(3);
  });
});

describe('TextStream', () => {
  it('holds back a character whose bytes are not all there yet, and never changes what it gave out', () => {
    const stream = new TextStream(new ByteTokenizer());
    expect(stream.push(0x61)).toBe('a');
    expect(stream.push(0xc3)).toBe('');
    expect(stream.push(0xa9)).toBe('é');
    expect(stream.push(0x21)).toBe('!');
  });
});
