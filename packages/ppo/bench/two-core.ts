/**
 * A full PPO iteration (generate + execute + update) on 1 core vs 2 cores, in one run, same seed,
 * model, problems and batch. Each side is its own child process pinned with `taskset`:
 *
 *   1 core  — `taskset -c 0`: the sequential loop, everything on the main thread (the baseline);
 *   2 cores — `taskset -c 0,1`: generation on a worker thread (`createGeneratorWorker`, its own
 *             wasm backend) with `overlap: true`, so batch i+1 generates during batch i's
 *             execution *and* update, the weights pushed to the worker after each update.
 *
 * Two context rows (2 cores, unpinned as the trainer runs today): the sequential loop and the
 * in-process overlap (generation overlaps execution only).
 *
 *   pnpm --filter @stepcoder/ppo bench:two-core
 *   env: BENCH_ITERS=4 BENCH_BATCH=16 BENCH_TOKENS=128 BENCH_EPOCHS=1 BENCH_CONTEXT=1 (0: skip context rows)
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createByteTokenizer,
  createGeneratorWorker,
  createPolicy,
  type GeneratorWorker,
  GPT2_TINY,
  initBackend,
} from '@stepcoder/model';
import { createTrainer, type IterationTiming } from '../src/index.js';
import { benchProblems, givenAll, pickExecutor, reward } from './fixtures.js';

const ITERS = Number(process.env.BENCH_ITERS ?? 4);
const BATCH = Number(process.env.BENCH_BATCH ?? 16);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 128);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 1);
const CONTEXT = (process.env.BENCH_CONTEXT ?? '1') !== '0';

type Mode = 'sequential' | 'overlap' | 'worker';

interface SideResult {
  mode: Mode;
  cpus: string;
  backend: string;
  workerBackend?: string;
  executor: string;
  walls: number[];
  generate: number;
  generateWait: number;
  execute: number;
  update: number;
  weightSync: number;
  wall: number;
  /** Process CPU time (all its threads; not the Python executor processes) / wall time. */
  busyCores: number;
  /** Worker thread event-loop utilisation over the timed iterations (busy fraction). */
  workerUtilisation?: number;
}

/** One side, in this (child) process. */
async function runSide(mode: Mode, cpus: string): Promise<SideResult> {
  const backend = await initBackend({ log: false });
  const { executor, note } = await pickExecutor(20);
  const policy = await createPolicy({ config: GPT2_TINY, tokenizer: createByteTokenizer(), seed: 1 });
  let generator: GeneratorWorker | undefined;
  if (mode === 'worker') generator = await createGeneratorWorker.fromPolicy(policy);
  const trainer = await createTrainer({
    policy,
    generator,
    seed: 3,
    problems: benchProblems(16, 4, 50_000),
    executor,
    reward,
    curriculum: givenAll,
    batchSize: BATCH,
    generation: { maxNewTokens: TOKENS, temperature: 1 },
    ppo: { epochs: EPOCHS, minibatchSize: 8 },
    lr: 1e-4,
    overlap: mode !== 'sequential',
  });
  await trainer.iterate(); // warm-up: kernels, executor pool, and (with overlap) the first prefetch
  const timings: IterationTiming[] = [];
  const cpuStart = process.cpuUsage();
  const eluStart = generator?.thread.performance.eventLoopUtilization();
  const start = performance.now();
  for (let i = 0; i < ITERS; i++) timings.push((await trainer.iterate()).timing);
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const elu = generator && eluStart ? generator.thread.performance.eventLoopUtilization(eluStart) : undefined;
  await trainer.dispose();
  await generator?.dispose();
  await executor.dispose();
  policy.dispose();
  const mean = (f: (t: IterationTiming) => number) => timings.reduce((a, t) => a + f(t), 0) / timings.length;
  return {
    mode,
    cpus,
    backend: backend.describe(),
    workerBackend: generator?.backend,
    executor: note,
    walls: timings.map((t) => t.wallMs),
    generate: mean((t) => t.generateMs),
    generateWait: mean((t) => t.generateWaitMs ?? t.generateMs),
    execute: mean((t) => t.executeMs),
    update: mean((t) => t.updateMs),
    weightSync: mean((t) => t.weightSyncMs ?? 0),
    wall: elapsed / ITERS,
    busyCores: (cpu.user + cpu.system) / 1000 / elapsed,
    workerUtilisation: elu?.utilization,
  };
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A side in a child process, pinned to `cpus` with taskset when given. */
function spawnSide(mode: Mode, cpus: string | undefined): Promise<SideResult> {
  const script = fileURLToPath(import.meta.url);
  const node = [...process.execArgv, script, '--side', mode, cpus ?? 'unpinned'];
  const [cmd, args] = cpus ? ['taskset', ['-c', cpus, process.execPath, ...node]] : [process.execPath, node];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`side ${mode} exited with ${code}: ${out}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as SideResult);
    });
  });
}

const sideArg = process.argv.indexOf('--side');
if (sideArg >= 0) {
  const result = await runSide(process.argv[sideArg + 1] as Mode, process.argv[sideArg + 2]!);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} else {
  const pin = hasTaskset();
  const one = await spawnSide('sequential', pin ? '0' : undefined);
  const two = await spawnSide('worker', pin ? '0,1' : undefined);
  const context = CONTEXT
    ? [await spawnSide('sequential', undefined), await spawnSide('overlap', undefined)]
    : [];
  const f = (ms: number) => `${ms.toFixed(0)} ms`;
  const label: Record<Mode, string> = {
    sequential: 'sequential, all on the main thread',
    overlap: 'in-process overlap (generation ∥ execution)',
    worker: 'worker generator + overlap (generation ∥ execution + update)',
  };
  console.log(
    `\n### One PPO iteration, 1 core vs 2 cores — GPT2_TINY (${(385_153 / 1e6).toFixed(2)}M parameters), batch ${BATCH}, ${TOKENS} new tokens, PPO ${EPOCHS} epoch(s) of minibatch 8, seed 3; mean of ${ITERS} iterations after 1 warm-up`,
  );
  console.log(
    `main-thread backend: ${one.backend}; worker backend: ${two.workerBackend}; executor: ${one.executor}`,
  );
  console.log(
    `pinning: ${pin ? 'taskset -c 0 (1 core) / taskset -c 0,1 (2 cores)' : 'taskset unavailable: unpinned'}\n`,
  );
  console.log(
    '| side | cores | loop | generate | (waited) | execute | update | weight push | iteration wall | process CPU / wall | worker busy |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const row = (name: string, r: SideResult) =>
    console.log(
      `| ${name} | ${r.cpus === 'unpinned' ? '2 (unpinned)' : r.cpus.split(',').length} | ${label[r.mode]} | ${f(r.generate)} | ${f(r.generateWait)} | ${f(r.execute)} | ${f(r.update)} | ${r.mode === 'worker' ? f(r.weightSync) : '–'} | **${f(r.wall)}** | ${r.busyCores.toFixed(2)} | ${r.workerUtilisation === undefined ? '–' : `${(100 * r.workerUtilisation).toFixed(0)}%`} |`,
    );
  row('1 core (baseline)', one);
  row('2 cores', two);
  for (const r of context) row('context', r);
  console.log(
    `\nspeed-up, 2 cores (worker + overlap) vs 1 core (sequential): **${(one.wall / two.wall).toFixed(2)}×**`,
  );
  for (const r of context)
    console.log(`  context: ${label[r.mode]}, unpinned: ${(one.wall / r.wall).toFixed(2)}× the 1-core wall`);
  // With generation fully hidden, an iteration costs execute + update (+ weight push): the bound.
  const bound = one.wall / (two.execute + two.update + two.weightSync);
  console.log(
    `bound if generation were fully hidden (1-core wall / 2-core execute + update + push): ${bound.toFixed(2)}×`,
  );
  console.log(
    `per-iteration walls: 1 core ${one.walls.map((w) => w.toFixed(0)).join(', ')}; 2 cores ${two.walls.map((w) => w.toFixed(0)).join(', ')}`,
  );
}
