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
