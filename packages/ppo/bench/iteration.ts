/**
 * One full PPO iteration on a tiny GPT-2 broken into generate / execute / update, and the speed-up
 * of overlapping execution of batch i with generation of batch i+1, measured in the same run
 * against the sequential loop (same seed, same model, same problems).
 *
 *   pnpm --filter @stepcoder/ppo bench   (env: BENCH_ITERS=2 BENCH_BATCH=8 BENCH_TOKENS=32 BENCH_CHUNK=2)
 */
import type { Executor } from '@stepcoder/core';
import { createByteTokenizer, createPolicy, GPT2_TINY, initBackend } from '@stepcoder/model';
import { createTrainer, type IterationTiming } from '../src/index.js';
import { benchProblems, givenAll, pickExecutor, reward } from './fixtures.js';

const ITERS = Number(process.env.BENCH_ITERS ?? 2);
const BATCH = Number(process.env.BENCH_BATCH ?? 8);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 32);
/** Prompts per generate call in both loops, so both do the same generation work. */
const CHUNK = Number(process.env.BENCH_CHUNK ?? 2);

async function run(overlap: boolean, executor: Executor) {
  const policy = await createPolicy({ config: GPT2_TINY, tokenizer: createByteTokenizer(), seed: 1 });
  const trainer = await createTrainer({
    policy,
    seed: 3,
    problems: benchProblems(12, 6, 150_000), // ~10-20 ms of Python per test
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
const { executor, note } = await pickExecutor(40);
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
