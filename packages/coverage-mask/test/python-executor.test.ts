import type { ExecutionResult } from '@stepcoder/core';
import { createPythonExecutor } from '@stepcoder/executor-python';
import { afterAll, describe, expect, it } from 'vitest';
import { createBranchMask, createLineMask, createStatementMask, maskStats } from '../src/index.js';
import { pythonExpected } from './expected-masks.js';
import { pythonFixtures } from './fixtures/programs.js';
import { maskInput, render } from './helpers/tokens.js';

const executor = createPythonExecutor({ poolSize: 2 });
afterAll(() => executor.dispose());

const strategies = { line: createLineMask(), statement: createStatementMask(), branch: createBranchMask() };

/**
 * executor-python reads statement hits from line events, so statements sharing a line with an
 * executed one count as executed: for `for x in xs: acc += x; n += 1` the statement mask then
 * equals the line mask. The hand-written fixture has instruction-level hits instead.
 */
const realExpected = {
  ...pythonExpected,
  multiLine: {
    line: pythonExpected.multiLine.line,
    statement: pythonExpected.multiLine.line,
    branch: pythonExpected.multiLine.line,
  },
};

describe('masks from executor-python coverage of real runs', () => {
  for (const [key, fixture] of Object.entries(pythonFixtures)) {
    it(fixture.name, async () => {
      const result = await executor.run({
        program: fixture.prefix + fixture.completion,
        tests: fixture.tests,
        coverage: true,
      });
      expect(result.outcome).not.toBe('infra_error');
      const coverage = result.coverage!;
      // The hand-written coverage of the fixture is what the executor reports.
      expect(coverage.lines).toEqual(fixture.coverage.lines);
      expect(coverage.executableLines).toEqual(fixture.coverage.executableLines);
      const input = maskInput(fixture.prefix, fixture.completion, 'python', coverage, result.outcome);
      const expected = realExpected[key as keyof typeof realExpected];
      for (const [name, strategy] of Object.entries(strategies)) {
        const mask = render(fixture.completion, input.tokenSpans, strategy.weights(input));
        expect({ strategy: name, mask }).toEqual({
          strategy: name,
          mask: expected[name as keyof typeof strategies],
        });
      }
    });
  }

  it('reports the branch arms the hand-written if/else fixture assumes', async () => {
    const f = pythonFixtures.ifElse;
    const result = await executor.run({ program: f.prefix + f.completion, tests: f.tests, coverage: true });
    expect(result.coverage!.branches).toEqual(f.coverage.branches);
    expect(result.coverage!.lineHits).toEqual(f.coverage.lineHits);
  });

  it('gives a syntax error all ones and a run without coverage all ones, flagged', async () => {
    const program = 'def f(x):\n    return (x\n';
    const tests = { kind: 'call' as const, fnName: 'f', inputs: [[1]], outputs: [1] };
    const broken: ExecutionResult = await executor.run({ program, tests, coverage: true });
    expect(broken.outcome).toBe('compile_error');
    const a = strategies.branch.explain(maskInput('', program, 'python', broken.coverage, broken.outcome));
    expect(a.weights.every((w) => w === 1)).toBe(true);

    const f = pythonFixtures.earlyReturn;
    const plain = await executor.run({ program: f.prefix + f.completion, tests: f.tests });
    expect(plain.coverage).toBeUndefined();
    const b = strategies.line.explain(
      maskInput(f.prefix, f.completion, 'python', plain.coverage, plain.outcome),
    );
    expect(b.weights.every((w) => w === 1)).toBe(true);
    expect(maskStats([a, b]).reasons).toEqual({ compile_error: 1, no_coverage: 1 });
  });
});
