import type { Rng } from '@stepcoder/core';
import { between, type Family, intList, pick, product, testCount } from '../family.js';
import {
  append,
  arith,
  assign,
  aug,
  compare,
  type Expr,
  emptyList,
  forEach,
  ifElse,
  int,
  ref,
  ret,
  type Stmt,
  str,
} from '../program.js';

/** Ascending thresholds t1 < t2 < … (gaps of 2–6) splitting the integers into `n` intervals. */
function thresholds(rng: Rng, n: number, first: [number, number]): number[] {
  const out = [between(rng, first[0], first[1])];
  while (out.length < n - 1) out.push(out[out.length - 1]! + between(rng, 2, 6));
  return out;
}

/** An integer inside interval `k` of the thresholds (below the first, between two, above the last). */
function inInterval(rng: Rng, ts: number[], k: number, floor: number): number {
  const lo = k === 0 ? Math.max(floor, ts[0]! - 6) : ts[k - 1]!;
  const hi = k === ts.length ? ts[ts.length - 1]! + 8 : ts[k]! - 1;
  return between(rng, lo, hi);
}

/** A non-empty proper subset of the `n` branches, sorted: the branches the tests reach. */
function someBranches(rng: Rng, n: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  return rng.sample(all, between(rng, 1, n - 1)).sort((a, b) => a - b);
}

/** `x if x is less than t1, … otherwise` phrasing shared by the threshold-shaped families. */
function chain(parts: string[], conds: string[]): string {
  const arms = conds.map((c, i) => `${parts[i]} if ${c}`);
  return `${arms.join(', ')}, and ${parts[parts.length - 1]} otherwise`;
}

const LABELS: Record<number, string[]> = {
  2: ['low', 'high'],
  3: ['low', 'mid', 'high'],
  4: ['tiny', 'low', 'mid', 'high'],
};

/** Classify x by 1–3 thresholds into labels or constants; the tests reach every branch. */
export const thresholdFamily: Family = {
  name: 'threshold',
  difficulty: 'easy',
  description: 'if/elif/else chain on x by thresholds (ascending < or descending >), labels or numbers',
  combinations: () => product({ dir: ['asc', 'desc'], n: [2, 3, 4], out: ['words', 'numbers'] }),
  build(combo, rng) {
    const n = Number(pick(combo, 'n'));
    const asc = pick(combo, 'dir') === 'asc';
    const ts = thresholds(rng, n, [0, 8]);
    const values: Expr[] =
      pick(combo, 'out') === 'words'
        ? LABELS[n]!.map((l) => str(l))
        : rng.sample(
            Array.from({ length: 21 }, (_, i) => int(i)),
            n,
          );
    // Descending: test the highest threshold first with `>`, so the labels read high → low.
    const order = asc ? ts : [...ts].reverse();
    const vals = asc ? values : [...values].reverse();
    const x = ref('x');
    const conds = order.map((t) => (asc ? compare(x, '<', int(t)) : compare(x, '>', int(t - 1))));
    const words = order.map((t) => (asc ? `x < ${t}` : `x > ${t - 1}`));
    const inputs = Array.from({ length: Math.max(n, testCount(rng)) }, (_, i) => [
      inInterval(rng, ts, i < n ? i : rng.int(n), -20),
    ]);
    return {
      fn: {
        name: 'f',
        params: ['x'],
        body: [
          ifElse(
            conds.map((cond, i) => ({ cond, body: [ret(vals[i]!)] })),
            [ret(vals[n - 1]!)],
          ),
        ],
      },
      paramTypes: ['int'],
      result: pick(combo, 'out') === 'words' ? 'str' : 'int',
      task: `returns ${chain(
        vals.map((v) => v.py),
        words,
      )}`,
      inputs: rng.shuffle(inputs),
    };
  },
};

/** Clamp a number, every item of a list, or sum the clamped items. */
export const clampFamily: Family = {
  name: 'clamp',
  difficulty: 'easy',
  description: 'clamp x (or each item of xs, or their sum) to a lower and/or upper bound',
  combinations: () => product({ target: ['scalar', 'list', 'sum'], bounds: ['both', 'low', 'high'] }),
  build(combo, rng) {
    const target = pick(combo, 'target');
    const bounds = pick(combo, 'bounds');
    const lo = between(rng, 0, 6);
    const hi = lo + between(rng, 3, 10);
    const x = ref('x');
    const arms: Array<{ cond: Expr; value: Expr }> = [];
    const conds: string[] = [];
    if (bounds !== 'high') {
      arms.push({ cond: compare(x, '<', int(lo)), value: int(lo) });
      conds.push(`x < ${lo}`);
    }
    if (bounds !== 'low') {
      arms.push({ cond: compare(x, '>', int(hi)), value: int(hi) });
      conds.push(`x > ${hi}`);
    }
    const rule = chain([...arms.map((a) => a.value.py), 'x'], conds);
    const branch = (act: (v: Expr) => Stmt): Stmt =>
      ifElse(
        arms.map((a) => ({ cond: a.cond, body: [act(a.value)] })),
        [act(x)],
      );
    if (target === 'scalar') {
      return {
        fn: { name: 'f', params: ['x'], body: [branch(ret)] },
        paramTypes: ['int'],
        result: 'int',
        task: `returns ${rule}`,
        inputs: Array.from({ length: testCount(rng) }, () => [between(rng, lo - 5, hi + 5)]),
      };
    }
    const lists = Array.from({ length: testCount(rng) }, () => [intList(rng, 1, 7, 0, hi + 5)]);
    if (target === 'list') {
      return {
        fn: {
          name: 'f',
          params: ['xs'],
          body: [
            assign('ys', emptyList()),
            forEach('x', ref('xs'), [branch((v) => append('ys', v))]),
            ret(ref('ys')),
          ],
        },
        paramTypes: ['ints'],
        result: 'ints',
        task: `returns a list holding, for each x in xs, ${rule}`,
        inputs: lists,
      };
    }
    return {
      fn: {
        name: 'f',
        params: ['xs'],
        body: [
          assign('t', int(0)),
          forEach('x', ref('xs'), [branch((v) => aug('t', '+', v))]),
          ret(ref('t')),
        ],
      },
      paramTypes: ['ints'],
      result: 'int',
      task: `returns the sum, over each x in xs, of ${rule}`,
      inputs: lists,
    };
  },
};

const BRANCH_OPS = ['add', 'sub', 'mul', 'const'] as const;
type BranchOp = (typeof BRANCH_OPS)[number];

/** Every tuple of `ops` of each length in `lengths`. */
function tuples(ops: readonly string[], lengths: number[]): string[][] {
  const out: string[][] = [];
  const grow = (prefix: string[], n: number) => {
    if (prefix.length === n) {
      out.push(prefix.map((op, i) => `b${i + 1}=${op}`));
      return;
    }
    for (const op of ops) grow([...prefix, op], n);
  };
  for (const n of lengths) grow([], n);
  return out;
}

function branchValue(op: BranchOp, x: Expr, c: number): Expr {
  if (op === 'const') return int(c);
  return arith(x, op === 'add' ? '+' : op === 'sub' ? '-' : '*', int(c));
}

/**
 * 3–5 branches computing different things; the tests reach only some of them, so coverage leaves
 * the other branches' lines unexecuted (what FGO masks).
 */
export const branchyFamily: Family = {
  name: 'branchy',
  difficulty: 'medium',
  description:
    '3-5 branch if/elif/else on x, a different expression per branch; tests reach only some branches',
  combinations: () => tuples(BRANCH_OPS, [3, 4, 5]),
  build(combo, rng) {
    const ops = combo.map((c) => c.slice(c.indexOf('=') + 1) as BranchOp);
    const n = ops.length;
    const ts = thresholds(rng, n, [1, 6]);
    const x = ref('x');
    const values = ops.map((op) =>
      branchValue(op, x, op === 'mul' ? between(rng, 2, 5) : between(rng, 1, 9)),
    );
    const tested = someBranches(rng, n);
    return {
      fn: {
        name: 'f',
        params: ['x'],
        body: [
          ifElse(
            ts.map((t, i) => ({ cond: compare(x, '<', int(t)), body: [ret(values[i]!)] })),
            [ret(values[n - 1]!)],
          ),
        ],
      },
      paramTypes: ['int'],
      result: 'int',
      task: `returns ${chain(
        values.map((v) => v.py),
        ts.map((t) => `x < ${t}`),
      )}`,
      inputs: Array.from({ length: testCount(rng) }, (_, i) => [
        inInterval(rng, ts, tested[i % tested.length]!, -10),
      ]),
      meta: { branches: n, testedBranches: tested },
    };
  },
};

const LOOP_OPS = ['addx', 'subx', 'addc', 'subc'] as const;

/** Per item of xs, one of 3–4 updates of t chosen by thresholds; the tests reach only some. */
export const branchyLoopFamily: Family = {
  name: 'branchy-loop',
  difficulty: 'medium',
  description: 'loop over xs with a 3-4 branch if/elif/else updating t; tests reach only some branches',
  combinations: () => tuples(LOOP_OPS, [3, 4]),
  build(combo, rng) {
    const ops = combo.map((c) => c.slice(c.indexOf('=') + 1) as (typeof LOOP_OPS)[number]);
    const n = ops.length;
    const ts = thresholds(rng, n, [2, 6]);
    const x = ref('x');
    const updates = ops.map((op): { stmt: Stmt; phrase: string } => {
      const c = between(rng, 1, 9);
      switch (op) {
        case 'addx':
          return { stmt: aug('t', '+', x), phrase: 'adds x to t' };
        case 'subx':
          return { stmt: aug('t', '-', x), phrase: 'subtracts x from t' };
        case 'addc':
          return { stmt: aug('t', '+', int(c)), phrase: `adds ${c} to t` };
        default:
          return { stmt: aug('t', '-', int(c)), phrase: `subtracts ${c} from t` };
      }
    });
    const tested = someBranches(rng, n);
    const inputs = Array.from({ length: testCount(rng) }, () => [
      Array.from({ length: between(rng, 1, 6) }, () =>
        inInterval(rng, ts, tested[rng.int(tested.length)]!, 0),
      ),
    ]);
    return {
      fn: {
        name: 'f',
        params: ['xs'],
        body: [
          assign('t', int(0)),
          forEach('x', ref('xs'), [
            ifElse(
              ts.map((t, i) => ({ cond: compare(x, '<', int(t)), body: [updates[i]!.stmt] })),
              [updates[n - 1]!.stmt],
            ),
          ]),
          ret(ref('t')),
        ],
      },
      paramTypes: ['ints'],
      result: 'int',
      task: `sets t = 0, then for each x in xs ${chain(
        updates.map((u) => u.phrase),
        ts.map((t) => `x < ${t}`),
      )}, and returns t`,
      inputs,
      meta: { branches: n, testedBranches: tested },
    };
  },
};
