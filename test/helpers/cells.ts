/** A tiny sweep cell as the coordinator would queue it, for the worker and coordinator tests. */
import type { RunConfig } from '../../src/engine/config';
import { prepareRun, type PreparedRun } from '../../src/lab/prepare';
import { sweepKeyOf } from '../../src/lab/sweeps';
import { cellJobOf } from '../../src/lab/queuedSweep';
import type { CellJob } from '../../src/worker/protocol';

export const TINY_CELL: Partial<RunConfig> = {
  data: 'builtin:copy',
  nLayer: 1,
  nHead: 2,
  nEmbd: 16,
  blockSize: 8,
  batchSize: 4,
  steps: 30,
  lr: 1e-2,
  minLr: 1e-3,
  evalEvery: 10,
  evalBatches: 2,
  checkpointEvery: 10,
  sampleEvery: 15,
  sampleLength: 10,
};

export function tinyCell(overrides: Partial<RunConfig> = {}): { prepared: PreparedRun; sweepKey: string } {
  const prepared = prepareRun({ config: { ...TINY_CELL, ...overrides } });
  return { prepared, sweepKey: sweepKeyOf(prepared.config) };
}

/** The job the coordinator queues for this cell (run 1). */
export function jobOf(prepared: PreparedRun): CellJob {
  return cellJobOf(1, { prepared, sweepKey: sweepKeyOf(prepared.config) });
}
