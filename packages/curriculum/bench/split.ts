/**
 * Python split throughput: one long-lived python3 process fed batches (what the curriculum does)
 * versus one python3 process per program (the baseline), measured in the same run on the same
 * programs (164 HumanEval + 32 APPS+ canonical solutions).
 *
 *   pnpm --filter @stepcoder/curriculum bench
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createPythonSplitter, splitPrograms } from '../src/base.js';

function load(): string[] {
  const he = gunzipSync(readFileSync(new URL('../test/fixtures/HumanEval.jsonl.gz', import.meta.url)))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { prompt: string; canonical_solution: string })
    .map((r) => r.prompt + r.canonical_solution);
  const apps = ['train.json', 'valid.json'].flatMap((f) =>
    (
      JSON.parse(
        readFileSync(new URL(`../test/fixtures/apps-plus-sample/${f}`, import.meta.url), 'utf8'),
      ) as Array<{ canonical_solution: string }>
    ).map((r) => r.canonical_solution),
  );
  return [...he, ...apps];
}

const programs = load();
const inputs = programs.map((source) => ({ source, language: 'python' as const }));

async function timed(run: () => Promise<number>): Promise<{ ms: number; n: number }> {
  const t0 = performance.now();
  const n = await run();
  return { ms: performance.now() - t0, n };
}

// Baseline: a fresh python3 process for every program, one after the other. A process start
// dominates its cost, so the first 48 programs give its rate and keep the bench bounded.
const baselineInputs = inputs.slice(0, 48);
const baseline = await timed(async () => {
  for (const input of baselineInputs) {
    const own = createPythonSplitter();
    const [r] = await splitPrograms([input], { splitter: own });
    if (r!.method !== 'ast') throw new Error(`baseline fell back: ${r!.reason}`);
    await own.close();
  }
  return baselineInputs.length;
});

// Batched, cold: one new process for the whole corpus (start-up included).
const cold = await timed(async () => {
  const own = createPythonSplitter();
  const rs = await splitPrograms(inputs, { splitter: own });
  if (rs.some((r) => r.method !== 'ast')) throw new Error('batched fell back');
  if (own.spawnCount !== 1) throw new Error(`expected 1 process, got ${own.spawnCount}`);
  await own.close();
  return inputs.length;
});

// Batched, warm: the process is already running (steady state in training); 10 passes.
const warmSplitter = createPythonSplitter({ idleMs: 60_000 });
await splitPrograms(inputs.slice(0, 1), { splitter: warmSplitter });
const warm = await timed(async () => {
  for (let i = 0; i < 10; i++) await splitPrograms(inputs, { splitter: warmSplitter });
  return inputs.length * 10;
});
await warmSplitter.close();

const rate = (r: { ms: number; n: number }) => (r.n / r.ms) * 1000;
const rows: Array<[string, { ms: number; n: number }]> = [
  ['one python3 per program (baseline)', baseline],
  ['one python3 for the batch, cold start', cold],
  ['one python3, warm (10 passes)', warm],
];
console.log(`Python split throughput, ${programs.length} programs (HumanEval + APPS+ sample)\n`);
console.log('| mode | programs | time (ms) | programs/s | vs baseline |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, r] of rows) {
  console.log(
    `| ${name} | ${r.n} | ${r.ms.toFixed(0)} | ${rate(r).toFixed(1)} | ${(rate(r) / rate(baseline)).toFixed(1)}x |`,
  );
}
