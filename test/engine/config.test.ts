/** RunConfig: presets, validation that reports every problem by field with what is allowed, defaults and warmup. */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CONFIG,
  PRESETS,
  PRESET_NAMES,
  effectiveWarmup,
  resolveConfig,
  validateConfig,
  type RunConfig,
} from '../../src/engine/config';
import { SCHEME_NAMES } from '../../src/engine/model/positional/registry';

type Loose = RunConfig & Record<string, unknown>;
const withDefaults = (overrides: Record<string, unknown>): Loose => ({ ...DEFAULT_CONFIG, ...overrides }) as Loose;

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('presets', () => {
  it('have the documented dimensions', () => {
    expect(PRESET_NAMES).toEqual(['nano', 'micro', 'mini', 'shakespeare-char']);
    expect(PRESETS.nano).toEqual({ nLayer: 3, nHead: 3, nEmbd: 48 });
    expect(PRESETS.micro).toEqual({ nLayer: 4, nHead: 4, nEmbd: 128 });
    expect(PRESETS.mini).toEqual({ nLayer: 6, nHead: 6, nEmbd: 192 });
  });

  it("shakespeare-char is nanoGPT's CPU recipe: 4 layers, 4 heads, 128 wide, block 64, batch 12, 2000 steps, lr 1e-3, no dropout", () => {
    const c = resolveConfig({ preset: 'shakespeare-char' });
    expect([c.nLayer, c.nHead, c.nEmbd, c.blockSize, c.batchSize, c.steps, c.lr]).toEqual([4, 4, 128, 64, 12, 2000, 1e-3]);
    expect([c.dropoutEmbd, c.dropoutAttn, c.dropoutResid]).toEqual([0, 0, 0]);
  });

  it('resolveConfig applies a preset, and explicit fields override it', () => {
    const micro = resolveConfig({ preset: 'micro' });
    expect([micro.nLayer, micro.nHead, micro.nEmbd]).toEqual([4, 4, 128]);
    const mini = resolveConfig({ preset: 'mini', nLayer: 2 });
    expect([mini.nLayer, mini.nHead, mini.nEmbd]).toEqual([2, 6, 192]);
    // Without a preset the defaults are nano's.
    const plain = resolveConfig({});
    expect([plain.nLayer, plain.nHead, plain.nEmbd]).toEqual([3, 3, 48]);
    expect(plain).not.toHaveProperty('preset');
  });

  it('an unknown preset is a ConfigError listing the preset names', () => {
    const err = configError(() => resolveConfig({ preset: 'huge' as never }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0].field).toBe('preset');
    expect(err.problems[0].message).toMatch(/nano, micro, mini, shakespeare-char/);
    expect(err.problems[0].message).toMatch(/huge/);
  });
});

describe('validateConfig', () => {
  it('accepts the defaults', () => {
    expect(validateConfig(withDefaults({}))).toEqual([]);
  });

  it('returns every problem at once, each naming its field and what is allowed', () => {
    const problems = validateConfig(
      withDefaults({ nLayer: 0, lr: 20, dropoutAttn: 0.99, norm: 'sideways', seed: 1.5 }),
    );
    expect(problems).toHaveLength(5);
    const byField = Object.fromEntries(problems.map((p) => [p.field, p.message]));
    expect(Object.keys(byField).sort()).toEqual(['dropoutAttn', 'lr', 'nLayer', 'norm', 'seed']);
    expect(byField.nLayer).toMatch(/\[1, 48\]/);
    expect(byField.nLayer).toMatch(/got 0/);
    expect(byField.lr).toMatch(/\[0, 10\]/);
    expect(byField.lr).toMatch(/got 20/);
    expect(byField.dropoutAttn).toMatch(/\[0, 0\.95\]/);
    expect(byField.norm).toMatch(/pre, post, none/);
    expect(byField.norm).toMatch(/sideways/);
    expect(byField.seed).toMatch(/integer/);
    expect(byField.seed).toMatch(/\[0, 2147483647\]/);
  });

  it('resolveConfig throws a ConfigError carrying all of them, and its message names each field', () => {
    const err = configError(() => resolveConfig({ nLayer: 0, batchSize: -1, valFraction: 0.9, normType: 'batch' as never, causal: 'yes' as never, tokenizer: 'word' as never }));
    expect(err.problems.map((p) => p.field).sort()).toEqual(['batchSize', 'causal', 'nLayer', 'normType', 'tokenizer', 'valFraction']);
    for (const field of ['nLayer', 'batchSize', 'valFraction', 'normType', 'causal']) expect(err.message).toContain(`${field}:`);
    expect(err.message).toMatch(/layer, rms/);
    expect(err.message).toMatch(/\[0\.01, 0\.5\]/);
  });

  it('rejects non-numbers and non-integers with the allowed range', () => {
    const problems = validateConfig(withDefaults({ nEmbd: 'big', steps: Number.NaN, blockSize: 8.5 }));
    const byField = Object.fromEntries(problems.map((p) => [p.field, p.message]));
    expect(byField.nEmbd).toMatch(/integer in \[2, 4096\]/);
    expect(byField.steps).toMatch(/integer in \[1, 10000000\]/);
    expect(byField.blockSize).toMatch(/integer/);
  });

  it('reports an nHead that does not divide nEmbd', () => {
    const problems = validateConfig(withDefaults({ nHead: 5, nEmbd: 48 }));
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe('nHead');
    expect(problems[0].message).toMatch(/divide nEmbd \(48\)/);
  });

  it('reports minLr above lr and warmup longer than the run', () => {
    const problems = validateConfig(withDefaults({ lr: 1e-4, minLr: 1e-3, steps: 100, warmupSteps: 101 }));
    expect(problems.map((p) => p.field).sort()).toEqual(['minLr', 'warmupSteps']);
  });

  it("threads: 'auto' or an integer from 1 to 16, and no more than the batch has rows", () => {
    expect(validateConfig(withDefaults({ threads: 2, batchSize: 2 }))).toEqual([]);
    expect(validateConfig(withDefaults({ threads: 'auto', batchSize: 1 }))).toEqual([]);
    expect(validateConfig(withDefaults({ threads: 0 }))).toEqual([{ field: 'threads', message: 'must be in [1, 16], got 0' }]);
    expect(validateConfig(withDefaults({ threads: 1.5 }))).toEqual([{ field: 'threads', message: 'must be an integer in [1, 16], got 1.5' }]);
    expect(validateConfig(withDefaults({ threads: 'all' }))).toEqual([{ field: 'threads', message: `must be 'auto' or an integer in [1, 16], got "all"` }]);
    expect(validateConfig(withDefaults({ threads: 4, batchSize: 3 }))).toEqual([
      { field: 'threads', message: 'must not exceed batchSize (3): each thread takes whole rows of the batch, got 4' },
    ]);
  });

  it("threads 'auto' (the default) resolves to the cores, capped by the batch's rows and 16, and is stored as a count", () => {
    expect(DEFAULT_CONFIG.threads).toBe('auto');
    expect(resolveConfig({}, 8).threads).toBe(8);
    expect(resolveConfig({ threads: 'auto', batchSize: 3 }, 8).threads).toBe(3);
    expect(resolveConfig({ threads: 'auto' }, 64).threads).toBe(16);
    expect(resolveConfig({ threads: 'auto' }, 1).threads).toBe(1);
    // A count is kept as given, whatever the machine.
    expect(resolveConfig({ threads: 2 }, 8).threads).toBe(2);
    // Resolving a resolved config changes nothing: a stored run means the same on every machine.
    const stored = resolveConfig({}, 4);
    expect(resolveConfig(stored, 12)).toEqual(stored);
  });

  it('reports unknown settings by name', () => {
    const problems = validateConfig(withDefaults({ learningRate: 3 }));
    expect(problems).toEqual([{ field: 'learningRate', message: expect.stringMatching(/not a known setting/) }]);
  });

  it('an unknown scheme lists the valid names', () => {
    const problems = validateConfig(withDefaults({ pos: 'bogus' }));
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe('pos');
    expect(problems[0].message).toMatch(/bogus/);
    expect(SCHEME_NAMES.length).toBeGreaterThan(3);
    for (const name of SCHEME_NAMES) expect(problems[0].message).toContain(name);
  });

  it("rejects a knob of another scheme in posOptions, naming the scheme's own knobs", () => {
    const onLearned = validateConfig(withDefaults({ pos: 'learned', posOptions: { base: 500 } }));
    expect(onLearned).toHaveLength(1);
    expect(onLearned[0].field).toBe('posOptions.base');
    expect(onLearned[0].message).toMatch(/not a knob of learned/);
    expect(onLearned[0].message).toMatch(/none/);

    const onT5 = validateConfig(withDefaults({ pos: 't5', posOptions: { base: 500 } }));
    expect(onT5).toHaveLength(1);
    expect(onT5[0].field).toBe('posOptions.base');
    expect(onT5[0].message).toMatch(/buckets, maxDistance/);
  });

  it('rejects an out-of-range or non-integer knob with its range', () => {
    const base = validateConfig(withDefaults({ pos: 'rope', posOptions: { base: 1 } }));
    expect(base).toHaveLength(1);
    expect(base[0].field).toBe('posOptions.base');
    expect(base[0].message).toMatch(/\[2, 1000000000\]/);
    const buckets = validateConfig(withDefaults({ pos: 't5', posOptions: { buckets: 2.5 } }));
    expect(buckets).toHaveLength(1);
    expect(buckets[0].field).toBe('posOptions.buckets');
    expect(buckets[0].message).toMatch(/integer in \[2, 1024\]/);
  });

  it('rope needs an even head size', () => {
    // 48 / 16 = 3 per head.
    const problems = validateConfig(withDefaults({ pos: 'rope', nEmbd: 48, nHead: 16 }));
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe('nEmbd');
    expect(problems[0].message).toMatch(/even head size/);
    expect(problems[0].message).toMatch(/= 3/);
    expect(validateConfig(withDefaults({ pos: 'rope', nEmbd: 48, nHead: 12 }))).toEqual([]);
    // Other schemes do not care.
    expect(validateConfig(withDefaults({ pos: 'learned', nEmbd: 48, nHead: 16 }))).toEqual([]);
  });

  it("reports rope's odd head size together with an unrelated problem (every problem at once)", () => {
    const problems = validateConfig(withDefaults({ pos: 'rope', nEmbd: 48, nHead: 16, lr: 20 }));
    expect(problems.map((p) => p.field).sort()).toEqual(['lr', 'nEmbd']);
  });
});

describe('resolveConfig', () => {
  it('fills the scheme knob defaults', () => {
    expect(resolveConfig({ pos: 't5' }).posOptions).toEqual({ buckets: 32, maxDistance: 128 });
    expect(resolveConfig({ pos: 'rope' }).posOptions).toEqual({ base: 10000, fraction: 1 });
    expect(resolveConfig({ pos: 'learned' }).posOptions).toEqual({});
  });

  it('keeps given knobs and fills the rest', () => {
    expect(resolveConfig({ pos: 't5', posOptions: { buckets: 16 } }).posOptions).toEqual({ buckets: 16, maxDistance: 128 });
    expect(resolveConfig({ pos: 'rope', posOptions: { base: 500 } }).posOptions).toEqual({ base: 500, fraction: 1 });
  });

  it('posExtension (a fine-tuned run\'s fixed scaling): absent by default, so older configs keep their exact keys; checked when given', () => {
    expect('posExtension' in resolveConfig({ pos: 'rope' })).toBe(false);
    expect(resolveConfig({ pos: 'rope', posExtension: { method: 'yarn', scale: 2 } }).posExtension).toEqual({ method: 'yarn', scale: 2 });
    const problems = (posExtension: unknown, pos = 'rope') => validateConfig(withDefaults({ pos, posExtension } as never)).map((p) => `${p.field}: ${p.message}`);
    expect(problems({ method: 'pi', scale: 2 }, 'alibi')).toEqual(['posExtension: alibi offers no context-extension method to keep']);
    expect(problems({ method: 'none', scale: 2 })).toEqual(['posExtension.method: must be one of pi, ntk, yarn, got "none"']);
    expect(problems({ method: 'pi', scale: 0.5 })).toEqual(['posExtension.scale: must be in [1, 4096], got 0.5']);
    expect(problems({ method: 'pi', scale: 2, factor: 3 })).toEqual(['posExtension.factor: is not a known setting']);
    expect(problems('pi')).toEqual(['posExtension: must be { method, scale }, got "pi"']);
  });

  it('leaves DEFAULT_CONFIG untouched', () => {
    const snapshot = structuredClone(DEFAULT_CONFIG);
    resolveConfig({ pos: 't5', nLayer: 2 });
    expect(DEFAULT_CONFIG).toEqual(snapshot);
  });
});

describe('effectiveWarmup', () => {
  it('gives post-norm 10% of the steps by default, capped at 200 and at least 1', () => {
    expect(effectiveWarmup(resolveConfig({ norm: 'post', steps: 500 }))).toBe(50);
    expect(effectiveWarmup(resolveConfig({ norm: 'post', steps: 5000 }))).toBe(200);
    expect(effectiveWarmup(resolveConfig({ norm: 'post', steps: 3 }))).toBe(1);
  });

  it('gives pre-norm and no-norm none by default', () => {
    expect(effectiveWarmup(resolveConfig({ norm: 'pre', steps: 500 }))).toBe(0);
    expect(effectiveWarmup(resolveConfig({ norm: 'none', steps: 500 }))).toBe(0);
  });

  it('respects an explicit value, including 0 for post-norm', () => {
    expect(effectiveWarmup(resolveConfig({ norm: 'pre', steps: 500, warmupSteps: 25 }))).toBe(25);
    expect(effectiveWarmup(resolveConfig({ norm: 'post', steps: 500, warmupSteps: 0 }))).toBe(0);
    expect(effectiveWarmup(resolveConfig({ norm: 'post', steps: 500, warmupSteps: 7 }))).toBe(7);
  });
});
