import { StepcoderError } from '@stepcoder/core';

/** Thrown by a row mapper: the row is malformed in `field`. The pipeline adds file and row. */
export class RowError extends Error {
  override readonly name = 'RowError';
  constructor(
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export function rowError(field: string | undefined, message: string): never {
  throw new RowError(field, message);
}

/** The fatal-mode error: code DATASET_ROW, naming file, row and field. */
export function datasetRowError(
  file: string,
  row: number | string,
  field: string | undefined,
  message: string,
) {
  const where = `${file}:${row}${field ? ` field '${field}'` : ''}`;
  return new StepcoderError('DATASET_ROW', `Malformed dataset row at ${where}: ${message}`, {
    details: { file, row, field, message },
  });
}

/* Typed accessors: each either returns the value or throws a RowError naming the field. */

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function asObject(value: unknown, field?: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    rowError(field, `expected an object, found ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

export function reqString(row: Record<string, unknown>, field: string): string {
  const v = row[field];
  if (v === undefined) rowError(field, 'missing required field');
  if (typeof v !== 'string') rowError(field, `expected a string, found ${describe(v)}`);
  return v;
}

export function optString(row: Record<string, unknown>, field: string): string | undefined {
  const v = row[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') rowError(field, `expected a string, found ${describe(v)}`);
  return v;
}

export function reqStringArray(row: Record<string, unknown>, field: string): string[] {
  const v = row[field];
  if (v === undefined) rowError(field, 'missing required field');
  return stringArray(v, field);
}

export function stringArray(v: unknown, field: string): string[] {
  if (!Array.isArray(v)) rowError(field, `expected an array of strings, found ${describe(v)}`);
  v.forEach((item, i) => {
    if (typeof item !== 'string') rowError(`${field}[${i}]`, `expected a string, found ${describe(item)}`);
  });
  return v as string[];
}

/** Optional difficulty: strings kept, numbers (APPS ratings) stringified. */
export function optDifficulty(row: Record<string, unknown>, field: string): string | undefined {
  const v = row[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  rowError(field, `expected a string, found ${describe(v)}`);
}
