/**
 * Uploaded texts: stored under their SHA-256 with the checks of a data file, then named `text:<sha256>` by runs,
 * which train, resume and evaluate from the stored copy alone (there never is a file to delete or move).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/engine/config';
import type { Trainer } from '../../src/engine/train/trainer';
import { evalLengthForRun, loadTrainedRun } from '../../src/lab/analysis';
import { isFileSource, loadCorpus } from '../../src/lab/corpusLoader';
import { resumeRun, trainNewRun } from '../../src/lab/runner';
import { prepareRun } from '../../src/lab/prepare';
import { readStoredText, storeText, summarizeText, textSourceId } from '../../src/lab/uploadedTexts';
import { MAX_DATA_BYTES } from '../../src/shared/api';
import { RunStore } from '../../src/store';
import { useWasmBackend } from '../helpers/backend';

useWasmBackend();

const CAT = 'the cat sat on the mat. '.repeat(40);
// sha256 of CAT's 960 bytes, from Python's hashlib.
const CAT_ID = '621f92ba16622f8291bc4731ca8742340ab83aa45847bcf32813e6852c888eff';
const bytes = (text: string) => new TextEncoder().encode(text);

let dir: string;
let store: RunStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-texts-'));
  store = RunStore.open(join(dir, 'runs.db'));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('storing a text', () => {
  it('names it by the SHA-256 of its bytes and counts tokens and vocabulary', () => {
    expect(storeText(store, 'cat.txt', bytes(CAT))).toEqual({ source: `text:${CAT_ID}`, name: 'cat.txt', size: 960, tokens: 960, vocabSize: 11 });
    expect(store.getText(CAT_ID)).toMatchObject({ id: CAT_ID, name: 'cat.txt', size: 960 });
    expect(Buffer.from(store.getText(CAT_ID)!.bytes).toString('utf8')).toBe(CAT);
  });

  it('counts characters, not bytes, as tokens', () => {
    // "héllo\n": 7 bytes, 6 characters, 5 distinct (l twice); sha256 from hashlib.
    expect(storeText(store, 'accent.txt', bytes('héllo\n'))).toEqual({
      source: 'text:b95becd154aa095f76c4ca47a5aeb8350d6dfcb838404edfc9dae06628de938d',
      name: 'accent.txt',
      size: 7,
      tokens: 6,
      vocabSize: 5,
    });
    expect(summarizeText('s', 'n', 8, '🙂🙂a')).toMatchObject({ tokens: 3, vocabSize: 2 });
  });

  it('keeps one copy of the same bytes, under the first name', () => {
    expect(storeText(store, 'again.txt', bytes(CAT)).source).toBe(`text:${CAT_ID}`);
    expect(store.getText(CAT_ID)?.name).toBe('cat.txt');
  });

  it.each([
    ['empty', new Uint8Array(0), /uploaded text bad\.txt is empty/],
    ['only whitespace', bytes(' \n\t'), /uploaded text bad\.txt is empty \(only whitespace\)/],
    ['binary', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), /uploaded text bad\.txt looks like a binary file/],
    ['not UTF-8', Uint8Array.from([0x61, 0x62, 0xff, 0x63]), /uploaded text bad\.txt is not valid UTF-8 text \(invalid byte sequence at byte offset 2\)/],
    ['too large', new Uint8Array(MAX_DATA_BYTES + 1).fill(0x61), /uploaded text bad\.txt is 50\.0 MB, more than the 50\.0 MB limit/],
  ])('refuses a text that is %s, storing nothing', (_label, data, message) => {
    expect(() => storeText(store, 'bad.txt', data)).toThrow(message);
    expect(store.getText(createHash('sha256').update(data).digest('hex'))).toBeUndefined();
  });
});

describe('the text: data source', () => {
  it('is told apart from file paths and builtins', () => {
    expect(isFileSource(`text:${CAT_ID}`)).toBe(false);
    expect(isFileSource('builtin:copy')).toBe(false);
    expect(isFileSource('/home/u/text:notes.txt')).toBe(true);
    expect(textSourceId(`text:${CAT_ID}`)).toBe(CAT_ID);
  });

  it('names a malformed id, an unknown text and a lab without a store', () => {
    expect(() => textSourceId('text:abc')).toThrow(/"text:abc" is not an uploaded text: expected text: and 64 lowercase hex digits/);
    expect(() => textSourceId(`text:${CAT_ID.toUpperCase()}`)).toThrow(/64 lowercase hex digits/);
    expect(() => readStoredText(store, `text:${'0'.repeat(64)}`)).toThrow(/no uploaded text text:0{64} in this lab's database/);
    expect(() => readStoredText(undefined, `text:${CAT_ID}`)).toThrow(/no uploaded text/);
  });

  it("names a run after the uploaded file, not its hash", () => {
    const prepared = prepareRun({ config: { data: `text:${CAT_ID}`, blockSize: 8 } }, store);
    expect(prepared.name).toMatch(/ · cat\.txt$/);
  });

  it('loads the stored text as the corpus', () => {
    const corpus = loadCorpus({ data: `text:${CAT_ID}`, blockSize: 8, valFraction: 0.1 }, undefined, store);
    expect(corpus.text).toBe(CAT);
    expect(corpus.source).toBe(`text:${CAT_ID}`);
    expect(corpus.tokenizer.size).toBe(11);
  });

  it('trains, resumes and evaluates a run from the stored copy', async () => {
    const config: Partial<RunConfig> = { data: `text:${CAT_ID}`, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 4, steps: 6, evalEvery: 3, evalBatches: 1, checkpointEvery: 3, sampleEvery: 0 };
    let trainer: Trainer | undefined;
    const first = await trainNewRun(store, prepareRun({ config }, store), {
      onStart: (_id, t) => (trainer = t),
      onStep: (_id, m) => {
        if (m.step === 3) trainer?.stop();
      },
    });
    expect(first.status).toBe('stopped');
    const resumed = await resumeRun(store, first.runId);
    expect(resumed.status).toBe('completed');
    expect(store.getRun(first.runId)).toMatchObject({ dataSource: `text:${CAT_ID}`, lastStep: 5 });
    const trained = await loadTrainedRun(store, first.runId);
    trained.model.dispose();
    expect(trained.corpus.text).toBe(CAT);
    const lengths = await evalLengthForRun(store, first.runId, [8]);
    expect(lengths.results).toHaveLength(1);
    expect(Number.isFinite(lengths.results[0].loss)).toBe(true);
  });
});
