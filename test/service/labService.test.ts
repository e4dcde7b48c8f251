/**
 * LabService with its real training host process (forked through tsx), on a throwaway database. Runs are tiny:
 * one layer, 16 wide, block 16, batch 8.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dispatch } from '../../src/hosts/dispatch';
import { LabService } from '../../src/service/labService';
import { CALLS, type ConfigOverrides, type LabEvent } from '../../src/shared/api';
import { nextEvent } from '../helpers/events';

const TINY: ConfigOverrides = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, evalEvery: 10, evalBatches: 1, sampleEvery: 0, checkpointEvery: 10 };

function tiny(steps: number, extra: ConfigOverrides = {}): ConfigOverrides {
  return { ...TINY, steps, ...extra };
}

const statusIs = (runId: number, status: string) => (e: LabEvent) => e.channel === 'run:status' && e.payload.runId === runId && e.payload.status === status;
const metricsPast = (runId: number, step: number) => (e: LabEvent) => e.channel === 'run:metrics' && e.payload.runId === runId && e.payload.rows.some((r) => r.step >= step);

let dir: string;
let service: LabService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-service-'));
  service = new LabService({ dbPath: join(dir, 'runs.db'), backend: 'wasm', echoHostStderr: false });
  await service.backendInfo();
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('configuration calls', () => {
  it('reports the backend the host loaded', async () => {
    const backend = await service.backendInfo();
    expect(CALLS.backendInfo.response.parse(backend)).toMatchObject({ name: 'wasm', gpu: false });
  });

  it('lists the schemes from the registry with what the picker needs', async () => {
    const schemes = CALLS.listSchemes.response.parse(await service.listSchemes());
    expect(schemes.map((s) => s.name)).toEqual(expect.arrayContaining(['none', 'learned', 'rope', 'alibi', 't5']));
    const learned = schemes.find((s) => s.name === 'learned')!;
    expect(learned.maxLengthFactor).toBe(1);
    expect(schemes.find((s) => s.name === 'rope')!.maxLengthFactor).toBeNull();
    expect(schemes.find((s) => s.name === 'rope')!.knobs[0]).toMatchObject({ key: 'base', default: 10000 });
    for (const s of schemes) expect(s.summary.length).toBeGreaterThan(10);
  });

  it('lists the builtin corpora with previews, and the defaults', async () => {
    const builtins = CALLS.listBuiltins.response.parse(await service.listBuiltins());
    expect(builtins.find((b) => b.name === 'toy-english')).toMatchObject({ source: 'builtin:toy-english' });
    expect(builtins.find((b) => b.name === 'shakespeare')?.preview).toMatch(/^First Citizen:\nBefore we proceed/);
    for (const b of builtins) expect(b.preview.length).toBeGreaterThan(20);
    const defaults = CALLS.configDefaults.response.parse(await service.configDefaults());
    expect(defaults.presets.map((p) => p.name)).toEqual(['nano', 'micro', 'mini', 'shakespeare-char']);
    expect(defaults.presets[3]).toMatchObject({ nLayer: 4, blockSize: 64, batchSize: 12, steps: 2000, lr: 1e-3 });
    expect(defaults.defaults.threads).toBe('auto');
    expect(defaults.cores).toBe(availableParallelism());
  });

  it('validates a config with the CLI rules, naming each field', async () => {
    const ok = await service.validateConfig({ config: tiny(5) });
    expect(ok.problems).toEqual([]);
    expect(ok.config).toMatchObject({ nLayer: 1, steps: 5, pos: 'learned' });
    const bad = await service.validateConfig({ config: { nEmbd: 16, nHead: 5, dropoutAttn: 2, pos: 'wobbly' } });
    expect(bad.config).toBeNull();
    expect(bad.problems.map((p) => p.field)).toEqual(expect.arrayContaining(['nHead', 'dropoutAttn', 'pos']));
    const noData = await service.validateConfig({ config: { data: join(dir, 'missing.txt') } });
    expect(noData.problems).toEqual([{ field: 'data', message: expect.stringContaining('not found') }]);
  });

  it("refuses a relative path rather than reading it from the lab's folder", async () => {
    const relative = await service.validateConfig({ config: { data: 'package.json' } });
    expect(relative.problems).toEqual([{ field: 'data', message: 'data file path "package.json" is relative: type an absolute path, or pick or drop the file' }]);
  });
});

describe('uploaded texts', () => {
  it('trains on an uploaded text through the host, which reads it from the database', async () => {
    const text = 'one two three four. '.repeat(30);
    const upload = await dispatch(service, 'addText', { name: 'numbers.txt', base64: Buffer.from(text).toString('base64') });
    expect(upload).toMatchObject({ ok: true, value: { name: 'numbers.txt', size: 600, tokens: 600, vocabSize: 11 } });
    const source = (upload as { value: { source: string } }).value.source;
    expect(source).toMatch(/^text:[0-9a-f]{64}$/);
    const { runId } = await service.startRun({ config: tiny(3, { data: source }) });
    await nextEvent(service, statusIs(runId, 'completed'));
    expect((await service.getRun({ runId })).dataSource).toBe(source);
    const empty = await dispatch(service, 'addText', { name: 'blank.txt', base64: Buffer.from('  \n').toString('base64') });
    expect(empty).toMatchObject({ ok: false, error: { code: 'invalid-data', message: 'uploaded text blank.txt is empty (only whitespace)' } });
  });
});

describe('training through the host', () => {
  it('trains seeds: k as one group, as train --seeds does: seeds s … s+k−1, one key, named by seed', async () => {
    const { runId, runIds } = await service.startRun({ config: tiny(2, { seed: 5 }), name: 'grouped', seeds: 3 });
    expect(runIds).toHaveLength(3);
    expect(runId).toBe(runIds![0]);
    await nextEvent(service, statusIs(runIds![2]!, 'completed'));
    const runs = await Promise.all(runIds!.map((id) => service.getRun({ runId: id })));
    expect(runs.map((r) => [r.config.seed, r.name, r.status])).toEqual([[5, 'grouped · seed 5', 'completed'], [6, 'grouped · seed 6', 'completed'], [7, 'grouped · seed 7', 'completed']]);
    expect(new Set(runs.map((r) => r.sweepKey)).size).toBe(1);
    expect(runs[0]!.sweepKey).toMatch(/^seeds:/);
    const tooMany = await dispatch(service, 'startRun', { config: tiny(2), seeds: 17 });
    expect(tooMany).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('refuses a bad config before queueing: a clear error, nothing written', async () => {
    const before = (await service.listRuns()).length;
    const result = await dispatch(service, 'startRun', { config: { nEmbd: 16, nHead: 5 } });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid-config', problems: [{ field: 'nHead' }] } });
    const noData = await dispatch(service, 'startRun', { config: { data: join(dir, 'missing.txt') } });
    expect(noData).toMatchObject({ ok: false, error: { code: 'invalid-data' } });
    expect((await service.listRuns()).length).toBe(before);
  });

  it('rejects malformed payloads before the service sees them', async () => {
    const spy = vi.spyOn(service, 'startRun');
    for (const payload of [{ config: { nLayer: 'two' } }, { config: {}, sneaky: 1 }, 'train', null, { config: { steps: 1e400 } }]) {
      const result = await dispatch(service, 'startRun', payload);
      expect(result).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    }
    expect(await dispatch(service, 'noSuchCall', {})).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('queues runs, trains them one after another, and streams metrics, samples and status', async () => {
    const events: LabEvent[] = [];
    const off = service.subscribe((e) => events.push(e));
    const first = await service.startRun({ config: tiny(20, { sampleEvery: 20, sampleLength: 8 }), name: 'first' });
    const second = await service.startRun({ config: tiny(10, { pos: 'rope' }) });
    expect(first.status).toBe('queued');
    expect((await service.queueState()).queued).toContain(second.runId);
    await nextEvent(service, statusIs(second.runId, 'completed'));
    off();

    const statusOf = (runId: number) => events.filter((e) => e.channel === 'run:status' && e.payload.runId === runId).map((e) => e.payload as { status: string }).map((p) => p.status);
    expect(statusOf(first.runId)).toEqual(['queued', 'running', 'completed']);
    expect(statusOf(second.runId)).toEqual(['queued', 'running', 'completed']);
    const firstDone = events.findIndex(statusIs(first.runId, 'completed'));
    const secondRunning = events.findIndex(statusIs(second.runId, 'running'));
    expect(secondRunning).toBeGreaterThan(firstDone);

    const streamed = events.flatMap((e) => (e.channel === 'run:metrics' && e.payload.runId === first.runId ? e.payload.rows : []));
    expect(streamed.map((r) => r.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const e of events) expect(CALLS.queueState.response.safeParse(e.channel === 'queue' ? e.payload : { running: null, queued: [] }).success).toBe(true);
    expect(events.some((e) => e.channel === 'run:sample' && e.payload.runId === first.runId)).toBe(true);

    const run = CALLS.getRun.response.parse(await service.getRun({ runId: first.runId }));
    expect(run).toMatchObject({ name: 'first', status: 'completed', lastStep: 19, backend: { name: 'wasm' } });
    expect(run.params).toBeGreaterThan(0);
    expect(await service.metrics({ runId: first.runId })).toHaveLength(20);
    expect(await service.metrics({ runId: first.runId, sinceStep: 14 })).toHaveLength(5);
    expect((await service.samples({ runId: first.runId })).length).toBeGreaterThan(0);
    expect((await service.getRun({ runId: second.runId })).config.pos).toBe('rope');
  });

  it('fine-tunes a finished run at a longer block through the queue, as a child linked to it; bad requests queue nothing', async () => {
    const parent = await service.startRun({ config: tiny(6, { pos: 'rope' }) });
    await nextEvent(service, statusIs(parent.runId, 'completed'));
    const child = await dispatch(service, 'finetuneRun', { runId: parent.runId, blockSize: 32, steps: 4, ropeScaling: 'pi' });
    expect(child).toMatchObject({ ok: true, value: { status: 'queued' } });
    const childId = (child as { value: { runId: number } }).value.runId;
    await nextEvent(service, statusIs(childId, 'completed'));
    const run = CALLS.getRun.response.parse(await service.getRun({ runId: childId }));
    expect(run).toMatchObject({ parentId: parent.runId, status: 'completed', lastStep: 3, config: { blockSize: 32, steps: 4, posExtension: { method: 'pi', scale: 2 } } });
    expect((await service.metrics({ runId: childId }))[0]!.tokens).toBe(8 * 32);

    const count = (await service.listRuns()).length;
    expect(await dispatch(service, 'finetuneRun', { runId: 999, blockSize: 32, steps: 4 })).toMatchObject({ ok: false, error: { code: 'not-found', message: 'run 999 does not exist' } });
    expect(await dispatch(service, 'finetuneRun', { runId: parent.runId, blockSize: 16, steps: 4 })).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(/the new block must be longer than run \d+'s block 16/) } });
    expect(await dispatch(service, 'finetuneRun', { runId: parent.runId, blockSize: 0, steps: 4 })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect((await service.listRuns()).length).toBe(count);
  });

  it('pauses, resumes and stops a live run', async () => {
    const { runId } = await service.startRun({ config: tiny(100_000) });
    await nextEvent(service, metricsPast(runId, 2));
    expect(await service.pauseRun({ runId })).toEqual({ runId, status: 'paused' });
    expect((await service.getRun({ runId })).status).toBe('paused');
    const stepAtPause = (await service.metrics({ runId })).length;
    await new Promise((r) => setTimeout(r, 600));
    // At most the step in flight when the pause arrived.
    expect((await service.metrics({ runId })).length).toBeLessThanOrEqual(stepAtPause + 1);
    expect(await service.resumeRun({ runId })).toEqual({ runId, status: 'running' });
    const resumedAt = (await service.getRun({ runId })).lastStep;
    await nextEvent(service, metricsPast(runId, resumedAt + 3));
    expect(await service.stopRun({ runId })).toEqual({ runId, status: 'stopped' });
    expect((await service.queueState()).running).toBeNull();
    await expect(service.pauseRun({ runId })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('stops a queued run without training it, and deletes and renames runs', async () => {
    const long = await service.startRun({ config: tiny(100_000) });
    const waiting = await service.startRun({ config: tiny(5) });
    expect(await service.stopRun({ runId: waiting.runId })).toEqual({ runId: waiting.runId, status: 'stopped' });
    expect((await service.queueState()).queued).not.toContain(waiting.runId);
    await nextEvent(service, metricsPast(long.runId, 1));
    await expect(service.deleteRun({ runId: long.runId })).rejects.toMatchObject({ code: 'conflict' });
    await service.stopRun({ runId: long.runId });

    const renamed = await service.renameRun({ runId: waiting.runId, name: 'renamed <b>run</b>' });
    expect(renamed.name).toBe('renamed <b>run</b>');
    const annotated = await service.annotateRun({ runId: waiting.runId, tags: ['baseline', 'baseline', 'lr'], notes: 'to <i>compare</i>' });
    expect(annotated).toMatchObject({ tags: ['baseline', 'lr'], notes: 'to <i>compare</i>' });
    expect(await dispatch(service, 'annotateRun', { runId: waiting.runId, tags: ['a,b'], notes: '' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    await service.deleteRun({ runId: waiting.runId });
    await expect(service.getRun({ runId: waiting.runId })).rejects.toMatchObject({ code: 'not-found' });
    expect(await dispatch(service, 'getRun', { runId: waiting.runId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('expands a sweep grid into queued runs sharing a key, and validates all of them first', async () => {
    const before = (await service.listRuns()).length;
    await expect(service.startSweep({ grid: { pos: ['rope', 'none'], norm: ['pre'], dropout: [0] }, config: tiny(3, { nEmbd: 15, nHead: 3 }) })).rejects.toMatchObject({
      code: 'invalid-config',
    });
    expect((await service.listRuns()).length).toBe(before);

    const { sweepKey, runIds } = await service.startSweep({ grid: { pos: ['none', 'alibi'], norm: ['pre', 'post'], dropout: [0] }, config: tiny(3), name: 'grid' });
    expect(sweepKey).toMatch(/^sweep:[0-9a-f]+$/);
    expect(runIds).toHaveLength(4);
    await nextEvent(service, statusIs(runIds[3], 'completed'));
    const runs = await Promise.all(runIds.map((runId) => service.getRun({ runId })));
    expect(runs.every((r) => r.sweepKey === sweepKey && r.status === 'completed')).toBe(true);
    expect(runs.map((r) => `${r.config.pos}/${r.config.norm}`)).toEqual(['none/pre', 'none/post', 'alibi/pre', 'alibi/post']);
  });

  it('exports a run as CSV and JSON', async () => {
    const { runId } = await service.startRun({ config: tiny(4), name: 'export me' });
    await nextEvent(service, statusIs(runId, 'completed'));
    const csv = await service.exportRun({ runId, format: 'csv' });
    expect(csv.filename).toBe(`gpt-lab-run-${runId}-export-me.csv`);
    expect(csv.content.trim().split('\n')).toHaveLength(5);
    const json = JSON.parse((await service.exportRun({ runId, format: 'json' })).content);
    expect(json.run).toMatchObject({ id: runId, name: 'export me' });
    expect(json.metrics).toHaveLength(4);
  });
});

describe('a training host that dies', () => {
  it('marks the run interrupted on SIGKILL, keeps working, and continues the run from its checkpoint', async () => {
    const { runId } = await service.startRun({ config: tiny(100_000, { checkpointEvery: 5 }) });
    await nextEvent(service, metricsPast(runId, 12));
    const pid = service.hostPid!;
    const interrupted = nextEvent(service, statusIs(runId, 'interrupted'));
    process.kill(pid, 'SIGKILL');
    await interrupted;
    const run = await service.getRun({ runId });
    expect(run.status).toBe('interrupted');
    expect(run.error).toMatch(/SIGKILL/);
    expect((await service.queueState()).running).toBeNull();

    const next = await service.startRun({ config: tiny(5) });
    await nextEvent(service, statusIs(next.runId, 'completed'));
    expect(service.hostPid).not.toBe(pid);

    const lastBefore = run.lastStep;
    expect(await service.resumeRun({ runId })).toEqual({ runId, status: 'queued' });
    await nextEvent(service, statusIs(runId, 'running'));
    await nextEvent(service, metricsPast(runId, lastBefore + 3));
    expect((await service.stopRun({ runId })).status).toBe('stopped');
    const steps = (await service.metrics({ runId })).map((r) => r.step);
    expect(new Set(steps).size).toBe(steps.length);
    expect(Math.max(...steps)).toBeGreaterThan(lastBefore);
  });

  it('marks runs left running by a crashed session as interrupted when the service starts', async () => {
    const path = join(dir, 'crashed.db');
    const first = new LabService({ dbPath: path, backend: 'wasm', echoHostStderr: false });
    const { runId } = await first.startRun({ config: tiny(100_000) });
    await nextEvent(first, metricsPast(runId, 1));
    // Simulate a crash of the whole app: the host dies with no one to record it.
    const pid = first.hostPid!;
    (first as unknown as { onHostExit: () => void }).onHostExit = () => undefined;
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    // The crashed session's lock names a process that no longer exists.
    writeFileSync(`${path}.lab-pid`, String(spawnSync(process.execPath, ['-e', '']).pid));
    const second = new LabService({ dbPath: path, backend: 'wasm', echoHostStderr: false });
    expect((await second.getRun({ runId })).status).toBe('interrupted');
    await second.close();
    await first.close();
  });

  it("leaves another live instance's runs alone", async () => {
    const path = join(dir, 'shared.db');
    const owner = new LabService({ dbPath: path, backend: 'wasm', echoHostStderr: false });
    const { runId } = await owner.startRun({ config: tiny(100_000) });
    await nextEvent(owner, metricsPast(runId, 1));
    // Another process holds the database (here: this test's parent, which is alive).
    writeFileSync(`${path}.lab-pid`, String(process.ppid));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const visitor = new LabService({ dbPath: path, backend: 'wasm', echoHostStderr: false });
    stderr.mockRestore();
    expect((await visitor.getRun({ runId })).status).toBe('running');
    await visitor.close();
    await owner.stopRun({ runId });
    await owner.close();
  });
});
