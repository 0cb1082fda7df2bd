import { createJsExecutor } from '@stepcoder/executor-js';
import { afterAll, describe, expect, it } from 'vitest';
import { createBranchMask, createLineMask, createStatementMask, maskStats } from '../src/index.js';
import { jsExpected } from './expected-masks.js';
import { jsFixtures } from './fixtures/programs.js';
import { maskInput, render } from './helpers/tokens.js';

const executor = createJsExecutor({});
afterAll(() => executor.dispose());

const strategies = { line: createLineMask(), statement: createStatementMask(), branch: createBranchMask() };

describe('masks from executor-js (istanbul) coverage of real runs', () => {
  for (const [key, fixture] of Object.entries(jsFixtures)) {
    it(fixture.name, async () => {
      const result = await executor.run({
        program: fixture.prefix + fixture.completion,
        language: 'javascript',
        tests: fixture.tests,
        coverage: true,
      });
      expect(result.outcome).toBe('pass');
      // The hand-written coverage of the fixture is exactly what the executor reports.
      expect(result.coverage).toEqual(fixture.coverage);
      const input = maskInput(
        fixture.prefix,
        fixture.completion,
        'javascript',
        result.coverage,
        result.outcome,
      );
      const expected = jsExpected[key as keyof typeof jsExpected];
      for (const [name, strategy] of Object.entries(strategies)) {
        const mask = render(fixture.completion, input.tokenSpans, strategy.weights(input));
        expect({ strategy: name, mask }).toEqual({
          strategy: name,
          mask: expected[name as keyof typeof strategies],
        });
      }
    });
  }

  it('gives a syntax error all ones and a run without coverage all ones, flagged', async () => {
    const tests = { kind: 'call' as const, fnName: 'f', inputs: [[1]], outputs: [1] };
    const program = 'function f(x) {\n  return (x;\n}\n';
    const broken = await executor.run({ program, language: 'javascript', tests, coverage: true });
    expect(broken.outcome).toBe('compile_error');
    const a = strategies.branch.explain(
      maskInput('', program, 'javascript', broken.coverage, broken.outcome),
    );
    expect(a.weights.every((w) => w === 1)).toBe(true);

    const f = jsFixtures.earlyReturn;
    const plain = await executor.run({
      program: f.prefix + f.completion,
      language: 'javascript',
      tests: f.tests,
    });
    expect(plain.coverage).toBeUndefined();
    const b = strategies.line.explain(
      maskInput(f.prefix, f.completion, 'javascript', plain.coverage, plain.outcome),
    );
    expect(b.weights.every((w) => w === 1)).toBe(true);
    expect(maskStats([a, b]).reasons).toEqual({ compile_error: 1, no_coverage: 1 });
  });
});
