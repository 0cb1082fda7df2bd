import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepcoderError } from '@stepcoder/core';
import { renderAblationChart } from './ablate-chart.js';
import type { StepcoderConfig } from './config.js';
import { createProgress } from './progress.js';
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

export interface CurvePoint {
  iteration: number;
  reward: number;
  passRate: number;
}

export interface AblationCell {
  variant: string;
  seed: number;
  train: number;
  /** In-distribution test pass@1 (NaN when the dataset has no test split or eval.on is not `all`). */
  test?: number;
  heldout: number;
  rewardLast: number;
  /** Mean over iterations of the groups (first round) with both a pass and a non-pass. */
  contrastGroups?: number;
  /** Mean over iterations of the fraction of rollouts that compiled (NaN for the SFT row). */
  compileRate: number;
  /** Mean over iterations of the fraction of generated tokens FGO masked out. */
  maskedFraction: number;
  curve: CurvePoint[];
}

export interface Summary {
  mean: number;
  std: number;
  /** Half-width of the 95% interval of the mean (Student t, n − 1 degrees of freedom). */
  ci95: number;
  n: number;
}

export interface AblationRow {
  variant: string;
  train: Summary;
  test: Summary;
  heldout: Summary;
  /** Held-out pass@1 minus plain PPO's, paired by seed (absent for plain PPO and SFT). */
  heldoutVsPlain?: Summary;
  /** Test / held-out pass@1 minus the seed's SFT start, paired by seed (absent for SFT). */
  testVsSft?: Summary;
  heldoutVsSft?: Summary;
  contrastGroups: Summary;
  rewardLast: Summary;
  compileRate: Summary;
  maskedFraction: Summary;
  seeds: number;
}

export interface AblationOptions {
  /** Run only these variants (names as in ABLATION_VARIANTS); default all. */
  variants?: readonly string[];
  /** Skip training: aggregate the cells earlier runs wrote under outDir/seed-N. */
  aggregateOnly?: boolean;
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom; 1.96 beyond. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function summarise(values: number[]): Summary {
  const xs = values.filter((x) => Number.isFinite(x));
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, ci95: Number.NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const t = n > 1 ? (T975[n - 2] ?? 1.96) : Number.NaN;
  return { mean, std, ci95: n > 1 ? (t * std) / Math.sqrt(n) : Number.NaN, n };
}

function withOptions(ref: StepcoderConfig['curriculum'], name: string): StepcoderConfig['curriculum'] {
  // Keep the configured options when the variant uses the configured plugin (e.g. stepsPerStage).
  const current = typeof ref === 'string' ? { name: ref } : ref;
  return current.name === name ? ref : name;
}

function slug(name: string): string {
  return name
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

const CELL_FILE = 'cell.json';

function readCell(dir: string): AblationCell | undefined {
  const file = join(dir, CELL_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as AblationCell) : undefined;
}

function writeCell(dir: string, cell: AblationCell): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, CELL_FILE), `${JSON.stringify(cell, null, 2)}\n`);
}

/** The SFT checkpoint of a seed, made once and shared by its variants (deterministic per seed). */
async function sftCell(base: StepcoderConfig, seed: number, io: RunIo): Promise<AblationCell> {
  const seedDir = join(base.outDir, `seed-${seed}`);
  const sftDir = join(seedDir, 'sft-start');
  const cached = readCell(sftDir);
  if (cached && existsSync(join(seedDir, 'sft'))) return cached;
  const sftConfig: StepcoderConfig = { ...base, seed, outDir: seedDir };
  const ctx = await createRunContext(sftConfig, io);
  try {
    if (!base.model.checkpoint && base.sft.epochs > 0) await sftStage(ctx, io);
    else await ctx.policy.save(join(seedDir, 'sft'));
    const start = await evalStage(
      { ...ctx, config: { ...sftConfig, eval: { ...base.eval, k: [1] } } },
      'sft',
      {
        ...io,
        quiet: true,
      },
    );
    const cell: AblationCell = {
      variant: SFT_ONLY,
      seed,
      train: start.train?.passAtK['pass@1'] ?? Number.NaN,
      test: start.test?.passAtK['pass@1'] ?? Number.NaN,
      heldout: start.heldout?.passAtK['pass@1'] ?? Number.NaN,
      rewardLast: Number.NaN,
      compileRate: Number.NaN,
      maskedFraction: Number.NaN,
      curve: [],
    };
    writeCell(sftDir, cell);
    return cell;
  } finally {
    await ctx.dispose();
  }
}

async function variantCell(
  base: StepcoderConfig,
  seed: number,
  v: (typeof ABLATION_VARIANTS)[number],
  io: RunIo,
): Promise<AblationCell> {
  const seedDir = join(base.outDir, `seed-${seed}`);
  const config: StepcoderConfig = {
    ...base,
    seed,
    outDir: join(seedDir, slug(v.name)),
    curriculum: withOptions(base.curriculum, v.curriculum),
    mask: withOptions(base.mask, v.mask),
    model: { ...base.model, checkpoint: join(seedDir, 'sft') },
    eval: { ...base.eval, k: [1] },
  };
  const ctx = await createRunContext(config, { ...io, quiet: true }, join(seedDir, 'sft'));
  try {
    const iterations = await trainStage(ctx, { ...io, quiet: true });
    const reports = await evalStage(ctx, 'after', { ...io, quiet: true });
    const cell: AblationCell = {
      variant: v.name,
      seed,
      train: reports.train?.passAtK['pass@1'] ?? Number.NaN,
      test: reports.test?.passAtK['pass@1'] ?? Number.NaN,
      heldout: reports.heldout?.passAtK['pass@1'] ?? Number.NaN,
      rewardLast: iterations.at(-1)?.metrics.reward_mean ?? Number.NaN,
      contrastGroups: summarise(iterations.map((i) => i.metrics.contrast_groups ?? Number.NaN)).mean,
      compileRate: summarise(iterations.map((i) => i.metrics.compile_rate ?? Number.NaN)).mean,
      maskedFraction: summarise(iterations.map((i) => i.metrics.masked_fraction ?? Number.NaN)).mean,
      curve: iterations.map((i) => ({
        iteration: i.step,
        reward: i.metrics.reward_mean ?? Number.NaN,
        passRate: i.metrics.pass_rate ?? Number.NaN,
      })),
    };
    writeCell(config.outDir, cell);
    return cell;
  } finally {
    await ctx.dispose();
  }
}

/**
 * For each seed: one SFT warm-start shared by the four variants (so they differ only in CCCS and
 * FGO), then PPO and pass@1 for each variant. Every cell is written to outDir/seed-N/<variant>/
 * cell.json as it finishes, so seeds and variants can run in separate processes (`variants`) and be
 * aggregated afterwards (`aggregateOnly`). Writes ablation.json, ablation.md and ablation.html.
 */
export async function runAblation(
  base: StepcoderConfig,
  seeds: readonly number[],
  io: RunIo = {},
  options: AblationOptions = {},
): Promise<{ cells: AblationCell[]; rows: AblationRow[]; markdown: string }> {
  const out = io.out ?? process.stdout;
  const known = ABLATION_VARIANTS.map((v) => v.name as string);
  const unknown = (options.variants ?? []).filter((v) => !known.includes(v));
  if (unknown.length > 0) {
    throw new StepcoderError(
      'INVALID_CONFIG',
      `ablate: unknown variant(s) ${unknown.map((u) => `'${u}'`).join(', ')}; variants are ${known.map((k) => `'${k}'`).join(', ')}`,
    );
  }
  const chosen = ABLATION_VARIANTS.filter((v) => !options.variants || options.variants.includes(v.name));
  if (!options.aggregateOnly) {
    // Cells are minutes each and their stages run quiet: one progress over cells, with the last
    // cell's held-out pass@1 (the ablation's key metric), a line at least every 15 s in logs.
    const progress = createProgress('ablate cells', seeds.length * (1 + chosen.length), {
      quiet: io.quiet,
    });
    let done = 0;
    const finished = (cell: AblationCell, name: string) =>
      progress.update(++done, {
        last: `${name} seed ${cell.seed}`,
        'held-out pass@1': Number.isNaN(cell.heldout) ? '-' : `${(100 * cell.heldout).toFixed(1)}%`,
      });
    try {
      for (const seed of seeds) {
        finished(await sftCell(base, seed, io), 'SFT');
        for (const v of chosen) {
          out.write(`ablate: seed ${seed}, ${v.name}\n`);
          finished(await variantCell(base, seed, v, io), v.name);
        }
      }
    } finally {
      progress.stop();
    }
  }
  const cells: AblationCell[] = [];
  for (const seed of seeds) {
    const seedDir = join(base.outDir, `seed-${seed}`);
    for (const dir of [
      join(seedDir, 'sft-start'),
      ...ABLATION_VARIANTS.map((v) => join(seedDir, slug(v.name))),
    ]) {
      const cell = readCell(dir);
      if (cell) cells.push(cell);
    }
  }
  if (cells.length === 0) {
    throw new StepcoderError(
      'INVALID_CONFIG',
      `ablate: no results under ${base.outDir} for seeds ${seeds.join(',')}`,
    );
  }
  const rows = aggregate(cells);
  const markdown = ablationMarkdown(rows, seeds);
  mkdirSync(base.outDir, { recursive: true });
  writeFileSync(join(base.outDir, 'ablation.json'), `${JSON.stringify({ seeds, cells, rows }, null, 2)}\n`);
  writeFileSync(join(base.outDir, 'ablation.md'), `${markdown}\n`);
  writeFileSync(
    join(base.outDir, 'ablation.html'),
    renderAblationChart({
      title: `stepcoder ablate: CCCS × FGO, seeds ${seeds.join(', ')}`,
      config: { ...base, outDir: undefined },
      variants: [SFT_ONLY, ...known]
        .map((name) => ({
          name,
          seeds: cells
            .filter((c) => c.variant === name)
            .map((c) => ({
              seed: c.seed,
              curve: c.curve,
              final: { trainPass1: c.train, heldOutPass1: c.heldout },
            })),
        }))
        .filter((v) => v.seeds.length > 0),
    }),
  );
  out.write(`${markdown}\n(ablation.json, ablation.md, ablation.html in ${base.outDir})\n`);
  return { cells, rows, markdown };
}

/** Per-variant summaries over seeds, and each variant's held-out difference to plain PPO by seed. */
export function aggregate(cells: readonly AblationCell[]): AblationRow[] {
  const names = [SFT_ONLY, ...ABLATION_VARIANTS.map((v) => v.name as string)];
  const plain = new Map(cells.filter((c) => c.variant === 'plain PPO').map((c) => [c.seed, c.heldout]));
  const sft = new Map(cells.filter((c) => c.variant === SFT_ONLY).map((c) => [c.seed, c]));
  const vsSft = (mine: readonly AblationCell[], key: 'test' | 'heldout') =>
    summarise(
      mine
        .filter((c) => sft.has(c.seed))
        .map((c) => (c[key] ?? Number.NaN) - (sft.get(c.seed)![key] ?? Number.NaN)),
    );
  return names
    .map((variant) => {
      const mine = cells.filter((c) => c.variant === variant);
      const paired = mine.filter((c) => plain.has(c.seed)).map((c) => c.heldout - plain.get(c.seed)!);
      return {
        variant,
        train: summarise(mine.map((c) => c.train)),
        test: summarise(mine.map((c) => c.test ?? Number.NaN)),
        heldout: summarise(mine.map((c) => c.heldout)),
        ...(variant !== SFT_ONLY
          ? { testVsSft: vsSft(mine, 'test'), heldoutVsSft: vsSft(mine, 'heldout') }
          : {}),
        contrastGroups: summarise(mine.map((c) => c.contrastGroups ?? Number.NaN)),
        ...(variant !== SFT_ONLY && variant !== 'plain PPO' && paired.length > 0
          ? { heldoutVsPlain: summarise(paired) }
          : {}),
        rewardLast: summarise(mine.map((c) => c.rewardLast)),
        compileRate: summarise(mine.map((c) => c.compileRate)),
        maskedFraction: summarise(mine.map((c) => c.maskedFraction)),
        seeds: mine.length,
      };
    })
    .filter((r) => r.seeds > 0);
}

function ablationMarkdown(rows: readonly AblationRow[], seeds: readonly number[]): string {
  const pct = (s: Summary) =>
    Number.isNaN(s.mean)
      ? '–'
      : `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}${
          Number.isFinite(s.ci95)
            ? ` [${(100 * (s.mean - s.ci95)).toFixed(1)}, ${(100 * (s.mean + s.ci95)).toFixed(1)}]`
            : ''
        }`;
  const num = (s: Summary) => (Number.isNaN(s.mean) ? '–' : `${s.mean.toFixed(2)} ± ${s.std.toFixed(2)}`);
  const frac = (s: Summary) => (Number.isNaN(s.mean) ? '–' : `${(100 * s.mean).toFixed(0)}%`);
  return [
    `Mean ± sample std over seeds ${seeds.join(', ')} [95% t-interval of the mean]; Δ vs SFT = pass@1 minus the seed's SFT start, Δ vs plain = held-out pass@1 minus plain PPO's, both paired by seed.`,
    '',
    '| variant | train pass@1 (%) | test pass@1 (%) | held-out pass@1 (%) | Δ test vs SFT (points) | Δ held-out vs SFT (points) | Δ held-out vs plain (points) | last-iteration reward | rollouts compiling | contrast groups / iteration | FGO masked tokens | seeds |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${pct(r.train)} | ${pct(r.test)} | ${pct(r.heldout)} | ${r.testVsSft ? pct(r.testVsSft) : '–'} | ${r.heldoutVsSft ? pct(r.heldoutVsSft) : '–'} | ${r.heldoutVsPlain ? pct(r.heldoutVsPlain) : '–'} | ${num(r.rewardLast)} | ${frac(r.compileRate)} | ${Number.isNaN(r.contrastGroups.mean) ? '–' : r.contrastGroups.mean.toFixed(1)} | ${frac(r.maskedFraction)} | ${r.seeds} |`,
    ),
  ].join('\n');
}
