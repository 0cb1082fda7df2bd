import { readFile, writeFile } from 'node:fs/promises';
import { StepcoderError } from '@stepcoder/core';

/** One tensor read from or written to a safetensors file; data is always float32 in memory. */
export interface SafeTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafeTensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4 };

/**
 * safetensors: u64 little-endian header length, a JSON header (name → dtype, shape, byte offsets
 * into the data section; optional `__metadata__` of strings), then raw little-endian data.
 * Written as F32, the header padded with spaces to 8 bytes as the reference implementation does.
 */
export function encodeSafeTensors(
  tensors: Map<string, SafeTensor>,
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = [...tensors.keys()];
  for (const name of names) {
    const t = tensors.get(name)!;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new StepcoderError(
        'CHECKPOINT',
        `tensor '${name}' has shape [${t.shape}] (${size} values) but ${t.data.length} values`,
        { details: { tensor: name } },
      );
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    const view = new DataView(out.buffer, out.byteOffset + at, t.data.length * 4);
    for (let i = 0; i < t.data.length; i++) view.setFloat32(i * 4, t.data[i]!, true);
    at += t.data.length * 4;
  }
  return out;
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export function decodeSafeTensors(buf: Buffer, where = 'safetensors'): SafeTensorsFile {
  const fail = (message: string, details: Record<string, unknown> = {}) =>
    new StepcoderError('CHECKPOINT', `${where}: ${message}`, { details: { file: where, ...details } });
  if (buf.length < 8) throw fail('file is shorter than the 8-byte header length');
  const headerLength = Number(buf.readBigUInt64LE(0));
  if (headerLength > buf.length - 8) throw fail(`header length ${headerLength} exceeds the file size`);
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (err) {
    throw fail(`header is not JSON: ${(err as Error).message}`);
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const entry = raw as HeaderEntry;
    const width = BYTES[entry.dtype];
    if (!width) throw fail(`tensor '${name}' has unsupported dtype ${entry.dtype}`, { tensor: name });
    const [begin, end] = entry.data_offsets;
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== size * width || dataStart + end > buf.length) {
      throw fail(
        `tensor '${name}' has data_offsets [${begin}, ${end}] inconsistent with shape [${entry.shape}]`,
        {
          tensor: name,
        },
      );
    }
    const view = new DataView(buf.buffer, buf.byteOffset + dataStart + begin, end - begin);
    const data = new Float32Array(size);
    switch (entry.dtype) {
      case 'F32':
        for (let i = 0; i < size; i++) data[i] = view.getFloat32(i * 4, true);
        break;
      case 'F64':
        for (let i = 0; i < size; i++) data[i] = view.getFloat64(i * 8, true);
        break;
      case 'F16':
        for (let i = 0; i < size; i++) data[i] = f16ToF32(view.getUint16(i * 2, true));
        break;
      case 'BF16': {
        const tmp = new DataView(new ArrayBuffer(4));
        for (let i = 0; i < size; i++) {
          tmp.setUint32(0, view.getUint16(i * 2, true) << 16);
          data[i] = tmp.getFloat32(0);
        }
        break;
      }
      case 'I32':
        for (let i = 0; i < size; i++) data[i] = view.getInt32(i * 4, true);
        break;
      case 'I64':
        for (let i = 0; i < size; i++) data[i] = Number(view.getBigInt64(i * 8, true));
        break;
    }
    tensors.set(name, { shape: entry.shape, data });
  }
  return { tensors, metadata };
}

export async function readSafeTensors(path: string): Promise<SafeTensorsFile> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw new StepcoderError('CHECKPOINT', `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
      details: { file: path },
    });
  }
  return decodeSafeTensors(buf, path);
}

export async function writeSafeTensors(
  path: string,
  tensors: Map<string, SafeTensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFile(path, encodeSafeTensors(tensors, metadata));
}
