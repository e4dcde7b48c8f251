/**
 * Recipes: named, versioned experiments that state a textbook claim up front, run it end to end (train, evaluate,
 * chart data) and compute a verdict from the measured numbers. Runs are tagged with a sweep key, so re-running a
 * recipe reuses the runs it already finished.
 */
import { initBackend, activeBackend } from '../engine/backend';
import type { RunConfig } from '../engine/config';
import { evalAtLengths } from '../engine/eval/extrapolation';
import { equivarianceProbe } from '../engine/eval/probes';
import { GPT } from '../engine/model/gpt';
import { resolveSchemeOptions } from '../engine/model/positional/registry';
import type { MetricRow, RunStore } from '../store';
import { evalLengthForRun } from './analysis';
import { prepareRun, trainNewRun, type RunEvents } from './runner';
import { sweepKeyOf } from './sweepKey';

export type Verdict = 'held' | 'did not hold';

export interface RecipeSeries {
  label: string;
  x: number[];
  y: (number | null)[];
}

export interface RecipeResult {
  recipe: string;
  version: number;
  quick: boolean;
  claim: string;
  verdict: Verdict;
  /** One sentence with the figures behind the verdict. */
  summary: string;
  figures: Record<string, number | string | null>;
  runs: { label: string; runId: number; status: string; finalValLoss: number | null }[];
  chart: { title: string; xLabel: string; yLabel: string; series: RecipeSeries[] };
}

export interface RecipeContext {
  store: RunStore;
  quick: boolean;
  log: (message: string) => void;
  /** Passed to every run the recipe trains (the CLI stops one on Ctrl-C through it). */
  events?: RunEvents;
  /** Checked before each run: throws to end the recipe early (e.g. after Ctrl-C). */
  beforeRun?: () => void;
}

export interface Recipe {
  name: string;
  version: number;
  title: string;
  /** The expected outcome, stated before anything runs. */
  claim: string;
  run(ctx: RecipeContext): Promise<Omit<RecipeResult, 'recipe' | 'version' | 'quick' | 'claim'>>;
}

/** Model and schedule sizes: quick finishes in a few minutes on 2 cores, full is what docs/RECIPES.md reports. */
function baseConfig(quick: boolean): Partial<RunConfig> {
  return quick
    ? { data: 'builtin:toy-english', nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 32, batchSize: 16, steps: 150, evalEvery: 50, sampleEvery: 0, checkpointEvery: 0 }
    : { data: 'builtin:toy-english', nLayer: 3, nHead: 3, nEmbd: 48, blockSize: 32, batchSize: 32, steps: 600, evalEvery: 100, sampleEvery: 0, checkpointEvery: 0 };
}

interface TrainedCell {
  label: string;
  runId: number;
  status: string;
  finalValLoss: number | null;
  metrics: MetricRow[];
}

/** Train each cell (or reuse the run a previous invocation finished) and return its metrics. */
async function trainCells(ctx: RecipeContext, recipe: string, cells: { label: string; config: Partial<RunConfig> }[]): Promise<TrainedCell[]> {
  const trained: TrainedCell[] = [];
  for (const cell of cells) {
    const prepared = prepareRun({ config: cell.config, name: `recipe ${recipe}: ${cell.label}${ctx.quick ? ' (quick)' : ''}` });
    const sweepKey = sweepKeyOf(prepared.config, `recipe:${recipe}`);
    // A finished run is reused only with its final checkpoint, which evaluation needs.
    const done = ctx.store.findRunsBySweepKey(sweepKey).find((r) => (r.status === 'completed' || r.status === 'diverged') && ctx.store.latestCheckpoint(r.id));
    let runId: number;
    if (done) {
      ctx.log(`${cell.label}: reusing run ${done.id}`);
      runId = done.id;
    } else {
      ctx.beforeRun?.();
      ctx.log(`${cell.label}: training ${prepared.config.steps} steps…`);
      runId = (await trainNewRun(ctx.store, { ...prepared, sweepKey }, ctx.events)).runId;
    }
    const run = ctx.store.getRun(runId)!;
    ctx.log(`${cell.label}: run ${runId} ${run.status}, val loss ${run.finalValLoss?.toFixed(4) ?? '–'}`);
    trained.push({ label: cell.label, runId, status: run.status, finalValLoss: run.finalValLoss, metrics: ctx.store.metrics(runId) });
  }
  return trained;
}

/** Mean training loss over the first `fraction` of the run: lower means the loss fell faster. */
function earlyMeanLoss(metrics: MetricRow[], fraction = 0.5): number {
  const early = metrics.slice(0, Math.max(1, Math.floor(metrics.length * fraction))).map((m) => m.trainLoss ?? NaN);
  return early.reduce((a, b) => a + b, 0) / early.length;
}

function lossSeries(cells: TrainedCell[]): RecipeSeries[] {
  return cells.map((c) => ({ label: c.label, x: c.metrics.map((m) => m.step), y: c.metrics.map((m) => m.trainLoss) }));
}

function runsOf(cells: TrainedCell[]): RecipeResult['runs'] {
  return cells.map(({ label, runId, status, finalValLoss }) => ({ label, runId, status, finalValLoss }));
}

const round = (x: number | null | undefined, digits = 4): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));

const learnedVsSinusoidal: Recipe = {
  name: 'learned-vs-sinusoidal',
  version: 1,
  title: 'Learned absolute vs sinusoidal positions',
  claim: 'On the same data, the loss of a learned absolute table falls faster than with fixed sinusoids.',
  async run(ctx) {
    const base = baseConfig(ctx.quick);
    const cells = await trainCells(ctx, this.name, [
      { label: 'learned', config: { ...base, pos: 'learned' } },
      { label: 'sinusoidal', config: { ...base, pos: 'sinusoidal' } },
    ]);
    const [learned, sinusoidal] = cells.map((c) => earlyMeanLoss(c.metrics));
    return {
      verdict: learned < sinusoidal ? 'held' : 'did not hold',
      summary: `mean training loss over the first half: learned ${learned.toFixed(3)}, sinusoidal ${sinusoidal.toFixed(3)}`,
      figures: { learnedEarlyMeanLoss: round(learned), sinusoidalEarlyMeanLoss: round(sinusoidal), learnedFinalVal: round(cells[0].finalValLoss), sinusoidalFinalVal: round(cells[1].finalValLoss) },
      runs: runsOf(cells),
      chart: { title: 'Training loss', xLabel: 'step', yLabel: 'loss', series: lossSeries(cells) },
    };
  },
};

const noLayerNorm: Recipe = {
  name: 'no-layernorm',
  version: 1,
  title: 'LayerNorm removed',
  claim: 'Without any LayerNorm the model still trains, but its loss falls more slowly than with pre-norm.',
  async run(ctx) {
    const base = baseConfig(ctx.quick);
    const cells = await trainCells(ctx, this.name, [
      { label: 'pre-norm', config: { ...base, norm: 'pre' } },
      { label: 'no norm', config: { ...base, norm: 'none' } },
    ]);
    const [pre, none] = cells;
    const initial = none.metrics[0]?.trainLoss ?? NaN;
    const trains = none.status === 'completed' && none.finalValLoss !== null && none.finalValLoss < initial - 0.5;
    const slower = earlyMeanLoss(none.metrics) > earlyMeanLoss(pre.metrics);
    return {
      verdict: trains && slower ? 'held' : 'did not hold',
      summary: `no-norm loss went ${initial.toFixed(3)} → ${none.finalValLoss?.toFixed(3)} (${trains ? 'trains' : 'does not train'}); early mean ${earlyMeanLoss(none.metrics).toFixed(3)} vs pre-norm ${earlyMeanLoss(pre.metrics).toFixed(3)} (${slower ? 'slower' : 'not slower'})`,
      figures: { noNormInitialLoss: round(initial), noNormFinalVal: round(none.finalValLoss), preNormFinalVal: round(pre.finalValLoss), noNormEarlyMean: round(earlyMeanLoss(none.metrics)), preNormEarlyMean: round(earlyMeanLoss(pre.metrics)) },
      runs: runsOf(cells),
      chart: { title: 'Training loss', xLabel: 'step', yLabel: 'loss', series: lossSeries(cells) },
    };
  },
};

/** Relative loss difference below which two runs count as a tie. */
const STABILITY_MARGIN = 0.02;

const postNormWarmup: Recipe = {
  name: 'post-norm-warmup',
  version: 2,
  title: 'Post-norm without warmup vs with warmup vs pre-norm',
  claim: 'At a high learning rate post-norm without warmup is the least stable (final loss over 2% worse than both others, or diverges); warmup repairs it; pre-norm needs none.',
  async run(ctx) {
    const base = { ...baseConfig(ctx.quick), lr: 3e-3, minLr: 3e-4 };
    const cells = await trainCells(ctx, this.name, [
      { label: 'post, no warmup', config: { ...base, norm: 'post', warmupSteps: 0 } },
      { label: 'post, warmup', config: { ...base, norm: 'post', warmupSteps: Math.round((base.steps ?? 100) / 5) } },
      { label: 'pre, no warmup', config: { ...base, norm: 'pre', warmupSteps: 0 } },
    ]);
    const score = (c: TrainedCell): number => (c.status === 'diverged' || c.finalValLoss === null ? Infinity : c.finalValLoss);
    const maxGrad = (c: TrainedCell): number => Math.max(...c.metrics.map((m) => m.gradNorm ?? 0));
    const [noWarmup, warmup, pre] = cells;
    // "Least stable" needs a margin: two losses within 2% are a tie at these run lengths, not evidence.
    const clearlyWorse = (a: number, b: number): boolean => a > b * (1 + STABILITY_MARGIN);
    return {
      verdict: clearlyWorse(score(noWarmup), score(warmup)) && clearlyWorse(score(noWarmup), score(pre)) ? 'held' : 'did not hold',
      summary: `final val loss: post/no-warmup ${noWarmup.finalValLoss?.toFixed(3)} (${noWarmup.status}), post/warmup ${warmup.finalValLoss?.toFixed(3)}, pre ${pre.finalValLoss?.toFixed(3)}; largest grad norm ${maxGrad(noWarmup).toFixed(2)} / ${maxGrad(warmup).toFixed(2)} / ${maxGrad(pre).toFixed(2)}`,
      figures: Object.fromEntries(cells.flatMap((c) => [[`${c.label} finalVal`, round(c.finalValLoss)], [`${c.label} maxGradNorm`, round(maxGrad(c))]])),
      runs: runsOf(cells),
      chart: { title: 'Training loss at lr 3e-3', xLabel: 'step', yLabel: 'loss', series: lossSeries(cells) },
    };
  },
};

const dogEquivariance: Recipe = {
  name: 'dog-equivariance',
  version: 1,
  title: '"The dog chased another dog"',
  claim: 'With no position information (no PE, no causal mask) both "dog"s get identical outputs; the causal mask or any PE but ALiBi tells them apart.',
  async run() {
    if (!activeBackend()) await initBackend();
    const rows = equivarianceProbe({});
    const find = (scheme: string, causal: boolean) => rows.find((r) => r.scheme === scheme && r.causal === causal)!;
    const held = find('none', false).difference === 0 && find('none', true).difference > 0;
    return {
      verdict: held ? 'held' : 'did not hold',
      summary: `no PE, no mask: difference ${find('none', false).difference}; no PE, causal: ${find('none', true).difference.toFixed(3)}; ALiBi, no mask: ${find('alibi', false).difference.toExponential(2)}`,
      figures: Object.fromEntries(rows.map((r) => [`${r.scheme} ${r.causal ? 'causal' : 'unmasked'}`, Number(r.difference.toExponential(3))])),
      runs: [],
      chart: {
        title: 'max |output(dog₁) − output(dog₂)|, fresh weights',
        xLabel: 'scheme',
        yLabel: 'difference',
        series: [false, true].map((causal) => ({ label: causal ? 'causal mask' : 'no mask', x: rows.filter((r) => r.causal === causal).map((_, i) => i), y: rows.filter((r) => r.causal === causal).map((r) => r.difference) })),
      },
    };
  },
};

const EXTRAPOLATING = ['alibi', 't5', 'none'];
const ABSOLUTE = ['sinusoidal', 'learned'];

const extrapolation: Recipe = {
  name: 'extrapolation',
  version: 1,
  title: 'Extrapolation to 2×, 4×, 8× the training length',
  claim: 'ALiBi, T5 and NoPE keep their loss at 8× the training length (within 15%); absolute schemes (sinusoidal, learned) fail (worse by more, or not applicable).',
  async run(ctx) {
    const base = baseConfig(ctx.quick);
    const schemes = [...EXTRAPOLATING, 'rope', ...ABSOLUTE];
    const cells = await trainCells(ctx, this.name, schemes.map((pos) => ({ label: pos, config: { ...base, pos } })));
    const block = base.blockSize!;
    const lengths = [1, 2, 4, 8].map((f) => f * block);
    const ratios: Record<string, number | null> = {};
    const series: RecipeSeries[] = [];
    for (const cell of cells) {
      const evaluation = await evalLengthForRun(ctx.store, cell.runId, lengths);
      const [atBlock, , , at8] = evaluation.results;
      ratios[cell.label] = at8.applicable && atBlock.loss ? at8.loss! / atBlock.loss : null;
      series.push({ label: cell.label, x: lengths, y: evaluation.results.map((r) => r.loss) });
    }
    const holds = (s: string) => ratios[s] !== null && ratios[s]! <= 1.15;
    const held = EXTRAPOLATING.every(holds) && ABSOLUTE.every((s) => !holds(s));
    return {
      verdict: held ? 'held' : 'did not hold',
      summary: `loss at 8× ÷ loss at 1×: ${schemes.map((s) => `${s} ${ratios[s] === null ? 'n/a' : ratios[s]!.toFixed(2)}`).join(', ')}`,
      figures: Object.fromEntries(schemes.map((s) => [`${s} loss8x/loss1x`, round(ratios[s], 3)])),
      runs: runsOf(cells),
      chart: { title: `Loss vs evaluation length (trained at ${block})`, xLabel: 'length', yLabel: 'loss', series },
    };
  },
};

const noAttentionScale: Recipe = {
  name: 'no-attn-scale',
  version: 1,
  title: 'Attention without 1/√d_k at a large head size',
  claim: 'Without the 1/√d_k scaling, a model with 64-dimensional heads trains more slowly or becomes unstable.',
  async run(ctx) {
    const base = { ...baseConfig(ctx.quick), nHead: ctx.quick ? 1 : 2, nEmbd: ctx.quick ? 64 : 128, lr: 2e-3, minLr: 2e-4 };
    const cells = await trainCells(ctx, this.name, [
      { label: 'scaled', config: { ...base, attnScale: true } },
      { label: 'unscaled', config: { ...base, attnScale: false } },
    ]);
    const [scaled, unscaled] = cells;
    const worse = unscaled.status === 'diverged' || earlyMeanLoss(unscaled.metrics) > earlyMeanLoss(scaled.metrics);
    return {
      verdict: worse ? 'held' : 'did not hold',
      summary: `early mean loss: scaled ${earlyMeanLoss(scaled.metrics).toFixed(3)}, unscaled ${earlyMeanLoss(unscaled.metrics).toFixed(3)} (${unscaled.status}); final val ${scaled.finalValLoss?.toFixed(3)} vs ${unscaled.finalValLoss?.toFixed(3)}`,
      figures: { headSize: base.nEmbd / base.nHead, scaledEarlyMean: round(earlyMeanLoss(scaled.metrics)), unscaledEarlyMean: round(earlyMeanLoss(unscaled.metrics)), scaledFinalVal: round(scaled.finalValLoss), unscaledFinalVal: round(unscaled.finalValLoss) },
      runs: runsOf(cells),
      chart: { title: `Training loss, head size ${base.nEmbd / base.nHead}`, xLabel: 'step', yLabel: 'loss', series: lossSeries(cells) },
    };
  },
};

const attentionCost: Recipe = {
  name: 'attention-cost',
  version: 2,
  title: 'Attention cost vs sequence length',
  claim: 'The peak memory of a forward pass grows quadratically with sequence length once attention dominates (log-log slope near 2). Time is reported but not judged: one timing on shared cores is noise, memory is exact.',
  async run(ctx) {
    if (!activeBackend()) await initBackend();
    const lengths = ctx.quick ? [64, 128, 256, 512] : [64, 128, 256, 512, 1024, 2048];
    const model = new GPT(
      { vocabSize: 64, nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 64, pos: 'alibi', posOptions: resolveSchemeOptions('alibi'), norm: 'pre', normType: 'layer', causal: true, dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0 },
      1,
    );
    try {
      const tokens = Int32Array.from({ length: lengths.at(-1)! + 1 }, (_, i) => (i * 7919) % 64);
      const results = await evalAtLengths(model, tokens, lengths, { tokenBudget: 1 });
      const slope = (values: number[]): number => Math.log(values.at(-1)! / values.at(-2)!) / Math.log(lengths.at(-1)! / lengths.at(-2)!);
      const memorySlope = slope(results.map((r) => r.peakBytes));
      const timeSlope = slope(results.map((r) => r.ms));
      ctx.log(results.map((r) => `T=${r.length}: ${r.ms.toFixed(0)} ms, ${(r.peakBytes / 2 ** 20).toFixed(1)} MB`).join('; '));
      return {
        verdict: memorySlope >= 1.6 ? 'held' : 'did not hold',
        summary: `log-log slope between the two longest lengths: memory ${memorySlope.toFixed(2)}, time ${timeSlope.toFixed(2)}`,
        figures: { memorySlope: round(memorySlope, 3), timeSlope: round(timeSlope, 3), ...Object.fromEntries(results.flatMap((r) => [[`ms@${r.length}`, round(r.ms, 1)], [`MB@${r.length}`, round(r.peakBytes / 2 ** 20, 2)]])) },
        runs: [],
        chart: { title: 'Peak memory of one forward pass', xLabel: 'length', yLabel: 'MB', series: [{ label: 'peak MB', x: lengths, y: results.map((r) => r.peakBytes / 2 ** 20) }] },
      };
    } finally {
      model.dispose();
    }
  },
};

export const RECIPES: readonly Recipe[] = [learnedVsSinusoidal, noLayerNorm, postNormWarmup, dogEquivariance, extrapolation, noAttentionScale, attentionCost];

export function getRecipe(name: string): Recipe | undefined {
  return RECIPES.find((r) => r.name === name);
}

/** Run a recipe and store its result as an eval of kind 'recipe' on each of its runs (or return it only). */
export async function runRecipe(recipe: Recipe, ctx: RecipeContext): Promise<RecipeResult> {
  if (!activeBackend()) await initBackend();
  const outcome = await recipe.run(ctx);
  const result: RecipeResult = { recipe: recipe.name, version: recipe.version, quick: ctx.quick, claim: recipe.claim, ...outcome };
  for (const run of result.runs) ctx.store.addEval(run.runId, 'recipe', result);
  return result;
}
