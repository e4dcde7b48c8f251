/**
 * The TypeScript model against PyTorch (test/fixtures/parity.py): same weights in, same logits, loss and
 * gradients of every parameter out, for every scheme × norm placement and at lengths past the block.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFastPaths } from '../../../src/engine/model/levers';
import { SCHEME_NAMES } from '../../../src/engine/model/positional/registry';
import { useWasmBackend } from '../../helpers/backend';
import { parityFixture } from '../../helpers/fixtures';
import { expectParity, type Case } from '../../helpers/parity';

useWasmBackend();

describe('parity with the PyTorch reference', () => {
  const cases = parityFixture().cases as Case[];

  it('covers every scheme × norm placement', () => {
    const combos = new Set(cases.map((c) => `${c.scheme}/${c.norm}`));
    expect(SCHEME_NAMES.length).toBe(18);
    for (const scheme of SCHEME_NAMES) for (const norm of ['pre', 'post', 'none']) expect(combos, `${scheme}/${norm}`).toContain(`${scheme}/${norm}`);
    expect(combos.size).toBe(SCHEME_NAMES.length * 3);
  });

  it('covers the ablations and lengths past the block', () => {
    expect(cases.every((c) => typeof c.attnScale === 'boolean' && typeof c.tokenEmbedding === 'boolean')).toBe(true);
    expect(cases.filter((c) => c.attnScale === false).map((c) => c.scheme).sort()).toEqual(['none', 'rope']);
    const notok = cases.filter((c) => c.tokenEmbedding === false);
    expect(notok.map((c) => c.id)).toEqual(['sinusoidal-pre-layer-T8-notok']);
    expect(notok[0].weights.wte).toBeUndefined();
    for (const scheme of SCHEME_NAMES.filter((s) => s !== 'learned'))
      expect(cases.some((c) => c.scheme === scheme && c.T > c.blockSize), `${scheme} past the block`).toBe(true);
    const logn = cases.filter((c) => c.attnLogScaling === 'fixed');
    expect(logn.map((c) => c.id)).toEqual(['alibi-pre-layer-T16-logn', 'rope-pre-layer-T16-logn', 'cope-pre-layer-T16-logn']);
    expect(logn.every((c) => c.T > c.blockSize)).toBe(true);
    const keysOnly = cases.find((c) => c.id === 'shaw-pre-layer-T8-keysonly')!;
    expect(Object.keys(keysOnly.weights).some((n) => n.endsWith('.rel_v'))).toBe(false);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s: logits, loss and every gradient match', (_id, c) => expectParity(c));

});

// Other backends (tfjs-node, tfjs-node-gpu) take the plain-tfjs path instead of the wasm fast paths: same fixture.
describe('parity with the fast paths switched off (the path every non-wasm backend takes)', () => {
  const cases = parityFixture().cases as Case[];
  beforeAll(() => setFastPaths(false));
  afterAll(() => setFastPaths(true));

  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => expectParity(c));
});
