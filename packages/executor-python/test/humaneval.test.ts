import type { Coverage } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createPythonExecutor } from '../src/index.js';
import { humanEvalRequest, loadHumanEval } from './humaneval.js';
import { PYTHON } from './python-path.js';

const problems = loadHumanEval();
const executor = createPythonExecutor({ pythonPath: PYTHON, poolSize: 2 });
const counters = createPythonExecutor({ pythonPath: PYTHON, poolSize: 2, coverageBackend: 'counters' });
const traced = createPythonExecutor({ pythonPath: PYTHON, poolSize: 2, coverageBackend: 'trace' });

afterAll(() => Promise.all([executor.dispose(), counters.dispose(), traced.dispose()]));

/**
 * What the masks read from coverage: which lines, statements and branch arms ran at all. Implicit
 * arms (an `if` without `else`, a loop's exit; no source range) are left out: from line events
 * they are header hits minus body hits, which a comprehension on the body's first line inflates
 * (HumanEval/104, 113, 114, 153 then show a loop that ran to its end as never exited, or an `if`
 * as never false); the counters count that line once per statement and get them right.
 */
function executed(c: Coverage | undefined) {
  return {
    lines: c?.lines,
    executableLines: c?.executableLines,
    statements: c?.statements?.map((s) => [s.start.line, s.start.column, s.hits > 0]),
    branches: c?.branches?.map((b) => [b.line, ...b.arms.filter((a) => a.range).map((a) => a.hits > 0)]),
  };
}

describe('HumanEval (real data, real python3)', () => {
  it('has all 164 problems', () => {
    expect(problems).toHaveLength(164);
  });

  it('passes every canonical solution', async () => {
    const results = await Promise.all(problems.map((p) => executor.run(humanEvalRequest(p))));
    const failures = results
      .map((r, i) => ({ id: problems[i]!.task_id, outcome: r.outcome, message: r.message }))
      .filter((r) => r.outcome !== 'pass');
    expect(failures).toEqual([]);
  }, 120_000);

  it('fails a broken copy of every problem (body replaced by `return None`)', async () => {
    const results = await Promise.all(
      problems.map((p) => executor.run(humanEvalRequest(p, '    return None\n'))),
    );
    const passing = results
      .map((r, i) => ({ id: problems[i]!.task_id, outcome: r.outcome }))
      .filter((r) => r.outcome === 'pass');
    expect(passing).toEqual([]);
    for (const r of results) expect(['wrong_answer', 'runtime_error']).toContain(r.outcome);
  }, 120_000);

  it.each([
    ['canonical solutions', undefined],
    ['broken copies', '    return None\n'],
  ])(
    'coverage: the counters backend sees what sys.settrace/sys.monitoring see (%s)',
    async (_, body) => {
      const requests = problems.map((p) => ({ ...humanEvalRequest(p, body), coverage: true }));
      const [fast, exact] = await Promise.all([
        Promise.all(requests.map((r) => counters.run(r))),
        Promise.all(requests.map((r) => traced.run(r))),
      ]);
      const differing = problems
        .map((p, i) => ({
          id: p.task_id,
          fast: executed(fast[i]!.coverage),
          exact: executed(exact[i]!.coverage),
        }))
        .filter((d) => JSON.stringify(d.fast) !== JSON.stringify(d.exact));
      expect(differing).toEqual([]);
      expect(fast.map((r) => r.outcome)).toEqual(exact.map((r) => r.outcome));
      // Not vacuous: every program reported coverage and ran some of its lines.
      for (const r of fast) expect(r.coverage?.lines.length).toBeGreaterThan(0);
    },
    180_000,
  );
});
