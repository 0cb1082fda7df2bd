import { ValidationError, type ValidationIssue } from '@stepcoder/core';

/**
 * JSON between Node and the harness. JSON has no NaN or ±Infinity, yet a call-based test may pass
 * or expect them: both sides encode a non-finite float as `{"$$float": "nan" | "inf" | "-inf"}`.
 */
export const FLOAT_KEY = '$$float';

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Check that a test value survives the trip to Python unchanged. `JSON.stringify` silently turns
 * `undefined`, functions, Maps and Sets into `null` or `{}`, which would run a different test than
 * the one written; such values are rejected with the path of the offending value.
 */
export function checkWireValue(
  value: unknown,
  path: string,
  issues: ValidationIssue[],
  seen = new Set<object>(),
): void {
  if (issues.length >= 20) return;
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
    return;
  if (typeof value !== 'object') {
    issues.push({ path, message: `a ${typeof value} cannot be passed to Python (only JSON values can)` });
    return;
  }
  if (seen.has(value)) {
    issues.push({ path, message: 'circular reference' });
    return;
  }
  if (Array.isArray(value)) {
    seen.add(value);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) issues.push({ path: `${path}[${i}]`, message: 'sparse array hole' });
      else checkWireValue(value[i], `${path}[${i}]`, issues, seen);
    }
    seen.delete(value);
    return;
  }
  if (!isPlainObject(value)) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    issues.push({ path, message: `a ${name} cannot be passed to Python (only plain JSON objects can)` });
    return;
  }
  seen.add(value);
  for (const [key, item] of Object.entries(value)) checkWireValue(item, `${path}.${key}`, issues, seen);
  seen.delete(value);
}

export function assertWireValues(values: unknown[][], where: string): void {
  const issues: ValidationIssue[] = [];
  values.forEach((args, i) => {
    checkWireValue(args, `tests.inputs[${i}]`, issues);
  });
  if (issues.length > 0) throw new ValidationError(where, issues, 'INVALID_PROBLEM');
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return { [FLOAT_KEY]: Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf' };
  }
  return value;
}

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, replacer);
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === FLOAT_KEY) {
      const v = (value as Record<string, unknown>)[FLOAT_KEY];
      if (v === 'nan') return Number.NaN;
      if (v === 'inf') return Number.POSITIVE_INFINITY;
      if (v === '-inf') return Number.NEGATIVE_INFINITY;
    }
  }
  return value;
}

/** Parse one line written by the harness; `undefined` when it is not JSON. */
export function decodeWire(text: string): unknown {
  try {
    return JSON.parse(text, reviver);
  } catch {
    return undefined;
  }
}
