import { describe, expect, it } from 'vitest';
import {
  BUILTIN_CORPORA,
  TASK_NAMES,
  TOY_ENGLISH_WORDS,
  buildCorpus,
  builtinPreview,
  describeBuiltin,
  generateBuiltinCorpus,
  isHeldOutExample,
  taskLengthRange,
  type TaskName,
} from '../../../src/engine/data';
import { BUILTIN_DATA_SEED } from '../../../src/lab/corpusLoader';

const CHARS = 20_000;

function lines(text: string): string[] {
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

/** Checks one generated line independently of the generator; returns the example's size. */
function checkTaskLine(task: TaskName, line: string): number {
  const fail = () => expect.fail(`bad ${task} line: ${JSON.stringify(line)}`);
  switch (task) {
    case 'copy': {
      const m = /^([a-z]+)\|([a-z]+)$/.exec(line) ?? fail();
      expect(m[2]).toBe(m[1]);
      return m[1]!.length;
    }
    case 'reverse': {
      const m = /^([a-z]+)\|([a-z]+)$/.exec(line) ?? fail();
      expect(m[2]).toBe([...m[1]!].reverse().join(''));
      return m[1]!.length;
    }
    case 'add': {
      const m = /^(\d+)\+(\d+)=(\d+)$/.exec(line) ?? fail();
      expect(BigInt(m[3]!)).toBe(BigInt(m[1]!) + BigInt(m[2]!));
      return Math.max(m[1]!.length, m[2]!.length);
    }
    case 'count': {
      const m = /^(\d+)\.\.(\d+)=([\d ]+)$/.exec(line) ?? fail();
      const [start, end] = [Number(m[1]), Number(m[2])];
      expect(m[3]!.split(' ').map(Number)).toEqual(Array.from({ length: end - start + 1 }, (_, i) => start + i));
      return end - start + 1;
    }
    case 'induction': {
      const m = /^([a-z]+)\?([a-z])=([a-z])$/.exec(line) ?? fail();
      const s = m[1]!;
      expect(new Set(s).size).toBe(s.length);
      const at = s.indexOf(m[2]!);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThan(s.length - 1);
      expect(m[3]).toBe(s[at + 1]);
      return s.length;
    }
  }
}

/** A recogniser for the toy-english grammar, written from its documented rules and word lists. */
function parsesAsToyEnglish(sentence: string): boolean {
  const W = TOY_ENGLISH_WORDS;
  const is = (list: readonly string[], word: string | undefined) => word !== undefined && list.includes(word);
  const words = sentence.split(' ');
  let i = 0;
  const nounPhrase = (): boolean => {
    if (!is(W.determiners, words[i])) return false;
    i++;
    if (is(W.adjectives, words[i])) i++;
    return is(W.nouns, words[i++]);
  };
  const clause = (): boolean => {
    if (!nounPhrase()) return false;
    if (is(W.transitive, words[i])) {
      i++;
      if (!nounPhrase()) return false;
    } else if (is(W.intransitive, words[i])) i++;
    else return false;
    if (is(W.prepositions, words[i])) {
      if (!is(W.determiners, words[i + 1]) || !is(W.places, words[i + 2])) return false;
      i += 3;
    }
    return true;
  };
  if (!clause()) return false;
  if (words[i] === 'and') {
    i++;
    if (!clause()) return false;
  }
  return i === words.length;
}

describe('builtin corpora', () => {
  it('lists the tasks and toy-english', () => {
    expect([...BUILTIN_CORPORA]).toEqual([...TASK_NAMES, 'toy-english']);
  });

  for (const name of BUILTIN_CORPORA) {
    it(`${name} is deterministic for a seed and differs for another`, () => {
      const a = generateBuiltinCorpus(name, { seed: 1, chars: CHARS });
      expect(generateBuiltinCorpus(name, { seed: 1, chars: CHARS })).toBe(a);
      expect(generateBuiltinCorpus(name, { seed: 2, chars: CHARS })).not.toBe(a);
    });

    it(`${name} stops at the first whole line past the requested size`, () => {
      const text = generateBuiltinCorpus(name, { seed: 5, chars: CHARS });
      expect(text.length).toBeGreaterThanOrEqual(CHARS);
      const withoutLastLine = text.slice(0, text.slice(0, -1).lastIndexOf('\n') + 1);
      expect(withoutLastLine.length).toBeLessThan(CHARS);
    });

    it(`${name} has a one-line description and a preview that opens the corpus`, () => {
      const description = describeBuiltin(name);
      expect(description.length).toBeGreaterThan(10);
      expect(description).not.toContain('\n');
      const preview = builtinPreview(name, 9);
      expect(preview.length).toBeGreaterThanOrEqual(300);
      expect(preview.length).toBeLessThan(500);
      expect(generateBuiltinCorpus(name, { seed: 9, chars: 5000 }).startsWith(preview)).toBe(true);
    });
  }

  for (const task of TASK_NAMES) {
    it(`${task} lines are correct examples covering the training sizes`, () => {
      const sizes = new Set<number>();
      for (const line of lines(generateBuiltinCorpus(task, { seed: 3, chars: CHARS }))) {
        sizes.add(checkTaskLine(task, line));
      }
      const { min, max } = taskLengthRange(task);
      if (task === 'add') {
        // An operand can come out shorter than the size, so only the top of the range is certain.
        expect(Math.max(...sizes)).toBe(max);
      } else {
        expect([...sizes].sort((a, b) => a - b)).toEqual(Array.from({ length: max - min + 1 }, (_, i) => min + i));
      }
    });
  }

  it('toy-english sentences parse against the grammar', () => {
    const text = generateBuiltinCorpus('toy-english', { seed: 4, chars: CHARS });
    const seen = new Set(text.split(/[ .\n]+/));
    let sentences = 0;
    for (const line of lines(text)) {
      expect(line).toMatch(/^[a-z ]+\.( [a-z ]+\.)*$/);
      for (const sentence of line.slice(0, -1).split('. ')) {
        expect(parsesAsToyEnglish(sentence), sentence).toBe(true);
        sentences++;
      }
    }
    expect(sentences).toBeGreaterThan(300);
    // Every rule fires somewhere: conjunctions, places, adjectives and both verb kinds.
    for (const word of ['and', ...Object.values(TOY_ENGLISH_WORDS).flat()]) expect(seen, word).toContain(word);
  });

  it('the recogniser rejects ungrammatical sentences', () => {
    expect(parsesAsToyEnglish('the dog chased a cat')).toBe(true);
    expect(parsesAsToyEnglish('the dog chased')).toBe(false);
    expect(parsesAsToyEnglish('dog slept')).toBe(false);
    expect(parsesAsToyEnglish('the dog slept near the cat')).toBe(false);
    expect(parsesAsToyEnglish('the dog slept and')).toBe(false);
  });

  for (const name of BUILTIN_CORPORA) {
    it(`${name}: no validation line occurs in the training text (at the lab's size and seed)`, () => {
      const corpus = buildCorpus({ source: `builtin:${name}`, blockSize: 32, seed: BUILTIN_DATA_SEED });
      const train = lines(corpus.tokenizer.decode(corpus.train));
      const val = lines(corpus.tokenizer.decode(corpus.val));
      const trainSet = new Set(train);
      expect(val.filter((line) => trainSet.has(line))).toEqual([]);
      expect(val.every(isHeldOutExample)).toBe(true);
      expect(train.some(isHeldOutExample)).toBe(false);
      // Still a real validation split: about a tenth of the text, and more than a handful of distinct lines.
      expect(corpus.val.length / corpus.text.length).toBeCloseTo(0.1, 2);
      expect(new Set(val).size).toBeGreaterThan(20);
    });
  }

  it('rejects a non-positive size', () => {
    expect(() => generateBuiltinCorpus('copy', { seed: 1, chars: 0 })).toThrow(/positive integer/);
  });
});
