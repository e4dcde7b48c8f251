/** safetensors by its spec: a hand-checked byte layout, a round trip, and every malformed file refused by name. */
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../../src/engine/interop/safetensors';

const ascii = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('encodeSafetensors', () => {
  it('writes the spec byte for byte: u64 LE header length, space-padded JSON, little-endian float32 data', () => {
    const bytes = encodeSafetensors([{ name: 'a', shape: [2], data: Float32Array.from([1, -2]) }, { name: 'b', shape: [1, 1], data: Float32Array.from([0.5]) }], { format: 'pt' });
    const json = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}';
    // 141 bytes of JSON, padded with 3 spaces to 144 = 18 × 8.
    expect(json.length).toBe(141);
    expect([...bytes.subarray(0, 8)]).toEqual([144, 0, 0, 0, 0, 0, 0, 0]);
    expect(ascii(bytes.subarray(8, 8 + 141))).toBe(json);
    expect(ascii(bytes.subarray(8 + 141, 8 + 144))).toBe('   ');
    // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0, 0.5f = 00 00 00 3f (little-endian IEEE 754).
    expect([...bytes.subarray(8 + 144)]).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f]);
    expect(bytes.length).toBe(8 + 144 + 12);
  });

  it('refuses a shape that does not hold the data, and a name used twice', () => {
    expect(() => encodeSafetensors([{ name: 'a', shape: [3], data: new Float32Array(2) }])).toThrow(/tensor a has 2 values but shape \[3\]/);
    const t = { name: 'a', shape: [1], data: new Float32Array(1) };
    expect(() => encodeSafetensors([t, t])).toThrow(/used twice/);
  });
});

describe('decodeSafetensors', () => {
  const good = encodeSafetensors([{ name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.25]) }], { format: 'pt' });

  it('round-trips names, shapes, values and metadata', () => {
    const { tensors, metadata } = decodeSafetensors(good);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('w')!.shape).toEqual([2, 3]);
    expect([...tensors.get('w')!.data]).toEqual([1, 2, 3, 4, 5, -6.25]);
  });

  function withHeader(header: unknown, dataBytes: number): Uint8Array {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const bytes = new Uint8Array(8 + json.length + dataBytes);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    return bytes;
  }

  it('names what is wrong with a broken file', () => {
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow(/starts with an 8-byte header length/);
    expect(() => decodeSafetensors(good.subarray(0, 40))).toThrow(/runs past the end of the file/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, 2))).toThrow(/tensor w is "F16"; only F32/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4))).toThrow(/do not hold shape \[2\]/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8))).toThrow(/starts at byte 4, expected 0/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8))).toThrow(/cover 4 of the 8 data bytes/);
    const notJson = withHeader({}, 0);
    notJson[8] = 0x7b + 1;
    expect(() => decodeSafetensors(notJson)).toThrow(/not valid UTF-8 JSON/);
  });
});
