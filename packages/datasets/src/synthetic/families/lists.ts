import type { Rng } from '@stepcoder/core';
import { type Family, intList, pick, product, testCount } from '../family.js';
import { append, assign, emptyList, forEach, ifElse, ref, ret } from '../program.js';
import {
  AGGREGATES,
  type Aggregate,
  aggInit,
  aggPhrase,
  aggUpdate,
  FILTERS,
  type FilterKind,
  filterCond,
  filterConst,
  filterPhrase,
  MAP_OPS,
  type MapOp,
  mapConst,
  mapExpr,
  mapPhrase,
} from './vocab.js';

/** Test lists: sometimes empty (aggregates of nothing), small non-negative items. */
function lists(rng: Rng, hi: number, maxLen: number): number[][] {
  return Array.from({ length: testCount(rng) }, (_, i) =>
    i === 0 && rng.int(4) === 0 ? [] : intList(rng, 1, maxLen, i === 1 ? 1 : 0, hi),
  );
}

/** Aggregate of the filtered items: `t = 0; for x in xs: if cond: t += x; return t`. */
export const listAggFamily: Family = {
  name: 'list-agg',
  difficulty: 'easy',
  description: 'sum / count / product / max / min of the items of xs that pass a filter',
  combinations: () => product({ filter: FILTERS, agg: AGGREGATES }),
  build(combo, rng) {
    const filter = pick(combo, 'filter') as FilterKind;
    const agg = pick(combo, 'agg') as Aggregate;
    // Products stay exact in both languages: short lists of small items.
    const hi = agg === 'product' ? 9 : 20;
    const c = filterConst(filter, rng, hi);
    const x = ref('x');
    return {
      fn: {
        name: 'f',
        params: ['xs'],
        body: [
          aggInit(agg),
          forEach('x', ref('xs'), aggUpdate(agg, x, filterCond(filter, x, c))),
          ret(ref('t')),
        ],
      },
      paramTypes: ['ints'],
      result: 'int',
      task: `returns ${aggPhrase(agg, `the items of xs ${filterPhrase(filter, c)}`)}`,
      inputs: lists(rng, hi, agg === 'product' ? 6 : 8).map((l) => [l]),
    };
  },
};

const WHERE = ['all', 'gt', 'lt', 'even', 'odd'] as const;

/** Map every item (or only the items passing a filter, keeping the others) into a new list. */
export const listMapFamily: Family = {
  name: 'list-map',
  difficulty: 'easy',
  description: 'a new list with op c applied to every item of xs, or only to the items passing a filter',
  combinations: () => product({ op: MAP_OPS, where: WHERE }),
  build(combo, rng) {
    const op = pick(combo, 'op') as MapOp;
    const where = pick(combo, 'where') as (typeof WHERE)[number];
    const c = mapConst(op, rng);
    const x = ref('x');
    const mapped = append('ys', mapExpr(op, x, c));
    let body = [mapped];
    let target = 'each item of xs';
    if (where !== 'all') {
      const k = filterConst(where, rng);
      body = [ifElse([{ cond: filterCond(where, x, k), body: [mapped] }], [append('ys', x)])];
      target = `each item of xs ${filterPhrase(where, k, false)}`;
    }
    const rest = where === 'all' ? '' : ', keeps the other items as they are';
    return {
      fn: {
        name: 'f',
        params: ['xs'],
        body: [assign('ys', emptyList()), forEach('x', ref('xs'), body), ret(ref('ys'))],
      },
      paramTypes: ['ints'],
      result: 'ints',
      task: `${mapPhrase(op, c, target)}${rest} and returns the new list`,
      inputs: lists(rng, 20, 7).map((l) => [l]),
    };
  },
};
