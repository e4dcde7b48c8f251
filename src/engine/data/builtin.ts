import { createRng, type Rng } from '../rng';
import { DataError } from './errors';
import { drawUntil, isHeldOutExample } from './heldOut';
import { taskExample, taskLengthRange, type TaskName } from './tasks';

/** Corpora the lab can generate itself, named in a data source as `builtin:NAME`. */
export const BUILTIN_CORPORA = ['copy', 'reverse', 'add', 'count', 'induction', 'toy-english'] as const;
export type BuiltinName = (typeof BUILTIN_CORPORA)[number];

export interface BuiltinOptions {
  seed: number;
  /** The corpus stops at the first whole line that reaches this many characters. */
  chars?: number;
  /** Share of the characters that are validation (the tail), as buildCorpus's valFraction. */
  valFraction?: number;
}

/** A generated corpus in its two parts: no validation line occurs in the training text (see heldOut.ts). */
export interface BuiltinSplits {
  train: string;
  val: string;
}

const PREVIEW_CHARS = 300;

const DESCRIPTIONS: Record<BuiltinName, string> = {
  copy: 'Copy task: letters, then "|", then the same letters again (abc|abc).',
  reverse: 'Reverse task: letters, then "|", then the letters backwards (abc|cba).',
  add: 'Addition task: two decimal numbers and their sum (123+45=168).',
  count: 'Counting task: a range and the numbers in it (17..20=17 18 19 20).',
  induction: 'Induction task: distinct letters, a query letter, and the letter that followed it (qwerty?e=r).',
  'toy-english': 'Toy English: simple sentences from a small grammar ("the lazy dog chased a fox.").',
};

/**
 * Word lists of the toy-english grammar. Nouns and adjectives start with a consonant so "a" is
 * always right; the lists are disjoint so a sentence parses one way.
 *
 *   sentence → clause ("and" clause)? "."
 *   clause   → nounPhrase (transitive nounPhrase | intransitive) place?
 *   nounPhrase → determiner adjective? noun
 *   place    → preposition determiner placeNoun
 */
export const TOY_ENGLISH_WORDS = {
  determiners: ['the', 'a', 'another', 'every', 'one'],
  adjectives: ['big', 'small', 'quick', 'lazy', 'brown', 'happy', 'sleepy', 'clever', 'young', 'quiet'],
  nouns: ['dog', 'cat', 'bird', 'child', 'farmer', 'fox', 'horse', 'rabbit', 'teacher', 'baker'],
  transitive: ['chased', 'saw', 'liked', 'followed', 'found', 'watched', 'helped', 'heard'],
  intransitive: ['slept', 'ran', 'jumped', 'sang', 'waited', 'laughed'],
  prepositions: ['near', 'behind', 'under', 'beside', 'by'],
  places: ['barn', 'river', 'house', 'field', 'tree', 'hill', 'garden', 'fence'],
} as const;

export function isBuiltinName(name: string): name is BuiltinName {
  return (BUILTIN_CORPORA as readonly string[]).includes(name);
}

export function describeBuiltin(name: BuiltinName): string {
  return DESCRIPTIONS[name];
}

/** The opening lines of the training text the same seed generates in full. */
export function builtinPreview(name: BuiltinName, seed: number): string {
  return takeLines(lineGenerator(name, createRng(seed)), isTrainingExample, PREVIEW_CHARS, `training builtin:${name} line`);
}

/**
 * Training lines first, then validation lines, from one seeded stream: the held-out examples are dropped from the
 * training part and only they are kept for the validation part, so the training text is the stream's lines minus
 * about one in ten, and no validation line occurs in it.
 */
export function generateBuiltinSplits(name: BuiltinName, { seed, chars = 200_000, valFraction = 0.1 }: BuiltinOptions): BuiltinSplits {
  if (!Number.isInteger(chars) || chars < 1) {
    throw new DataError('bad-option', `builtin corpus size must be a positive integer of characters, got ${chars}`);
  }
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new DataError('bad-option', `validation fraction must be between 0 and 1 (exclusive), got ${valFraction}`);
  }
  const next = lineGenerator(name, createRng(seed));
  const train = takeLines(next, isTrainingExample, Math.ceil(chars * (1 - valFraction)), `training builtin:${name} line`);
  const val = takeLines(next, isHeldOutExample, Math.max(1, chars - train.length), `held-out builtin:${name} line`);
  return { train, val };
}

/** The whole generated text, training part first. */
export function generateBuiltinCorpus(name: BuiltinName, options: BuiltinOptions): string {
  const { train, val } = generateBuiltinSplits(name, options);
  return train + val;
}

const isTrainingExample = (line: string): boolean => !isHeldOutExample(line);

/** One example line (without its newline) per call. */
function lineGenerator(name: BuiltinName, rng: Rng): () => string {
  return name === 'toy-english' ? () => toyEnglishLine(rng) : () => taskLine(name, rng);
}

/** Lines that `keep` accepts, each ending in a newline, until they reach `chars` characters. */
function takeLines(next: () => string, keep: (line: string) => boolean, chars: number, what: string): string {
  const lines: string[] = [];
  let length = 0;
  while (length < chars) {
    const line = drawUntil(next, keep, what);
    lines.push(line, '\n');
    length += line.length + 1;
  }
  return lines.join('');
}

function taskLine(task: TaskName, rng: Rng): string {
  const { min, max } = taskLengthRange(task);
  const { prompt, answer } = taskExample(task, rng, min + rng.int(max - min + 1));
  return `${prompt}${answer}`;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

/** One to four sentences, space-separated, so the model also sees sentences that don't start a line. */
function toyEnglishLine(rng: Rng): string {
  const sentences = Array.from({ length: 1 + rng.int(4) }, () => sentence(rng));
  return sentences.join(' ');
}

function sentence(rng: Rng): string {
  const words = clause(rng);
  if (rng.next() < 0.25) words.push('and', ...clause(rng));
  return `${words.join(' ')}.`;
}

function clause(rng: Rng): string[] {
  const W = TOY_ENGLISH_WORDS;
  const words = nounPhrase(rng);
  if (rng.next() < 0.7) words.push(pick(rng, W.transitive), ...nounPhrase(rng));
  else words.push(pick(rng, W.intransitive));
  if (rng.next() < 0.3) words.push(pick(rng, W.prepositions), pick(rng, W.determiners), pick(rng, W.places));
  return words;
}

function nounPhrase(rng: Rng): string[] {
  const W = TOY_ENGLISH_WORDS;
  const words: string[] = [pick(rng, W.determiners)];
  if (rng.next() < 0.4) words.push(pick(rng, W.adjectives));
  words.push(pick(rng, W.nouns));
  return words;
}
