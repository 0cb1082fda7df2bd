import { readFile, writeFile } from 'node:fs/promises';
import { StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';

/*
 * A minimal ordered tensor file for checkpoints: 8-byte little-endian header length, a JSON header
 * [{name, dtype, shape, offset, bytes}], then the raw little-endian data. Order is kept because
 * tfjs optimizers match their accumulators to variables by position.
 */

export interface NamedTensorEntry {
  name: string;
  tensor: tf.Tensor;
}

interface HeaderEntry {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  offset: number;
  bytes: number;
}

export async function writeTensorFile(path: string, entries: readonly NamedTensorEntry[]): Promise<void> {
  const header: HeaderEntry[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const { name, tensor } of entries) {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
      throw new StepcoderError('CHECKPOINT', `cannot save tensor '${name}' of dtype ${tensor.dtype}`);
    }
    const data = await tensor.data();
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    header.push({ name, dtype: tensor.dtype, shape: tensor.shape, offset, bytes: buf.byteLength });
    chunks.push(buf);
    offset += buf.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.byteLength));
  await writeFile(path, Buffer.concat([len, json, ...chunks]));
}

export async function readTensorFile(path: string): Promise<NamedTensorEntry[]> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (cause) {
    throw new StepcoderError('CHECKPOINT', `cannot read tensor file ${path}`, { cause });
  }
  const headerLength = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as HeaderEntry[];
  const base = 8 + headerLength;
  return header.map((h) => {
    // Copy into an aligned buffer: typed arrays need offsets that are multiples of 4.
    const bytes = new Uint8Array(file.subarray(base + h.offset, base + h.offset + h.bytes));
    const values = h.dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    return { name: h.name, tensor: tf.tensor(values, h.shape, h.dtype) };
  });
}
