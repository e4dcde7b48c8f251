/**
 * Divergence is visible (issue 9): settings that blow up in two steps end the run as 'diverged' with a message naming
 * the step, through the service (the status event the UI listens to, the run record, the queue moving on) and the CLI
 * (exit 1 with the message). Nothing hangs and nothing is left half-written. Rows: docs/RELIABILITY.md "Divergence".
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/hosts/dispatch';
import { LabService } from '../../src/service/labService';
import type { LabEvent } from '../../src/shared/api';
import { Outcomes, syncDocTable } from './docTable';
import { DIVERGING, nextEvent, statusIs, tiny } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-diverge-'));
const outcomes = new Outcomes();
let service: LabService;
const DIVERGED_MESSAGE = /^(loss|gradient norm) became (NaN|-?Infinity) at step \d+$/;

beforeAll(() => {
  service = new LabService({ dbPath: join(dir, 'runs.db'), backend: 'wasm', echoHostStderr: false });
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('divergence', () => {
  it('through the service: the run ends diverged with the step, the status event carries it, the queue moves on', async () => {
    const events: LabEvent[] = [];
    const off = service.subscribe((e) => events.push(e));
    const { runId } = await service.startRun({ config: DIVERGING, name: 'lr 10, no norm' });
    const next = await service.startRun({ config: tiny(5), name: 'queued behind it' });
    const diverged = await nextEvent(service, statusIs(runId, 'diverged'));
    await nextEvent(service, statusIs(next.runId, 'completed'));
    off();

    const payload = diverged.payload as { error: string; lastStep: number };
    expect(payload.error).toMatch(DIVERGED_MESSAGE);
    const step = Number(/at step (\d+)/.exec(payload.error)![1]);
    expect(payload.lastStep).toBe(step);
    expect(step).toBeLessThan(DIVERGING.steps! - 1);
    const statuses = events.filter((e) => e.channel === 'run:status' && e.payload.runId === runId).map((e) => (e.payload as { status: string }).status);
    expect(statuses).toEqual(['queued', 'running', 'diverged']);

    // What the UI reads: the record, over the same dispatch the transports use.
    const run = await dispatch(service, 'getRun', { runId });
    expect(run).toMatchObject({ ok: true, value: { status: 'diverged', error: payload.error, lastStep: step } });
    expect(run.ok && (run.value as { finishedAt: number | null }).finishedAt).toBeGreaterThan(0);
    // The metric rows run up to the step that diverged, the last one included.
    expect((await service.metrics({ runId })).map((r) => r.step)).toEqual(Array.from({ length: step + 1 }, (_, i) => i));
    await expect(service.resumeRun({ runId })).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/diverged; start a new run with a lower learning rate/) });
    expect(await service.queueState()).toEqual({ running: null, queued: [] });
    outcomes.add(
      'service / UI',
      'lr 10, no norm, no clipping, integer positions ×1000',
      `run → diverged with "${payload.error}"; run:status event {status: diverged, lastStep: ${step}, error} reached subscribers (the run detail in the UI shows it: xss.e2e.test.ts); the run behind it in the queue trained to completion; Continue refused: "it diverged; start a new run with a lower learning rate"`,
    );
  });

  it('through the CLI: exit 1 with the message', () => {
    const db = join(dir, 'cli.db');
    const flags = ['--data', 'builtin:copy', '--layers', '2', '--heads', '2', '--embd', '32', '--block', '16', '--batch', '8', '--steps', '30', '--lr', '10', '--min-lr', '10', '--warmup', '0', '--grad-clip', '0', '--norm', 'none', '--pos', 'integer', '--pos-scale', '1000', '--eval-every', '100', '--sample-every', '0', '--backend', 'wasm', '--db', db];
    const result = spawnSync(process.execPath, ['bin/gpt-lab.mjs', 'train', ...flags], { encoding: 'utf8', timeout: 120_000 });
    expect(result.status, result.stderr).toBe(1);
    const [summary, message] = result.stdout.trim().split('\n');
    expect(summary).toMatch(/^run 1 diverged after \d+ steps/);
    expect(message).toMatch(DIVERGED_MESSAGE);
    const listed = spawnSync(process.execPath, ['bin/gpt-lab.mjs', 'runs', '--json', '--db', db], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ status: 'diverged', error: message });
    const json = spawnSync(process.execPath, ['bin/gpt-lab.mjs', 'train', ...flags, '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(json.status, json.stderr).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ runId: 2, status: 'diverged', message: expect.stringMatching(DIVERGED_MESSAGE) });
    outcomes.add('CLI', 'gpt-lab train with the same settings', `exit code 1; stdout: "${summary}" / "${message}"; gpt-lab runs lists it as diverged with that message`);
  });

  it('docs/RELIABILITY.md lists both', () => {
    syncDocTable('divergence-table', ['where', 'what was tried', 'what happened'], outcomes.rows);
  });
});
