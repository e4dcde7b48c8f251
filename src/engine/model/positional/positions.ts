/**
 * Helpers for schemes that read positions (PositionalScheme.readsPositions): the same table or bias code serves
 * 0…T−1 and a randomized-positions grid (B, T), so "positions [0, 2, 5]" gives exactly rows 0, 2 and 5 of the plain
 * table.
 */
import * as tf from '@tensorflow/tfjs';

/** 0, 1, …, T−1. */
export function consecutive(T: number): Int32Array {
  return Int32Array.from({ length: T }, (_, t) => t);
}

/** An input table from a per-position row function: (T, C) for 0…T−1, (B, T, C) for a (B, T) grid. */
export function inputTableAt(
  T: number,
  C: number,
  positions: Int32Array | undefined,
  rows: (positions: ArrayLike<number>) => Float32Array,
): tf.Tensor2D | tf.Tensor3D {
  if (!positions) return tf.tensor2d(rows(consecutive(T)), [T, C]);
  return tf.tensor3d(rows(positions), [positions.length / T, T, C]);
}

/**
 * Per head, a term of the query's and key's positions, f(h, p_i, p_j): (nh, T, T) for 0…T−1, (B, nh, T, T) for a
 * (B, T) grid; row i = query, column j = key.
 */
export function pairTermAt(
  T: number,
  nHead: number,
  positions: Int32Array | undefined,
  term: (head: number, query: number, key: number) => number,
): tf.Tensor3D | tf.Tensor4D {
  const grid = positions ?? consecutive(T);
  const rows = grid.length / T;
  const values = new Float32Array(rows * nHead * T * T);
  for (let b = 0; b < rows; b++)
    for (let h = 0; h < nHead; h++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) values[((b * nHead + h) * T + i) * T + j] = term(h, grid[b * T + i]!, grid[b * T + j]!);
  return positions ? tf.tensor4d(values, [rows, nHead, T, T]) : tf.tensor3d(values, [nHead, T, T]);
}
