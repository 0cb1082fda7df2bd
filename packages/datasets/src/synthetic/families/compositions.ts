import type { Rng } from '@stepcoder/core';
import { between, type Family, intList, pick, product, testCount } from '../family.js';
import {
  append,
  assign,
  aug,
  type Expr,
  emptyList,
  forEach,
  ifElse,
  int,
  ref,
  ret,
  type Stmt,
} from '../program.js';
import {
  type FilterKind,
  filterCond,
  filterConst,
  filterPhrase,
  MAP_OPS,
  type MapOp,
  mapConst,
  mapExpr,
} from './vocab.js';

const COMPOSE_FILTERS = ['gt', 'lt', 'even', 'odd'] as const;
const COMPOSE_AGGS = ['sum', 'count', 'list'] as const;
type ComposeAgg = (typeof COMPOSE_AGGS)[number];

function inputLists(rng: Rng): number[][][] {
  return Array.from({ length: testCount(rng) }, () => [intList(rng, 2, 8, 0, 20)]);
}

/** "adds 3 to each", "subtracts 3 from each", "multiplies each by 3". */
function eachPhrase(op: MapOp, c: number): string {
  if (op === '+') return `adds ${c} to each`;
  if (op === '-') return `subtracts ${c} from each`;
  return `multiplies each by ${c}`;
}

/** Collect `v` into the result: `t += v`, `t += 1` or `ys.append(v)`. */
function collect(agg: ComposeAgg, v: Expr): Stmt {
  if (agg === 'sum') return aug('t', '+', v);
  if (agg === 'count') return aug('t', '+', int(1));
  return append('ys', v);
}

const AGG_TEXT: Record<ComposeAgg, string> = {
  sum: 'returns their sum',
  count: 'returns how many there are',
  list: 'returns them as a list',
};

/**
 * Filter then map (or map then filter) then aggregate, fused into one loop:
 * `for x in xs: if x > 3: t += x * 2` or `for x in xs: y = x * 2; if y > 3: t += y`.
 */
export const composeFamily: Family = {
  name: 'compose',
  difficulty: 'medium',
  description: 'filter then map (or map then filter) then sum / count / list, in one loop',
  combinations: () =>
    product({ order: ['fm', 'mf'], op: MAP_OPS, filter: COMPOSE_FILTERS, agg: COMPOSE_AGGS }),
  build(combo, rng) {
    const mapFirst = pick(combo, 'order') === 'mf';
    const op = pick(combo, 'op') as MapOp;
    const filter = pick(combo, 'filter') as FilterKind;
    const agg = pick(combo, 'agg') as ComposeAgg;
    const c = mapConst(op, rng);
    const k = filterConst(filter, rng);
    const x = ref('x');
    const y = ref('y');
    const acc = agg === 'list' ? assign('ys', emptyList()) : assign('t', int(0));
    const loop = mapFirst
      ? [
          assign('y', mapExpr(op, x, c)),
          ifElse([{ cond: filterCond(filter, y, k), body: [collect(agg, y)] }]),
        ]
      : [ifElse([{ cond: filterCond(filter, x, k), body: [collect(agg, mapExpr(op, x, c))] }])];
    const kept = (what: string) =>
      filter === 'even' || filter === 'odd'
        ? `keeps the ${filter} ${what}`
        : `keeps the ${what} ${filterPhrase(filter, k)}`;
    const steps = mapFirst
      ? `${eachPhrase(op, c).replace('each', 'each item of xs')}, ${kept('results')}`
      : `${kept('items of xs')}, ${eachPhrase(op, c)}`;
    return {
      fn: {
        name: 'f',
        params: ['xs'],
        body: [acc, forEach('x', ref('xs'), loop), ret(ref(agg === 'list' ? 'ys' : 't'))],
      },
      paramTypes: ['ints'],
      result: agg === 'list' ? 'ints' : 'int',
      task: `${steps} and ${AGG_TEXT[agg]}`,
      inputs: inputLists(rng),
    };
  },
};

const STEP_KINDS = ['keep-gt', 'keep-lt', 'keep-even', 'keep-odd', 'add', 'sub', 'mul'] as const;
type StepKind = (typeof STEP_KINDS)[number];
const LIST_NAMES = ['a', 'b', 'c', 'd'];
const PARITY = new Set<string>(['keep-even', 'keep-odd']);
/** Python lines of each step and of each ending, to keep programs within 8–16 lines. */
const STEP_LINES = (k: StepKind) => (k.startsWith('keep') ? 4 : 3);
const END_LINES: Record<ComposeAgg, number> = { sum: 4, count: 4, list: 1 };
const MAX_LINES = 16;

function pipelines(): string[][] {
  const out: string[][] = [];
  const grow = (steps: StepKind[]) => {
    // Parity filters next to each other are pointless: odd then even always ends empty, odd then
    // odd repeats itself. Such neighbours are left out.
    const [prev, last] = steps.slice(-2);
    if (steps.length >= 2 && PARITY.has(prev!) && PARITY.has(last!)) return;
    if (steps.length >= 2) {
      for (const end of COMPOSE_AGGS) {
        const lines = 1 + steps.reduce((n, s) => n + STEP_LINES(s), 0) + END_LINES[end];
        if (lines <= MAX_LINES) out.push([...steps.map((s) => `step=${s}`), `end=${end}`]);
      }
    }
    if (steps.length < 4) for (const k of STEP_KINDS) grow([...steps, k]);
  };
  grow([]);
  return out;
}

/**
 * Long programs: 2–4 list passes in sequence, each a few lines writing a new list (`a`, `b`, …),
 * then an ending. Each pass is easy; sampling all of them right at once is not (what CCCS is for).
 */
export const longPipelineFamily: Family = {
  name: 'long-pipeline',
  difficulty: 'hard',
  description:
    '2-4 sequential list passes (keep by filter / add / subtract / multiply) then sum / count / list; 8-16 lines',
  combinations: pipelines,
  build(combo, rng) {
    const steps = combo.filter((c) => c.startsWith('step=')).map((c) => c.slice(5) as StepKind);
    const end = pick(combo, 'end') as ComposeAgg;
    const body: Stmt[] = [];
    const phrases: string[] = [];
    const x = ref('x');
    let source = 'xs';
    steps.forEach((kind, i) => {
      const out = LIST_NAMES[i]!;
      let inner: Stmt;
      if (kind.startsWith('keep-')) {
        const filter = kind.slice(5) as FilterKind;
        const k = filterConst(filter, rng);
        inner = ifElse([{ cond: filterCond(filter, x, k), body: [append(out, x)] }]);
        phrases.push(
          filter === 'even' || filter === 'odd'
            ? `keeps the ${filter} items`
            : `keeps the items ${filterPhrase(filter, k)}`,
        );
      } else {
        const op = ({ add: '+', sub: '-', mul: '*' } as const)[kind as 'add' | 'sub' | 'mul'];
        // Small multipliers keep values small after several passes.
        const c = op === '*' ? between(rng, 2, 3) : mapConst(op, rng);
        inner = append(out, mapExpr(op, x, c));
        phrases.push(eachPhrase(op, c));
      }
      body.push(assign(out, emptyList()), forEach('x', ref(source), [inner]));
      source = out;
    });
    if (end === 'list') {
      body.push(ret(ref(source)));
    } else {
      body.push(assign('t', int(0)), forEach('x', ref(source), [collect(end, x)]), ret(ref('t')));
    }
    const ending = { sum: 'returns their sum', count: 'returns how many are left', list: 'returns the list' }[
      end
    ];
    return {
      fn: { name: 'f', params: ['xs'], body },
      paramTypes: ['ints'],
      result: end === 'list' ? 'ints' : 'int',
      task: `, starting from xs, ${phrases.join(', ')}, and ${ending}`,
      inputs: inputLists(rng),
    };
  },
};
