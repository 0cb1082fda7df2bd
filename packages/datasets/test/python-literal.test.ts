import { describe, expect, it } from 'vitest';
import { PythonLiteralError, parsePythonLiteral, tryParsePythonLiteral } from '../src/base.js';

describe('parsePythonLiteral', () => {
  it('parses scalars', () => {
    expect(parsePythonLiteral('42')).toBe(42);
    expect(parsePythonLiteral('-7')).toBe(-7);
    expect(parsePythonLiteral('3.5')).toBe(3.5);
    expect(parsePythonLiteral('1e3')).toBe(1000);
    expect(parsePythonLiteral('.5')).toBe(0.5);
    expect(parsePythonLiteral('1_000')).toBe(1000);
    expect(parsePythonLiteral('0x1f')).toBe(31);
    expect(parsePythonLiteral('True')).toBe(true);
    expect(parsePythonLiteral('False')).toBe(false);
    expect(parsePythonLiteral('None')).toBe(null);
  });

  it('parses strings with quotes, prefixes and escapes', () => {
    expect(parsePythonLiteral("'abc'")).toBe('abc');
    expect(parsePythonLiteral('"a\\"b"')).toBe('a"b');
    expect(parsePythonLiteral("'it\\'s'")).toBe("it's");
    expect(parsePythonLiteral("'a\\nb\\tc\\\\'")).toBe('a\nb\tc\\');
    expect(parsePythonLiteral("'\\x41\\u00e9\\U0001F600\\101'")).toBe('Aé😀A');
    expect(parsePythonLiteral("r'a\\nb'")).toBe('a\\nb');
    expect(parsePythonLiteral("u'x'")).toBe('x');
    expect(parsePythonLiteral("'''multi\nline'''")).toBe('multi\nline');
    expect(parsePythonLiteral("'a' 'b'")).toBe('ab');
    expect(parsePythonLiteral("'\\q'")).toBe('\\q');
    expect(parsePythonLiteral("'é ✓'")).toBe('é ✓');
  });

  it('parses containers', () => {
    expect(parsePythonLiteral('[1, [2, 3], []]')).toEqual([1, [2, 3], []]);
    expect(parsePythonLiteral('(1, 2)')).toEqual([1, 2]);
    expect(parsePythonLiteral('(1,)')).toEqual([1]);
    expect(parsePythonLiteral('()')).toEqual([]);
    expect(parsePythonLiteral("{'a': 1, 'b': [True, None]}")).toEqual({ a: 1, b: [true, null] });
    expect(parsePythonLiteral('{1: "x", 2: "y",}')).toEqual({ '1': 'x', '2': 'y' });
    expect(parsePythonLiteral('{}')).toEqual({});
    expect(parsePythonLiteral('{3, 1}')).toEqual([3, 1]);
    expect(parsePythonLiteral('set()')).toEqual([]);
    expect(parsePythonLiteral('[1, 2,]')).toEqual([1, 2]);
    expect(parsePythonLiteral('1, 2')).toEqual([1, 2]);
    expect(parsePythonLiteral(' [ -1 , +2 ] ')).toEqual([-1, 2]);
  });

  it('keeps __proto__ keys as plain data', () => {
    const v = parsePythonLiteral("{'__proto__': 1}") as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('rejects what literal_eval rejects, with an offset', () => {
    for (const bad of ["float('inf')", '[1, 2', "'abc", 'x', '1 +', "b'x'", '1j', '[1] [2]', '{1: 2']) {
      expect(() => parsePythonLiteral(bad), bad).toThrow(PythonLiteralError);
    }
    expect(tryParsePythonLiteral('nope')).toBeUndefined();
    expect(tryParsePythonLiteral('[1]')).toEqual({ value: [1] });
  });

  it('agrees with python3 ast.literal_eval on a corpus', async () => {
    const { execFileSync } = await import('node:child_process');
    const corpus = [
      "[1, 'two', (3.5, None), {'k': [True, False]}]",
      "'tab\\there \\\\ back'",
      '[[1, 2], [3, 4]]',
      '"quote \\" inside"',
      "{'a': {'b': {'c': -0.25}}}",
      "('x', 'y', 'z')",
    ];
    let python: string;
    try {
      python = execFileSync(
        'python3',
        [
          '-c',
          'import ast, json, sys\nfor l in sys.stdin.read().split("\\0"): print(json.dumps(ast.literal_eval(l)))',
        ],
        { input: corpus.join('\0') },
      ).toString();
    } catch {
      return; // python3 absent: the assertions above still cover the parser
    }
    const expected = python
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(corpus.map((c) => parsePythonLiteral(c))).toEqual(expected);
  });
});
