/**
 * Randomized positional encodings (Ruoss et al. 2023, "Randomized Positional Encodings Boost Length Generalization
 * of Transformers", §3): a sequence of length T reads the sorted positions of a random T-subset of [0, L), L ≫ the
 * training block, instead of 0…T−1, so a model trained at T has seen every position up to L and longer test
 * sequences are no longer out of range. As in the paper's code (google-deepmind/randomized_positional_encodings,
 * `noisy_fixed_positional_encodings`, called on every forward pass, evaluation included: `range_evaluation` applies
 * the model with a fresh rng key), evaluation draws positions too; here from one fixed key, so it is reproducible.
 *
 * Draws are keyed like dropout masks, by (run seed, step, global row): row r gets the same positions whichever
 * thread computes it, and on every backend (drawn in JavaScript, mulberry32).
 */
import { createRng } from '../rng';
import { mixSeed, type DropoutKey } from './dropout';
import { SCHEMES } from './positional/registry';

/** Where the positions' stream sits among the draws of a (seed, step, row): far from the dropout sites 0…3·layers+3. */
const POSITIONS_SITE = 0x504f53; // 'POS'

/** The key every evaluation pass draws from (training passes key by their run's seed and step). */
export const EVALUATION_POSITIONS_KEY: DropoutKey = { seed: 0, step: 0xffffffff, firstRow: 0 };

/**
 * `rows` × T sorted, distinct positions in [0, range), row-major (B, T). Knuth's selection sampling (TAOCP 3.4.2,
 * Algorithm S): walk 0…range−1 and keep each with probability needed / left, which gives a uniform T-subset already
 * in order, in O(range) per row.
 */
export function drawPositions(rows: number, T: number, range: number, key: DropoutKey): Int32Array {
  if (!Number.isInteger(T) || T < 0 || T > range) throw new RangeError(`cannot draw ${T} distinct positions from [0, ${range})`);
  const positions = new Int32Array(rows * T);
  for (let b = 0; b < rows; b++) {
    const rng = createRng(mixSeed(key.seed, key.step, key.firstRow + b, POSITIONS_SITE));
    let filled = b * T;
    for (let p = 0, needed = T; needed > 0; p++) {
      if (rng.next() * (range - p) < needed) {
        positions[filled++] = p;
        needed--;
      }
    }
  }
  return positions;
}

/** The schemes whose hooks honour drawn positions (PositionalScheme.readsPositions). */
export function schemesReadingPositions(): string[] {
  return SCHEMES.filter((s) => s.readsPositions).map((s) => s.name);
}

/** Why a scheme cannot train with randomized positions, in one sentence. */
export function randomPositionsRefusal(pos: string): string {
  const why = pos === 'none' ? 'none has no positions to randomize' : `${pos} computes its terms from positions 0…T−1 only`;
  return `random positions need a scheme that reads positions (${schemesReadingPositions().join(', ')}); ${why}`;
}
