import { between, type Family, pick, product, testCount } from '../family.js';
import { type ArithOp, arith, assign, int, paren, ref, ret } from '../program.js';

const OPS = ['+', '-', '*'] as const;
/** Constant buckets: part of the combination key, so "large constants with *" can be held out. */
const SIZES = { small: [1, 9], large: [10, 30] } as const;

function constant(rng: Parameters<Family['build']>[1], size: string): number {
  const [lo, hi] = SIZES[size as keyof typeof SIZES];
  return between(rng, lo, hi);
}

/** "adds 3 to x", "subtracts 3 from x", "multiplies x by 3". */
function step(op: string, c: number, target: string): string {
  if (op === '+') return `adds ${c} to ${target}`;
  if (op === '-') return `subtracts ${c} from ${target}`;
  return `multiplies ${target} by ${c}`;
}

/** f(x) = (x op1 a) op2 b, in words. */
export const arithFamily: Family = {
  name: 'arith',
  difficulty: 'easy',
  description: 'f(x) = (x op1 a) op2 b with ops + - * and constants from the statement',
  combinations: () => product({ op1: OPS, op2: OPS, size: Object.keys(SIZES) }),
  build(combo, rng) {
    const op1 = pick(combo, 'op1') as ArithOp;
    const op2 = pick(combo, 'op2') as ArithOp;
    const a = constant(rng, pick(combo, 'size'));
    const b = constant(rng, pick(combo, 'size'));
    const x = ref('x');
    return {
      fn: { name: 'f', params: ['x'], body: [ret(arith(paren(arith(x, op1, int(a))), op2, int(b)))] },
      paramTypes: ['int'],
      result: 'int',
      task: `${step(op1, a, 'x')}, then ${step(op2, b, 'the result')} and returns it`,
      inputs: Array.from({ length: testCount(rng) }, () => [between(rng, -10, 30)]),
    };
  },
};

/** f(a, b): y = a op1 b, return y op2 c, stated with the operators verbatim. */
export const arith2Family: Family = {
  name: 'arith2',
  difficulty: 'easy',
  description: 'f(a, b): y = a op1 b; return y op2 c (operators verbatim in the statement)',
  combinations: () => product({ op1: OPS, op2: OPS, size: Object.keys(SIZES) }),
  build(combo, rng) {
    const op1 = pick(combo, 'op1') as ArithOp;
    const op2 = pick(combo, 'op2') as ArithOp;
    const c = constant(rng, pick(combo, 'size'));
    return {
      fn: {
        name: 'f',
        params: ['a', 'b'],
        body: [assign('y', arith(ref('a'), op1, ref('b'))), ret(arith(ref('y'), op2, int(c)))],
      },
      paramTypes: ['int', 'int'],
      result: 'int',
      task: `sets y to a ${op1} b and returns y ${op2} ${c}`,
      inputs: Array.from({ length: testCount(rng) }, () => [between(rng, -10, 20), between(rng, -10, 20)]),
    };
  },
};
