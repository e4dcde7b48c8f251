/**
 * Helper threads started before the run's backend: kept when they guessed it, dropped on a backend that needs none,
 * replaced on another one-thread backend.
 */
import { describe, expect, it } from 'vitest';
import type { BackendInfo, BackendName } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config';
import { PendingHelpers } from '../../../src/lab/parallel/pendingHelpers';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

const config = (threads: number, backend: 'auto' | 'wasm' | 'cpu' = 'auto') => resolveConfig({ nLayer: 1, nHead: 1, nEmbd: 8, blockSize: 4, batchSize: 4, threads, backend });
const model = { vocabSize: 8, nLayer: 1, nHead: 1, nEmbd: 8, blockSize: 4, pos: 'learned', posOptions: {}, norm: 'pre', normType: 'layer', causal: true, dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0 } as const;
const landedOn = (name: BackendName): BackendInfo => ({ name, gpu: false, threads: 1, notes: [] });

describe('helper threads started while the backend loads', () => {
  it('a one-thread run starts none', async () => {
    expect(await PendingHelpers.start(config(1), model).forBackend(landedOn('wasm'))).toBeUndefined();
  });

  it('an auto run that lands on wasm gets the early threads, which compute', async () => {
    const helpers = await PendingHelpers.start(config(3), model).forBackend(landedOn('wasm'));
    try {
      expect(helpers?.count).toBe(2);
      const shard = (firstRow: number) => ({ x: new Int32Array(4).fill(1), y: new Int32Array(4).fill(2), rows: 1, dropout: { seed: 1, step: 0, firstRow } });
      helpers!.begin([shard(2), shard(3)], 1e-3);
      const shards = await helpers!.exchange({ rows: 2, loss: 0 });
      expect(shards.map((s) => s.rows)).toEqual([2, 1, 1]);
      expect(shards[1]!.loss).toBeGreaterThan(0);
    } finally {
      await helpers?.dispose();
    }
  });

  it('a run that lands on a backend using every core itself trains without helpers', async () => {
    expect(await PendingHelpers.start(config(2), model).forBackend(landedOn('tfjs-node'))).toBeUndefined();
  });

  it('a run that lands on another one-thread backend gets fresh helpers on it', async () => {
    const helpers = await PendingHelpers.start(config(2, 'auto'), model).forBackend(landedOn('cpu'));
    try {
      expect(helpers?.count).toBe(1);
    } finally {
      await helpers?.dispose();
    }
  });
});
