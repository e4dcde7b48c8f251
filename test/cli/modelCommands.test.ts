/**
 * `gpt-lab sample`, `export-model` and `import-model` as a user runs them: seeded samples repeat, a prompt
 * character outside the vocabulary exits 2 naming it, an export refuses a non-empty directory, an import samples
 * exactly like the run it came from.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'gpt-lab.mjs');

let dir: string;
let db: string;

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args, '--db', db], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-cli-models-'));
  db = join(dir, 'runs.db');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gpt-lab sample / export-model / import-model', () => {
  it('samples, refuses unknown characters, exports once, imports, and the import samples the same text', async () => {
    const train = await run(['train', '--data', 'builtin:toy-english', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '16', '--batch', '4', '--steps', '6', '--eval-every', '6', '--json']);
    expect(train.status).toBe(0);
    const runId = JSON.parse(train.stdout).runId as number;
    const sample = ['sample', String(runId), '--prompt', 'the ', '--tokens', '30', '--seed', '4', '--json'];

    const first = await run(sample);
    expect(first.status).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result.tokens).toHaveLength(30);
    expect(result).toMatchObject({ window: 16, slid: true });

    const bad = await run(['sample', String(runId), '--prompt', 'the Zebra']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/character "Z" at position 4 is not in the vocabulary of run \d+/);
    expect(bad.stdout).toBe('');

    const out = join(dir, 'm');
    const exported = await run(['export-model', String(runId), '--out', out]);
    expect(exported.status).toBe(0);
    expect(exported.stdout).toMatch(/Hugging Face GPT-2 layout/);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    const again = await run(['export-model', String(runId), '--out', out]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/is not empty/);

    const imported = await run(['import-model', out, '--json']);
    expect(imported.status).toBe(0);
    const importedId = JSON.parse(imported.stdout).runId as number;
    const copy = await run(['sample', String(importedId), ...sample.slice(2)]);
    expect(JSON.parse(copy.stdout).text).toBe(result.text);
  });
});
