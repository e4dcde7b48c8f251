import { describe, expect, it } from 'vitest';
import { newestLengthEvals } from '../../src/lab/lengthEvals';

const payload = (runId: number, loss: number, ropeScaling?: string) => ({ runId, block: 8, scheme: 'rope', ...(ropeScaling ? { ropeScaling } : {}), results: [{ length: 8, applicable: true, loss, ppl: 1, accuracy: 0, perPositionLoss: [], windows: 1, ms: 0, peakBytes: 0 }] });

describe('newestLengthEvals', () => {
  it('keeps the newest evaluation of each rope scaling and skips rows that do not parse', () => {
    const rows = [payload(1, 3), payload(1, 2.5, 'pi'), payload(1, 2.9), { broken: true }, payload(1, 2.4, 'yarn'), payload(1, 9, 'bogus')].map((p) => ({ payload: p }));
    const shown = newestLengthEvals(rows);
    expect(shown.map((e) => [e.ropeScaling ?? 'none', e.results[0]!.loss])).toEqual([
      ['none', 2.9],
      ['pi', 2.5],
      ['yarn', 2.4],
    ]);
    expect(newestLengthEvals([])).toEqual([]);
  });
});
