/**
 * Malformed payloads (issue 9): wrong types, missing and extra fields, oversized bodies, wrong methods, unknown
 * calls, bad JSON and invalid run ids, sent to the real web server in front of a real LabService, to the Electron
 * IPC binding, and to the training-host protocol in both directions. Each is refused before it reaches the service
 * (or the host) with a status and a message, and everything keeps answering afterwards. The cases are the
 * "Malformed payloads" table of docs/RELIABILITY.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sourceHostLaunch } from '../../src/hosts/launch';
import { hostEventSchema, type HostEvent } from '../../src/hosts/training/protocol';
import { LabService } from '../../src/service/labService';
import { TrainingHost } from '../../src/hosts/training/trainingHost';
import { bindLabIpc, type IpcMainLike } from '../../src/main/ipc';
import type { IpcSenderInfo } from '../../src/main/security';
import { startServer, type RunningServer } from '../../src/server/server';
import { CALL_NAMES, Channel, type CallResult, type LabEvent } from '../../src/shared/api';
import type { RunStore } from '../../src/store';
import { Outcomes, syncDocTable } from './docTable';
import { nextEvent, statusIs } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-payloads-'));
const outcomes = new Outcomes();
let service: LabService;
let server: RunningServer;

beforeAll(async () => {
  service = new LabService({ dbPath: join(dir, 'runs.db'), backend: 'wasm', echoHostStderr: false });
  server = await startServer({ service });
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: string;
}

function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string; chunks?: string[] } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const length = options.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(options.body)) };
    const headers = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...length, ...options.headers };
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, method: options.method ?? 'POST', headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    // The server may answer 413 and close before the whole body is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? undefined : reject(error)));
    req.on('timeout', () => req.destroy(new Error(`no answer to ${options.method ?? 'POST'} ${path}`)));
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end(options.body);
  });
}

const post = (name: string, body: unknown): Promise<Reply> => send(`/api/${name}`, { body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body) });

/** What a refusal looks like in the table: status (HTTP only), code and message. */
function outcomeOf(reply: Reply): { status: number; code: string; message: string } {
  const parsed = JSON.parse(reply.body) as CallResult;
  return { status: reply.status, code: parsed.ok ? 'ok' : parsed.error.code, message: parsed.ok ? JSON.stringify(parsed.value).slice(0, 80) : parsed.error.message };
}

interface HttpCase {
  input: string;
  attempt: () => Promise<Reply>;
  status: number;
  code: string;
  message?: RegExp;
}

const MiB = 1024 * 1024;
const nested = (depth: number): string => `{"config":${'['.repeat(depth)}${']'.repeat(depth)}}`;

const HTTP_CASES: HttpCase[] = [
  { input: 'wrong type: config.nLayer "two"', attempt: () => post('startRun', { config: { nLayer: 'two' } }), status: 400, code: 'invalid-request', message: /config\.nLayer: .*expected number, received string/ },
  { input: 'wrong type: config is an array', attempt: () => post('startRun', { config: [] }), status: 400, code: 'invalid-request', message: /config: .*expected object, received array/ },
  { input: 'wrong type: runId "1" (a string)', attempt: () => post('getRun', { runId: '1' }), status: 400, code: 'invalid-request', message: /runId: .*expected number, received string/ },
  { input: 'wrong type: causal "yes"', attempt: () => post('validateConfig', { config: { causal: 'yes' } }), status: 400, code: 'invalid-request', message: /config\.causal/ },
  { input: 'missing field: startRun {}', attempt: () => post('startRun', {}), status: 400, code: 'invalid-request', message: /config: .*expected object, received undefined/ },
  { input: 'missing field: renameRun without name', attempt: () => post('renameRun', { runId: 1 }), status: 400, code: 'invalid-request', message: /name:/ },
  { input: 'missing body: stopRun with an empty body', attempt: () => post('stopRun', ''), status: 400, code: 'invalid-request', message: /expected object, received undefined/ },
  { input: 'extra field: stopRun {runId, force: true}', attempt: () => post('stopRun', { runId: 1, force: true }), status: 400, code: 'invalid-request', message: /Unrecognized key: "force"/ },
  { input: 'extra field on a call without arguments: listRuns {all: true}', attempt: () => post('listRuns', { all: true }), status: 400, code: 'invalid-request', message: /Unrecognized key: "all"/ },
  { input: 'body of 2 MiB (limit 1 MiB), with Content-Length', attempt: () => post('startRun', { config: { data: 'x'.repeat(2 * MiB) } }), status: 413, code: 'invalid-request', message: /larger than 1048576 bytes/ },
  { input: 'body of 2 MiB, chunked (no Content-Length)', attempt: () => send('/api/startRun', { headers: { 'Transfer-Encoding': 'chunked' }, chunks: Array.from({ length: 32 }, () => 'x'.repeat(64 * 1024)) }), status: 413, code: 'invalid-request', message: /larger than/ },
  { input: 'wrong method: GET /api/listRuns', attempt: () => send('/api/listRuns', { method: 'GET' }), status: 405, code: 'invalid-request', message: /takes POST/ },
  { input: 'wrong method: PUT /api/startRun', attempt: () => send('/api/startRun', { method: 'PUT', body: '{}' }), status: 405, code: 'invalid-request', message: /takes POST/ },
  { input: 'wrong method: DELETE /api/deleteRun', attempt: () => send('/api/deleteRun', { method: 'DELETE', body: '{"runId":1}' }), status: 405, code: 'invalid-request' },
  { input: 'unknown call: /api/launchMissiles', attempt: () => post('launchMissiles', {}), status: 404, code: 'not-found', message: /unknown call "launchMissiles"/ },
  { input: 'prototype name as a call: /api/__proto__', attempt: () => post('__proto__', {}), status: 404, code: 'not-found' },
  { input: 'prototype name as a call: /api/constructor', attempt: () => post('constructor', {}), status: 404, code: 'not-found' },
  { input: 'malformed JSON: {"config":', attempt: () => post('startRun', '{"config":'), status: 400, code: 'invalid-request', message: /not valid JSON/ },
  { input: 'malformed JSON: single quotes', attempt: () => post('getRun', "{'runId': 1}"), status: 400, code: 'invalid-request', message: /not valid JSON/ },
  { input: 'JSON null', attempt: () => post('startRun', 'null'), status: 400, code: 'invalid-request', message: /expected object, received null/ },
  { input: 'JSON string "train"', attempt: () => post('startRun', '"train"'), status: 400, code: 'invalid-request', message: /expected object, received string/ },
  { input: 'JSON nested 100 000 levels deep', attempt: () => post('startRun', nested(100_000)), status: 400, code: 'invalid-request' },
  { input: 'number too large for JSON: steps 1e400', attempt: () => post('startRun', '{"config":{"steps":1e400}}'), status: 400, code: 'invalid-request', message: /config\.steps: .*Infinity/ },
  { input: 'Content-Type text/plain', attempt: () => send('/api/listRuns', { headers: { 'Content-Type': 'text/plain' }, body: '{}' }), status: 415, code: 'invalid-request', message: /must be JSON/ },
  { input: 'invalid run id: 0', attempt: () => post('getRun', { runId: 0 }), status: 400, code: 'invalid-request', message: /runId: Too small/ },
  { input: 'invalid run id: −1', attempt: () => post('stopRun', { runId: -1 }), status: 400, code: 'invalid-request', message: /runId: Too small/ },
  { input: 'invalid run id: 1.5', attempt: () => post('deleteRun', { runId: 1.5 }), status: 400, code: 'invalid-request', message: /runId: .*expected int/ },
  { input: 'invalid run id: 2^53 + 2', attempt: () => post('getRun', '{"runId":9007199254740994}'), status: 400, code: 'invalid-request', message: /runId: Too big/ },
  { input: 'invalid run id: null', attempt: () => post('metrics', { runId: null }), status: 400, code: 'invalid-request', message: /runId: .*received null/ },
  { input: 'invalid run id: {"$gt": 0}', attempt: () => post('getRun', { runId: { $gt: 0 } }), status: 400, code: 'invalid-request', message: /runId: .*expected number, received object/ },
  { input: 'run id that does not exist: 999999', attempt: () => post('getRun', { runId: 999_999 }), status: 404, code: 'not-found', message: /run 999999 does not exist/ },
  { input: 'run id that does not exist, for resumeRun', attempt: () => post('resumeRun', { runId: 999_999 }), status: 404, code: 'not-found', message: /run 999999 does not exist/ },
  { input: 'name "   " (blank)', attempt: () => post('renameRun', { runId: 1, name: '   ' }), status: 400, code: 'invalid-request', message: /name: must not be empty/ },
  { input: 'name of 201 characters', attempt: () => post('renameRun', { runId: 1, name: 'n'.repeat(201) }), status: 400, code: 'invalid-request', message: /name: must be at most 200 characters/ },
  { input: 'metrics sinceStep −2', attempt: () => post('metrics', { runId: 1, sinceStep: -2 }), status: 400, code: 'invalid-request', message: /sinceStep: Too small/ },
  { input: 'probe text of 10 001 characters', attempt: () => post('probe', { runId: null, kind: 'attention', text: 'x'.repeat(10_001) }), status: 400, code: 'invalid-request', message: /text: Too big/ },
  { input: 'probe kind "bogus"', attempt: () => post('probe', { runId: null, kind: 'bogus' }), status: 400, code: 'invalid-request', message: /kind:/ },
  { input: 'evalLength lengths []', attempt: () => post('evalLength', { runId: 1, lengths: [] }), status: 400, code: 'invalid-request', message: /lengths: Too small/ },
  { input: 'evalLength length 100 000', attempt: () => post('evalLength', { runId: 1, lengths: [100_000] }), status: 400, code: 'invalid-request', message: /lengths\.0: Too big/ },
  { input: 'sweep grid of 75 runs (limit 64)', attempt: () => post('startSweep', { grid: { pos: ['none', 'rope', 'alibi', 't5', 'learned'], norm: ['pre', 'post', 'none'], dropout: [0, 0.1, 0.2, 0.3, 0.4] }, config: {} }), status: 400, code: 'invalid-request', message: /the grid makes 75 runs \(5 × 3 × 5\); at most 64/ },
  { input: 'sweep grid with 33 schemes', attempt: () => post('startSweep', { grid: { pos: Array.from({ length: 33 }, () => 'rope'), norm: ['pre'], dropout: [0] }, config: {} }), status: 400, code: 'invalid-request', message: /grid\.pos: Too big/ },
  { input: 'exportRun format "xml"', attempt: () => post('exportRun', { runId: 1, format: 'xml' }), status: 400, code: 'invalid-request', message: /format:/ },
];

function fakeIpcMain(): IpcMainLike & { handlers: Map<string, (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>> } {
  const handlers = new Map<string, (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>>();
  return { handlers, handle: (channel, listener) => handlers.set(channel, listener), removeHandler: (channel) => handlers.delete(channel) };
}

const TRUSTED: IpcSenderInfo = { sender: { id: 1 }, senderFrame: { url: 'file:///app/index.html', parent: null } };

interface IpcCase {
  input: string;
  channel: string;
  args: unknown[];
  code: string;
  message?: RegExp;
}

const IPC_CASES: IpcCase[] = [
  { input: 'wrong type: stopRun {runId: "five"}', channel: Channel.stopRun, args: [{ runId: 'five' }], code: 'invalid-request', message: /runId: .*expected number/ },
  { input: 'wrong type: a number as the request', channel: Channel.getRun, args: [42], code: 'invalid-request', message: /expected object, received number/ },
  { input: 'wrong type: a Map as the request (structured clone allows it)', channel: Channel.getRun, args: [new Map([['runId', 1]])], code: 'invalid-request', message: /runId: .*received undefined|expected object/ },
  { input: 'missing field: renameRun without name', channel: Channel.renameRun, args: [{ runId: 1 }], code: 'invalid-request', message: /name:/ },
  { input: 'missing request: startRun()', channel: Channel.startRun, args: [], code: 'invalid-request', message: /expected object, received undefined/ },
  { input: 'extra field: startRun {config, sneaky}', channel: Channel.startRun, args: [{ config: {}, sneaky: 1 }], code: 'invalid-request', message: /Unrecognized key: "sneaky"/ },
  { input: 'two arguments: stopRun({runId: 1}, "now")', channel: Channel.stopRun, args: [{ runId: 1 }, 'now'], code: 'invalid-request', message: /takes one request object/ },
  { input: 'huge: a 10 MB run name', channel: Channel.renameRun, args: [{ runId: 1, name: 'n'.repeat(10 * MiB) }], code: 'invalid-request', message: /at most 200 characters/ },
  { input: 'huge: a 10 MB probe text', channel: Channel.probe, args: [{ runId: null, kind: 'attention', text: 'x'.repeat(10 * MiB) }], code: 'invalid-request', message: /text: Too big/ },
  { input: 'invalid run id: 0', channel: Channel.deleteRun, args: [{ runId: 0 }], code: 'invalid-request', message: /runId: Too small/ },
  { input: 'invalid run id: Infinity', channel: Channel.getRun, args: [{ runId: Number.POSITIVE_INFINITY }], code: 'invalid-request', message: /runId:/ },
  { input: 'invalid run id: NaN', channel: Channel.getRun, args: [{ runId: Number.NaN }], code: 'invalid-request', message: /runId:/ },
  { input: 'run id that does not exist: 999999', channel: Channel.deleteRun, args: [{ runId: 999_999 }], code: 'not-found', message: /run 999999 does not exist/ },
];

const HOST_COMMANDS: [string, unknown][] = [
  ['not an object: "train"', 'train'],
  ['null', null],
  ['unknown type "explode"', { type: 'explode' }],
  ['prototype name as type: "__proto__"', { type: '__proto__' }],
  ['runId "one" (a string)', { type: 'stop', runId: 'one' }],
  ['runId 0', { type: 'pause', runId: 0 }],
  ['runId 2.5', { type: 'resume', runId: 2.5 }],
  ['train without input', { type: 'train', runId: 7 }],
  ['train with config.nLayer "many"', { type: 'train', runId: 7, input: { config: { nLayer: 'many' } } }],
  ['extra field: pause {runId, now: true}', { type: 'pause', runId: 1, now: true }],
  ['shutdown with a runId', { type: 'shutdown', runId: 1 }],
];

const HOST_EVENTS: [string, unknown][] = [
  ['not an object', 42],
  ['unknown type "progress"', { type: 'progress', runId: 1 }],
  ['metrics row with step "3"', { type: 'metrics', runId: 1, rows: [{ step: '3', tokens: 1, wallMs: 1, trainLoss: 1, valLoss: null, lr: 1, gradNorm: 1, tokensPerSecond: 1 }] }],
  ['status "exploded"', { type: 'status', runId: 1, status: 'exploded' }],
  ['done without lastStep', { type: 'done', runId: 1, status: 'completed', error: null }],
  ['ready with backend "quantum"', { type: 'ready', backend: { name: 'quantum', gpu: true, threads: 1, notes: [] } }],
  ['runId −1', { type: 'started', runId: -1 }],
];

describe('malformed payloads', () => {
  describe('HTTP, through the real server and LabService', () => {
    it.each(HTTP_CASES.map((c) => [c.input, c] as const))('%s', async (_input, c) => {
      const spy = vi.spyOn(service, 'startRun');
      const got = outcomeOf(await c.attempt());
      expect(got.status).toBe(c.status);
      expect(got.code).toBe(c.code);
      if (c.message) expect(got.message).toMatch(c.message);
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
      outcomes.add('HTTP', c.input, `${got.status} ${got.code}: ${got.message.slice(0, 140)}`);
    });

    it('a __proto__ key in a config pollutes nothing', async () => {
      const reply = outcomeOf(await post('validateConfig', JSON.parse('{"config":{"__proto__":{"polluted":true},"steps":5}}')));
      expect(reply.status).toBe(200);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
      outcomes.add('HTTP', 'a "__proto__" key inside config', `${reply.status} ok: nothing is polluted (Object.prototype and every other object untouched); validateConfig answers for the other settings`);
    });

    it('the server and the service still answer after all of that', async () => {
      const reply = outcomeOf(await post('listRuns', undefined));
      expect(reply).toMatchObject({ status: 200, code: 'ok', message: '[]' });
      expect(await service.queueState()).toEqual({ running: null, queued: [] });
    });
  });

  describe('Electron IPC, through bindLabIpc with a trusted sender', () => {
    const ipc = fakeIpcMain();
    beforeAll(() => {
      bindLabIpc(ipc, service, () => true);
    });

    it.each(IPC_CASES.map((c) => [c.input, c] as const))('%s', async (_input, c) => {
      const spy = vi.spyOn(service, 'startRun');
      const result = (await ipc.handlers.get(c.channel)!(TRUSTED, ...c.args)) as CallResult;
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe(c.code);
      if (c.message) expect(result.error.message).toMatch(c.message);
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
      outcomes.add('IPC', c.input, `${result.error.code}: ${result.error.message.slice(0, 140)}`);
    });

    it('an unknown channel has no handler', () => {
      expect([...ipc.handlers.keys()].sort()).toEqual(CALL_NAMES.map((n) => Channel[n]).sort());
      expect(ipc.handlers.has('lab:launchMissiles')).toBe(false);
      outcomes.add('IPC', 'unknown channel lab:launchMissiles', `no handler is registered for it (only the ${CALL_NAMES.length} call channels are), so Electron rejects the invoke in the renderer`);
    });
  });

  describe('training-host protocol, service → host', () => {
    it.each(HOST_COMMANDS)('%s', (input, message) => {
      const sent: HostEvent[] = [];
      const untouchable = new Proxy({} as RunStore, {
        get: () => {
          throw new Error('the store must not be used');
        },
      });
      const host = new TrainingHost({ store: untouchable, send: (e) => sent.push(e), backend: new Promise(() => undefined) });
      host.handle(message);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ type: 'rejected', reason: expect.stringMatching(/^malformed message/) });
      expect(host.busy).toBe(false);
      const named = (sent[0] as { runId?: number }).runId;
      const naming = named === undefined ? '' : (message as { type?: string }).type === 'train' ? ` (naming run ${named}, so the service fails that run rather than wait for it)` : ` (naming run ${named})`;
      outcomes.add('host ← service', input, `rejected${naming}: ${(sent[0] as { reason: string }).reason.slice(0, 120)}`);
    });
  });

  describe('training-host protocol, host → service', () => {
    it.each(HOST_EVENTS)('%s', (input, message) => {
      const parsed = hostEventSchema.safeParse(message);
      expect(parsed.success).toBe(false);
      outcomes.add('service ← host', input, `refused by hostEventSchema (${parsed.error!.issues[0].path.join('.') || 'message'}: ${parsed.error!.issues[0].message}); the service logs "ignored a malformed message" and carries on`);
    });

    it('a live service ignores malformed host messages and still hears the valid ones', async () => {
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      process.env.GPT_LAB_GARBAGE = JSON.stringify(HOST_EVENTS.map(([, message]) => message));
      const fake = new LabService({
        dbPath: join(dir, 'fake-host.db'),
        host: { ...sourceHostLaunch(), modulePath: fileURLToPath(new URL('./fixtures/garbageHost.mjs', import.meta.url)), execArgv: [] },
        echoHostStderr: false,
      });
      try {
        const events: LabEvent[] = [];
        fake.subscribe((e) => events.push(e));
        const { runId } = await fake.startRun({ config: { data: 'builtin:copy', steps: 5 } });
        await nextEvent(fake, statusIs(runId, 'completed'), 30_000);
        const ignored = stderr.mock.calls.filter(([text]) => String(text).includes('ignored a malformed message')).length;
        expect(ignored).toBe(HOST_EVENTS.length);
        // Nothing of the garbage became an event; the valid metrics row did.
        expect(events.filter((e) => e.channel === 'run:metrics').map((e) => e.payload.rows.length)).toEqual([1]);
        expect(events.some((e) => e.channel === 'run:status' && (e.payload.status as string) === 'exploded')).toBe(false);
        expect(await fake.queueState()).toEqual({ running: null, queued: [] });
        outcomes.add('service ← host', `all ${HOST_EVENTS.length} of the above from a live host process`, `each ignored with a log line; the valid events around them still arrived and the run completed`);
      } finally {
        await fake.close();
        stderr.mockRestore();
        delete process.env.GPT_LAB_GARBAGE;
      }
    });
  });

  it('docs/RELIABILITY.md lists every payload', () => {
    syncDocTable('payload-table', ['transport', 'payload', 'what happened'], outcomes.rows);
  });
});
