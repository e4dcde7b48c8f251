/** Checkpoint bytes: everything a resumed run needs comes back bit for bit; damaged bytes give a clear error. */
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, nonFiniteTensor, startingState, type TrainingState } from '../../../src/engine/train/checkpoint';
import { createRng } from '../../../src/engine/rng';

function state(): TrainingState {
  return {
    step: 1234,
    tokens: 987_654,
    wallMs: 4321.5,
    batchRngState: 0xdeadbeef,
    weights: {
      wte: Float32Array.from([0.1, -0.2, 3.5e-8, 1e30, -0]),
      'h.0.attn.w_qkv': Float32Array.from([1, 2, 3]),
      'lm_head.w': Float32Array.from([Number.NaN, Infinity, -Infinity]),
    },
    optimizer: {
      t: 77,
      m: { wte: Float32Array.from([5, 6, 7, 8, 9]), 'h.0.attn.w_qkv': Float32Array.from([0.5, 0.25, 0.125]) },
      v: { wte: Float32Array.from([1e-9, 2e-9, 3e-9, 4e-9, 5e-9]), 'h.0.attn.w_qkv': Float32Array.from([9, 8, 7]) },
    },
  };
}

function expectSameArrays(actual: Record<string, Float32Array>, expected: Record<string, Float32Array>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, values] of Object.entries(expected)) {
    expect(actual[name]).toBeInstanceOf(Float32Array);
    // Compare bit patterns, so NaN, ±Infinity and −0 must survive too.
    expect(Array.from(new Uint32Array(actual[name].buffer, actual[name].byteOffset, actual[name].length))).toEqual(
      Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length)),
    );
  }
}

describe('checkpoint encode/decode', () => {
  it('round-trips metadata and every tensor exactly', () => {
    const original = state();
    const decoded = decodeCheckpoint(encodeCheckpoint(original));
    expect(decoded.step).toBe(1234);
    expect(decoded.tokens).toBe(987_654);
    expect(decoded.wallMs).toBe(4321.5);
    expect(decoded.batchRngState).toBe(0xdeadbeef);
    expect(decoded.optimizer.t).toBe(77);
    expectSameArrays(decoded.weights, original.weights);
    expectSameArrays(decoded.optimizer.m, original.optimizer.m);
    expectSameArrays(decoded.optimizer.v, original.optimizer.v);
  });

  it('decodes from an unaligned view (e.g. a Buffer slice from SQLite)', () => {
    const bytes = encodeCheckpoint(state());
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const decoded = decodeCheckpoint(shifted.subarray(3));
    expectSameArrays(decoded.weights, state().weights);
    expect(decodeCheckpoint(Buffer.from(bytes)).step).toBe(1234);
  });

  it('decoded arrays do not alias the input bytes', () => {
    const bytes = encodeCheckpoint(state());
    const decoded = decodeCheckpoint(bytes);
    bytes.fill(0, bytes.length - 16);
    expect(decoded.weights['lm_head.w'][1]).toBe(Infinity);
  });

  it('rejects bytes that are not a checkpoint', () => {
    const header = new TextEncoder().encode(JSON.stringify({ format: 'something-else', version: 1, tensors: [] }));
    const bytes = new Uint8Array(4 + header.length);
    new DataView(bytes.buffer).setUint32(0, header.length, true);
    bytes.set(header, 4);
    expect(() => decodeCheckpoint(bytes)).toThrow(/not a GPT Lab checkpoint/);
  });

  describe('truncated bytes give a clear "truncated" error', () => {
    const bytes = encodeCheckpoint(state());
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    const dataStart = Math.ceil((4 + headerLength) / 4) * 4;
    const cases: [string, number][] = [
      ['empty', 0],
      ['2 bytes', 2],
      ['inside the header', 4 + Math.floor(headerLength / 2)],
      ['at the end of the header', 4 + headerLength],
      ['at the start of the data', dataStart],
      ['4 bytes short', bytes.length - 4],
      ['1 byte short', bytes.length - 1],
      ['3 bytes short', bytes.length - 3],
      ['inside the first tensor, unaligned', dataStart + 6],
    ];
    for (const [label, length] of cases) {
      it(label, () => {
        expect(() => decodeCheckpoint(bytes.slice(0, length))).toThrow(/checkpoint is truncated/);
      });
    }
  });
});

describe('checkpoint integrity (version 2)', () => {
  it('ends with the CRC-32 of everything before it and refuses a flipped bit anywhere (header, data, checksum)', () => {
    const bytes = encodeCheckpoint(state());
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    // "step":1234 → "step":1235 keeps the header valid JSON: only the checksum can tell.
    const stepDigit = new TextDecoder().decode(bytes).indexOf('"step":1234') + '"step":123'.length;
    for (const at of [stepDigit, headerLength + 40, bytes.length - 20, bytes.length - 1]) {
      const damaged = bytes.slice();
      damaged[at] ^= 0x01;
      expect(() => decodeCheckpoint(damaged), `bit flipped at byte ${at}`).toThrow('checkpoint is damaged: its checksum does not match its contents');
    }
  });

  it('still reads version-1 checkpoints (no checksum), as older databases hold them', () => {
    const bytes = encodeCheckpoint(state());
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
    header.version = 1;
    const v1Header = new TextEncoder().encode(JSON.stringify(header));
    const dataStart = Math.ceil((4 + v1Header.length) / 4) * 4;
    const oldData = bytes.subarray(Math.ceil((4 + headerLength) / 4) * 4, bytes.length - 4);
    const v1 = new Uint8Array(dataStart + oldData.length);
    new DataView(v1.buffer).setUint32(0, v1Header.length, true);
    v1.set(v1Header, 4);
    v1.set(oldData, dataStart);
    expect(decodeCheckpoint(v1).weights.wte).toEqual(state().weights.wte);
  });

  it('says which tensor holds a NaN or an infinity', () => {
    expect(nonFiniteTensor(state())).toBe('weight lm_head.w holds NaN at index 0');
    const finite = state();
    finite.weights['lm_head.w'] = Float32Array.from([1, 2, 3]);
    expect(nonFiniteTensor(finite)).toBeNull();
    finite.optimizer.v.wte[3] = Infinity;
    expect(nonFiniteTensor(finite)).toBe('AdamW moment v of wte holds Infinity at index 3');
  });
});

describe('startingState', () => {
  it('is step 0 of the given weights: zero moments of the same sizes, the seed\'s batch stream, nothing counted', () => {
    const weights = { 'wte.weight': new Float32Array([0.5, -1, 2]), 'ln_f.bias': new Float32Array([3]) };
    const state = startingState(weights, 7);
    expect(state).toMatchObject({ step: 0, tokens: 0, wallMs: 0, batchRngState: createRng(7).state() });
    expect(state.batchRngState).not.toBe(createRng(8).state());
    expect(state.weights).toBe(weights);
    expect(state.optimizer.t).toBe(0);
    for (const moments of [state.optimizer.m, state.optimizer.v]) {
      expect(Object.keys(moments)).toEqual(['wte.weight', 'ln_f.bias']);
      expect([...moments['wte.weight']]).toEqual([0, 0, 0]);
      expect([...moments['ln_f.bias']]).toEqual([0]);
    }
    expect(decodeCheckpoint(encodeCheckpoint(state)).weights['wte.weight']).toEqual(weights['wte.weight']);
  });
});
