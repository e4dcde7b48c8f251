import type { Rng } from '../rng';
import { DataError } from './errors';

export interface Batch {
  /** Inputs, row-major [batchSize, blockSize]. */
  x: Int32Array;
  /** Targets: each row of x shifted left by one token. */
  y: Int32Array;
}

/** Random training windows, as nanoGPT's get_batch: any offset whose target window fits in the data. */
export class BatchSampler {
  private readonly data: Int32Array;
  private readonly blockSize: number;
  private readonly batchSize: number;
  private readonly rng: Rng;

  constructor(data: Int32Array, blockSize: number, batchSize: number, rng: Rng) {
    if (!Number.isInteger(blockSize) || blockSize < 1) {
      throw new DataError('bad-option', `block size must be a positive integer, got ${blockSize}`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DataError('bad-option', `batch size must be a positive integer, got ${batchSize}`);
    }
    if (data.length < blockSize + 1) {
      throw new DataError(
        'too-short',
        `${data.length} tokens cannot fill one window of block size ${blockSize} (needs ${blockSize + 1})`,
      );
    }
    this.data = data;
    this.blockSize = blockSize;
    this.batchSize = batchSize;
    this.rng = rng;
  }

  next(): Batch {
    const { data, blockSize, batchSize, rng } = this;
    const x = new Int32Array(batchSize * blockSize);
    const y = new Int32Array(batchSize * blockSize);
    const offsets = data.length - blockSize;
    for (let row = 0; row < batchSize; row++) {
      const start = rng.int(offsets);
      x.set(data.subarray(start, start + blockSize), row * blockSize);
      y.set(data.subarray(start + 1, start + blockSize + 1), row * blockSize);
    }
    return { x, y };
  }
}

/**
 * Non-overlapping windows of `length + 1` tokens from the start of the data (inputs plus the
 * final target), so evaluation sees the same text every time.
 */
export function sequentialWindows(data: Int32Array, length: number, maxWindows: number): Int32Array[] {
  if (!Number.isInteger(length) || length < 1) {
    throw new DataError('bad-option', `window length must be a positive integer, got ${length}`);
  }
  const fit = Math.floor(data.length / (length + 1));
  if (fit === 0) {
    throw new DataError(
      'too-short',
      `${data.length} tokens cannot fill one evaluation window of length ${length} (needs ${length + 1})`,
    );
  }
  const count = Math.min(fit, maxWindows);
  return Array.from({ length: count }, (_, i) => data.subarray(i * (length + 1), (i + 1) * (length + 1)));
}
