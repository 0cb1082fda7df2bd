import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { StepcoderError } from '@stepcoder/core';
import { invalidUtf8Message } from './utf8.js';

/** True when the file name says it is gzip-compressed (`.gz`). */
export function isGzipPath(path: string): boolean {
  return path.toLowerCase().endsWith('.gz');
}

/**
 * A byte stream of a file, decompressed when its name ends in `.gz`. Missing files fail with a
 * DATASET_IO error naming the path before any row is read.
 */
export async function openBytes(path: string, highWaterMark = 1 << 20): Promise<Readable> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
  } catch (err) {
    throw new StepcoderError('DATASET_IO', `Cannot read dataset file ${path}: ${(err as Error).message}`, {
      cause: err,
      details: { file: path },
    });
  }
  const raw = createReadStream(path, { highWaterMark });
  if (!isGzipPath(path)) return raw;
  const gunzip = createGunzip({ chunkSize: 1 << 16 });
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

export interface Line {
  /** 1-based line number. */
  row: number;
  text: string;
  /** Set when the line's bytes are not UTF-8 (`text` is then empty): a row issue, not a read error. */
  error?: string;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Lines of a (possibly gzipped) text file, streamed; a trailing `\r` is removed. Lines are split
 * on bytes and each is checked to be UTF-8 before decoding, because decoding (as readline does)
 * would silently replace invalid bytes with U+FFFD and the row would load changed.
 */
export async function* readLines(path: string): AsyncGenerator<Line> {
  const input = await openBytes(path);
  let row = 0;
  let parts: Buffer[] = [];
  const line = (last: Buffer): Line => {
    row++;
    let bytes = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    parts = [];
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    if (!isUtf8(bytes)) return { row, text: '', error: invalidUtf8Message(bytes) };
    return { row, text: bytes.toString('utf8') };
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        yield line(chunk.subarray(start, nl));
        start = nl + 1;
      }
      if (start < chunk.length) parts.push(chunk.subarray(start));
    }
    if (parts.length > 0) yield line(Buffer.alloc(0));
  } catch (err) {
    throw new StepcoderError(
      'DATASET_IO',
      `Failed reading ${path} after line ${row}: ${(err as Error).message}`,
      {
        cause: err,
        details: { file: path, row },
      },
    );
  } finally {
    input.destroy();
  }
}
