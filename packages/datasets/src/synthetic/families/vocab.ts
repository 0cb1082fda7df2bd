import type { Rng } from '@stepcoder/core';
import { between } from '../family.js';
import { and, arith, assign, aug, compare, type Expr, int, or, paren, ref, type Stmt } from '../program.js';

/**
 * Shared vocabulary of the list families: item filters, item maps and aggregates, each with its
 * code and its fixed English phrase. The `%` filters only test for zero, which is the same in
 * Python and JavaScript for negative numbers too (`-3 % 2` is 1 in one and -1 in the other).
 */

export const FILTERS = ['gt', 'lt', 'even', 'odd', 'div'] as const;
export type FilterKind = (typeof FILTERS)[number];

export const MAP_OPS = ['+', '-', '*'] as const;
export type MapOp = (typeof MAP_OPS)[number];

/** The filter's constant; `> c` / `< c` thresholds fall inside items of [0, hi]. */
export function filterConst(kind: FilterKind, rng: Rng, hi = 20): number {
  if (kind === 'gt' || kind === 'lt') return between(rng, 2, Math.max(3, Math.round(hi * 0.75)));
  if (kind === 'div') return between(rng, 3, 5);
  return 2;
}

export function filterCond(kind: FilterKind, v: Expr, c: number): Expr {
  switch (kind) {
    case 'gt':
      return compare(v, '>', int(c));
    case 'lt':
      return compare(v, '<', int(c));
    case 'even':
      return compare(arith(v, '%', int(2)), '==', int(0));
    case 'odd':
      return compare(arith(v, '%', int(2)), '!=', int(0));
    case 'div':
      return compare(arith(v, '%', int(c)), '==', int(0));
  }
}

/** "greater than 7", "that are even" (plural) / "that is even" (singular), "divisible by 3". */
export function filterPhrase(kind: FilterKind, c: number, plural = true): string {
  const be = plural ? 'are' : 'is';
  switch (kind) {
    case 'gt':
      return `greater than ${c}`;
    case 'lt':
      return `less than ${c}`;
    case 'even':
      return `that ${be} even`;
    case 'odd':
      return `that ${be} odd`;
    case 'div':
      return `divisible by ${c}`;
  }
}

export function mapConst(op: MapOp, rng: Rng): number {
  return op === '*' ? between(rng, 2, 4) : between(rng, 1, 9);
}

export function mapExpr(op: MapOp, v: Expr, c: number): Expr {
  return arith(v, op, int(c));
}

/** "adds 3 to <target>", "subtracts 3 from <target>", "multiplies <target> by 3". */
export function mapPhrase(op: MapOp, c: number, target: string): string {
  if (op === '+') return `adds ${c} to ${target}`;
  if (op === '-') return `subtracts ${c} from ${target}`;
  return `multiplies ${target} by ${c}`;
}

export const AGGREGATES = ['sum', 'count', 'product', 'max', 'min'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** Start value of the accumulator `t`; max and min report -1 when nothing qualifies (items are ≥ 0). */
export function aggInit(agg: Aggregate): Stmt {
  return assign('t', int(agg === 'product' ? 1 : agg === 'max' || agg === 'min' ? -1 : 0));
}

/**
 * The guarded update of `t` by item `v`: `if cond: t += v` (cond may be undefined: no filter).
 * max/min fold their comparison into the guard so the loop body stays one `if`.
 */
export function aggUpdate(agg: Aggregate, v: Expr, cond: Expr | undefined): Stmt[] {
  const t = ref('t');
  let guard = cond;
  let update: Stmt;
  switch (agg) {
    case 'sum':
      update = aug('t', '+', v);
      break;
    case 'count':
      update = aug('t', '+', int(1));
      break;
    case 'product':
      update = aug('t', '*', v);
      break;
    case 'max': {
      const better = compare(v, '>', t);
      guard = guard ? and(guard, better) : better;
      update = assign('t', v);
      break;
    }
    case 'min': {
      const better = or(compare(t, '==', int(-1)), compare(v, '<', t));
      guard = guard ? and(guard, paren(better)) : better;
      update = assign('t', v);
      break;
    }
  }
  return guard ? [{ kind: 'if', arms: [{ cond: guard, body: [update] }] }] : [update];
}

export function aggPhrase(agg: Aggregate, items: string): string {
  switch (agg) {
    case 'sum':
      return `the sum of ${items}`;
    case 'count':
      return `the number of ${items.replace(/^the /, '')}`;
    case 'product':
      return `the product of ${items}`;
    case 'max':
      return `the largest of ${items}, or -1 if there is none`;
    case 'min':
      return `the smallest of ${items}, or -1 if there is none`;
  }
}
