/** The one call-proxy builder: a function per contract call, resolving with the value or throwing the caller's error. */
import { describe, expect, it } from 'vitest';
import { CALL_NAMES, type CallResult, type LabErrorInfo } from '../../src/shared/api';
import { callProxy } from '../../src/shared/callProxy';

class TestError extends Error {
  constructor(readonly info: LabErrorInfo) {
    super(info.message);
  }
}

describe('callProxy', () => {
  it('has one function per call, passing the call name and request through', async () => {
    const calls: [string, unknown][] = [];
    const api = callProxy(
      async (name, request) => {
        calls.push([name, request]);
        return { ok: true, value: `${name} answered` };
      },
      (info) => new TestError(info),
    );
    expect(Object.keys(api).sort()).toEqual([...CALL_NAMES].sort());
    expect(await api.getRun({ runId: 4 })).toBe('getRun answered');
    expect(calls).toEqual([['getRun', { runId: 4 }]]);
  });

  it("throws the caller's error built from a failed result", async () => {
    const failure: CallResult = { ok: false, error: { code: 'invalid-config', message: 'nLayer: too small', problems: [{ field: 'nLayer', message: 'too small' }] } };
    const api = callProxy(async () => failure, (info) => new TestError(info));
    const error = await api.startRun({ config: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestError);
    expect((error as TestError).info).toEqual(failure.error);
  });
});
