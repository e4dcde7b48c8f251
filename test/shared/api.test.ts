import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../src/engine/backend';
import { ATTN_LOG_SCALINGS, DEFAULT_CONFIG, NORM_PLACEMENTS, NORM_TYPES, PRESET_NAMES, TOKENIZER_KINDS } from '../../src/engine/config';
import { PROBE_KINDS } from '../../src/engine/eval/probes';
import {
  ATTN_LOG_SCALING_VALUES,
  BACKEND_VALUES,
  CALL_NAMES,
  CALLS,
  Channel,
  EVENT_CHANNELS,
  EVENTS,
  EventChannel,
  LabError,
  NORM_PLACEMENT_VALUES,
  NORM_TYPE_VALUES,
  PRESET_VALUES,
  PROBE_KIND_VALUES,
  TOKENIZER_VALUES,
  apiPath,
  parseLabEvent,
  runConfigSchema,
  runRecordSchema,
} from '../../src/shared/api';

describe('the contract', () => {
  it('names every call once, with distinct IPC channels and HTTP paths', () => {
    expect(Object.keys(CALLS).sort()).toEqual([...CALL_NAMES].sort());
    const channels = CALL_NAMES.map((name) => Channel[name]);
    expect(new Set(channels).size).toBe(channels.length);
    for (const name of CALL_NAMES) {
      expect(Channel[name]).toBe(`lab:${name}`);
      expect(apiPath(name)).toBe(`/api/${name}`);
    }
    expect(new Set(EVENT_CHANNELS).size).toBe(EVENT_CHANNELS.length);
    expect(EVENT_CHANNELS).toEqual(expect.arrayContaining(['run:metrics', 'run:sample', 'run:status', 'queue']));
    expect(Object.keys(EVENTS).sort()).toEqual(Object.keys(EventChannel).sort());
    // Event and call channels never collide, so one IPC namespace holds both.
    for (const channel of EVENT_CHANNELS) expect(channels).not.toContain(channel);
  });

  it('derives RunInfo from RUN_COLUMNS: every run field in table order except the store-only vocabulary and owner, plus damaged', () => {
    expect(Object.keys(runRecordSchema.shape)).toEqual([
      'id', 'name', 'status', 'config', 'backend', 'dataSource', 'dataHash', 'params', 'sweepKey', 'sweepSize', 'createdAt', 'startedAt',
      'finishedAt', 'lastStep', 'finalTrainLoss', 'finalValLoss', 'tokensPerSecond', 'error', 'tags', 'notes', 'parentId', 'damaged',
    ]);
    expect(runRecordSchema.shape.config.parse(DEFAULT_CONFIG)).toEqual(DEFAULT_CONFIG);
    expect(runRecordSchema.shape.config.safeParse({ nLayer: 2 }).success).toBe(false);
    expect(runRecordSchema.shape.status.safeParse('exploded').success).toBe(false);
    expect(runRecordSchema.shape.id.safeParse(0).success).toBe(false);
  });

  it('repeats the engine enums exactly (it cannot import them: the renderer bundles it)', () => {
    expect([...NORM_PLACEMENT_VALUES]).toEqual([...NORM_PLACEMENTS]);
    expect([...NORM_TYPE_VALUES]).toEqual([...NORM_TYPES]);
    expect([...PRESET_VALUES]).toEqual([...PRESET_NAMES]);
    expect([...BACKEND_VALUES]).toEqual([...BACKEND_NAMES]);
    expect([...PROBE_KIND_VALUES]).toEqual([...PROBE_KINDS]);
    expect([...TOKENIZER_VALUES]).toEqual([...TOKENIZER_KINDS]);
    expect([...ATTN_LOG_SCALING_VALUES]).toEqual([...ATTN_LOG_SCALINGS]);
  });

  it('types every RunConfig field, and the default config passes', () => {
    // The optional fields without a default: posExtension (absent from every run that was not fine-tuned) and
    // randomPositions (absent from every run trained on positions 0…block−1).
    expect(Object.keys(runConfigSchema.shape).sort()).toEqual([...Object.keys(DEFAULT_CONFIG), 'posExtension', 'randomPositions'].sort());
    expect(runConfigSchema.safeParse(DEFAULT_CONFIG).success).toBe(true);
  });
});

describe('request validation', () => {
  const valid: Record<string, unknown> = {
    startRun: { config: { preset: 'nano', pos: 'rope', dropoutAttn: 0.1 }, name: 'my run' },
    stopRun: { runId: 3 },
    metrics: { runId: 3, sinceStep: 10 },
    renameRun: { runId: 1, name: 'new name' },
    annotateRun: { runId: 1, tags: ['baseline', 'lr sweep'], notes: 'loss flat after 300' },
    probe: { runId: null, kind: 'equivariance' },
    startSweep: { grid: { pos: ['rope', 'alibi'], norm: ['pre'], dropout: [0, 0.1] }, config: { steps: 10 } },
    exportRun: { runId: 1, format: 'csv' },
    listRuns: undefined,
    backendInfo: {},
  };

  it.each(Object.entries(valid))('accepts a well-formed %s request', (name, request) => {
    expect(CALLS[name as keyof typeof CALLS].request.safeParse(request).success).toBe(true);
  });

  const malformed: [string, unknown][] = [
    ['startRun', { config: { nLayer: 'three' } }],
    ['startRun', { config: { norm: 'sideways' } }],
    ['startRun', { config: { preset: 'huge' } }],
    ['startRun', { config: {}, extra: true }],
    ['startRun', { config: { steps: Number.NaN } }],
    ['startRun', { config: {}, name: '' }],
    ['startRun', { config: {}, name: 'x'.repeat(201) }],
    ['startRun', 'train please'],
    ['startRun', null],
    ['stopRun', { runId: -1 }],
    ['stopRun', { runId: 1.5 }],
    ['stopRun', { runId: '1' }],
    ['stopRun', {}],
    ['metrics', { runId: 1, sinceStep: -5 }],
    ['renameRun', { runId: 1, name: '   ' }],
    ['annotateRun', { runId: 1, tags: ['a,b'], notes: '' }],
    ['annotateRun', { runId: 1, tags: ['x'.repeat(41)], notes: '' }],
    ['annotateRun', { runId: 1, tags: [], notes: 'n'.repeat(10_001) }],
    ['probe', { runId: 1, kind: 'mind-reading' }],
    ['evalLength', { runId: 1, lengths: [0] }],
    ['startSweep', { grid: { pos: [], norm: ['pre'], dropout: [0] }, config: {} }],
    ['startSweep', { grid: { pos: ['rope'], norm: ['pre'], dropout: [2] }, config: {} }],
    ['exportRun', { runId: 1, format: 'xlsx' }],
    ['listRuns', { page: 2 }],
  ];

  it.each(malformed)('rejects a malformed %s request: %j', (name, request) => {
    expect(CALLS[name as keyof typeof CALLS].request.safeParse(request).success).toBe(false);
  });
});

describe('events', () => {
  it('parses known events and drops unknown or malformed ones', () => {
    const rows = [{ step: 0, tokens: 512, wallMs: 10, trainLoss: 3.2, valLoss: null, lr: 1e-3, gradNorm: 1.1, tokensPerSecond: 5000 }];
    expect(parseLabEvent({ channel: 'run:metrics', payload: { runId: 1, rows } })).toEqual({ channel: 'run:metrics', payload: { runId: 1, rows } });
    expect(parseLabEvent({ channel: 'queue', payload: { running: null, queued: [2, 3] } })?.channel).toBe('queue');
    expect(parseLabEvent({ channel: 'run:status', payload: { runId: 1, status: 'exploded' } })).toBeUndefined();
    expect(parseLabEvent({ channel: 'lab:startRun', payload: {} })).toBeUndefined();
    expect(parseLabEvent('run:metrics')).toBeUndefined();
    expect(parseLabEvent(null)).toBeUndefined();
  });
});

describe('LabError', () => {
  it('keeps its code and problems for the transports', () => {
    const error = new LabError('invalid-config', 'bad', [{ field: 'nHead', message: 'must divide nEmbd' }]);
    expect(error.toInfo()).toEqual({ code: 'invalid-config', message: 'bad', problems: [{ field: 'nHead', message: 'must divide nEmbd' }] });
    expect(new LabError('not-found', 'gone').toInfo()).toEqual({ code: 'not-found', message: 'gone' });
  });
});
