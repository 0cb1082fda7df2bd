/**
 * Throughput and latency of the HTTP service against the in-process executor, same run, same
 * programs (the 164 HumanEval canonical solutions), same Python pool; then an overload run at 10×
 * the server's capacity (running + queued) that must yield only 200s and 429s with bounded RSS.
 *
 *     flock /tmp/bench.lock pnpm --filter @stepcoder/server bench
 *
 * Env: BENCH_CONCURRENCY (clients, default 8), BENCH_ROUNDS (passes over HumanEval, default 3),
 * BENCH_POOL (Python workers on both sides, default = concurrency).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type ExecutionRequest, mapLimited, type Problem, registry } from '@stepcoder/core';
import { createHumanEvalLoader } from '@stepcoder/datasets/base';
import { registerServerLoaders } from '../src/runtime.js';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const POOL = Number(process.env.BENCH_POOL ?? CONCURRENCY);
const MAX_QUEUE = 2 * CONCURRENCY;
const HUMANEVAL = fileURLToPath(
  new URL('../../executor-python/test/fixtures/humaneval/HumanEval.jsonl.gz', import.meta.url),
);

interface Run {
  label: string;
  requests: number;
  seconds: number;
  latencies: number[];
  passed: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

function requestOf(p: Problem): ExecutionRequest {
  return {
    program: p.canonicalSolutions[0]!,
    language: 'python',
    tests: p.tests,
    preamble: p.harness?.preamble,
    epilogue: p.harness?.epilogue,
  };
}

async function timed(
  label: string,
  requests: ExecutionRequest[],
  run: (r: ExecutionRequest) => Promise<string>,
): Promise<Run> {
  const latencies: number[] = [];
  let passed = 0;
  const t0 = performance.now();
  await mapLimited(requests, CONCURRENCY, async (r) => {
    const t = performance.now();
    if ((await run(r)) === 'pass') passed++;
    latencies.push(performance.now() - t);
  });
  return { label, requests: requests.length, seconds: (performance.now() - t0) / 1000, latencies, passed };
}

function merge(runs: Run[]): Run {
  return {
    label: runs[0]!.label,
    requests: runs.reduce((n, r) => n + r.requests, 0),
    seconds: runs.reduce((n, r) => n + r.seconds, 0),
    latencies: runs.flatMap((r) => r.latencies),
    passed: runs.reduce((n, r) => n + r.passed, 0),
  };
}

async function startServerProcess(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./serve-child.ts', import.meta.url))],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BENCH_POOL: String(POOL),
        BENCH_MAX_CONCURRENCY: String(CONCURRENCY),
        BENCH_MAX_QUEUE: String(MAX_QUEUE),
      },
    },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /\{"url":"([^"]+)"\}/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  return { child, url };
}

/** Resident set of one process (the Node server; its Python workers are separate processes). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function overload(url: string, pid: number) {
  const capacity = CONCURRENCY + MAX_QUEUE;
  const clients = 10 * capacity;
  const perClient = 3;
  const body = JSON.stringify({
    program: 'def f(n):\n    return sum(range(n))\n',
    language: 'python',
    tests: { kind: 'call', fnName: 'f', inputs: [[10_000]], outputs: [49995000] },
  });
  const statuses = new Map<number | string, number>();
  const rssBefore = rssMiB(pid);
  let rssMax = rssBefore;
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, rssMiB(pid));
  }, 50);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) {
        const status = await fetch(`${url}/v1/execute`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }).then(
          async (res) => {
            await res.arrayBuffer();
            return res.status;
          },
          (err: Error) => `network: ${err.message}`,
        );
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  clearInterval(sampler);
  return {
    capacity,
    clients,
    requests: clients * perClient,
    seconds: (performance.now() - t0) / 1000,
    statuses,
    rssBefore,
    rssMax,
  };
}

async function main(): Promise<void> {
  const problems: Problem[] = [];
  for await (const p of createHumanEvalLoader().load(HUMANEVAL)) problems.push(p);

  const step = (text: string) => process.stderr.write(`[bench] ${text}\n`);
  step(`${problems.length} problems loaded`);
  registerServerLoaders(registry);
  const executor = await registry.create('executor', 'python', { poolSize: POOL });
  await executor.run(requestOf(problems[0]!)); // warm the pool, as the server's warm-up does
  step('starting the server process');
  const { child, url } = await startServerProcess();
  const viaHttp = async (r: ExecutionRequest) => {
    const res = await fetch(`${url}/v1/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(r),
    });
    const json = (await res.json()) as { outcome?: string };
    return res.status === 200 ? json.outcome! : `http ${res.status}`;
  };
  // Alternate the two paths round by round, so that load from other users of a shared machine
  // falls on both alike rather than on whichever ran second.
  const inProcessRuns: Run[] = [];
  const httpRuns: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    step(`round ${round + 1}/${ROUNDS}: in-process, then HTTP`);
    inProcessRuns.push(
      await timed(
        'in-process executor',
        problems.map(requestOf),
        async (r) => (await executor.run(r)).outcome,
      ),
    );
    httpRuns.push(await timed('HTTP /v1/execute', problems.map(requestOf), viaHttp));
  }
  const inProcess = merge(inProcessRuns);
  const http = merge(httpRuns);
  // Bounded: never let the baseline's teardown hang the bench.
  await Promise.race([executor.dispose(), new Promise((r) => setTimeout(r, 10_000))]);
  step('overload run');
  const over = await overload(url, child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  const rps = (r: Run) => r.requests / r.seconds;
  console.log(
    `\n@stepcoder/server bench — ${problems.length} HumanEval canonical solutions × ${ROUNDS} rounds, ${CONCURRENCY} concurrent clients, Python pool ${POOL} on both sides.\nBaseline: the same requests through registry.create('executor', 'python') in this process, same run, rounds alternating with the HTTP path.\n`,
  );
  console.log('| path | requests | pass | programs/s | p50 ms | p99 ms | vs in-process |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of [inProcess, http]) {
    console.log(
      `| ${r.label} | ${r.requests} | ${r.passed} | ${rps(r).toFixed(1)} | ${quantile(r.latencies, 0.5).toFixed(0)} | ${quantile(r.latencies, 0.99).toFixed(0)} | ${(rps(r) / rps(inProcess)).toFixed(2)}× |`,
    );
  }
  const perRound = (runs: Run[]) => runs.map((r) => rps(r).toFixed(1)).join(' / ');
  console.log(`\nPer round, programs/s: in-process ${perRound(inProcessRuns)}; HTTP ${perRound(httpRuns)}.`);
  const statusText = [...over.statuses.entries()].map(([s, n]) => `${s}: ${n}`).join(', ');
  const only200and429 = [...over.statuses.keys()].every((s) => s === 200 || s === 429);
  console.log(
    `\nOverload: ${over.clients} clients (10 × capacity ${over.capacity} = ${CONCURRENCY} running + ${MAX_QUEUE} queued), ${over.requests} requests in ${over.seconds.toFixed(1)} s → ${statusText}; only 200/429: ${only200and429 ? 'yes' : 'NO'}; server RSS ${over.rssBefore.toFixed(0)} → max ${over.rssMax.toFixed(0)} MiB.`,
  );
  console.log(
    '\nMeasured on a shared machine; see the package README for the conditions of the committed figures.',
  );
  if (!only200and429) process.exitCode = 1;
}

await main();
