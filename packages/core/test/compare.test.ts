import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareStdout, deepEqualValues, matchesCallOutput } from '../src/index.js';

describe('compareStdout (APPS rules)', () => {
  it('accepts exact lines modulo trailing whitespace, CRLF and blank edges', () => {
    expect(compareStdout('1 2\n3\n', '1 2\n3')).toBe('exact-lines');
    expect(compareStdout('1 2   \r\n3\r\n\r\n', '\n1 2\n3\n')).toBe('exact-lines');
  });
  it('falls back to token comparison', () => {
    expect(compareStdout('1\n2\n3', '1 2 3')).toBe('tokens');
    expect(compareStdout('  yes ', 'yes')).toBe('tokens');
    expect(compareStdout('YES', 'yes')).toBe(false);
  });
  it('compares numbers with tolerance', () => {
    expect(compareStdout('0.3333333', '0.33333333333')).toBe('numeric');
    expect(compareStdout('1e3 2', '1000 2')).toBe('numeric');
    expect(compareStdout('0.34', '0.33')).toBe(false);
    expect(compareStdout('1 2', '1 2 3')).toBe(false);
  });
  it('does not accept reordered output (unlike APPS set comparisons)', () => {
    expect(compareStdout('2\n1', '1\n2')).toBe(false);
  });
});

describe('deepEqualValues / matchesCallOutput', () => {
  it('compares nested JSON-like values', () => {
    expect(deepEqualValues({ a: [1, 2, { b: 'x' }] }, { a: [1, 2, { b: 'x' }] })).toBe(true);
    expect(deepEqualValues({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(deepEqualValues([1, 2], [1, 2, 3])).toBe(false);
    expect(deepEqualValues({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqualValues([1], { 0: 1 })).toBe(false);
    expect(deepEqualValues(null, {})).toBe(false);
  });
  it('integers exact, floats within tolerance, NaN equals NaN', () => {
    expect(deepEqualValues(3, 3)).toBe(true);
    expect(deepEqualValues(3, 4)).toBe(false);
    expect(deepEqualValues(0.1 + 0.2, 0.3)).toBe(true);
    expect(deepEqualValues(Number.NaN, Number.NaN)).toBe(true);
    expect(deepEqualValues(1.5, 1.6)).toBe(false);
  });
  it('accepts the APPS singleton-wrapped expected value', () => {
    expect(matchesCallOutput(5, [5])).toBe(true);
    expect(matchesCallOutput([5], [5])).toBe(true);
    expect(matchesCallOutput(5, [5, 5])).toBe(false);
  });
});

describe('call-based comparison with Python semantics (APPS compares with Python ==)', () => {
  it('treats a bool as the int 0 or 1, as Python does', () => {
    // APPS+ canonical solutions that return True/False against expected [1]/[0].
    expect(matchesCallOutput(true, [1], undefined, 'python')).toBe(true);
    expect(matchesCallOutput(false, [0], undefined, 'python')).toBe(true);
    expect(matchesCallOutput(false, [1], undefined, 'python')).toBe(false);
    expect(deepEqualValues(false, 0, undefined, 'python')).toBe(true);
    expect(deepEqualValues(0, false, undefined, 'python')).toBe(true);
    expect(deepEqualValues(true, 1.0, undefined, 'python')).toBe(true);
    expect(deepEqualValues(true, 2, undefined, 'python')).toBe(false);
    expect(deepEqualValues([true, 0], [1, false], undefined, 'python')).toBe(true);
    expect(deepEqualValues({ a: true }, { a: 1 }, undefined, 'python')).toBe(true);
    expect(deepEqualValues(true, true, undefined, 'python')).toBe(true);
    expect(deepEqualValues(true, false, undefined, 'python')).toBe(false);
  });
  it('still tells strings, None and containers apart, as Python does', () => {
    expect(deepEqualValues('1', 1, undefined, 'python')).toBe(false);
    expect(deepEqualValues(null, 0, undefined, 'python')).toBe(false);
    expect(deepEqualValues(null, false, undefined, 'python')).toBe(false);
    expect(deepEqualValues([0], false, undefined, 'python')).toBe(false);
    expect(deepEqualValues('True', true, undefined, 'python')).toBe(false);
  });
  it('keeps JavaScript semantics by default: false is not 0', () => {
    expect(deepEqualValues(false, 0)).toBe(false);
    expect(matchesCallOutput(true, [1])).toBe(false);
  });
});

describe('Python semantics agree with python3 ==', () => {
  it('on every pair of a corpus of JSON values (exact tolerance, no NaN)', () => {
    const corpus: unknown[] = [
      0,
      1,
      2,
      -1,
      1.5,
      0.1,
      1e20,
      true,
      false,
      null,
      '1',
      '',
      'True',
      [],
      [0],
      [1],
      [true],
      [false],
      [1, 0],
      [true, false],
      [1.0, 0.0],
      [[1, 2]],
      [[true, 2]],
      {},
      { a: 1 },
      { a: true },
      { a: 1.5 },
      { a: [1] },
      { b: 1 },
      { a: 1, b: 0 },
      { a: true, b: false },
    ];
    const run = spawnSync(
      'python3',
      [
        '-c',
        'import json,sys\nvs=[json.loads(l) for l in sys.stdin.read().splitlines()]\n' +
          'print(json.dumps([[a == b for b in vs] for a in vs]))',
      ],
      { input: corpus.map((v) => JSON.stringify(v)).join('\n'), encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    const python = JSON.parse(run.stdout) as boolean[][];
    const exact = { rtol: 0, atol: 0 };
    const disagreements: string[] = [];
    for (const [i, a] of corpus.entries()) {
      for (const [j, b] of corpus.entries()) {
        if (deepEqualValues(a, b, exact, 'python') !== python[i]![j]) {
          disagreements.push(`${JSON.stringify(a)} == ${JSON.stringify(b)}: python ${python[i]![j]}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(python.flat().filter(Boolean).length).toBeGreaterThan(corpus.length);
  });
});
