import type { Rng } from '../rng';
import { DataError } from './errors';
import { drawUntil, isHeldOutExample } from './heldOut';

/**
 * Synthetic algorithmic tasks. Each example is one line, `prompt + answer + '\n'`, and a `size`
 * sets how long it is, so a model trained on the default sizes can be tested on longer ones.
 *
 *   copy       `abc|` → `abc`           size = number of letters (drawn with repeats)
 *   reverse    `abc|` → `cba`           size = number of letters
 *   add        `123+45=` → `168`        size = max digits of each operand; operands are uniform
 *                                        in [0, 10^size), written without leading zeros
 *   count      `17..20=` → `17 18 19 20` size = how many numbers are counted; start is in [0, 100)
 *   induction  `qwerty?e=` → `r`        size = number of distinct letters before `?`; the query is
 *                                        any of them but the last, the answer the letter after it
 */
export const TASK_NAMES = ['copy', 'reverse', 'add', 'count', 'induction'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export interface TaskExample {
  prompt: string;
  answer: string;
}

export interface SizeRange {
  min: number;
  max: number;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Sizes used for training data; anything above `max` is a length-generalisation test. */
const TRAINING_SIZES: Record<TaskName, SizeRange> = {
  copy: { min: 3, max: 8 },
  reverse: { min: 3, max: 8 },
  add: { min: 1, max: 4 },
  count: { min: 2, max: 6 },
  induction: { min: 4, max: 10 },
};

/** Sizes a task can produce at all (induction needs a letter after the query, and has 26 letters). */
const VALID_SIZES: Record<TaskName, SizeRange> = {
  copy: { min: 1, max: Infinity },
  reverse: { min: 1, max: Infinity },
  add: { min: 1, max: Infinity },
  count: { min: 1, max: Infinity },
  induction: { min: 2, max: LETTERS.length },
};

const EXAMPLES: Record<TaskName, (rng: Rng, size: number) => TaskExample> = {
  copy: copyExample,
  reverse: reverseExample,
  add: addExample,
  count: countExample,
  induction: inductionExample,
};

export function taskLengthRange(task: TaskName): SizeRange {
  return { ...TRAINING_SIZES[task] };
}

export function taskExample(task: TaskName, rng: Rng, size: number): TaskExample {
  const { min, max } = VALID_SIZES[task];
  if (!Number.isInteger(size) || size < min || size > max) {
    const limit = max === Infinity ? `at least ${min}` : `${min}..${max}`;
    throw new DataError('bad-option', `task ${task} size must be an integer ${limit}, got ${size}`);
  }
  return EXAMPLES[task](rng, size);
}

/** An example reserved for validation (heldOut.ts): what task accuracy is measured on, never in a training line. */
export function heldOutTaskExample(task: TaskName, rng: Rng, size: number): TaskExample {
  const next = () => taskExample(task, rng, size);
  return drawUntil(next, (e) => isHeldOutExample(`${e.prompt}${e.answer}`), `held-out ${task} example of size ${size}`);
}

function randomLetters(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += LETTERS[rng.int(LETTERS.length)];
  return s;
}

/** The first n letters of a random permutation of the alphabet (partial Fisher–Yates). */
function distinctLetters(rng: Rng, n: number): string {
  const pool = LETTERS.split('');
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n).join('');
}

/** Uniform in [0, 10^digits) as a decimal string; strings, not numbers, so any size stays exact. */
function randomNumber(rng: Rng, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) s += String(rng.int(10));
  return s.replace(/^0+(?=\d)/, '');
}

function addDecimal(a: string, b: string): string {
  let sum = '';
  let carry = 0;
  for (let i = a.length - 1, j = b.length - 1; i >= 0 || j >= 0 || carry > 0; i--, j--) {
    const d = (i >= 0 ? Number(a[i]) : 0) + (j >= 0 ? Number(b[j]) : 0) + carry;
    sum = String(d % 10) + sum;
    carry = d >= 10 ? 1 : 0;
  }
  return sum;
}

function copyExample(rng: Rng, size: number): TaskExample {
  const s = randomLetters(rng, size);
  return { prompt: `${s}|`, answer: s };
}

function reverseExample(rng: Rng, size: number): TaskExample {
  const s = randomLetters(rng, size);
  return { prompt: `${s}|`, answer: [...s].reverse().join('') };
}

function addExample(rng: Rng, size: number): TaskExample {
  const a = randomNumber(rng, size);
  const b = randomNumber(rng, size);
  return { prompt: `${a}+${b}=`, answer: addDecimal(a, b) };
}

function countExample(rng: Rng, size: number): TaskExample {
  const start = rng.int(100);
  const end = start + size - 1;
  const numbers = Array.from({ length: size }, (_, i) => String(start + i));
  return { prompt: `${start}..${end}=`, answer: numbers.join(' ') };
}

function inductionExample(rng: Rng, size: number): TaskExample {
  const s = distinctLetters(rng, size);
  const q = rng.int(size - 1);
  return { prompt: `${s}?${s[q]}=`, answer: s[q + 1]! };
}
