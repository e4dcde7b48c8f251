import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/engine/rng';
import { DataError, TASK_NAMES, taskExample, taskLengthRange, type TaskName } from '../../../src/engine/data';

/** Sizes across and beyond the training range, to cover length-generalisation tests too. */
function sizesFor(task: TaskName): number[] {
  const { min, max } = taskLengthRange(task);
  const sizes = [];
  for (let s = min; s <= max + 4; s++) sizes.push(s);
  return task === 'induction' ? [...sizes, 26] : [...sizes, 30];
}

function examples(task: TaskName, perSize = 40) {
  const rng = createRng(7);
  return sizesFor(task).flatMap((size) =>
    Array.from({ length: perSize }, () => ({ size, ...taskExample(task, rng, size) })),
  );
}

describe('tasks', () => {
  it('lists every task with a sensible training range', () => {
    expect(TASK_NAMES).toEqual(['copy', 'reverse', 'add', 'count', 'induction']);
    for (const task of TASK_NAMES) {
      const { min, max } = taskLengthRange(task);
      expect(min).toBeGreaterThanOrEqual(1);
      expect(max).toBeGreaterThan(min);
    }
    expect(taskLengthRange('copy')).toEqual({ min: 3, max: 8 });
  });

  it('copy repeats the letters', () => {
    for (const { size, prompt, answer } of examples('copy')) {
      expect(prompt).toMatch(/^[a-z]+\|$/);
      expect(prompt.length).toBe(size + 1);
      expect(answer).toBe(prompt.slice(0, -1));
    }
  });

  it('reverse reverses the letters', () => {
    for (const { size, prompt, answer } of examples('reverse')) {
      expect(prompt).toMatch(/^[a-z]+\|$/);
      expect(answer.length).toBe(size);
      for (let i = 0; i < size; i++) expect(answer[i]).toBe(prompt[size - 1 - i]);
    }
  });

  it('add gives the sum, even for numbers beyond double precision', () => {
    let sawMaxDigits = false;
    for (const { size, prompt, answer } of examples('add')) {
      const m = /^(\d+)\+(\d+)=$/.exec(prompt);
      expect(m).not.toBeNull();
      const [a, b] = [m![1]!, m![2]!];
      for (const operand of [a, b]) {
        expect(operand.length).toBeLessThanOrEqual(size);
        expect(operand === '0' || !operand.startsWith('0')).toBe(true);
      }
      if (a.length === size || b.length === size) sawMaxDigits = true;
      expect(answer).toBe(String(BigInt(a) + BigInt(b)));
    }
    expect(sawMaxDigits).toBe(true);
  });

  it('count lists the numbers of the range', () => {
    for (const { size, prompt, answer } of examples('count')) {
      const m = /^(\d+)\.\.(\d+)=$/.exec(prompt);
      expect(m).not.toBeNull();
      const [start, end] = [Number(m![1]), Number(m![2])];
      expect(end - start + 1).toBe(size);
      const numbers = answer.split(' ').map(Number);
      expect(numbers).toEqual(Array.from({ length: size }, (_, i) => start + i));
    }
  });

  it('induction answers the letter that followed the query', () => {
    const queried = new Set<number>();
    for (const { size, prompt, answer } of examples('induction')) {
      const m = /^([a-z]+)\?([a-z])=$/.exec(prompt);
      expect(m).not.toBeNull();
      const [s, q] = [m![1]!, m![2]!];
      expect(s.length).toBe(size);
      expect(new Set(s).size).toBe(size);
      const at = s.indexOf(q);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThan(size - 1);
      expect(answer).toBe(s[at + 1]);
      queried.add(at);
    }
    expect(queried.size).toBeGreaterThan(10);
  });

  it('is deterministic for a seed', () => {
    for (const task of TASK_NAMES) {
      const a = taskExample(task, createRng(3), 5);
      const b = taskExample(task, createRng(3), 5);
      expect(a).toEqual(b);
    }
  });

  it('rejects sizes a task cannot produce', () => {
    expect(() => taskExample('copy', createRng(1), 0)).toThrow(/copy size must be an integer at least 1, got 0/);
    expect(() => taskExample('add', createRng(1), 2.5)).toThrow(DataError);
    expect(() => taskExample('induction', createRng(1), 27)).toThrow(/induction size must be an integer 2\.\.26/);
    expect(() => taskExample('induction', createRng(1), 1)).toThrow(DataError);
  });
});
