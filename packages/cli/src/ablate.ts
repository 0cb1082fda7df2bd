import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepcoderConfig } from './config.js';
import { createRunContext, evalStage, type RunIo, sftStage, trainStage } from './run.js';

/** The 2×2 grid of the paper's ablation: CCCS on/off × FGO on/off, everything else shared. */
export const ABLATION_VARIANTS = [
  { name: 'plain PPO', curriculum: 'none', mask: 'none' },
  { name: '+CCCS', curriculum: 'steps', mask: 'none' },
  { name: '+FGO', curriculum: 'none', mask: 'line' },
  { name: 'StepCoder (CCCS+FGO)', curriculum: 'steps', mask: 'line' },
] as const;

/** The row of the shared SFT checkpoint every variant starts from. */
export const SFT_ONLY = 'SFT only (start of every variant)';

export interface AblationCell {
  variant: string;
  seed: number;
  train: number;
  heldout: number;
  rewardLast: number;
}

export interface AblationRow {
  variant: string;
  train: { mean: number; std: number };
  heldout: { mean: number; std: number };
  /** Mean rollout reward of the last PPO iteration (NaN for the SFT row). */
  rewardLast: { mean: number; std: number };
  seeds: number;
}

function stats(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

function withOptions(ref: StepcoderConfig['curriculum'], name: string): StepcoderConfig['curriculum'] {
  // Keep the configured options when the variant uses the configured plugin (e.g. stepsPerStage).
  const current = typeof ref === 'string' ? { name: ref } : ref;
  return current.name === name ? ref : name;
}

/**
 * For each seed: one SFT warm-start shared by all four variants (so they differ only in CCCS/FGO),
 * then PPO and pass@1 for each variant. Writes `ablation.json` and `ablation.md` to outDir.
 */
export async function runAblation(
  base: StepcoderConfig,
  seeds: readonly number[],
  io: RunIo = {},
): Promise<{ cells: AblationCell[]; rows: AblationRow[]; markdown: string }> {
  const out = io.out ?? process.stdout;
  const cells: AblationCell[] = [];
  for (const seed of seeds) {
    const seedDir = join(base.outDir, `seed-${seed}`);
    const sftConfig: StepcoderConfig = { ...base, seed, outDir: seedDir };
    const sftCtx = await createRunContext(sftConfig, io);
    try {
      if (!base.model.checkpoint && base.sft.epochs > 0) await sftStage(sftCtx, io);
      else await sftCtx.policy.save(join(seedDir, 'sft'));
      // The shared starting point of the four variants, reported as its own row.
      const start = await evalStage(
        { ...sftCtx, config: { ...sftConfig, eval: { ...base.eval, k: [1] } } },
        'sft',
        {
          ...io,
          quiet: true,
        },
      );
      cells.push({
        variant: SFT_ONLY,
        seed,
        train: start.train?.passAtK['pass@1'] ?? Number.NaN,
        heldout: start.heldout?.passAtK['pass@1'] ?? Number.NaN,
        rewardLast: Number.NaN,
      });
    } finally {
      await sftCtx.dispose();
    }
    for (const v of ABLATION_VARIANTS) {
      const config: StepcoderConfig = {
        ...base,
        seed,
        outDir: join(
          seedDir,
          v.name
            .replace(/[^A-Za-z0-9]+/g, '-')
            .replace(/^-|-$/g, '')
            .toLowerCase(),
        ),
        curriculum: withOptions(base.curriculum, v.curriculum),
        mask: withOptions(base.mask, v.mask),
        model: { ...base.model, checkpoint: join(seedDir, 'sft') },
        eval: { ...base.eval, k: [1] },
      };
      const ctx = await createRunContext(config, { ...io, quiet: true }, join(seedDir, 'sft'));
      try {
        out.write(`ablate: seed ${seed}, ${v.name}\n`);
        const iterations = await trainStage(ctx, { ...io, quiet: true });
        const reports = await evalStage(ctx, 'after', { ...io, quiet: true });
        cells.push({
          variant: v.name,
          seed,
          train: reports.train?.passAtK['pass@1'] ?? Number.NaN,
          heldout: reports.heldout?.passAtK['pass@1'] ?? Number.NaN,
          rewardLast: iterations.at(-1)?.metrics.reward_mean ?? Number.NaN,
        });
      } finally {
        await ctx.dispose();
      }
    }
  }
  const rows: AblationRow[] = [SFT_ONLY, ...ABLATION_VARIANTS.map((v) => v.name)].map((variant) => {
    const mine = cells.filter((c) => c.variant === variant);
    return {
      variant,
      train: stats(mine.map((c) => c.train)),
      heldout: stats(mine.map((c) => c.heldout)),
      rewardLast: stats(mine.map((c) => c.rewardLast)),
      seeds: mine.length,
    };
  });
  const pct = (s: { mean: number; std: number }) =>
    `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}`;
  const markdown = [
    `| variant | train pass@1 (%) | held-out pass@1 (%) | last-iteration reward | seeds |`,
    `|---|---:|---:|---:|---:|`,
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${pct(r.train)} | ${pct(r.heldout)} | ${
          Number.isNaN(r.rewardLast.mean)
            ? '–'
            : `${r.rewardLast.mean.toFixed(2)} ± ${r.rewardLast.std.toFixed(2)}`
        } | ${r.seeds} |`,
    ),
  ].join('\n');
  mkdirSync(base.outDir, { recursive: true });
  writeFileSync(join(base.outDir, 'ablation.json'), `${JSON.stringify({ seeds, cells, rows }, null, 2)}\n`);
  writeFileSync(join(base.outDir, 'ablation.md'), `${markdown}\n`);
  out.write(`${markdown}\n`);
  return { cells, rows, markdown };
}
