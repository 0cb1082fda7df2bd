/**
 * Throughput of executor-js against two baselines measured in the same run, coverage overhead,
 * and the parent's RSS over 5,000 runs. Prints markdown tables. Timings on a shared machine are
 * noisy: compare ratios, not absolute numbers.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { type CallTests, matchesCallOutput } from '@stepcoder/core';
import ivm from 'isolated-vm';
import { createJsExecutor } from '../src/index.js';
import { PROBLEMS } from '../test/fixtures/humaneval-js.js';
import { istanbulInstrument } from './istanbul.js';

const concurrency = Math.max(1, availableParallelism());
const testsPerRound = PROBLEMS.reduce((n, p) => n + p.call.inputs.length, 0);

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function rounds(n: number) {
  return Array.from({ length: n }, () => PROBLEMS).flat();
}

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** Baseline 1: a brand-new isolate and context for every single test. */
async function freshIsolatePerTest(program: string, tests: CallTests): Promise<boolean> {
  let ok = true;
  for (let i = 0; i < tests.inputs.length; i++) {
    const isolate = new ivm.Isolate({ memoryLimit: 512 });
    try {
      const context = await isolate.createContext();
      await context.eval(program, { timeout: 4000 });
      const json = await context.eval(
        `JSON.stringify(${tests.fnName}(...${JSON.stringify(tests.inputs[i])}))`,
        {
          timeout: 4000,
          copy: true,
        },
      );
      ok &&= matchesCallOutput(JSON.parse(json as string), tests.outputs[i]);
    } finally {
      isolate.dispose();
    }
  }
  return ok;
}

/** Baseline 2: one `node` process per program, running all its tests and printing JSON. */
function childProcessPerProgram(program: string, tests: CallTests): Promise<boolean> {
  const driver = `${program}\nconst out = ${JSON.stringify(tests.inputs)}.map((a) => ${tests.fnName}(...a));\nprocess.stdout.write(JSON.stringify(out));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', driver], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
    });
    child.on('error', reject);
    child.on('close', () => {
      const values = JSON.parse(text) as unknown[];
      resolve(values.every((v, i) => matchesCallOutput(v, tests.outputs[i])));
    });
  });
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main() {
  const executor = createJsExecutor({ poolSize: concurrency });
  // Warm-up: isolates, harness compile, babel/istanbul load.
  for (const p of PROBLEMS) {
    await executor.run({ program: p.program, tests: p.call });
    await executor.run({ program: p.program, tests: p.call, coverage: true });
  }

  const R = 20;
  let failures = 0;
  const through = (ex: typeof executor, coverage: boolean, n: number) =>
    timeIt(() =>
      pool(rounds(n), concurrency, async (p) => {
        const r = await ex.run({ program: p.program, tests: p.call, coverage });
        if (r.outcome !== 'pass' || (coverage && !r.coverage)) failures++;
      }),
    );
  // Off and on alternate in slices so that load from other processes hits both alike.
  let execSeconds = 0;
  let covSeconds = 0;
  for (let k = 0; k < 4; k++) {
    execSeconds += await through(executor, false, R / 4);
    covSeconds += await through(executor, true, R / 4);
  }
  // Fresh programs, as in RL where every rollout is new: a unique trailing comment makes every
  // run's text new, so neither the instrumentation cache nor V8's compile cache can hit.
  let fresh = 0;
  const noop = (_: string): unknown => undefined;
  const freshThrough = (ex: typeof executor, coverage: boolean, n: number, extra = noop) =>
    timeIt(() =>
      pool(rounds(n), concurrency, async (p) => {
        const program = `${p.program}\n// rollout ${++fresh}`;
        if (coverage) extra(program);
        const r = await ex.run({ program, tests: p.call, coverage });
        if (r.outcome !== 'pass' || (coverage && !r.coverage)) failures++;
      }),
    );
  let freshOff = 0;
  let freshOn = 0;
  let freshIstanbul = 0;
  for (let k = 0; k < 4; k++) {
    freshOff += await freshThrough(executor, false, R / 4);
    freshOn += await freshThrough(executor, true, R / 4, noop);
    freshIstanbul += await freshThrough(executor, true, R / 4, istanbulInstrument);
  }
  const perTest = createJsExecutor({ poolSize: concurrency, shareCallContext: false });
  await through(perTest, false, 1);
  const perTestSeconds = await through(perTest, false, R / 2);
  await perTest.dispose();
  const hosted = createJsExecutor({ poolSize: concurrency, isolation: 'process' });
  await through(hosted, false, 1);
  const hostedSeconds = await through(hosted, false, R / 2);
  await hosted.dispose();
  const freshSeconds = await timeIt(() =>
    pool(rounds(5), concurrency, async (p) => {
      if (!(await freshIsolatePerTest(p.program, p.call))) failures++;
    }),
  );
  const childSeconds = await timeIt(() =>
    pool(rounds(2), concurrency, async (p) => {
      if (!(await childProcessPerProgram(p.program, p.call))) failures++;
    }),
  );
  const execRate = (R * testsPerRound) / execSeconds;
  const freshRate = (5 * testsPerRound) / freshSeconds;
  const childRate = (2 * testsPerRound) / childSeconds;
  const covRate = (R * testsPerRound) / covSeconds;
  const perTestRate = ((R / 2) * testsPerRound) / perTestSeconds;
  const hostedRate = ((R / 2) * testsPerRound) / hostedSeconds;

  console.log(
    `## executor-js throughput (${PROBLEMS.length} HumanEval-style JS problems, ${testsPerRound} call tests per round, concurrency ${concurrency})\n`,
  );
  console.log('| runner | test executions/s | executor-js speed-up |');
  console.log('|---|---:|---:|');
  console.log(
    `| executor-js (pooled isolates, one context per program: default) | ${fmt(execRate)} | 1.00x |`,
  );
  console.log(
    `| executor-js, shareCallContext: false (fresh context per test) | ${fmt(perTestRate)} | ${fmt(execRate / perTestRate, 2)}x |`,
  );
  console.log(
    `| executor-js, isolation: 'process' (host processes) | ${fmt(hostedRate)} | ${fmt(execRate / hostedRate, 2)}x |`,
  );
  console.log(`| fresh isolate per test | ${fmt(freshRate)} | ${fmt(execRate / freshRate, 2)}x |`);
  console.log(`| node:child_process per program | ${fmt(childRate)} | ${fmt(execRate / childRate, 2)}x |`);

  console.log('\n## coverage overhead (same programs, same run)\n');
  console.log('| mode | test executions/s | cost (off/on) |');
  console.log('|---|---:|---:|');
  console.log(`| coverage off | ${fmt(execRate)} | 1.00x |`);
  console.log(
    `| coverage on, same programs every round (instrumentation cached) | ${fmt(covRate)} | ${fmt(execRate / covRate, 2)}x |`,
  );
  const freshOffRate = (R * testsPerRound) / freshOff;
  const freshOnRate = (R * testsPerRound) / freshOn;
  const freshIstanbulRate = (R * testsPerRound) / freshIstanbul;
  console.log(`| fresh programs, coverage off | ${fmt(freshOffRate)} | 1.00x |`);
  console.log(
    `| fresh programs, coverage on (instrument.ts) | ${fmt(freshOnRate)} | ${fmt(freshOffRate / freshOnRate, 2)}x (target ≤ 1.3x) |`,
  );
  console.log(
    `| fresh programs, coverage on + one istanbul-lib-instrument pass per program (≈ the cost before instrument.ts) | ${fmt(freshIstanbulRate)} | ${fmt(freshOffRate / freshIstanbulRate, 2)}x |`,
  );

  // RSS over 5,000 runs: sampled every 500 runs after the warm-up above.
  const RUNS = 5000;
  const rss: number[] = [process.memoryUsage().rss];
  let done = 0;
  const all = Array.from({ length: RUNS }, (_, i) => PROBLEMS[i % PROBLEMS.length]!);
  await pool(all, concurrency, async (p) => {
    const r = await executor.run({ program: p.program, tests: p.call, coverage: done % 2 === 1 });
    if (r.outcome !== 'pass') failures++;
    done++;
    if (done % 500 === 0) rss.push(process.memoryUsage().rss);
  });
  const mb = (b: number) => fmt(b / 1024 / 1024, 1);
  console.log(`\n## parent RSS over ${fmt(RUNS)} runs (half with coverage)\n`);
  console.log('| start MiB | peak MiB | end MiB | end − start MiB | live isolates at end |');
  console.log('|---:|---:|---:|---:|---:|');
  console.log(
    `| ${mb(rss[0]!)} | ${mb(Math.max(...rss))} | ${mb(rss[rss.length - 1]!)} | ${mb(rss[rss.length - 1]! - rss[0]!)} | ${executor.stats().liveIsolates} |`,
  );
  console.log(`\nRSS samples every 500 runs (MiB): ${rss.map(mb).join(', ')}`);
  await executor.dispose();
  if (failures > 0) {
    console.error(`\n${failures} runs did not pass: the benchmark is invalid`);
    process.exitCode = 1;
  }
}

await main();
