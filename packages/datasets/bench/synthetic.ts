/**
 * How long generating the synthetic suite takes, against a baseline measured in the same process:
 * loading the same problems back from a JSONL file with the `jsonl` loader (what a user who wrote
 * the suite once with `stepcoder synthetic` would do instead). Wall and CPU time (user + system of
 * this process: on a busy shared machine CPU time is the steadier figure), median of `--runs`
 * after one warm-up.
 *
 * Usage: flock /tmp/bench.lock pnpm exec tsx bench/synthetic.ts [--count 6000] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonlLoader, generateSyntheticSuite, writeSyntheticJsonl } from '../src/index.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 6000);
const runs = arg('runs', 5);

interface Timing {
  wallMs: number;
  cpuMs: number;
}

async function measure(fn: () => unknown | Promise<unknown>): Promise<Timing> {
  await fn(); // warm-up
  const samples: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wallMs = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    samples.push({ wallMs, cpuMs: (used.user + used.system) / 1000 });
  }
  const median = (k: keyof Timing) => samples.map((s) => s[k]).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  return { wallMs: median('wallMs'), cpuMs: median('cpuMs') };
}

const dir = mkdtempSync(join(tmpdir(), 'synthetic-bench-'));
try {
  const rows: Array<[string, Timing, Timing]> = [];
  for (const language of ['python', 'javascript'] as const) {
    const path = join(dir, `${language}.jsonl`);
    writeSyntheticJsonl(path, { language, count });
    const generate = await measure(() => generateSyntheticSuite({ language, count }));
    const load = await measure(() => createJsonlLoader().load(path).toArray());
    rows.push([language, generate, load]);
  }
  const f = (n: number) => n.toFixed(0).padStart(8);
  console.log(`synthetic suite, ${count} problems, median of ${runs} runs (shared 2-core machine)\n`);
  console.log(
    '| language   | generate wall ms | generate CPU ms | jsonl load wall ms | jsonl load CPU ms | CPU ratio |',
  );
  console.log(
    '|------------|------------------|-----------------|--------------------|-------------------|-----------|',
  );
  for (const [language, g, l] of rows) {
    console.log(
      `| ${language.padEnd(10)} | ${f(g.wallMs)}         | ${f(g.cpuMs)}        | ${f(l.wallMs)}           | ${f(l.cpuMs)}          | ${(g.cpuMs / l.cpuMs).toFixed(2)}x     |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
