/** The "Fine-tune longer" dialog's rules and the Extrapolation view's parent/child pairing, as pure functions. */
import { describe, expect, it } from 'vitest';
import type { RunInfo } from '../../src/shared/api';
import { canFinetune, finetuneDraft, finetuneProblems, finetuneRequest, pairLengths, scalingChoices, unpickedParents } from '../../src/renderer/composables/finetune';

const run = (id: number, config: Partial<RunInfo['config']> = {}, extra: Partial<RunInfo> = {}): RunInfo =>
  ({ id, name: `run ${id}`, status: 'completed', damaged: null, parentId: null, config: { pos: 'rope', blockSize: 32, lr: 1e-3, ...config }, ...extra }) as unknown as RunInfo;

describe('Fine-tune longer', () => {
  it('is offered on runs whose weights stopped moving, and not on damaged, live or failed ones', () => {
    expect(['completed', 'stopped', 'interrupted'].map((status) => canFinetune(run(1, {}, { status } as Partial<RunInfo>)))).toEqual([true, true, true]);
    expect(['queued', 'running', 'paused', 'failed', 'diverged'].map((status) => canFinetune(run(1, {}, { status } as Partial<RunInfo>)))).toEqual([false, false, false, false, false]);
    expect(canFinetune(run(1, {}, { damaged: 'config_json is not valid JSON' }))).toBe(false);
  });

  it('starts at twice the block and 200 steps, and offers rope scalings only on rope runs that keep none', () => {
    expect(finetuneDraft(run(1))).toEqual({ blockSize: 64, steps: 200, lr: '', ropeScaling: 'none' });
    expect(finetuneDraft(run(1, { blockSize: 4096 })).blockSize).toBe(4096);
    expect(scalingChoices(run(1))).toEqual(['none', 'pi', 'ntk', 'yarn']);
    expect(scalingChoices(run(1, { pos: 'alibi' }))).toEqual([]);
    expect(scalingChoices(run(1, { posExtension: { method: 'pi', scale: 2 } }))).toEqual([]);
  });

  it('names each bad field: a block not above the run\'s, a fractional step count, a learning rate that is not positive', () => {
    const parent = run(3);
    expect(finetuneProblems(parent, finetuneDraft(parent))).toEqual([]);
    expect(finetuneProblems(parent, { blockSize: 32, steps: 2.5, lr: '-1', ropeScaling: 'none' })).toEqual([
      "block: a whole number above run #3's block 32, at most 4096",
      'steps: a whole number of at least 1',
      "learning rate: empty (the parent's) or a number above 0, at most 10",
    ]);
    expect(finetuneProblems(parent, { blockSize: 8192, steps: 1, lr: 'abc', ropeScaling: 'none' })).toHaveLength(2);
  });

  it('sends only what was chosen: no lr when empty, no scaling when plain or not offered', () => {
    expect(finetuneRequest(run(3), { blockSize: 64, steps: 100, lr: '', ropeScaling: 'none' })).toEqual({ runId: 3, blockSize: 64, steps: 100 });
    expect(finetuneRequest(run(3), { blockSize: 128, steps: 100, lr: ' 3e-4 ', ropeScaling: 'yarn' })).toEqual({ runId: 3, blockSize: 128, steps: 100, lr: 3e-4, ropeScaling: 'yarn' });
    expect(finetuneRequest(run(3, { pos: 'alibi' }), { blockSize: 64, steps: 100, lr: '', ropeScaling: 'pi' })).toEqual({ runId: 3, blockSize: 64, steps: 100 });
  });
});

describe('parent and child in Extrapolation', () => {
  const parent = run(1, { blockSize: 16 });
  const child = run(2, { blockSize: 32 }, { parentId: 1 });
  const grandchild = run(3, { blockSize: 64 }, { parentId: 2 });
  const all = [parent, child, grandchild, run(4)];

  it('offers the parent of a picked child once, unless it is picked or gone', () => {
    expect(unpickedParents([child], all).map((r) => r.id)).toEqual([1]);
    expect(unpickedParents([child, run(5, {}, { parentId: 1 })], all).map((r) => r.id)).toEqual([1]);
    expect(unpickedParents([parent, child], all)).toEqual([]);
    expect(unpickedParents([run(6, {}, { parentId: 99 })], all)).toEqual([]);
    expect(unpickedParents([grandchild], all).map((r) => r.id)).toEqual([2]);
  });

  it("evaluates a child next to its picked parent at the parent's 1/2/4/8 × block; anything else at the default", () => {
    expect(pairLengths(child, [parent, child])).toEqual([16, 32, 64, 128]);
    expect(pairLengths(child, [child])).toBeUndefined();
    expect(pairLengths(parent, [parent, child])).toBeUndefined();
  });
});
