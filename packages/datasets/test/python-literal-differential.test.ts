import { spawnSync } from 'node:child_process';
import { Rng } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { tryParsePythonLiteral } from '../src/python-literal.js';

/**
 * Differential test: a seeded corpus of Python-literal texts, valid and broken, is parsed by
 * `parsePythonLiteral` and by python3's `ast.literal_eval`; both must accept the same texts and
 * give the same values. The generator leaves out only the documented exceptions (complex, bytes,
 * `\N{NAME}`, `set( )`, an indented first line after a blank one, trailing blank-ish lines).
 */
function generateCorpus(count: number, seed: number): string[] {
  const rng = new Rng(seed);
  const pick = <T>(items: readonly T[]): T => rng.choice(items);
  const space = () => pick(['', '', '', ' ', '  ', '\t']);
  const inner = () => pick(['', '', ' ', '\n', ' # note\n', '\\\n', '\n  ']);
  const digits = () => String(rng.int(1000));
  const number = (): string =>
    pick([
      digits,
      () => `${rng.int(10)}${rng.int(10)}${rng.int(10)}`, // leading zeros: 007 is a syntax error
      () => pick(['0', '00', '0_0', '000', '0.0', '00.5', '007.5', '007e1', '09.', '0e0']),
      () => `${digits()}.${digits()}`,
      () => `.${digits()}`,
      () => `${digits()}.`,
      () => `${digits()}e${pick(['', '+', '-'])}${rng.int(400)}`,
      () => `${digits()}_${digits()}`,
      () => pick(['1__0', '1_', '_1', '1_.5', '1._5', '1e_5', '1e5_', '1.e5', '1..5', '1e', '1.5.5']),
      () => pick(['0x1f', '0X_ff', '0x', '0xg', '0o17', '0o8', '0b101', '0b12', '0b_1', '0x_', '0O7_7']),
      () => `0x${'f'.repeat(14 + rng.int(6))}`,
      () => `${'9'.repeat(16 + rng.int(8))}`,
      () => pick(['1e999', '-1e999', '1e-999']),
    ])();
  const escapeSequence = () =>
    pick([
      '\\n',
      '\\t',
      '\\\\',
      "\\'",
      '\\"',
      '\\x41',
      '\\x4',
      '\\u00e9',
      '\\u00',
      '\\U0001F600',
      '\\U00110000',
      '\\101',
      '\\0',
      '\\777',
      '\\8',
      '\\q',
      '\\a',
      '\\\n',
    ]);
  const string = (): string => {
    const q = pick(["'", '"', "'''", '"""']);
    const prefix = pick(['', '', '', 'r', 'u', 'R', 'U']);
    let body = '';
    for (let i = rng.int(6); i > 0; i--) {
      body += pick([
        'a',
        'b',
        ' ',
        'é',
        '€',
        '😀',
        '#',
        ',',
        ':',
        escapeSequence(),
        q.length === 3 ? '\n' : 'z',
        q === "'" ? '"' : "'",
      ]);
    }
    if (prefix.toLowerCase() === 'r' && body.endsWith('\\')) body += 'x';
    return `${prefix}${q}${body}${q}`;
  };
  const keyPool = [
    '0',
    '1',
    'True',
    'False',
    '1.0',
    '0.0',
    '1.5',
    "'a'",
    "'1'",
    'None',
    '(1, 2)',
    '(True,)',
    '()',
    '[1]',
    '{}',
    '{1}',
    '-1',
    '-0.0',
  ];
  const value = (depth: number): string => {
    const scalar = () =>
      pick([
        number,
        string,
        () => `${string()}${space()}${string()}`,
        () => pick(['True', 'False', 'None', 'true', 'none', 'set()', 'nan', 'inf', 'x']),
        () =>
          `${pick(['-', '+', '--', '-+', '- ', '+ '])}${pick([number, () => 'True', () => `(${number()})`, () => `(-${number()})`, string])()}`,
      ])();
    if (depth <= 0) return scalar();
    const items = () => Array.from({ length: rng.int(4) }, () => value(depth - 1));
    const join = (xs: string[]) => xs.map((x) => `${inner()}${x}${space()}`).join(',');
    return pick([
      scalar,
      scalar,
      () => `[${join(items())}${pick(['', ',', ''])}${inner()}]`,
      () => {
        const xs = items();
        const comma = xs.length === 1 ? pick([',', '']) : pick(['', ',']);
        return `(${join(xs)}${comma}${inner()})`;
      },
      () => {
        // Set items in ascending order so Python's iteration order (small ints) is source order.
        const xs = Array.from({ length: 1 + rng.int(5) }, () => rng.int(6))
          .sort((a, b) => a - b)
          .map((n) => (n <= 1 && rng.int(2) ? (n ? 'True' : 'False') : String(n)));
        return `{${join(xs)}${pick(['', ','])}}`;
      },
      () => {
        const entries = Array.from(
          { length: rng.int(4) },
          () => `${pick(keyPool)}${space()}:${space()}${value(depth - 1)}`,
        );
        return `{${join(entries)}${entries.length ? pick(['', ',']) : ''}${inner()}}`;
      },
      () =>
        pick([
          '{[1]: 2}',
          '{{1}: 2}',
          '{(1, [2]): 3}',
          '{[1], 2}',
          '{1: 2, True: 3, 1.0: 4}',
          '{1, True, 1.0}',
        ]),
    ])();
  };
  // By code point: splitting an emoji's surrogate pair would make text no Python source can hold.
  const mutate = (source: string): string => {
    const text = Array.from(source);
    const at = rng.int(text.length + 1);
    const head = text.slice(0, at).join('');
    return pick([
      () => head + text.slice(at + 1).join(''),
      () =>
        head +
        pick([',', ':', '(', ')', '[', ']', '{', '}', "'", '"', '-', '0', '_', '.', '#', '\\', ' ', '\n']) +
        text.slice(at).join(''),
      () => head + text.slice(at, at + 1).join('') + text.slice(at).join(''),
    ])();
  };
  const out: string[] = [];
  while (out.length < count) {
    let text = value(rng.int(4));
    if (rng.int(8) === 0) text = `${text},${space()}${value(1)}`; // a bare top-level tuple
    if (rng.int(4) === 0) text = mutate(text);
    text = `${space()}${text}${pick(['', '', ' ', '\n', ' # end', '\n\n'])}`;
    // The documented exceptions (see python-literal.ts) are left out of the comparison.
    if (/^[ \t]*[\r\n]+[ \t]/.test(text) || /\n[ \t]+$/.test(text) || /\r/.test(text)) continue;
    if (/(?:^|[^\w.])\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?[\d_]+)?[jJ]/.test(text) || /\\N/.test(text)) continue;
    out.push(text);
  }
  return out;
}

const PYTHON_SIDE = String.raw`
import ast, json, math, sys

def js_key(v):
    # The text JSON.stringify gives the converted key (our mapping of non-string dict keys).
    return json.dumps(js_value(v), separators=(",", ":"), ensure_ascii=False)

def js_value(v):
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (tuple, list)):
        return [js_value(x) for x in v]
    return v

def conv(v):
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        if math.isinf(v):
            return {"$f": "inf" if v > 0 else "-inf"}
        return v
    if isinstance(v, (list, tuple, set, frozenset)):
        return [conv(x) for x in v]
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else js_key(k)): conv(x) for k, x in v.items()}
    raise TypeError(type(v).__name__)

for text in json.load(sys.stdin):
    try:
        value = ast.literal_eval(text)
    except Exception as e:
        print(json.dumps({"err": type(e).__name__}))
        continue
    print(json.dumps({"ok": conv(value)}, ensure_ascii=True))
`;

function normalise(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return { $f: v > 0 ? 'inf' : '-inf' };
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  }
  return v;
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b; // 0 === -0, as Python's 0.0 == -0.0
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.hasOwn(b, k) && same((a as never)[k], (b as never)[k]))
    );
  }
  return a === b;
}

describe('parsePythonLiteral agrees with ast.literal_eval (python3)', () => {
  it('on a generated corpus of 4000 valid and broken literals', () => {
    const corpus = generateCorpus(4000, 17);
    const run = spawnSync('python3', ['-c', PYTHON_SIDE], {
      input: JSON.stringify(corpus),
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    expect(run.stderr).toBe('');
    const python = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ok?: unknown; err?: string });
    expect(python).toHaveLength(corpus.length);
    const disagreements: string[] = [];
    let accepted = 0;
    corpus.forEach((text, i) => {
      const ours = tryParsePythonLiteral(text);
      const theirs = python[i]!;
      const pyOk = !('err' in theirs);
      if (pyOk) accepted++;
      if ((ours !== undefined) !== pyOk) {
        disagreements.push(
          `${JSON.stringify(text)}: python ${pyOk ? 'accepts' : `rejects (${theirs.err})`}, we ${ours ? 'accept' : 'reject'}`,
        );
      } else if (ours && !same(normalise(ours.value), theirs.ok)) {
        disagreements.push(
          `${JSON.stringify(text)}: python ${JSON.stringify(theirs.ok)}, we ${JSON.stringify(normalise(ours.value))}`,
        );
      }
    });
    expect(disagreements.slice(0, 20)).toEqual([]);
    // The corpus exercises both sides: plenty of texts each way.
    expect(accepted).toBeGreaterThan(1000);
    expect(corpus.length - accepted).toBeGreaterThan(1000);
  });
});
