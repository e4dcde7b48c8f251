import { describe, expect, it } from 'vitest';
import { CALLS, DECIMAL_INTEGER, DECIMAL_NUMBER, MAX_NAME_LENGTH, checkName } from '../../src/shared/api';

describe('shared input limits', () => {
  it('integers are plain decimal: no hex, binary, octal, exponent, fraction, blank or Infinity', () => {
    for (const ok of ['0', '7', '-3', '+12', '0010']) expect(DECIMAL_INTEGER.test(ok), ok).toBe(true);
    for (const bad of ['0x3', '0b11', '0o7', '1e3', '1.5', '', ' 3', 'Infinity', '3 ']) expect(DECIMAL_INTEGER.test(bad), bad).toBe(false);
  });

  it('numbers are decimal with an optional fraction and exponent', () => {
    for (const ok of ['1', '0.5', '.5', '3e-3', '1E+2', '-0.1', '2.']) expect(DECIMAL_NUMBER.test(ok), ok).toBe(true);
    for (const bad of ['0x1', 'NaN', 'Infinity', '1,5', '', 'e3', '1e']) expect(DECIMAL_NUMBER.test(bad), bad).toBe(false);
  });

  it('names: trimmed, not empty, at most 200 characters — the same rule the API schema applies', () => {
    expect(checkName('  run a  ')).toEqual({ name: 'run a' });
    expect(checkName('   ')).toEqual({ problem: 'must not be empty' });
    expect(checkName('x'.repeat(MAX_NAME_LENGTH))).toEqual({ name: 'x'.repeat(200) });
    expect(checkName('x'.repeat(201))).toEqual({ problem: 'must be at most 200 characters, got 201' });
    const schema = CALLS.renameRun.request;
    expect(schema.safeParse({ runId: 1, name: 'x'.repeat(200) }).success).toBe(true);
    expect(schema.safeParse({ runId: 1, name: 'x'.repeat(201) }).success).toBe(false);
  });
});
