import type { Rng } from '@stepcoder/core';
import { ALPHABET, between, type Family, pick, product, testCount, word } from '../family.js';
import {
  assign,
  aug,
  compare,
  concat,
  dropFirst,
  type Expr,
  forEach,
  ifElse,
  index,
  int,
  length,
  or,
  ref,
  repeat,
  replaceAll,
  ret,
  reversed,
  type Stmt,
  str,
  upper,
} from '../program.js';

const STRING_OPS = ['upper', 'reverse', 'replace', 'repeat', 'suffix', 'drop'] as const;
type StringOp = (typeof STRING_OPS)[number];
const SUFFIXES = ['xy', 'zz', 'ok', 'end'];

/** One step `s = op(s)` and its phrase; `upperSeen` keeps replacements meaningful after upper(). */
function stringStep(op: StringOp, rng: Rng, upperSeen: boolean): { stmt: Stmt; phrase: string } {
  const s = ref('s');
  switch (op) {
    case 'upper':
      return { stmt: assign('s', upper(s)), phrase: 'converts s to upper case' };
    case 'reverse':
      return { stmt: assign('s', reversed(s)), phrase: 'reverses s' };
    case 'replace': {
      let from = ALPHABET[rng.int(ALPHABET.length)]!;
      if (upperSeen) from = from.toUpperCase();
      const to = 'xyz'[rng.int(3)]!;
      return {
        stmt: assign('s', replaceAll(s, from, to)),
        phrase: `replaces every '${from}' in s with '${to}'`,
      };
    }
    case 'repeat': {
      const k = between(rng, 2, 3);
      return { stmt: assign('s', repeat(s, k)), phrase: `repeats s ${k} times` };
    }
    case 'suffix': {
      const tail = SUFFIXES[rng.int(SUFFIXES.length)]!;
      return { stmt: assign('s', concat(s, tail)), phrase: `appends '${tail}' to s` };
    }
    case 'drop':
      return { stmt: assign('s', dropFirst(s)), phrase: 'removes the first character of s' };
  }
}

function words(rng: Rng): string[][] {
  return Array.from({ length: testCount(rng) }, () => [word(rng, 3, 7)]);
}

/** Words where `focus` is frequent (40% of the characters), so matching and non-matching both occur. */
function wordsAbout(rng: Rng, focus: string): string[][] {
  return words(rng).map(([w]) => [
    w!
      .split('')
      .map((ch) => (rng.int(5) < 2 ? focus : ch))
      .join(''),
  ]);
}

/** Two string transforms in sequence: `s = op1(s); s = op2(s); return s`. */
export const stringChainFamily: Family = {
  name: 'string-chain',
  difficulty: 'easy',
  description: 'two string transforms in order (upper, reverse, replace, repeat, append, drop first)',
  combinations: () =>
    product({ op1: STRING_OPS, op2: STRING_OPS }).filter((c) => pick(c, 'op1') !== pick(c, 'op2')),
  build(combo, rng) {
    const op1 = pick(combo, 'op1') as StringOp;
    const op2 = pick(combo, 'op2') as StringOp;
    const first = stringStep(op1, rng, false);
    const second = stringStep(op2, rng, op1 === 'upper');
    return {
      fn: { name: 'f', params: ['s'], body: [first.stmt, second.stmt, ret(ref('s'))] },
      paramTypes: ['str'],
      result: 'str',
      task: `${first.phrase}, then ${second.phrase}, and returns s`,
      inputs: words(rng),
    };
  },
};

const CHAR_CONDS = ['eq', 'ne', 'either', 'lt'] as const;
type CharCond = (typeof CHAR_CONDS)[number];
const RESULTS = ['count', 'first', 'last'] as const;

function charCond(cond: CharCond, c: Expr, a: string, b: string): { expr: Expr; phrase: string } {
  switch (cond) {
    case 'eq':
      return { expr: compare(c, '==', str(a)), phrase: `equal to '${a}'` };
    case 'ne':
      return { expr: compare(c, '!=', str(a)), phrase: `not equal to '${a}'` };
    case 'either':
      return {
        expr: or(compare(c, '==', str(a)), compare(c, '==', str(b))),
        phrase: `equal to '${a}' or '${b}'`,
      };
    case 'lt':
      return { expr: compare(c, '<', str(a)), phrase: `less than '${a}'` };
  }
}

/** Count characters matching a condition, or find the first / last index of one. */
export const stringCountFamily: Family = {
  name: 'string-count',
  difficulty: 'easy',
  description: 'count the characters of s matching a condition, or the index of the first / last one',
  combinations: () => product({ cond: CHAR_CONDS, result: RESULTS }),
  build(combo, rng) {
    const cond = pick(combo, 'cond') as CharCond;
    const result = pick(combo, 'result') as (typeof RESULTS)[number];
    const [a, b] = rng.sample(cond === 'lt' ? ALPHABET.slice(1).split('') : ALPHABET.split(''), 2) as [
      string,
      string,
    ];
    const s = ref('s');
    let body: Stmt[];
    let task: string;
    if (result === 'count') {
      const { expr, phrase } = charCond(cond, ref('c'), a, b);
      body = [
        assign('t', int(0)),
        forEach('c', s, [ifElse([{ cond: expr, body: [aug('t', '+', int(1))] }])]),
        ret(ref('t')),
      ];
      task = `returns the number of characters of s ${phrase}`;
    } else {
      const { expr, phrase } = charCond(cond, index(s, ref('i')), a, b);
      const found: Stmt[] = result === 'first' ? [ret(ref('i'))] : [assign('t', ref('i'))];
      const loop: Stmt = {
        kind: 'forRange',
        index: 'i',
        from: 0,
        to: length(s),
        inclusive: false,
        body: [ifElse([{ cond: expr, body: found }])],
      };
      body = result === 'first' ? [loop, ret(int(-1))] : [assign('t', int(-1)), loop, ret(ref('t'))];
      task = `returns the index of the ${result} character of s ${phrase}, or -1 if there is none`;
    }
    return {
      fn: { name: 'f', params: ['s'], body },
      paramTypes: ['str'],
      result: 'int',
      task,
      inputs: wordsAbout(rng, a),
    };
  },
};
