/**
 * A tiny program IR for the synthetic suite. Every family builds its canonical solution once as
 * IR; the same IR is rendered to Python and JavaScript (so both languages share one canonical
 * formatting) and interpreted here to compute the expected outputs (so the tests cannot drift
 * from the code). Only operations whose meaning is the same in both languages are offered:
 * integers stay small and non-negative wherever `%` or `//` is used, strings are lowercase ASCII.
 */

export type Value = number | string | Value[];
export type Env = Map<string, Value>;

/** An expression with its text in both languages and its meaning. */
export interface Expr {
  py: string;
  js: string;
  ev: (env: Env) => Value;
}

export type Stmt =
  /** `name = value`; in JavaScript the first write declares (`const` when never written again). */
  | { kind: 'assign'; name: string; value: Expr }
  | { kind: 'aug'; name: string; op: '+' | '-' | '*'; value: Expr }
  | { kind: 'append'; list: string; value: Expr }
  | { kind: 'return'; value: Expr }
  | { kind: 'if'; arms: Array<{ cond: Expr; body: Stmt[] }>; otherwise?: Stmt[] }
  | { kind: 'forEach'; item: string; list: Expr; body: Stmt[] }
  /** `for i in range(from, to + 1)` when inclusive, else `range(from, to)`. */
  | { kind: 'forRange'; index: string; from: number; to: Expr; inclusive: boolean; body: Stmt[] }
  | { kind: 'while'; cond: Expr; body: Stmt[] };

export interface FunctionIR {
  name: string;
  params: string[];
  body: Stmt[];
}

const num = (v: Value): number => v as number;
const text = (v: Value): string => v as string;

export function ref(name: string): Expr {
  return { py: name, js: name, ev: (env) => env.get(name)! };
}

export function int(n: number): Expr {
  return { py: String(n), js: String(n), ev: () => n };
}

/** A string literal. Only letters are used, so both languages spell it `'abc'`. */
export function str(s: string): Expr {
  if (!/^[A-Za-z]*$/.test(s)) throw new Error(`synthetic string literal must be letters only: ${s}`);
  return { py: `'${s}'`, js: `'${s}'`, ev: () => s };
}

export function emptyList(): Expr {
  return { py: '[]', js: '[]', ev: () => [] };
}

export function paren(e: Expr): Expr {
  return { py: `(${e.py})`, js: `(${e.js})`, ev: e.ev };
}

export type ArithOp = '+' | '-' | '*' | '//' | '%';

/** Integer arithmetic; `//` and `%` are only used on non-negative operands (same in both languages). */
export function arith(a: Expr, op: ArithOp, b: Expr): Expr {
  const js = op === '//' ? `Math.floor(${a.js} / ${b.js})` : `${a.js} ${op} ${b.js}`;
  const ev = (env: Env): Value => {
    const x = num(a.ev(env));
    const y = num(b.ev(env));
    switch (op) {
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '//':
        return Math.floor(x / y);
      case '%':
        return x % y;
    }
  };
  return { py: `${a.py} ${op} ${b.py}`, js, ev };
}

export type CmpOp = '<' | '>' | '<=' | '>=' | '==' | '!=';

export function compare(a: Expr, op: CmpOp, b: Expr): Expr {
  const jsOp = op === '==' ? '===' : op === '!=' ? '!==' : op;
  const ev = (env: Env): Value => {
    const x = a.ev(env);
    const y = b.ev(env);
    switch (op) {
      case '<':
        return x < y ? 1 : 0;
      case '>':
        return x > y ? 1 : 0;
      case '<=':
        return x <= y ? 1 : 0;
      case '>=':
        return x >= y ? 1 : 0;
      case '==':
        return x === y ? 1 : 0;
      case '!=':
        return x !== y ? 1 : 0;
    }
  };
  return { py: `${a.py} ${op} ${b.py}`, js: `${a.js} ${jsOp} ${b.js}`, ev };
}

export function and(a: Expr, b: Expr): Expr {
  return {
    py: `${a.py} and ${b.py}`,
    js: `${a.js} && ${b.js}`,
    ev: (env) => (a.ev(env) && b.ev(env) ? 1 : 0),
  };
}

export function or(a: Expr, b: Expr): Expr {
  return {
    py: `${a.py} or ${b.py}`,
    js: `${a.js} || ${b.js}`,
    ev: (env) => (a.ev(env) || b.ev(env) ? 1 : 0),
  };
}

/* String operations, spelled the way each language's users write them. */

export function upper(s: Expr): Expr {
  return { py: `${s.py}.upper()`, js: `${s.js}.toUpperCase()`, ev: (env) => text(s.ev(env)).toUpperCase() };
}

export function reversed(s: Expr): Expr {
  return {
    py: `${s.py}[::-1]`,
    js: `${s.js}.split('').reverse().join('')`,
    ev: (env) => text(s.ev(env)).split('').reverse().join(''),
  };
}

export function replaceAll(s: Expr, from: string, to: string): Expr {
  const a = str(from);
  const b = str(to);
  return {
    py: `${s.py}.replace(${a.py}, ${b.py})`,
    js: `${s.js}.replaceAll(${a.js}, ${b.js})`,
    ev: (env) => text(s.ev(env)).split(from).join(to),
  };
}

export function repeat(s: Expr, k: number): Expr {
  return { py: `${s.py} * ${k}`, js: `${s.js}.repeat(${k})`, ev: (env) => text(s.ev(env)).repeat(k) };
}

export function dropFirst(s: Expr): Expr {
  return { py: `${s.py}[1:]`, js: `${s.js}.slice(1)`, ev: (env) => text(s.ev(env)).slice(1) };
}

export function concat(s: Expr, suffix: string): Expr {
  const b = str(suffix);
  return { py: `${s.py} + ${b.py}`, js: `${s.js} + ${b.js}`, ev: (env) => text(s.ev(env)) + suffix };
}

export function length(s: Expr): Expr {
  return { py: `len(${s.py})`, js: `${s.js}.length`, ev: (env) => (s.ev(env) as string | Value[]).length };
}

export function index(s: Expr, i: Expr): Expr {
  return {
    py: `${s.py}[${i.py}]`,
    js: `${s.js}[${i.js}]`,
    ev: (env) => (s.ev(env) as string | Value[])[num(i.ev(env))]!,
  };
}

export function toStr(e: Expr): Expr {
  return { py: `str(${e.py})`, js: `String(${e.js})`, ev: (env) => String(e.ev(env)) };
}

/* Statement shorthands. */

export const assign = (name: string, value: Expr): Stmt => ({ kind: 'assign', name, value });
export const aug = (name: string, op: '+' | '-' | '*', value: Expr): Stmt => ({
  kind: 'aug',
  name,
  op,
  value,
});
export const append = (list: string, value: Expr): Stmt => ({ kind: 'append', list, value });
export const ret = (value: Expr): Stmt => ({ kind: 'return', value });
export const forEach = (item: string, list: Expr, body: Stmt[]): Stmt => ({
  kind: 'forEach',
  item,
  list,
  body,
});
export const whileLoop = (cond: Expr, body: Stmt[]): Stmt => ({ kind: 'while', cond, body });
export const ifElse = (arms: Array<{ cond: Expr; body: Stmt[] }>, otherwise?: Stmt[]): Stmt =>
  otherwise ? { kind: 'if', arms, otherwise } : { kind: 'if', arms };
