/**
 * Models in and out through LabService (what the Playground and the Runs view call): sampleText runs in the
 * analysis host and streams every token as a sampleToken event, exportModel / importModel round-trip a run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/hosts/dispatch';
import { LabService } from '../../src/service/labService';
import type { EventPayload, LabEvent } from '../../src/shared/api';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-models-'));
const service = new LabService({ dbPath: join(dir, 'runs.db'), backend: 'wasm', echoHostStderr: false });
afterAll(async () => {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

const tiny = { data: 'builtin:toy-english', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 10, evalEvery: 10, sampleEvery: 0, checkpointEvery: 10 };

async function trained(): Promise<number> {
  const done = new Promise<void>((resolve) => service.subscribe((e: LabEvent) => e.channel === 'run:status' && e.payload.status === 'completed' && resolve()));
  const { runId } = await service.startRun({ config: tiny });
  await done;
  return runId;
}

describe('models through the service', () => {
  it('streams a sample token by token, in order, for the stream that asked', async () => {
    const runId = await trained();
    const tokens: EventPayload<'sampleToken'>[] = [];
    service.subscribe((e: LabEvent) => e.channel === 'sample:token' && tokens.push(e.payload));
    const result = await service.sampleText({ runId, prompt: 'the ', tokens: 20, temperature: 0.8, topK: 5, seed: 3, streamId: 'play-1' });
    expect(tokens.map((t) => t.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(tokens.every((t) => t.runId === runId && t.streamId === 'play-1')).toBe(true);
    expect(tokens.map((t) => t.token.text).join('')).toBe(result.text);
    expect(result.window).toBe(16);
    expect(result.slid).toBe(true);

    const badPrompt = await dispatch(service, 'sampleText', { runId, prompt: 'the QUEEN', tokens: 5, temperature: 1, topK: 0, seed: 1 });
    expect(badPrompt).toMatchObject({ ok: false, error: { message: expect.stringMatching(/character "Q" at position 4 is not in the vocabulary/) } });
    expect(await dispatch(service, 'sampleText', { runId, prompt: '', tokens: 5, temperature: 1, topK: 0, seed: 1 })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('exports a run and imports it back as a new run that samples the same text', async () => {
    const runId = (await service.listRuns())[0].id;
    const out = join(dir, 'exported');
    const written = await service.exportModel({ runId, dir: out });
    expect(written.layout).toBe('gpt2');
    expect(await dispatch(service, 'exportModel', { runId, dir: out })).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/is not empty/) } });
    const imported = await service.importModel({ dir: out });
    expect(imported.runId).not.toBe(runId);
    const ask = { prompt: 'a ', tokens: 8, temperature: 1, topK: 0, seed: 9 };
    expect((await service.sampleText({ runId: imported.runId, ...ask })).text).toBe((await service.sampleText({ runId, ...ask })).text);
  });
});
