/**
 * Throughput of the pooled Python executor on the HumanEval canonical solutions, against the naive
 * baseline of one fresh `python3` process per test, and the cost of coverage: all in the same run.
 *
 *     pnpm --filter @stepcoder/executor-python bench
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { mapLimited } from '@stepcoder/core';
import { createPythonExecutor, ensurePython } from '../src/index.js';
import { humanEvalRequest, loadHumanEval } from '../test/humaneval.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Interpreter to measure (`BENCH_PYTHON=python3.12` shows the sys.monitoring coverage path). */
const PYTHON = process.env.BENCH_PYTHON ?? 'python3';
const concurrency = Math.max(1, availableParallelism());
const problems = loadHumanEval();

/** One fresh interpreter per test: what human-eval's own harness does. */
function naiveRun(python: string, source: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', source], { stdio: ['ignore', 'ignore', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const info = await ensurePython(PYTHON);
  const python = info.executable;
  const executor = createPythonExecutor({ pythonPath: PYTHON, poolSize: concurrency });
  // Line counters compiled into the candidate (the default below Python 3.12).
  const counted = createPythonExecutor({
    pythonPath: PYTHON,
    poolSize: concurrency,
    coverageBackend: 'counters',
  });
  // The interpreter's own line events (sys.settrace below 3.12), counts exact to 1000 hits...
  const traced = createPythonExecutor({
    pythonPath: PYTHON,
    poolSize: concurrency,
    coverageBackend: 'trace',
  });
  // ... and stopping to trace a function once each of its lines ran once.
  const firstHit = createPythonExecutor({
    pythonPath: PYTHON,
    poolSize: concurrency,
    coverageBackend: 'trace',
    coverageHitCap: 1,
  });
  const executors = [executor, counted, traced, firstHit];
  await Promise.all(executors.map((e) => e.warm()));
  const requests = problems.map((p) => humanEvalRequest(p));
  const naiveSources = problems.map(
    (p) => `${p.prompt}${p.canonical_solution}\n${p.test}\ncheck(${p.entry_point})\n`,
  );

  const pool: number[] = [];
  const poolCov: number[] = [];
  const poolTrace: number[] = [];
  const poolCov1: number[] = [];
  const naive: number[] = [];
  let passed = { pool: 0, cov: 0, trace: 0, cov1: 0, naive: 0 };
  let perProgram: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved so that load from other processes on the machine hits every variant alike.
    const off = await time(() => mapLimited(requests, concurrency * 2, (r) => executor.run(r)));
    const on = await time(() =>
      mapLimited(requests, concurrency * 2, (r) => counted.run({ ...r, coverage: true })),
    );
    const onTrace = await time(() =>
      mapLimited(requests, concurrency * 2, (r) => traced.run({ ...r, coverage: true })),
    );
    const on1 = await time(() =>
      mapLimited(requests, concurrency * 2, (r) => firstHit.run({ ...r, coverage: true })),
    );
    const fresh = await time(() => mapLimited(naiveSources, concurrency, (s) => naiveRun(python, s)));
    perProgram = off.value.map((r, i) => on.value[i]!.durationMs / r.durationMs);
    pool.push(off.ms);
    poolCov.push(on.ms);
    poolTrace.push(onTrace.ms);
    poolCov1.push(on1.ms);
    naive.push(fresh.ms);
    passed = {
      pool: off.value.filter((r) => r.outcome === 'pass').length,
      cov: on.value.filter((r) => r.outcome === 'pass').length,
      trace: onTrace.value.filter((r) => r.outcome === 'pass').length,
      cov1: on1.value.filter((r) => r.outcome === 'pass').length,
      naive: fresh.value.filter(Boolean).length,
    };
  }
  await Promise.all(executors.map((e) => e.dispose()));

  const n = problems.length;
  const rate = (ms: number) => (n / ms) * 1000;
  const poolRate = rate(median(pool));
  const covRate = rate(median(poolCov));
  const traceRate = rate(median(poolTrace));
  const cov1Rate = rate(median(poolCov1));
  const naiveRate = rate(median(naive));
  const monitoring = info.version[0]! > 3 || info.version[1]! >= 12;
  const traceName = monitoring ? 'sys.monitoring' : 'sys.settrace';
  const rows = [
    ['naive: fresh interpreter per test', naiveRate, passed.naive, '1.00x (baseline)'],
    [
      'pool (fork per program)',
      poolRate,
      passed.pool,
      `${(poolRate / naiveRate).toFixed(2)}x vs naive (target >= 5x)`,
    ],
    [
      `pool + coverage (backend 'counters': compiled-in line counters${monitoring ? '' : ', the default'})`,
      covRate,
      passed.cov,
      `${(median(poolCov) / median(pool)).toFixed(2)}x the time of coverage off${monitoring ? '' : ' (target <= 1.5x)'}`,
    ],
    [
      `pool + coverage (backend 'trace': ${traceName}${monitoring ? ', the default' : ''}, counts exact to 1000 hits)`,
      traceRate,
      passed.trace,
      `${(median(poolTrace) / median(pool)).toFixed(2)}x the time of coverage off${monitoring ? ' (target <= 1.5x)' : ''}`,
    ],
    [
      `pool + coverage (backend 'trace', coverageHitCap 1)`,
      cov1Rate,
      passed.cov1,
      `${(median(poolCov1) / median(pool)).toFixed(2)}x the time of coverage off`,
    ],
  ] as const;
  console.log(
    `\nHumanEval canonical solutions: ${n} programs, Python ${info.version.join('.')}, concurrency ${concurrency}, median of ${ROUNDS} rounds\n`,
  );
  console.log('| variant | programs/s | passed | ratio |');
  console.log('|---|---:|---:|---|');
  for (const [name, r, ok, ratio] of rows)
    console.log(`| ${name} | ${r.toFixed(1)} | ${ok}/${n} | ${ratio} |`);
  const sorted = [...perProgram].sort((a, b) => a - b);
  const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]!.toFixed(2);
  console.log(
    `\nPer-program cost of the counters backend (run time on/off, last round): median ${q(0.5)}x, p90 ${q(0.9)}x, max ${q(1)}x.` +
      ' sys.settrace pays most on hot pure-Python loops: it calls a Python function per line event.',
  );
}

await main();
