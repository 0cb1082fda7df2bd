import type { Rng } from '@stepcoder/core';
import type { FunctionIR, Value } from './program.js';

/** How a parameter is read on stdin (stdio problems): one line each. */
export type ParamType = 'int' | 'ints' | 'str';
/** How the result is printed (stdio problems): lists are printed space-separated. */
export type ResultType = 'int' | 'str' | 'ints' | 'strs';

/** One drawn instance of a family, before it is turned into a Problem of a language and test form. */
export interface Draft {
  fn: FunctionIR;
  paramTypes: ParamType[];
  result: ResultType;
  /** What `f` does: completes "Write a function f(xs) that …" (no final period). */
  task: string;
  /** Argument lists of the tests (4–6). */
  inputs: Value[][];
  /** Family-specific facts copied into `Problem.meta` (e.g. which branches the tests reach). */
  meta?: Record<string, unknown>;
}

/**
 * A problem family. Its combination space is finite and listed up front, so the held-out split can
 * be drawn over combinations (not instances) and checked for component coverage.
 */
export interface Family {
  name: string;
  difficulty: 'easy' | 'medium' | 'hard';
  /** One line for the README and `families` listings. */
  description: string;
  /**
   * Every combination, each as its component labels (`'filter=gt'`, `'agg=sum'`). The labels in
   * order form the combination key; each label on its own is a component.
   */
  combinations(): string[][];
  build(combination: string[], rng: Rng): Draft;
}

/** Label value of `name=value` in a combination. */
export function pick(combination: string[], name: string): string {
  const prefix = `${name}=`;
  const label = combination.find((c) => c.startsWith(prefix));
  if (!label) throw new Error(`synthetic combination ${combination.join(',')} has no '${name}'`);
  return label.slice(prefix.length);
}

/** Cartesian product of labelled dimensions: `{ op: ['+', '-'] }` → `[['op=+'], ['op=-']]`. */
export function product(dims: Record<string, readonly (string | number)[]>): string[][] {
  let out: string[][] = [[]];
  for (const [name, values] of Object.entries(dims)) {
    out = out.flatMap((prefix) => values.map((v) => [...prefix, `${name}=${v}`]));
  }
  return out;
}

/** Integer in [lo, hi]. */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

/** Number of tests of a problem: 4–6. */
export function testCount(rng: Rng): number {
  return between(rng, 4, 6);
}

/** A list of `between(minLen, maxLen)` integers in [lo, hi]. */
export function intList(rng: Rng, minLen: number, maxLen: number, lo: number, hi: number): number[] {
  return Array.from({ length: between(rng, minLen, maxLen) }, () => between(rng, lo, hi));
}

export const ALPHABET = 'abcde';

/** A lowercase word over `ALPHABET`. */
export function word(rng: Rng, minLen: number, maxLen: number): string {
  return Array.from({ length: between(rng, minLen, maxLen) }, () => ALPHABET[rng.int(ALPHABET.length)]!).join(
    '',
  );
}
