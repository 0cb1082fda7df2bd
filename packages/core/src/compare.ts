/**
 * Output comparison shared by every executor, so that a verdict means the same thing in Python
 * and JavaScript. The comparison always runs in the trusted parent process, never inside the
 * candidate's sandbox: a candidate that patches `print`, `==` or `JSON` cannot change it.
 *
 * stdin/stdout rules (APPS-compatible, see `compareStdout`):
 *  1. `\r\n` and `\r` become `\n`.
 *  2. Line comparison: trailing whitespace of each line and leading/trailing blank lines are
 *     ignored. Equal → pass.
 *  3. Token comparison: both texts split on any whitespace. Equal token lists → pass.
 *  4. Numeric comparison: same number of tokens, and every pair is either the same string or two
 *     finite numbers with |a − b| ≤ atol + rtol·|b| (numpy.allclose defaults: rtol 1e-5, atol 1e-8).
 * APPS's order-insensitive set comparisons are deliberately not applied: they accept outputs
 * printed in the wrong order, which would reward wrong programs.
 */
export interface Tolerance {
  rtol: number;
  atol: number;
}

export const DEFAULT_TOLERANCE: Readonly<Tolerance> = { rtol: 1e-5, atol: 1e-8 };

export type StdoutMatch = 'exact-lines' | 'tokens' | 'numeric' | false;

function normalizeLines(text: string): string[] {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.trimEnd());
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start] === '') start++;
  while (end > start && lines[end - 1] === '') end--;
  return lines.slice(start, end);
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$/i;

function closeEnough(a: number, b: number, tol: Tolerance): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b);
}

/** Compare program stdout with the expected output; returns which rule matched, or false. */
export function compareStdout(
  actual: string,
  expected: string,
  tol: Tolerance = DEFAULT_TOLERANCE,
): StdoutMatch {
  const a = normalizeLines(actual);
  const e = normalizeLines(expected);
  if (a.length === e.length && a.every((line, i) => line === e[i])) return 'exact-lines';
  const at = actual.split(/\s+/).filter(Boolean);
  const et = expected.split(/\s+/).filter(Boolean);
  if (at.length !== et.length) return false;
  let numeric = false;
  for (let i = 0; i < at.length; i++) {
    const x = at[i]!;
    const y = et[i]!;
    if (x === y) continue;
    if (!NUMBER_RE.test(x) || !NUMBER_RE.test(y)) return false;
    if (!closeEnough(Number(x), Number(y), tol)) return false;
    numeric = true;
  }
  return numeric ? 'numeric' : 'tokens';
}

/**
 * Whose `==` a call-based comparison follows.
 * - `strict` (JavaScript problems): `false` is not `0`, `'1'` is not `1`.
 * - `python` (Python problems, APPS's own rule, which compares with Python's `==`): a bool is the
 *   int 0 or 1 (`True == 1`, `False == 0.0`), ints and floats compare by value (`1 == 1.0`), and a
 *   tuple is a list (the harness sends tuples as JSON arrays, as APPS turns `tuple` outputs into
 *   lists before comparing, and the dataset stores expected tuples as lists).
 * In both, a float compares within tolerance and NaN equals NaN: a program returning NaN where
 * NaN is expected is right (Python's `nan == nan` is False; that is the one deliberate departure).
 */
export type EqualitySemantics = 'strict' | 'python';

/** The number a value stands for under `semantics`, or undefined when it is not numeric there. */
function numericValue(v: unknown, semantics: EqualitySemantics): number | undefined {
  if (typeof v === 'number') return v;
  if (semantics === 'python' && typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/**
 * Deep equality of JSON-like values with float tolerance. Integers compare exactly; a float
 * compares within tolerance; NaN equals NaN (a program that returns NaN where NaN is expected is
 * right). Object key order does not matter. `semantics` picks whose `==` decides between a bool
 * and a number (see EqualitySemantics).
 */
export function deepEqualValues(
  actual: unknown,
  expected: unknown,
  tol: Tolerance = DEFAULT_TOLERANCE,
  semantics: EqualitySemantics = 'strict',
): boolean {
  const a = numericValue(actual, semantics);
  const e = numericValue(expected, semantics);
  // Two bools are compared as bools below (in Python too, True == True needs no arithmetic).
  if (a !== undefined && e !== undefined && (typeof actual === 'number' || typeof expected === 'number')) {
    if (Number.isNaN(a) && Number.isNaN(e)) return true;
    if (Number.isInteger(a) && Number.isInteger(e)) return a === e;
    return closeEnough(a, e, tol);
  }
  if (actual === expected) return true;
  if (actual === null || expected === null || typeof actual !== 'object' || typeof expected !== 'object') {
    return false;
  }
  if (Array.isArray(actual) !== Array.isArray(expected)) return false;
  if (Array.isArray(actual)) {
    const ex = expected as unknown[];
    return actual.length === ex.length && actual.every((v, i) => deepEqualValues(v, ex[i], tol, semantics));
  }
  const ak = Object.keys(actual as object);
  const ek = Object.keys(expected as object);
  if (ak.length !== ek.length) return false;
  const ao = actual as Record<string, unknown>;
  const eo = expected as Record<string, unknown>;
  return ek.every((k) => Object.hasOwn(ao, k) && deepEqualValues(ao[k], eo[k], tol, semantics));
}

/**
 * Call-based verdict following APPS: the return value equals the expected value, or the expected
 * value is a one-element list wrapping it (APPS stores many call outputs as `[value]`).
 */
export function matchesCallOutput(
  actual: unknown,
  expected: unknown,
  tol: Tolerance = DEFAULT_TOLERANCE,
  semantics: EqualitySemantics = 'strict',
): boolean {
  if (deepEqualValues(actual, expected, tol, semantics)) return true;
  return (
    Array.isArray(expected) && expected.length === 1 && deepEqualValues(actual, expected[0], tol, semantics)
  );
}
