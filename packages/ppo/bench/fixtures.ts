/*
 * What bench/iteration.ts and bench/two-core.ts share: stdio problems whose canonical solutions
 * really compute something per test, a stage-0 curriculum that gives the whole program (so the
 * rollouts run their tests; a random model's code would only hit syntax errors), a pass/fail
 * reward, and the Python executor with a fixed-delay fallback when Python is unavailable.
 */
import type { Curriculum, ExecutionResult, Executor, Problem, RewardFn } from '@stepcoder/core';

/** `count` problems of `cases` tests each; a test sums 1..n in Python for n ≈ `base`. */
export function benchProblems(count: number, cases: number, base: number): Problem[] {
  return Array.from({ length: count }, (_, i) => {
    const tests = Array.from({ length: cases }, (_, k) => {
      const n = base + 10_000 * k + i;
      return { input: `${n}\n`, output: `${(n * (n + 1)) / 2}\n` };
    });
    return {
      id: `sum-${i}`,
      prompt: `# Read n and print 1 + 2 + ... + n (problem ${i}).\n`,
      language: 'python' as const,
      canonicalSolutions: [
        `n = int(input())\ntotal = 0\nfor k in range(n + 1):\n    total += k\nprint(total)\n`,
      ],
      tests: { kind: 'stdio' as const, cases: tests },
    };
  });
}

/** Stage-0 CCCS prompt: the whole canonical program is given, the model writes a trailing comment. */
export const givenAll: Curriculum = {
  specificationVersion: 'v1',
  name: 'bench-given-all',
  stageOf: () => 0,
  prompt: (problem) => {
    const givenPrefix = `${problem.canonicalSolutions[0]!}# `;
    return {
      prompt: `${problem.prompt}${givenPrefix}`,
      givenPrefix,
      target: '',
      completionStart: givenPrefix.length,
      stage: 0,
      stageCount: 1,
    };
  },
  record() {},
  state: () => null,
  restore() {},
};

export const reward: RewardFn = {
  specificationVersion: 'v1',
  name: 'bench',
  score: (r: ExecutionResult) => (r.outcome === 'infra_error' ? null : r.outcome === 'pass' ? 1 : -0.6),
};

/** Same verdicts as the real run (a comment spilling onto a new line does not compile), fixed delay. */
function sleepExecutor(delayMs: number): Executor {
  return {
    specificationVersion: 'v1',
    name: 'sleep',
    languages: ['python'],
    async run(req) {
      await new Promise((r) => setTimeout(r, delayMs));
      const outcome = req.program.includes('\n', req.program.lastIndexOf('# ') + 2)
        ? 'compile_error'
        : 'pass';
      return {
        outcome,
        tests: [],
        passed: 0,
        total: 1,
        durationMs: delayMs,
        stdout: '',
        stderr: '',
        truncated: false,
      };
    },
    async dispose() {},
  };
}

/** The Python executor (pool of 2) when a probe passes, else the `fallbackDelayMs` sleep executor. */
export async function pickExecutor(fallbackDelayMs: number): Promise<{ executor: Executor; note: string }> {
  try {
    const mod = await import('@stepcoder/executor-python/base');
    const executor = mod.createPythonExecutor({ poolSize: 2 }) as Executor;
    const probe = await executor.run({
      program: 'print(input())',
      tests: { kind: 'stdio', cases: [{ input: 'ok\n', output: 'ok\n' }] },
    });
    if (probe.outcome !== 'pass') throw new Error(`probe: ${probe.outcome} ${probe.message ?? ''}`);
    return { executor, note: 'python (pool of 2 fork-server workers)' };
  } catch (err) {
    return {
      executor: sleepExecutor(fallbackDelayMs),
      note: `${fallbackDelayMs} ms sleep executor (python unavailable: ${(err as Error).message})`,
    };
  }
}
