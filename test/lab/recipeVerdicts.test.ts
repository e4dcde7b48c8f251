/**
 * Every recipe's judge on fabricated per-seed metrics: one case that holds, one that does not, one inside the seed
 * noise (inconclusive). Nothing trains here; the numbers are chosen so the 95 % intervals are easy to see by hand
 * (3 seeds: t_{0.975} ≈ 2.8–4.3, so a spread of ±0.01 gives an interval of about ±0.03).
 */
import { describe, expect, it } from 'vitest';
import type { EquivarianceRow } from '../../src/engine/eval/probes';
import {
  judgeAttentionCost,
  judgeDogEquivariance,
  judgeFinetuneRepair,
  judgeRopeScaling,
  judgeExtrapolation,
  judgeLearnedVsSinusoidal,
  judgeNoAttentionScale,
  judgeNoLayerNorm,
  judgePostNormWarmup,
  type RunOutcome,
  judgeNopeVsAbsolute,
  judgeRandomPositions,
} from '../../src/lab/recipeVerdicts';

/** Three seeds around `mean`: mean − d, mean, mean + d (std d). */
const seeds = (mean: number, d = 0.01): number[] => [mean - d, mean, mean + d];

describe('learned-vs-sinusoidal', () => {
  it('holds when learned is clearly lower than both sinusoid scales', () => {
    const j = judgeLearnedVsSinusoidal({ learned: seeds(2.6), sinusoidal: seeds(3.0), matched: seeds(2.7) });
    expect(j.verdict).toBe('held');
    expect(j.figures['as in minGPT']).toBe('held');
    expect(j.figures['matched scale']).toBe('held');
    expect(j.figures['learned − sinusoidal difference']).toBeCloseTo(-0.4, 6);
    expect(j.summary).toContain('2.600 ± 0.010');
  });

  it('does not hold when matched-scale sinusoids are clearly lower, even though unmatched ones lose', () => {
    const j = judgeLearnedVsSinusoidal({ learned: seeds(2.7), sinusoidal: seeds(3.0), matched: seeds(2.6) });
    expect(j.figures['as in minGPT']).toBe('held');
    expect(j.figures['matched scale']).toBe('did not hold');
    expect(j.verdict).toBe('did not hold');
  });

  it('is inconclusive when the matched difference is inside the seed noise', () => {
    // 2.685 vs 2.677 (the measurement) with ±0.01 seeds: the interval spans zero.
    const j = judgeLearnedVsSinusoidal({ learned: seeds(2.685), sinusoidal: seeds(2.992), matched: seeds(2.677) });
    expect(j.figures['matched scale']).toBe('inconclusive');
    expect(j.verdict).toBe('inconclusive');
  });

  it('is not held for a difference beyond the noise but within the 0.01-nat margin', () => {
    // Differences of 0.005 with no spread at all: real, but too small to call "falls faster".
    const j = judgeLearnedVsSinusoidal({ learned: [2.6, 2.6, 2.6], sinusoidal: [2.605, 2.605, 2.605], matched: [2.605, 2.605, 2.605] });
    expect(j.figures['as in minGPT']).toBe('did not hold');
    expect(j.figures['matched scale']).toBe('did not hold');
  });
});

describe('no-layernorm', () => {
  it('holds when no-norm falls by more than 0.5 nats but slower than pre-norm', () => {
    expect(judgeNoLayerNorm({ preEarly: seeds(2.4), noneEarly: seeds(2.8), noneDrop: seeds(1.2) }).verdict).toBe('held');
  });

  it('does not hold when no-norm is not slower, or does not train, or diverges', () => {
    expect(judgeNoLayerNorm({ preEarly: seeds(2.8), noneEarly: seeds(2.4), noneDrop: seeds(1.2) }).verdict).toBe('did not hold');
    expect(judgeNoLayerNorm({ preEarly: seeds(2.4), noneEarly: seeds(2.8), noneDrop: seeds(0.2) }).verdict).toBe('did not hold');
    expect(judgeNoLayerNorm({ preEarly: seeds(2.4), noneEarly: seeds(2.8), noneDrop: [1.2, null, 1.3] }).verdict).toBe('did not hold');
  });

  it('is inconclusive when the early losses overlap', () => {
    const j = judgeNoLayerNorm({ preEarly: seeds(2.40, 0.02), noneEarly: seeds(2.42, 0.02), noneDrop: seeds(1.2) });
    expect(j.figures.trains).toBe('held');
    expect(j.figures.slower).toBe('inconclusive');
    expect(j.verdict).toBe('inconclusive');
  });
});

describe('post-norm-warmup', () => {
  const runs = (finals: (number | null)[]): RunOutcome[] => finals.map((finalVal) => ({ finalVal, maxGradNorm: 1 }));

  it('holds when no-warmup ends more than 2% worse than both others, or diverges where they do not', () => {
    expect(judgePostNormWarmup({ noWarmup: runs(seeds(2.0)), warmup: runs(seeds(1.8)), pre: runs(seeds(1.7)) }).verdict).toBe('held');
    expect(judgePostNormWarmup({ noWarmup: runs([null, null, null]), warmup: runs(seeds(1.8)), pre: runs(seeds(1.7)) }).verdict).toBe('held');
  });

  it('does not hold when no-warmup is as good (0.627 vs 0.626 with no spread), or when another diverges instead', () => {
    const tie = judgePostNormWarmup({ noWarmup: runs([0.627, 0.627, 0.627]), warmup: runs([0.626, 0.626, 0.626]), pre: runs(seeds(0.5)) });
    expect(tie.figures['vs warmup']).toBe('did not hold');
    expect(tie.verdict).toBe('did not hold');
    expect(judgePostNormWarmup({ noWarmup: runs(seeds(2.0)), warmup: runs([null, 1.8, 1.8]), pre: runs(seeds(1.7)) }).verdict).toBe('did not hold');
  });

  it('is inconclusive for 0.627 vs 0.626 inside a seed spread of ±0.01, or a mixed divergence', () => {
    const noisy = judgePostNormWarmup({ noWarmup: runs(seeds(0.627)), warmup: runs(seeds(0.626)), pre: runs(seeds(0.5)) });
    expect(noisy.figures['vs warmup']).toBe('inconclusive');
    expect(noisy.verdict).toBe('inconclusive');
    expect(judgePostNormWarmup({ noWarmup: runs([null, 2.0, 2.0]), warmup: runs(seeds(1.8)), pre: runs(seeds(1.7)) }).verdict).toBe('inconclusive');
  });
});

describe('dog-equivariance', () => {
  const TIED = ['none', 'alibi', 'integer', 'integer-norm'];
  const SCHEMES = [...TIED, 'sinusoidal', 'learned', 'rope'];
  /** Rows as the probe reports them, ties exactly where the claim says unless `flip` names a row to get wrong. */
  const probeRows = (flip?: string): EquivarianceRow[] =>
    SCHEMES.flatMap((scheme) =>
      [false, true].map((causal) => {
        let tied = !causal && TIED.includes(scheme);
        if (flip === `${scheme} ${causal ? 'causal' : 'unmasked'}`) tied = !tied;
        return { scheme, causal, difference: tied ? 1e-6 : 3, scale: 6, tied };
      }),
    );

  it('holds when every row, on every seed, ties exactly where the claim says', () => {
    const j = judgeDogEquivariance([probeRows(), probeRows(), probeRows()]);
    expect(j.verdict).toBe('held');
    expect(j.figures['sinusoidal unmasked']).toBeCloseTo(0.5, 6);
  });

  it('does not hold when any row contradicts the claim, not only the no-PE rows', () => {
    for (const flip of ['integer unmasked', 'sinusoidal unmasked', 'alibi causal', 'none unmasked']) {
      const j = judgeDogEquivariance([probeRows(), probeRows(flip), probeRows()]);
      expect(j.verdict, flip).toBe('did not hold');
      expect(j.summary).toContain(flip);
    }
  });
});

describe('extrapolation', () => {
  const keeping = ['alibi', 't5', 'none'];
  const failing = ['sinusoidal', 'learned'];
  const ratios = (overrides: Record<string, (number | null)[]>) => ({
    alibi: seeds(1.02),
    t5: seeds(1.05),
    none: seeds(1.08),
    rope: seeds(1.6),
    sinusoidal: seeds(1.9),
    learned: [null, null, null],
    ...overrides,
  });

  it('holds when the relative schemes stay below 1.15 and the absolute ones exceed it or are not applicable', () => {
    const j = judgeExtrapolation(ratios({}), keeping, failing);
    expect(j.verdict).toBe('held');
    expect(j.figures['learned as claimed']).toBe('held');
    // RoPE is reported, not judged.
    expect(j.figures['rope as claimed']).toBeUndefined();
    expect(j.figures['rope loss8x/loss1x mean']).toBeCloseTo(1.6, 6);
  });

  it('does not hold when a relative scheme degrades past 1.15 or an absolute one keeps its loss', () => {
    expect(judgeExtrapolation(ratios({ t5: seeds(1.4) }), keeping, failing).verdict).toBe('did not hold');
    expect(judgeExtrapolation(ratios({ sinusoidal: seeds(1.05) }), keeping, failing).verdict).toBe('did not hold');
  });

  it('is inconclusive when a ratio straddles 1.15 within its seed spread', () => {
    const j = judgeExtrapolation(ratios({ none: seeds(1.14, 0.03) }), keeping, failing);
    expect(j.figures['none as claimed']).toBe('inconclusive');
    expect(j.verdict).toBe('inconclusive');
  });
});

describe('no-attn-scale', () => {
  it('holds when unscaled is clearly slower or diverges on every seed', () => {
    expect(judgeNoAttentionScale({ scaled: seeds(2.3), unscaled: seeds(2.6) }).verdict).toBe('held');
    expect(judgeNoAttentionScale({ scaled: seeds(2.3), unscaled: [null, null, null] }).verdict).toBe('held');
  });

  it('does not hold when unscaled is as fast or faster', () => {
    expect(judgeNoAttentionScale({ scaled: seeds(2.6), unscaled: seeds(2.3) }).verdict).toBe('did not hold');
  });

  it('is inconclusive inside the seed noise', () => {
    expect(judgeNoAttentionScale({ scaled: seeds(2.30, 0.02), unscaled: seeds(2.32, 0.02) }).verdict).toBe('inconclusive');
  });
});

describe('attention-cost', () => {
  it('holds for a memory slope near 2 on every seed, whatever the time slope', () => {
    const j = judgeAttentionCost([1.93, 1.93, 1.93], [0.4, 3.1, 1.2]);
    expect(j.verdict).toBe('held');
    expect(j.figures['memory slope mean']).toBeCloseTo(1.93, 6);
  });

  it('does not hold for a linear memory slope', () => {
    expect(judgeAttentionCost([1.0, 1.0, 1.0], [1, 1, 1]).verdict).toBe('did not hold');
  });

  it('is inconclusive when the seeds disagree across the bound', () => {
    expect(judgeAttentionCost([1.5, 1.7, 1.9], [1, 1, 1]).verdict).toBe('inconclusive');
  });
});

describe('rope-scaling-4x', () => {
  const ntk = seeds(1.2);
  it('holds when PI and YaRN stay below 1.10 × the block loss and plain RoPE is clearly above', () => {
    const j = judgeRopeScaling({ plain: seeds(1.3), pi: seeds(1.05), yarn: seeds(1.02), ntk });
    expect(j.verdict).toBe('held');
    expect(j.figures['PI within 10 %']).toBe('held');
    expect(j.figures['plain beyond 10 %']).toBe('held');
    expect(j.figures['NTK loss4x/loss1x mean']).toBeCloseTo(1.2, 6);
    expect(j.summary).toContain('PI 1.050 ± 0.010');
  });

  it('does not hold when interpolation is worse than plain RoPE (no fine-tuning), as at our scale', () => {
    const j = judgeRopeScaling({ plain: seeds(1.28), pi: seeds(1.78), yarn: seeds(1.92), ntk });
    expect(j.figures['PI within 10 %']).toBe('did not hold');
    expect(j.figures['plain beyond 10 %']).toBe('held');
    expect(j.verdict).toBe('did not hold');
  });

  it('does not hold when plain RoPE itself keeps its loss, even if PI and YaRN do', () => {
    expect(judgeRopeScaling({ plain: seeds(1.02), pi: seeds(1.03), yarn: seeds(1.03), ntk }).verdict).toBe('did not hold');
  });

  it('is inconclusive when a ratio straddles the limit within the seed noise', () => {
    const j = judgeRopeScaling({ plain: seeds(1.3), pi: seeds(1.1), yarn: seeds(1.02), ntk });
    expect(j.figures['PI within 10 %']).toBe('inconclusive');
    expect(j.verdict).toBe('inconclusive');
  });
});

describe('finetune-2x', () => {
  const plainAfter = seeds(1.04);
  it('holds when the parent is broken at 2× and the PI fine-tune brings it within 5 %', () => {
    const j = judgeFinetuneRepair({ before: seeds(1.3), after: seeds(1.0), plainAfter });
    expect(j.verdict).toBe('held');
    expect(j.figures['PI fine-tune loss2x/loss1x mean']).toBeCloseTo(1.0, 6);
    expect(j.summary).toContain('after the PI fine-tune 1.000 ± 0.010');
  });

  it('does not hold when nothing was broken at 2× to begin with, or when the fine-tune stays far above', () => {
    expect(judgeFinetuneRepair({ before: seeds(1.02), after: seeds(0.98), plainAfter }).figures['broken before']).toBe('did not hold');
    expect(judgeFinetuneRepair({ before: seeds(1.02), after: seeds(0.98), plainAfter }).verdict).toBe('did not hold');
    expect(judgeFinetuneRepair({ before: seeds(1.3), after: seeds(1.2), plainAfter }).verdict).toBe('did not hold');
    expect(judgeFinetuneRepair({ before: seeds(1.3), after: [null, null, null], plainAfter }).verdict).toBe('did not hold');
  });

  it('is inconclusive inside the seed noise or when some fine-tunes diverged', () => {
    expect(judgeFinetuneRepair({ before: seeds(1.3), after: seeds(1.05), plainAfter }).verdict).toBe('inconclusive');
    const mixed = judgeFinetuneRepair({ before: seeds(1.3), after: [1.0, null, 1.01], plainAfter: [1.0, null, 1.02] });
    expect(mixed.verdict).toBe('inconclusive');
    expect(mixed.summary).toContain('(1 diverged)');
  });
});

/** A configuration that learnt the task (0.9 at the trained size on every seed), with these accuracies past it. */
const learnt = (past: number[]) => ({ atTrained: [0.9, 0.9, 0.9], past });

describe('random-positions', () => {
  it('holds when randomized positions beat plain ones on both tasks by more than 0.05', () => {
    const j = judgeRandomPositions({ count: { randomized: learnt(seeds(0.4)), plain: learnt(seeds(0.1)) }, copy: { randomized: learnt(seeds(0.3)), plain: learnt(seeds(0.05)) } });
    expect(j.verdict).toBe('held');
    expect(j.figures['count randomized − plain difference']).toBeCloseTo(0.3, 6);
    expect(j.figures['copy randomized beats plain']).toBe('held');
    expect(j.summary).toContain('count: randomized 0.400 ± 0.010, plain 0.100 ± 0.010; randomized − plain 0.30 [');
  });

  it('does not hold when one task shows no lift (all zero is no lift), even if the other does', () => {
    const j = judgeRandomPositions({ count: { randomized: learnt(seeds(0.4)), plain: learnt(seeds(0.1)) }, copy: { randomized: learnt([0, 0, 0]), plain: learnt([0, 0, 0]) } });
    expect(j.figures['count randomized beats plain']).toBe('held');
    expect(j.figures['copy randomized beats plain']).toBe('did not hold');
    expect(j.verdict).toBe('did not hold');
  });

  it('is inconclusive when no configuration learnt a task at its trained size, whatever the accuracy past it', () => {
    const unlearnt = (past: number[]) => ({ atTrained: [0.4, 0.5, 0.3], past });
    const j = judgeRandomPositions({ count: { randomized: unlearnt(seeds(0.4)), plain: unlearnt([0, 0, 0]) } });
    expect(j.verdict).toBe('inconclusive');
    expect(j.figures['count learnt']).toBe('no');
    expect(j.summary).toContain('count: not learnt (best accuracy at the trained size 0.40 < 0.5), inconclusive');
    // One configuration that learnt it (0.5 on average) makes the comparison count.
    expect(judgeRandomPositions({ count: { randomized: { atTrained: [0.5, 0.5, 0.5], past: seeds(0.4) }, plain: unlearnt([0, 0, 0]) } }).verdict).toBe('held');
  });

  it('is inconclusive when a lift of 0.06 sits inside the seed noise', () => {
    // 0.16 vs 0.10 with ±0.05 seeds: the Welch interval of the difference is about ±0.16 around 0.06, spanning 0.05.
    const j = judgeRandomPositions({ count: { randomized: learnt(seeds(0.16, 0.05)), plain: learnt(seeds(0.1, 0.05)) } });
    expect(j.verdict).toBe('inconclusive');
  });
});

describe('nope-vs-absolute', () => {
  it('holds when NoPE beats learned and sinusoidal on every task', () => {
    const task = { none: learnt(seeds(0.5)), learned: learnt(seeds(0)), sinusoidal: learnt(seeds(0.2)) };
    const j = judgeNopeVsAbsolute({ count: task, copy: task }, ['learned', 'sinusoidal']);
    expect(j.verdict).toBe('held');
    expect(j.figures['count none − sinusoidal difference']).toBeCloseTo(0.3, 6);
  });

  it('does not hold when one absolute scheme beats NoPE', () => {
    const j = judgeNopeVsAbsolute({ count: { none: learnt(seeds(0.2)), learned: learnt([0, 0, 0]), sinusoidal: learnt(seeds(0.5)) } }, ['learned', 'sinusoidal']);
    expect(j.figures['count none beats learned']).toBe('held');
    expect(j.figures['count none beats sinusoidal']).toBe('did not hold');
    expect(j.verdict).toBe('did not hold');
  });

  it('is inconclusive when NoPE is ahead by about the margin within the noise', () => {
    const j = judgeNopeVsAbsolute({ count: { none: learnt(seeds(0.3, 0.05)), learned: learnt(seeds(0.24, 0.05)), sinusoidal: learnt(seeds(0.1)) } }, ['learned', 'sinusoidal']);
    expect(j.figures['count none beats sinusoidal']).toBe('held');
    expect(j.verdict).toBe('inconclusive');
  });
});
