/**
 * Checkpoint bytes: a 4-byte little-endian header length, a JSON header, then every tensor's float32 values.
 * Holds the weights, the AdamW moments and the batch stream's state, so a resumed run continues exactly (dropout
 * masks need no state: they are keyed by step, see model/dropout.ts). Version 2 ends with a 4-byte little-endian
 * CRC-32 of every byte before it, so a damaged checkpoint is refused instead of resumed.
 */
import type { AdamWState } from './adamw';
import { crc32 } from './crc32';
import { createRng } from '../rng';

export interface TrainingState {
  step: number;
  tokens: number;
  wallMs: number;
  batchRngState: number;
  weights: Record<string, Float32Array>;
  optimizer: AdamWState;
}

interface Header {
  format: 'gpt-lab-checkpoint';
  version: 1 | 2;
  step: number;
  tokens: number;
  wallMs: number;
  batchRngState: number;
  adamStep: number;
  tensors: { group: 'weights' | 'm' | 'v'; name: string; length: number }[];
}

const CHECKSUM_BYTES = 4;

/**
 * Step 0 of a run that starts from given weights (a fine-tune's parent, an imported model): fresh AdamW moments and
 * the batch stream of `seed`, so training it is resuming it.
 */
export function startingState(weights: Record<string, Float32Array>, seed: number): TrainingState {
  const zeros = (): Record<string, Float32Array> => Object.fromEntries(Object.entries(weights).map(([name, w]) => [name, new Float32Array(w.length)]));
  return { step: 0, tokens: 0, wallMs: 0, batchRngState: createRng(seed).state(), weights, optimizer: { t: 0, m: zeros(), v: zeros() } };
}

export function encodeCheckpoint(state: TrainingState): Uint8Array {
  const groups = { weights: state.weights, m: state.optimizer.m, v: state.optimizer.v };
  const tensors: Header['tensors'] = [];
  for (const [group, values] of Object.entries(groups) as [Header['tensors'][number]['group'], Record<string, Float32Array>][])
    for (const [name, data] of Object.entries(values)) tensors.push({ group, name, length: data.length });
  const header: Header = {
    format: 'gpt-lab-checkpoint',
    version: 2,
    step: state.step,
    tokens: state.tokens,
    wallMs: state.wallMs,
    batchRngState: state.batchRngState,
    adamStep: state.optimizer.t,
    tensors,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header so the float data starts 4-byte aligned and can be viewed in place.
  const dataStart = Math.ceil((4 + headerBytes.length) / 4) * 4;
  const dataBytes = tensors.reduce((sum, t) => sum + t.length * 4, 0);
  const bytes = new Uint8Array(dataStart + dataBytes + CHECKSUM_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, headerBytes.length, true);
  bytes.set(headerBytes, 4);
  const floats = new Float32Array(bytes.buffer, dataStart, dataBytes / 4);
  let offset = 0;
  for (const t of tensors) {
    floats.set(groups[t.group][t.name], offset);
    offset += t.length;
  }
  view.setUint32(bytes.length - CHECKSUM_BYTES, crc32(bytes.subarray(0, bytes.length - CHECKSUM_BYTES)), true);
  return bytes;
}

export function decodeCheckpoint(input: Uint8Array): TrainingState {
  const bytes = new Uint8Array(input); // aligned private copy
  if (bytes.length < 4) throw new Error('checkpoint is truncated');
  const headerLength = new DataView(bytes.buffer).getUint32(0, true);
  if (4 + headerLength > bytes.length) throw new Error('checkpoint is truncated');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) as Header;
  } catch {
    throw new Error('checkpoint is damaged: its header is not valid JSON');
  }
  if (header.format !== 'gpt-lab-checkpoint' || (header.version !== 1 && header.version !== 2)) throw new Error('not a GPT Lab checkpoint (or an unknown version)');
  const dataStart = Math.ceil((4 + headerLength) / 4) * 4;
  const dataBytes = header.tensors.reduce((sum, t) => sum + t.length * 4, 0);
  const end = dataStart + dataBytes;
  if (bytes.length < end + (header.version === 2 ? CHECKSUM_BYTES : 0)) throw new Error('checkpoint is truncated');
  if (header.version === 2 && crc32(bytes.subarray(0, end)) !== new DataView(bytes.buffer).getUint32(end, true))
    throw new Error('checkpoint is damaged: its checksum does not match its contents');
  const floats = new Float32Array(bytes.buffer, dataStart, Math.floor((bytes.length - dataStart) / 4));
  const groups: Record<string, Record<string, Float32Array>> = { weights: {}, m: {}, v: {} };
  let offset = 0;
  for (const t of header.tensors) {
    if (offset + t.length > floats.length) throw new Error('checkpoint is truncated');
    groups[t.group][t.name] = floats.slice(offset, offset + t.length);
    offset += t.length;
  }
  return {
    step: header.step,
    tokens: header.tokens,
    wallMs: header.wallMs,
    batchRngState: header.batchRngState,
    weights: groups.weights,
    optimizer: { t: header.adamStep, m: groups.m, v: groups.v },
  };
}

/** Why a checkpoint cannot be trained on (a weight or optimizer moment that is NaN or infinite), or null. */
export function nonFiniteTensor(state: TrainingState): string | null {
  const groups = { weight: state.weights, 'AdamW moment m of': state.optimizer.m, 'AdamW moment v of': state.optimizer.v };
  for (const [group, tensors] of Object.entries(groups))
    for (const [name, values] of Object.entries(tensors)) {
      const at = values.findIndex((v) => !Number.isFinite(v));
      if (at >= 0) return `${group} ${name} holds ${values[at]} at index ${at}`;
    }
  return null;
}
