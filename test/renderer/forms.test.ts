import { describe, expect, it } from 'vitest';
import type { RunInfo, SchemeInfo } from '../../src/shared/api';
import { compareChart, configDiff, groupableFields } from '../../src/renderer/composables/compare';
import { asFieldProblems, distinctProblems, formOverrides, formProblems, isAbsolutePath, problemSentence, tokenizerCost, type RunForm } from '../../src/renderer/composables/configForm';
import { filterRuns, parseTags, sortRuns } from '../../src/renderer/composables/runList';
import { parseDropouts, plannedCells, sweepProgress, sweepSize } from '../../src/renderer/composables/sweep';

const rope: SchemeInfo = {
  name: 'rope',
  label: 'RoPE',
  summary: '',
  hook: 'rotate',
  knobs: [{ key: 'base', flag: 'rope-base', label: 'Base', help: '', default: 10000, min: 2, max: 1e9, integer: false }],
  maxLengthFactor: null,
  maxLengthNote: '',
};

function form(patch: Partial<RunForm> = {}): RunForm {
  return {
    name: '',
    preset: 'nano',
    tokenizer: 'char',
    dataKind: 'builtin',
    builtin: 'copy',
    filePath: '',
    uploaded: null,
    pos: 'rope',
    posOptions: { base: 500, scale: 3 },
    norm: 'post',
    normType: 'rms',
    attnLogScaling: 'fixed',
    randomPositions: 0,
    dropout: 0.1,
    separateDropout: false,
    warmupAuto: true,
    warmupSteps: 0,
    threadsAuto: true,
    backend: 'auto',
    numbers: { nLayer: 2, nHead: 2, nEmbd: 32, steps: 100, dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0 },
    ...patch,
  };
}

describe('the New run form', () => {
  it("sends threads 'auto' while automatic is ticked (an empty count is then no problem), else the count", () => {
    expect(formOverrides(form({ numbers: { threads: '' } }), rope).threads).toBe('auto');
    expect(formProblems(form({ numbers: { threads: '' } }), rope)).toEqual([]);
    expect(formOverrides(form({ threadsAuto: false, numbers: { threads: 3 } }), rope).threads).toBe(3);
    expect(formProblems(form({ threadsAuto: false, numbers: { threads: '' } }), rope)).toEqual([{ field: 'threads', message: 'enter a number' }]);
  });

  it('turns into overrides: one dropout for all three, only the chosen scheme’s knobs, automatic warmup as null', () => {
    expect(formOverrides(form(), rope)).toEqual({
      preset: 'nano',
      tokenizer: 'char',
      data: 'builtin:copy',
      pos: 'rope',
      norm: 'post',
      normType: 'rms',
      attnLogScaling: 'fixed',
      warmupSteps: null,
      backend: 'auto',
      threads: 'auto',
      nLayer: 2,
      nHead: 2,
      nEmbd: 32,
      steps: 100,
      dropoutEmbd: 0.1,
      dropoutAttn: 0.1,
      dropoutResid: 0.1,
      posOptions: { base: 500 },
    });
    const separate = formOverrides(form({ separateDropout: true, warmupAuto: false, warmupSteps: 20, dataKind: 'file', filePath: '  /tmp/a.txt ', numbers: { dropoutEmbd: 0.2, dropoutAttn: 0, dropoutResid: 0.3 } }), undefined);
    expect(separate).toMatchObject({ data: '/tmp/a.txt', warmupSteps: 20, dropoutEmbd: 0.2, dropoutAttn: 0, dropoutResid: 0.3, posOptions: {} });
    expect(formOverrides(form({ backend: 'webgpu' }), rope).backend).toBe('webgpu');
  });

  it('sends randomized positions only when a range is given, and an empty box is a problem naming the field', () => {
    expect(formOverrides(form(), rope)).not.toHaveProperty('randomPositions');
    expect(formOverrides(form({ randomPositions: 256 }), rope).randomPositions).toBe(256);
    expect(formProblems(form({ randomPositions: '' }), rope)).toEqual([{ field: 'randomPositions', message: 'enter a number (0 = off)' }]);
  });

  it('reports empty boxes and a missing file path itself, naming the field', () => {
    expect(formProblems(form(), rope)).toEqual([]);
    const problems = formProblems(form({ dropout: '', warmupAuto: false, warmupSteps: '', posOptions: { base: '' }, dataKind: 'file', filePath: ' ', numbers: { nLayer: '', nHead: Number.NaN } }), rope);
    expect(problems.map((p) => p.field)).toEqual(['nLayer', 'nHead', 'dropoutEmbd', 'warmupSteps', 'posOptions.base', 'data']);
    expect(problems.every((p) => p.message.length > 0)).toBe(true);
    // The hidden per-part dropout boxes do not count while one dropout is used.
    expect(formProblems(form({ numbers: { dropoutAttn: '' } }), rope)).toEqual([]);
    expect(formProblems(form({ separateDropout: true, numbers: { dropoutAttn: '' } }), rope).map((p) => p.field)).toEqual(['dropoutAttn']);
  });

  it('maps the service’s request paths to fields and shows the three dropouts’ shared message once', () => {
    expect(asFieldProblems([{ field: 'config.nHead', message: 'must divide nEmbd (48); 5 heads do not' }])).toEqual([{ field: 'nHead', message: 'must divide nEmbd (48); 5 heads do not' }]);
    const label = (f: string) => (f.startsWith('dropout') ? 'Dropout' : f);
    const same = 'must be in [0, 0.95], got 2';
    expect(distinctProblems([{ field: 'dropoutEmbd', message: same }, { field: 'dropoutAttn', message: same }, { field: 'lr', message: 'x' }], label)).toHaveLength(2);
  });

  it('counts an empty data path once, though the form and the service both report it, showing the form’s message', () => {
    const local = formProblems(form({ dataKind: 'file', filePath: '' }), rope);
    const service = [{ field: 'data', message: 'must name a file or builtin:NAME' }];
    const shown = distinctProblems([...local, ...service], () => 'Data');
    expect(shown).toEqual([{ field: 'data', message: 'needs the absolute path of a text file on the lab’s machine' }]);
  });

  it('does not repeat the label a message starts with', () => {
    expect(problemSentence('Data', 'data file /x.txt not found')).toBe('Data file /x.txt not found');
    expect(problemSentence('Layers', 'must be at least 1')).toBe('Layers must be at least 1');
    expect(problemSentence('Data', 'database locked')).toBe('Data database locked');
  });

  it('takes absolute paths only, and an uploaded text by its source', () => {
    const problem = (filePath: string) => formProblems(form({ dataKind: 'file', filePath }), rope).find((p) => p.field === 'data')?.message;
    expect(problem('corpus.txt')).toBe('path "corpus.txt" is relative: type an absolute path, or pick or drop the file');
    expect(problem('./a/b.txt')).toMatch(/relative/);
    for (const path of ['/home/u/a.txt', 'C:\\Users\\u\\a.txt', 'D:/a.txt', '\\\\server\\share\\a.txt']) expect(problem(path)).toBeUndefined();
    expect(isAbsolutePath('C:a.txt')).toBe(false);
    expect(formProblems(form({ dataKind: 'upload' }), rope)).toEqual([{ field: 'data', message: 'needs a text file: pick one or drop it here' }]);
    const uploaded = { source: `text:${'f'.repeat(64)}`, name: 'a.txt', size: 3, tokens: 3, vocabSize: 2 };
    expect(formProblems(form({ dataKind: 'upload', uploaded }), rope)).toEqual([]);
    expect(formOverrides(form({ dataKind: 'upload', uploaded }), rope).data).toBe(uploaded.source);
  });
});

const run = (id: number, config: Record<string, unknown>, extra: Partial<RunInfo> = {}): RunInfo =>
  ({ id, name: `run ${id}`, status: 'completed', config: { pos: 'rope', norm: 'pre', nLayer: 2, posOptions: {}, data: 'builtin:copy', ...config }, lastStep: 9, finalValLoss: null, createdAt: id, sweepKey: null, tags: [], notes: '', ...extra }) as unknown as RunInfo;

describe('comparing runs', () => {
  it('the config table shows only the fields that differ, known fields first, knobs by name', () => {
    const runs = [run(1, { pos: 'rope', posOptions: { base: 10000 }, lr: 1e-3 }), run(2, { pos: 'alibi', lr: 1e-3 }), run(3, { pos: 'rope', posOptions: { base: 500 }, lr: 1e-3, seed: 7 })];
    const diff = configDiff(runs.map((r) => r.config as Record<string, unknown>));
    expect(diff.map((d) => d.field)).toEqual(['pos', 'seed', 'posOptions.base']);
    expect(diff[0]).toEqual({ field: 'pos', label: 'positional scheme', values: ['rope', 'alibi', 'rope'] });
    expect(diff[2].values).toEqual(['10000', '–', '500']);
    expect(diff[1].values).toEqual(['–', '–', '7']);
    expect(configDiff([runs[0].config as Record<string, unknown>])).toEqual([]);
    expect(configDiff([{ a: 1, warmupSteps: null }, { a: 1, warmupSteps: null }])).toEqual([]);
    expect(configDiff([{ warmupSteps: null }, { warmupSteps: 10 }])[0].values).toEqual(['auto', '10']);
    expect(groupableFields(runs.map((r) => r.config as Record<string, unknown>))).toContain('pos');
    // A run stored before the threads setting existed ran on one thread: the same as threads 1, different from 2.
    expect(configDiff([{ pos: 'rope' }, { pos: 'rope', threads: 1 }])).toEqual([]);
    // Runs stored before log-n scaling trained without it: the same as 'none', different from 'fixed'.
    expect(configDiff([{ pos: 'rope' }, { pos: 'rope', attnLogScaling: 'none' }])).toEqual([]);
    expect(configDiff([{ pos: 'rope' }, { pos: 'rope', attnLogScaling: 'fixed' }]).map((d) => d.values)).toEqual([['none', 'fixed']]);
    expect(configDiff([{ pos: 'rope' }, { pos: 'rope', threads: 2 }])).toEqual([{ field: 'threads', label: 'threads', values: ['1', '2'] }]);
  });

  it('overlays one series per run with stable colours; grouping colours by value', () => {
    const runs = [run(1, { pos: 'rope' }), run(2, { pos: 'alibi' }), run(3, { pos: 'rope' })];
    const rows = [0, 1, 2].map((step) => ({ step, tokens: (step + 1) * 100, wallMs: step * 2000, trainLoss: 3 - step, valLoss: step === 2 ? 1.5 : null, lr: null, gradNorm: null }));
    const metrics = new Map(runs.map((r) => [r.id, rows]));
    const byStep = compareChart(runs, metrics, { metric: 'trainLoss', x: 'step', smoothing: 0, logY: false, groupBy: null });
    // Steps as the store counts them (0 = the first), the same numbers as the run CSV.
    expect(byStep.series.map((s) => s.x)).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2]]);
    expect(byStep.series[0].y).toEqual([3, 2, 1]);
    expect(new Set(byStep.series.map((s) => s.color)).size).toBe(3);
    const val = compareChart(runs, metrics, { metric: 'valLoss', x: 'wallMs', smoothing: 0.9, logY: true, groupBy: 'pos' });
    expect(val.series[0]).toMatchObject({ x: [4], y: [1.5], points: true });
    expect(val.xLabel).toBe('wall time (s)');
    expect(val.yLog).toBe(true);
    expect(val.series[0].color).toBe(val.series[2].color);
    expect(val.series[0].color).not.toBe(val.series[1].color);
    expect(val.series[1].label).toContain('positional scheme = alibi');
  });

  it('filters by every word and sorts with missing values last', () => {
    const runs = [run(1, { pos: 'alibi' }, { finalValLoss: 2 }), run(2, { pos: 'rope' }, { status: 'diverged', finalValLoss: null }), run(3, { pos: 'alibi', norm: 'post' }, { finalValLoss: 1 })];
    expect(filterRuns(runs, 'alibi post').map((r) => r.id)).toEqual([3]);
    expect(filterRuns(runs, 'DIVERGED').map((r) => r.id)).toEqual([2]);
    // Tags and notes are searched too.
    const tagged = [run(4, {}, { tags: ['baseline'], notes: '' }), run(5, {}, { tags: [], notes: 'Flat after 300 steps' })];
    expect(filterRuns(tagged, 'baseline').map((r) => r.id)).toEqual([4]);
    expect(filterRuns(tagged, 'flat').map((r) => r.id)).toEqual([5]);
    expect(parseTags(' baseline, lr sweep,, baseline ')).toEqual(['baseline', 'lr sweep']);
    expect(sortRuns(runs, 'valLoss', false).map((r) => r.id)).toEqual([3, 1, 2]);
    expect(sortRuns(runs, 'valLoss', true).map((r) => r.id)).toEqual([1, 3, 2]);
    expect(sortRuns(runs, 'created', true).map((r) => r.id)).toEqual([3, 2, 1]);
  });
});

describe('sweep progress', () => {
  it('reads the queued cell count from the key and says how many cells were deleted', () => {
    expect(plannedCells('sweep-abc-x1y2-of4')).toBe(4);
    expect(plannedCells('sweep-abc-x1y2')).toBeNull();
    expect(sweepProgress('sweep-abc-x1y2-of4', 4, 2)).toBe('2 / 4 done');
    expect(sweepProgress('sweep-abc-x1y2-of2', 1, 1)).toBe('1 / 1 done · 1 of 2 deleted');
    // Keys from before the count was recorded: what is there.
    expect(sweepProgress('sweep-abc-x1y2', 1, 1)).toBe('1 / 1 done');
    // Sweep keys that name a grid's settings: the size the runs recorded.
    expect(sweepProgress('sweep:9f2c', 1, 1, 2)).toBe('1 / 1 done · 1 of 2 deleted');
    expect(sweepProgress('sweep:9f2c', 3, 2, 3)).toBe('2 / 3 done');
    expect(sweepProgress('sweep:9f2c', 1, 1, null)).toBe('1 / 1 done');
  });
});

describe('the sweep form', () => {
  it('parses dropout lists and counts the grid', () => {
    expect(parseDropouts('0, 0.1 0.1')).toEqual({ values: [0, 0.1], problem: null });
    expect(parseDropouts('0, 1.5').problem).toMatch(/\[0, 0.95\].*1.5/);
    expect(parseDropouts(' ').problem).toMatch(/at least one/);
    expect(sweepSize(6, 2, 1)).toEqual({ runs: 12, problem: null });
    expect(sweepSize(0, 2, 1).problem).toMatch(/scheme/);
    expect(sweepSize(13, 3, 2).problem).toMatch(/at most 64/);
  });
});

describe('the tokenizer picker', () => {
  it("counts wte + head as 2·V·C against the blocks' 12·L·C², and warns when they dominate", () => {
    // nano (3 layers, 48 wide) with GPT-2 BPE: 2·50257·48 = 4,824,672 against 12·3·48² = 82,944.
    const bpe = tokenizerCost(50257, 3, 48);
    expect(bpe.embeddingParams).toBe(4_824_672);
    expect(bpe.blockParams).toBe(82_944);
    expect(bpe.share).toBeCloseTo(4_824_672 / 4_907_616, 9);
    expect(bpe.dominates).toBe(true);
    // shakespeare-char (4 layers, 128 wide) with 65 characters: 16,640 against 786,432, no warning.
    const chars = tokenizerCost(65, 4, 128);
    expect(chars.embeddingParams).toBe(16_640);
    expect(chars.dominates).toBe(false);
  });
});
