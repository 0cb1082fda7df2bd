import type { StepcoderConfig } from './config.js';
import { createRunContext, type RunIo, trainStage } from './run.js';

interface Timing {
  generateMs: number;
  executeMs: number;
  updateMs: number;
  wallMs: number;
}

/**
 * Times PPO iterations of the configured setup with execution overlapped with the next batch's
 * generation, then without, in the same process: the table the issue asks `stepcoder bench` for.
 * The first iteration of each mode is a warm-up and is not counted.
 */
export async function runBench(config: StepcoderConfig, iterations: number, io: RunIo = {}): Promise<string> {
  const out = io.out ?? process.stdout;
  const results: Record<string, Timing> = {};
  for (const overlap of [false, true]) {
    const label = overlap ? 'overlapped' : 'sequential';
    const cfg: StepcoderConfig = {
      ...config,
      outDir: `${config.outDir}/bench-${label}`,
      train: { ...config.train, steps: iterations + 1, overlap },
    };
    const ctx = await createRunContext(cfg, { ...io, quiet: true });
    try {
      const its = (await trainStage(ctx, { ...io, quiet: true })).slice(1);
      const mean = (key: keyof Timing) => its.reduce((a, r) => a + r.timing[key], 0) / its.length;
      results[label] = {
        generateMs: mean('generateMs'),
        executeMs: mean('executeMs'),
        updateMs: mean('updateMs'),
        wallMs: mean('wallMs'),
      };
    } finally {
      await ctx.dispose();
    }
  }
  const seq = results.sequential!;
  const ovl = results.overlapped!;
  const row = (name: string, t: Timing) =>
    `| ${name} | ${t.generateMs.toFixed(0)} | ${t.executeMs.toFixed(0)} | ${t.updateMs.toFixed(0)} | ${t.wallMs.toFixed(0)} | ${(seq.wallMs / t.wallMs).toFixed(2)}x |`;
  const table = [
    `PPO iteration, ${config.data.language}, batch ${String(config.train.batchSize ?? 'default')}, ${iterations} timed iterations each (means, ms):`,
    '',
    '| mode | generate | execute | update | wall | speed-up vs sequential |',
    '|---|---:|---:|---:|---:|---:|',
    row('sequential (baseline)', seq),
    row('execution overlapped with next generation', ovl),
  ].join('\n');
  out.write(`${table}\n`);
  return table;
}
