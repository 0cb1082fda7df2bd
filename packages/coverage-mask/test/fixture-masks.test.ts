import { describe, expect, it } from 'vitest';
import { createBranchMask, createLineMask, createStatementMask } from '../src/index.js';
import { jsExpected, pythonExpected } from './expected-masks.js';
import { type Fixture, jsFixtures, pythonFixtures } from './fixtures/programs.js';
import { maskInput, render } from './helpers/tokens.js';

const strategies = { line: createLineMask(), statement: createStatementMask(), branch: createBranchMask() };

function check(fixture: Fixture, expected: Record<keyof typeof strategies, string>): void {
  const input = maskInput(fixture.prefix, fixture.completion, fixture.language, fixture.coverage);
  for (const [name, strategy] of Object.entries(strategies)) {
    const result = strategy.explain(input);
    expect(result.reason).toBe('coverage');
    expect(result.weights).toHaveLength(input.tokenSpans.length);
    expect({ strategy: name, mask: render(fixture.completion, input.tokenSpans, result.weights) }).toEqual({
      strategy: name,
      mask: expected[name as keyof typeof strategies],
    });
  }
}

describe('masks of small Python programs (hand-written coverage)', () => {
  for (const [key, fixture] of Object.entries(pythonFixtures)) {
    it(fixture.name, () => check(fixture, pythonExpected[key as keyof typeof pythonFixtures]));
  }
});

describe('masks of small JavaScript programs (istanbul coverage)', () => {
  for (const [key, fixture] of Object.entries(jsFixtures)) {
    it(fixture.name, () => check(fixture, jsExpected[key as keyof typeof jsFixtures]));
  }
});
