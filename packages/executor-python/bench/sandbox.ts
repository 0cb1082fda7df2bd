/**
 * Cost of isolation (issue 13): Python programs/s on the HumanEval canonical solutions with
 * namespaces on (bubblewrap, the default on Linux) against rlimits only, and of the judge process
 * for assertion tests against running the cases in the candidate's process: all in the same run,
 * rounds interleaved so machine load hits every variant alike.
 *
 *     pnpm --filter @stepcoder/executor-python bench   (runs this after throughput.ts)
 *     BENCH_ROUNDS=5 tsx bench/sandbox.ts
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { mapLimited } from '@stepcoder/core';
import { createPythonExecutor, type PythonExecutorOptions } from '../src/index.js';
import { humanEvalRequest, loadHumanEval } from '../test/humaneval.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PYTHON = process.env.BENCH_PYTHON ?? 'python3';
const concurrency = Math.max(1, availableParallelism());

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const variants: Array<[string, PythonExecutorOptions]> = [
  [
    'rlimits only, cases in the candidate process (the baseline: before issue 13)',
    { sandbox: 'rlimits', assertJudge: 'in-process' },
  ],
  ['rlimits only, judge process', { sandbox: 'rlimits', assertJudge: 'process' }],
  ['namespaces, cases in the candidate process', { sandbox: 'namespaces', assertJudge: 'in-process' }],
  ['namespaces + judge process (the default)', { sandbox: 'namespaces', assertJudge: 'process' }],
];

async function main(): Promise<void> {
  const problems = loadHumanEval();
  const requests = problems.map((p) => humanEvalRequest(p));
  const executors = variants.map(([, o]) =>
    createPythonExecutor({ pythonPath: PYTHON, poolSize: concurrency, ...o }),
  );
  await Promise.all(executors.map((e) => e.warm()));
  const times: number[][] = variants.map(() => []);
  const passed: number[] = variants.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, executor] of executors.entries()) {
      const t0 = performance.now();
      const results = await mapLimited(requests, concurrency * 2, (r) => executor.run(r));
      times[i]!.push(performance.now() - t0);
      passed[i] = results.filter((r) => r.outcome === 'pass').length;
    }
  }
  const levels = await Promise.all(executors.map(async (e) => (await e.sandbox()).level));
  await Promise.all(executors.map((e) => e.dispose()));
  const n = requests.length;
  const base = median(times[0]!);
  const nsOff = median(times[1]!);
  console.log(
    `\nHumanEval canonical solutions (assertion tests): ${n} programs, concurrency ${concurrency}, median of ${ROUNDS} interleaved rounds\n`,
  );
  console.log('| variant | sandbox | programs/s | passed | time vs baseline | time vs same judge, rlimits |');
  console.log('|---|---|---:|---:|---:|---:|');
  variants.forEach(([name], i) => {
    const t = median(times[i]!);
    const sameJudge = i === 2 ? base : i === 3 ? nsOff : t;
    console.log(
      `| ${name} | ${levels[i]} | ${((n / t) * 1000).toFixed(1)} | ${passed[i]}/${n} | ${(t / base).toFixed(2)}x | ${(t / sameJudge).toFixed(2)}x${i >= 2 ? ' (goal <= 1.2x)' : ''} |`,
    );
  });
}

await main();
