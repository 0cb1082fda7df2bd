/**
 * One full PPO iteration on a tiny GPT-2 broken into generate / execute / update, and the speed-up
 * of overlapping execution of batch i with generation of batch i+1, measured in the same run
 * against the sequential loop (same seed, same model, same problems).
 *
 *   pnpm --filter @stepcoder/ppo bench   (env: BENCH_ITERS=2 BENCH_BATCH=8 BENCH_TOKENS=32 BENCH_CHUNK=2)
 */
import type { Curriculum, ExecutionResult, Executor, Problem, RewardFn } from '@stepcoder/core';
import { createByteTokenizer, createPolicy, GPT2_TINY, initBackend } from '@stepcoder/model';
import { createTrainer, type IterationTiming } from '../src/index.js';

const ITERS = Number(process.env.BENCH_ITERS ?? 2);
const BATCH = Number(process.env.BENCH_BATCH ?? 8);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 32);
/** Prompts per generate call in both loops, so both do the same generation work. */
const CHUNK = Number(process.env.BENCH_CHUNK ?? 2);

/** Small stdio problems whose canonical solutions really compute something per test. */
function benchProblems(): Problem[] {
  return Array.from({ length: 12 }, (_, i) => {
    const cases = Array.from({ length: 6 }, (_, k) => {
      const n = 150_000 + 10_000 * k + i; // ~10-20 ms of Python per test
      return { input: `${n}\n`, output: `${(n * (n + 1)) / 2}\n` };
    });
    return {
      id: `sum-${i}`,
      prompt: `# Read n and print 1 + 2 + ... + n (problem ${i}).\n`,
      language: 'python' as const,
      canonicalSolutions: [
        `n = int(input())\ntotal = 0\nfor k in range(n + 1):\n    total += k\nprint(total)\n`,
      ],
      tests: { kind: 'stdio' as const, cases },
    };
  });
}

/**
 * A stage-0 CCCS prompt: the whole canonical program is given and the model writes a trailing
 * comment, so programs actually run their tests (a random model's code would only hit syntax errors).
 */
const givenAll: Curriculum = {
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

const reward: RewardFn = {
  specificationVersion: 'v1',
  name: 'bench',
  score: (r: ExecutionResult) => (r.outcome === 'infra_error' ? null : r.outcome === 'pass' ? 1 : -0.6),
};

/** Fallback when the Python executor is unavailable: same verdicts, a fixed 40 ms per program. */
function sleepExecutor(): Executor {
  return {
    specificationVersion: 'v1',
    name: 'sleep',
    languages: ['python'],
    async run(req) {
      await new Promise((r) => setTimeout(r, 40));
      const outcome = req.program.includes('\n', req.program.lastIndexOf('# ') + 2)
        ? 'compile_error'
        : 'pass';
      return {
        outcome,
        tests: [],
        passed: 0,
        total: 1,
        durationMs: 40,
        stdout: '',
        stderr: '',
        truncated: false,
      };
    },
    async dispose() {},
  };
}

async function pickExecutor(): Promise<{ executor: Executor; note: string }> {
  try {
    const mod = await import('@stepcoder/executor-python/base');
    const executor = mod.createPythonExecutor({ poolSize: 2 }) as Executor;
    const probe = await executor.run({
      program: 'print(input())',
      tests: { kind: 'stdio', cases: [{ input: 'ok\n', output: 'ok\n' }] },
    });
    if (probe.outcome !== 'pass') throw new Error(`probe: ${probe.outcome} ${probe.message ?? ''}`);
    return { executor, note: '@stepcoder/executor-python (pool of 2 workers)' };
  } catch (err) {
    return {
      executor: sleepExecutor(),
      note: `fallback 40 ms sleep executor (python executor unavailable: ${(err as Error).message})`,
    };
  }
}

async function run(overlap: boolean, executor: Executor) {
  const policy = await createPolicy({ config: GPT2_TINY, tokenizer: createByteTokenizer(), seed: 1 });
  const trainer = await createTrainer({
    policy,
    seed: 3,
    problems: benchProblems(),
    executor,
    reward,
    curriculum: givenAll,
    batchSize: BATCH,
    generation: { maxNewTokens: TOKENS, temperature: 1, chunkSize: CHUNK },
    ppo: { epochs: 1, minibatchSize: BATCH },
    lr: 1e-4,
    overlap,
  });
  await trainer.iterate(); // warm-up: kernels, executor pool, and (with overlap) the first prefetch
  const timings: IterationTiming[] = [];
  for (let i = 0; i < ITERS; i++) timings.push((await trainer.iterate()).timing);
  await trainer.dispose();
  policy.dispose();
  const mean = (f: (t: IterationTiming) => number) => timings.reduce((a, t) => a + f(t), 0) / timings.length;
  return {
    generate: mean((t) => t.generateMs),
    execute: mean((t) => t.executeMs),
    update: mean((t) => t.updateMs),
    wall: mean((t) => t.wallMs),
  };
}

const backend = await initBackend({ log: false });
const { executor, note } = await pickExecutor();
const sequential = await run(false, executor);
const overlapped = await run(true, executor);
await executor.dispose();

const f = (ms: number) => `${ms.toFixed(0)} ms`;
console.log(
  `\n### One PPO iteration — GPT2_TINY, batch ${BATCH}, ${TOKENS} new tokens, ${CHUNK} prompts per generate call, mean of ${ITERS} after 1 warm-up`,
);
console.log(`backend: ${backend.describe()}; executor: ${note}\n`);
console.log('| loop | generate | execute | update | iteration wall |');
console.log('|---|---|---|---|---|');
console.log(
  `| sequential (baseline) | ${f(sequential.generate)} | ${f(sequential.execute)} | ${f(sequential.update)} | ${f(sequential.wall)} |`,
);
console.log(
  `| overlapped | ${f(overlapped.generate)} | ${f(overlapped.execute)} | ${f(overlapped.update)} | ${f(overlapped.wall)} |`,
);
// Generation, update and execution times vary with machine load between the two runs, so the
// measured ratio is printed next to the ideal one from the sequential run's own breakdown:
// overlap can hide at most min(generate, execute) per iteration.
const ideal = sequential.wall / (sequential.wall - Math.min(sequential.generate, sequential.execute));
console.log(
  `\nspeed-up of overlapping, measured (sequential wall / overlapped wall): ${(sequential.wall / overlapped.wall).toFixed(2)}×`,
);
console.log(`ideal speed-up for this breakdown (hiding min(generate, execute)): ${ideal.toFixed(2)}×`);
