import { StepcoderError } from '@stepcoder/core';
import type { RawRow } from '../pipeline.js';
import { readJsonArray } from './json-array.js';
import { readLines } from './open.js';

/** `.jsonl`, `.ndjson` (optionally `.gz`) are JSON Lines; anything else is one JSON array. */
export function isJsonLinesPath(path: string): boolean {
  return /\.(jsonl|ndjson)(\.gz)?$/i.test(path);
}

function jsonError(err: unknown): string {
  return `invalid JSON: ${err instanceof Error ? err.message : String(err)}`;
}

/** Rows of a JSON Lines file: one JSON value per non-blank line, row = line number. */
export async function* jsonLinesRows(path: string): AsyncGenerator<RawRow> {
  for await (const { row, text, error } of readLines(path)) {
    if (error !== undefined) {
      yield { file: path, row, error: { message: error } };
      continue;
    }
    if (text.trim() === '') continue;
    try {
      yield { file: path, row, value: JSON.parse(text) };
    } catch (err) {
      yield { file: path, row, error: { message: jsonError(err) } };
    }
  }
}

/** Rows of a JSON array file, streamed element by element; row = 1-based array index. */
export async function* jsonArrayRows(path: string): AsyncGenerator<RawRow> {
  for await (const el of readJsonArray(path)) {
    if (el.error !== undefined || el.text === undefined) {
      yield { file: path, row: el.row, error: { message: el.error ?? 'unreadable element' } };
      continue;
    }
    try {
      yield { file: path, row: el.row, value: JSON.parse(el.text) };
    } catch (err) {
      yield { file: path, row: el.row, error: { message: jsonError(err) } };
    }
  }
}

/**
 * JSON Lines or JSON array, chosen by extension; a non-`.jsonl` file whose first character is `{`
 * (JSON Lines saved as `.json`) is read as JSON Lines.
 */
export async function* jsonRows(path: string): AsyncGenerator<RawRow> {
  if (isJsonLinesPath(path)) {
    yield* jsonLinesRows(path);
    return;
  }
  try {
    yield* jsonArrayRows(path);
  } catch (err) {
    // Thrown before the first row, so nothing was yielded yet.
    if (StepcoderError.is(err, 'DATASET_IO') && err.details.found === '{') {
      yield* jsonLinesRows(path);
      return;
    }
    throw err;
  }
}
