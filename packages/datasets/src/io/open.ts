import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { StepcoderError } from '@stepcoder/core';

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
}

/** Lines of a (possibly gzipped) text file, streamed; a trailing `\r` is removed. */
export async function* readLines(path: string): AsyncGenerator<Line> {
  const input = await openBytes(path);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let row = 0;
  try {
    for await (const text of lines) {
      row++;
      yield { row, text };
    }
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
    lines.close();
    input.destroy();
  }
}
