import { between, type Family, pick, product, testCount } from '../family.js';
import {
  and,
  append,
  arith,
  assign,
  compare,
  type Expr,
  emptyList,
  ifElse,
  int,
  ref,
  ret,
  type Stmt,
  str,
  toStr,
  whileLoop,
} from '../program.js';
import { type Aggregate, aggInit, aggUpdate } from './vocab.js';

const TERMS = ['i', 'mul', 'add'] as const;
const RANGE_FILTERS = ['all', 'even', 'odd', 'div'] as const;

/** Sum or product of a term over i = 1..n, optionally only for even / odd / divisible i. */
export const rangeAccFamily: Family = {
  name: 'range-acc',
  difficulty: 'medium',
  description: 'sum or product of i, i * c or i + c for i from 1 to n, optionally filtered',
  combinations: () => product({ acc: ['sum', 'product'], term: TERMS, filter: RANGE_FILTERS }),
  build(combo, rng) {
    const acc = pick(combo, 'acc') as 'sum' | 'product';
    const term = pick(combo, 'term') as (typeof TERMS)[number];
    const filter = pick(combo, 'filter') as (typeof RANGE_FILTERS)[number];
    const i = ref('i');
    const c = term === 'mul' ? between(rng, 2, 5) : between(rng, 1, 9);
    const value = term === 'i' ? i : arith(i, term === 'mul' ? '*' : '+', int(c));
    const d = between(rng, 3, 5);
    const cond =
      filter === 'all'
        ? undefined
        : compare(arith(i, '%', int(filter === 'div' ? d : 2)), filter === 'odd' ? '!=' : '==', int(0));
    const which = { all: '', even: ' that is even', odd: ' that is odd', div: ` divisible by ${d}` }[filter];
    const update = aggUpdate(acc, value, cond);
    const maxN = acc === 'product' ? 7 : 15;
    return {
      fn: {
        name: 'f',
        params: ['n'],
        body: [
          aggInit(acc),
          { kind: 'forRange', index: 'i', from: 1, to: ref('n'), inclusive: true, body: update },
          ret(ref('t')),
        ],
      },
      paramTypes: ['int'],
      result: 'int',
      task: `returns the ${acc} of ${value.py} for every i from 1 to n${which}`,
      inputs: Array.from({ length: testCount(rng) }, () => [between(rng, 0, maxN)]),
    };
  },
};

/** Word pairs in two groups: the group is part of the key, the pair within it is drawn. */
const WORDS: Record<string, ReadonlyArray<readonly [string, string]>> = {
  classic: [
    ['Fizz', 'Buzz'],
    ['Foo', 'Bar'],
    ['Ping', 'Pong'],
  ],
  other: [
    ['Tic', 'Tac'],
    ['Hip', 'Hop'],
    ['Yin', 'Yang'],
  ],
};
/** Divisor buckets: a in 2-3 or 4-5, b in 5-6 or 7-9 (b > a always). */
const A_DIVISORS = { low: [2, 3], high: [4, 5] } as const;
const B_DIVISORS = { low: [5, 6], high: [7, 9] } as const;

/** FizzBuzz with divisors and words from the statement, returned as a list of strings. */
export const fizzbuzzFamily: Family = {
  name: 'fizzbuzz',
  difficulty: 'medium',
  description: 'fizzbuzz-like list for 1..n with divisors a, b and a word pair (Fizz/Buzz, Foo/Bar, …)',
  combinations: () =>
    product({ a: Object.keys(A_DIVISORS), b: Object.keys(B_DIVISORS), words: Object.keys(WORDS) }),
  build(combo, rng) {
    const [aLo, aHi] = A_DIVISORS[pick(combo, 'a') as keyof typeof A_DIVISORS];
    const [bLo, bHi] = B_DIVISORS[pick(combo, 'b') as keyof typeof B_DIVISORS];
    const a = between(rng, aLo, aHi);
    const b = between(rng, bLo, bHi);
    const [wa, wb] = rng.choice(WORDS[pick(combo, 'words')]!);
    const i = ref('i');
    const divides = (k: number): Expr => compare(arith(i, '%', int(k)), '==', int(0));
    const body: Stmt[] = [
      ifElse(
        [
          { cond: and(divides(a), divides(b)), body: [append('out', str(wa + wb))] },
          { cond: divides(a), body: [append('out', str(wa))] },
          { cond: divides(b), body: [append('out', str(wb))] },
        ],
        [append('out', toStr(i))],
      ),
    ];
    return {
      fn: {
        name: 'f',
        params: ['n'],
        body: [
          assign('out', emptyList()),
          { kind: 'forRange', index: 'i', from: 1, to: ref('n'), inclusive: true, body },
          ret(ref('out')),
        ],
      },
      paramTypes: ['int'],
      result: 'strs',
      task: `returns a list with, for each i from 1 to n, '${wa}${wb}' if i is divisible by ${a} and ${b}, '${wa}' if by ${a}, '${wb}' if by ${b}, and str(i) otherwise`,
      inputs: Array.from({ length: testCount(rng) }, () => [between(rng, 1, 18)]),
    };
  },
};

const DIGIT_AGGS = ['sum', 'count', 'product', 'max'] as const;
const DIGIT_FILTERS = ['all', 'even', 'gt'] as const;

/** A while loop over the decimal digits of n: `d = n % 10 … n = n // 10`. */
export const digitsFamily: Family = {
  name: 'digits',
  difficulty: 'medium',
  description:
    'sum / count / product / max of the digits of n (optionally even or greater than c), a while loop',
  combinations: () => product({ agg: DIGIT_AGGS, filter: DIGIT_FILTERS }),
  build(combo, rng) {
    const agg = pick(combo, 'agg') as Aggregate;
    const filter = pick(combo, 'filter') as (typeof DIGIT_FILTERS)[number];
    const c = between(rng, 2, 6);
    const d = ref('d');
    const n = ref('n');
    const cond =
      filter === 'all'
        ? undefined
        : filter === 'even'
          ? compare(arith(d, '%', int(2)), '==', int(0))
          : compare(d, '>', int(c));
    const which = { all: '', even: ' that are even', gt: ` greater than ${c}` }[filter];
    // max starts at 0 here, not -1: digits are never negative and 0 reads naturally for "none".
    const init = agg === 'max' ? assign('t', int(0)) : aggInit(agg);
    const none =
      agg === 'max'
        ? ', or 0 if there is none'
        : agg === 'product' && filter !== 'all'
          ? ', or 1 if there is none'
          : '';
    const phrase = {
      sum: 'the sum of',
      count: 'the number of',
      product: 'the product of',
      max: 'the largest of',
      min: 'the smallest of',
    }[agg];
    return {
      fn: {
        name: 'f',
        params: ['n'],
        body: [
          init,
          whileLoop(compare(n, '>', int(0)), [
            assign('d', arith(n, '%', int(10))),
            ...aggUpdate(agg, d, cond),
            assign('n', arith(n, '//', int(10))),
          ]),
          ret(ref('t')),
        ],
      },
      paramTypes: ['int'],
      result: 'int',
      task: `returns ${phrase} the digits of n${which}${none}`,
      inputs: Array.from({ length: testCount(rng) }, () => [between(rng, 1, 10 ** between(rng, 1, 5) - 1)]),
    };
  },
};
