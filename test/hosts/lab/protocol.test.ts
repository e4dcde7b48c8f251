/** The lab process's protocol refuses what the contract would not send: both directions are parsed at the boundary. */
import { describe, expect, it } from 'vitest';
import { labCallSchema, labProcessEventSchema } from '../../../src/hosts/lab/protocol';

describe('the lab process protocol', () => {
  it('accepts the messages each side sends', () => {
    expect(labCallSchema.safeParse({ type: 'call', id: 1, name: 'listRuns', payload: undefined }).success).toBe(true);
    for (const message of [
      { type: 'ready' },
      { type: 'fatal', message: 'cannot open the run database' },
      { type: 'result', id: 1, result: { ok: true, value: [] } },
      { type: 'result', id: 2, result: { ok: false, error: { code: 'not-found', message: 'run 9 does not exist' } } },
      { type: 'event', event: { channel: 'queue', payload: { running: null, queued: [3] } } },
    ])
      expect(labProcessEventSchema.safeParse(message).success, JSON.stringify(message)).toBe(true);
  });

  it.each([
    ['a call without an id', labCallSchema, { type: 'call', name: 'listRuns' }],
    ['a call with a text id', labCallSchema, { type: 'call', id: '1', name: 'listRuns', payload: {} }],
    ['a call with extra fields', labCallSchema, { type: 'call', id: 1, name: 'listRuns', payload: {}, as: 'root' }],
    ['an unknown message type', labProcessEventSchema, { type: 'explode' }],
    ['a result with an unknown error code', labProcessEventSchema, { type: 'result', id: 1, result: { ok: false, error: { code: 'teapot', message: 'x' } } }],
    ['a result that is neither ok nor failed', labProcessEventSchema, { type: 'result', id: 1, result: { value: 1 } }],
    ['an event on an unknown channel', labProcessEventSchema, { type: 'event', event: { channel: 'run:explode', payload: {} } }],
    ['an event whose payload does not fit its channel', labProcessEventSchema, { type: 'event', event: { channel: 'queue', payload: { running: 'x', queued: [] } } }],
  ])('refuses %s', (_label, schema, message) => {
    expect(schema.safeParse(message).success).toBe(false);
  });
});
