/**
 * "Fine-tune longer" (Runs) and parent/child pairs (Extrapolation), as pure functions of the runs: what the dialog
 * offers and sends, and which lengths put a child and its parent on one axis.
 */
import { ROPE_SCALING_VALUES, type CallRequest, type RunInfo } from '../../shared/api';

type RopeScaling = (typeof ROPE_SCALING_VALUES)[number];
type Run = Pick<RunInfo, 'id' | 'status' | 'config' | 'damaged'>;

/** The contract's limit on a block (api.ts finetuneRun). */
export const MAX_BLOCK = 4096;
/** PI's protocol: a few hundred steps at the target length. */
export const DEFAULT_FINETUNE_STEPS = 200;

export interface FinetuneDraft {
  blockSize: number;
  steps: number;
  /** As typed; empty keeps the parent's learning rate. */
  lr: string;
  ropeScaling: RopeScaling;
}

/** A run whose weights have stopped moving and were saved: completed, or stopped or interrupted with a checkpoint. */
export function canFinetune(run: Run): boolean {
  return !run.damaged && ['completed', 'stopped', 'interrupted'].includes(run.status);
}

/** Context-extension methods the child may keep: rope runs that do not keep one already. */
export function scalingChoices(run: Run): readonly RopeScaling[] {
  return run.config.pos === 'rope' && !run.config.posExtension ? ROPE_SCALING_VALUES : [];
}

export function finetuneDraft(run: Run): FinetuneDraft {
  return { blockSize: Math.min(2 * run.config.blockSize, MAX_BLOCK), steps: DEFAULT_FINETUNE_STEPS, lr: '', ropeScaling: 'none' };
}

/** What is wrong with the draft, field by field; empty when it can be sent. */
export function finetuneProblems(run: Run, draft: FinetuneDraft): string[] {
  const problems: string[] = [];
  const block = run.config.blockSize;
  if (!Number.isInteger(draft.blockSize) || draft.blockSize <= block || draft.blockSize > MAX_BLOCK)
    problems.push(`block: a whole number above run #${run.id}'s block ${block}, at most ${MAX_BLOCK}`);
  if (!Number.isInteger(draft.steps) || draft.steps < 1) problems.push('steps: a whole number of at least 1');
  const lr = draft.lr.trim();
  if (lr !== '' && !(Number(lr) > 0 && Number(lr) <= 10)) problems.push('learning rate: empty (the parent\'s) or a number above 0, at most 10');
  return problems;
}

export function finetuneRequest(run: Run, draft: FinetuneDraft): CallRequest<'finetuneRun'> {
  const lr = draft.lr.trim();
  return {
    runId: run.id,
    blockSize: draft.blockSize,
    steps: draft.steps,
    ...(lr !== '' && { lr: Number(lr) }),
    ...(draft.ropeScaling !== 'none' && scalingChoices(run).includes(draft.ropeScaling) && { ropeScaling: draft.ropeScaling }),
  };
}

/** The parents of picked fine-tuned runs that are not picked themselves (and still exist), once each. */
export function unpickedParents<R extends Pick<RunInfo, 'id' | 'parentId'>>(picked: readonly R[], all: readonly R[]): R[] {
  const pickedIds = new Set(picked.map((r) => r.id));
  const wanted = new Set(picked.map((r) => r.parentId).filter((id): id is number => id !== null && !pickedIds.has(id)));
  return all.filter((r) => wanted.has(r.id));
}

/**
 * Lengths to evaluate a run at: a child whose parent is picked too gets the parent's 1/2/4/8 × block, so the pair
 * shares one axis; any other run, undefined (the lab's default, 1/2/4/8 × its own block).
 */
export function pairLengths(run: Pick<RunInfo, 'parentId'>, picked: readonly Pick<RunInfo, 'id' | 'config'>[]): number[] | undefined {
  const parent = picked.find((r) => r.id === run.parentId);
  return parent ? [1, 2, 4, 8].map((f) => f * parent.config.blockSize) : undefined;
}
