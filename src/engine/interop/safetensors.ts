/**
 * The safetensors format (huggingface/safetensors, docs "Format"), written and read by its spec:
 *
 *   8 bytes   N, the header's length, unsigned little-endian 64-bit
 *   N bytes   a JSON object: { "__metadata__": {string: string}?, NAME: { dtype, shape, data_offsets: [begin, end] } }
 *             (offsets relative to the byte after the header; the reference writer pads the header with spaces to a
 *             multiple of 8 so the data is aligned)
 *   rest      the tensors' bytes, little-endian, row-major, back to back in offset order
 *
 * Only float32 ("F32") is written or read: GPT Lab trains in float32, and a wrong dtype must fail loudly rather than be
 * reinterpreted.
 */

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const ALIGN = 8;
/** The reference implementation refuses headers above 100 MB; so do we, before parsing untrusted JSON. */
const MAX_HEADER_BYTES = 100_000_000;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function encodeSafetensors(tensors: readonly NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of tensors) {
    if (t.data.length !== sizeOf(t.shape)) throw new SafetensorsError(`tensor ${t.name} has ${t.data.length} values but shape [${t.shape.join(', ')}]`);
    if (t.name in header) throw new SafetensorsError(`tensor name ${t.name} is used twice`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / ALIGN) * ALIGN;
  const bytes = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerLength); // space padding, as the reference writer does
  let at = 8 + headerLength;
  for (const t of tensors) for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i], true);
  return bytes;
}

export interface DecodedSafetensors {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (bytes.length < 8) throw new SafetensorsError(`the file has ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8)))
    throw new SafetensorsError(`the header length ${headerLength} runs past the end of the file (${bytes.length} bytes) or the 100 MB limit`);
  const dataStart = 8 + Number(headerLength);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart))) as Record<string, unknown>;
  } catch {
    throw new SafetensorsError('the header is not valid UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('the header is not a JSON object');
  const { __metadata__: metadata = {}, ...entries } = header as Record<string, unknown> & { __metadata__?: Record<string, string> };
  const dataLength = bytes.length - dataStart;
  const spans: [number, number, string][] = [];
  const tensors = new Map<string, NamedTensor>();
  for (const [name, raw] of Object.entries(entries)) {
    const entry = raw as HeaderEntry;
    if (entry?.dtype !== 'F32') throw new SafetensorsError(`tensor ${name} is ${JSON.stringify(entry?.dtype)}; only F32 (float32) is supported`);
    const [begin, end] = entry.data_offsets ?? [];
    const shapeOk = Array.isArray(entry.shape) && entry.shape.every((d) => Number.isInteger(d) && d >= 0);
    if (!shapeOk || !Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > dataLength || end - begin !== 4 * sizeOf(entry.shape))
      throw new SafetensorsError(`tensor ${name}: offsets ${JSON.stringify(entry.data_offsets)} do not hold shape ${JSON.stringify(entry.shape)} as F32 inside the ${dataLength} data bytes`);
    spans.push([begin, end, name]);
    const data = new Float32Array(sizeOf(entry.shape));
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    tensors.set(name, { name, shape: entry.shape, data });
  }
  // The spec requires the buffers to tile the data exactly: no gaps, no overlaps, nothing after the last one.
  spans.sort((a, b) => a[0] - b[0]);
  let expected = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== expected) throw new SafetensorsError(`tensor ${name} starts at byte ${begin}, expected ${expected}: buffers overlap or leave a gap`);
    expected = end;
  }
  if (expected !== dataLength) throw new SafetensorsError(`the tensors cover ${expected} of the ${dataLength} data bytes`);
  return { tensors, metadata };
}
