/** CLI options → config overrides: where `--data` points. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAG_OF_FIELD, trainOverrides } from '../../src/cli/args';
import { resolveConfig } from '../../src/engine/config';
import { LabService } from '../../src/service/labService';

describe('--data', () => {
  it("resolves a relative path against the user's current directory, so the run resumes from anywhere", () => {
    expect(trainOverrides({ data: 'notes.txt' }).data).toBe(join(process.cwd(), 'notes.txt'));
    expect(trainOverrides({ data: '../corpora/a.txt' }).data).toBe(join(process.cwd(), '..', 'corpora', 'a.txt'));
    expect(trainOverrides({ data: '/abs/a.txt' }).data).toBe('/abs/a.txt');
  });

  it('leaves builtin corpora, uploaded texts and an empty value (reported by validation) as given', () => {
    const id = 'a'.repeat(64);
    expect(trainOverrides({ data: 'builtin:copy' }).data).toBe('builtin:copy');
    expect(trainOverrides({ data: `text:${id}` }).data).toBe(`text:${id}`);
    expect(trainOverrides({ data: ' ' }).data).toBe(' ');
    expect(trainOverrides({})).not.toHaveProperty('data');
  });
});

describe('--attn-log-scaling', () => {
  it('sets attnLogScaling, and validation problems name the flag', () => {
    expect(trainOverrides({ attnLogScaling: 'fixed' }).attnLogScaling).toBe('fixed');
    expect(trainOverrides({})).not.toHaveProperty('attnLogScaling');
    expect(FLAG_OF_FIELD.attnLogScaling).toBe('attn-log-scaling');
  });
});

describe('--lr without --min-lr', () => {
  // The floor rule lives in resolveConfig, which the CLI and the service (every UI and API call) both resolve with.
  it('gives the same run as a contract call naming lr alone: the floor is the default, or a tenth of lr below it', async () => {
    const service = new LabService({ dbPath: ':memory:', claimDatabase: false });
    try {
      for (const [lr, minLr] of [['5e-4', 5e-5], ['3e-3', 1e-4], ['1e-3', 1e-4]] as const) {
        const fromCli = resolveConfig(trainOverrides({ lr }));
        const fromService = (await service.validateConfig({ config: { lr: Number(lr) } })).config;
        expect(fromCli.minLr).toBeCloseTo(minLr, 15);
        expect(fromService).toEqual(fromCli);
      }
      expect(resolveConfig(trainOverrides({ lr: '5e-4', minLr: '2e-4' })).minLr).toBe(2e-4);
      expect(resolveConfig({ preset: 'shakespeare-char' }).minLr).toBe(1e-4);
      expect(resolveConfig({}).minLr).toBe(1e-4);
    } finally {
      await service.close();
    }
  });
});
