import { afterAll, describe, expect, it } from 'vitest';
import { createPythonExecutor } from '../src/index.js';
import { humanEvalRequest, loadHumanEval } from './humaneval.js';
import { PYTHON } from './python-path.js';

const problems = loadHumanEval();
const executor = createPythonExecutor({ pythonPath: PYTHON, poolSize: 2 });

afterAll(() => executor.dispose());

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
});
