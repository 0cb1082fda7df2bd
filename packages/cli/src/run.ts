import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Curriculum, type EventBus, type Executor, type Problem, Rng } from '@stepcoder/core';
import { createGeneratorWorker, type GeneratorWorker, type Policy } from '@stepcoder/model';
import {
  createTrainer,
  type EvaluationReport,
  evaluatePassAtK,
  type IterationResult,
  resumeTrainer,
  runSft,
  type SftResult,
  type TrainerConfig,
} from '@stepcoder/ppo';
import type { StepcoderConfig } from './config.js';
import { MetricsLog } from './metrics-log.js';
import { describeDelta, type PairedDelta, pairedDelta } from './paired-delta.js';
import { type PlotExtras, renderPlotHtml } from './plot.js';
import { createProgress } from './progress.js';
import { describeQuarters, type RolloutQuarters, rolloutPassQuarters } from './rollout-quarters.js';
import {
  createBus,
  type ProblemSplit,
  setupBackend,
  setupCurriculum,
  setupExecutor,
  setupPolicy,
  setupProblems,
} from './setup.js';

export interface RunIo {
  /** Where the human-readable report goes (default stdout). */
  out?: NodeJS.WritableStream;
  /** No progress bars (tests, nested runs). */
  quiet?: boolean;
}

/** Everything one run needs, built once from config and disposed together. */
export interface RunContext {
  config: StepcoderConfig;
  policy: Policy;
  problems: ProblemSplit;
  executor: Executor;
  curriculum: Curriculum;
  events: EventBus;
  dispose(): Promise<void>;
}

export const PLOT_METRICS = [
  'reward_mean',
  'pass_rate',
  'kl',
  'masked_fraction',
  'stage_mean',
  'policy_loss',
  'value_loss',
  'entropy',
];

export async function createRunContext(
  config: StepcoderConfig,
  io: RunIo = {},
  checkpoint?: string,
): Promise<RunContext> {
  await setupBackend(config, !io.quiet);
  const [problems, executor, curriculum] = await Promise.all([
    setupProblems(config),
    setupExecutor(config),
    setupCurriculum(config.curriculum),
  ]);
  // After the problems: `model.bpe` learns its tokenizer from the training split.
  const policy = await setupPolicy(config, checkpoint, problems.train);
  const events = createBus();
  events.on('log', (e) => {
    if (e.level === 'warn' || e.level === 'error') process.stderr.write(`[${e.level}] ${e.message}\n`);
  });
  return {
    config,
    policy,
    problems,
    executor,
    curriculum,
    events,
    async dispose() {
      await executor.dispose();
      policy.dispose();
    },
  };
}

function write(io: RunIo, text: string): void {
  (io.out ?? process.stdout).write(text);
}

/** Supervised warm-start on the training problems' canonical solutions; saves `outDir/sft`. */
export async function sftStage(ctx: RunContext, io: RunIo = {}): Promise<SftResult> {
  const { config } = ctx;
  const mix = config.sft.completionMix;
  const progress = createProgress('sft', undefined, { quiet: io.quiet });
  // The key metric of SFT: the mean loss of the last 20 steps (one step's loss is noisy).
  const recent: number[] = [];
  const offLoss = ctx.events.on('metric', (m) => {
    if (m.name !== 'sft_loss') return;
    recent.push(m.value);
    if (recent.length > 20) recent.shift();
  });
  const offProgress = ctx.events.on('progress', (p) => {
    if (p.task !== 'sft') return;
    const loss = recent.length > 0 ? recent.reduce((a, b) => a + b, 0) / recent.length : undefined;
    progress.update(p.done, loss === undefined ? undefined : { loss }, p.total);
  });
  const off = () => {
    offLoss();
    offProgress();
  };
  const result = await runSft({
    policy: ctx.policy,
    problems: ctx.problems.train,
    curriculum: ctx.curriculum,
    epochs: config.sft.epochs,
    batchSize: config.sft.batchSize,
    lr: config.sft.lr,
    maxLength: config.sft.maxLength,
    schedule: config.sft.schedule,
    seed: config.seed,
    events: ctx.events,
    ...(mix && mix.fraction > 0
      ? { completionMix: { curriculum: await setupCurriculum(mix.curriculum), fraction: mix.fraction } }
      : {}),
  });
  off();
  progress.stop();
  await ctx.policy.save(join(config.outDir, 'sft'));
  const first = result.epochLosses[0];
  const last = result.epochLosses[result.epochLosses.length - 1];
  write(
    io,
    `sft: ${result.examples} examples${result.completionExamples ? ` (${result.completionExamples} completions)` : ''}, ${config.sft.epochs} epochs, loss ${fmt(first)} -> ${fmt(last)} (saved ${join(config.outDir, 'sft')})\n`,
  );
  return result;
}

/** PPO with the configured curriculum, mask, reward and advantage; metrics.jsonl + plot.html. */
export async function trainStage(
  ctx: RunContext,
  io: RunIo = {},
  resumeFrom?: string,
): Promise<IterationResult[]> {
  const { config } = ctx;
  const { steps, generatorWorker, ...trainerOptions } = config.train;
  mkdirSync(config.outDir, { recursive: true });
  const log = new MetricsLog(join(config.outDir, 'metrics.jsonl'));
  // The trainer pushes the policy's weights to it before generating; this stage owns and disposes it.
  const generator: GeneratorWorker | undefined = generatorWorker
    ? await createGeneratorWorker.fromPolicy(ctx.policy)
    : undefined;
  const trainerConfig: TrainerConfig = {
    ...(trainerOptions as Record<string, unknown>),
    seed: config.seed,
    policy: ctx.policy,
    problems: ctx.problems.train,
    executor: ctx.executor,
    reward: config.reward,
    mask: config.mask,
    curriculum: ctx.curriculum,
    advantage: config.advantage,
    events: ctx.events,
    ...(generator ? { generator } : {}),
  } as TrainerConfig;
  let trainer: Awaited<ReturnType<typeof createTrainer>>;
  try {
    trainer = resumeFrom
      ? await resumeTrainer(resumeFrom, trainerConfig)
      : await createTrainer(trainerConfig);
  } catch (err) {
    await generator?.dispose();
    throw err;
  }
  const first = trainer.step;
  const progress = createProgress('train', steps, { quiet: io.quiet });
  const results: IterationResult[] = [];
  try {
    for (let i = first; i < steps; i++) {
      const r = await trainer.iterate();
      results.push(r);
      log.write({
        step: r.step,
        ...r.metrics,
        ...prefixed('time_', r.timing),
        samples: r.samples,
        skipped: r.skipped,
      });
      progress.update(i + 1, {
        reward: r.metrics.reward_mean ?? Number.NaN,
        pass: r.metrics.pass_rate ?? Number.NaN,
        kl: r.metrics.kl ?? Number.NaN,
      });
    }
    progress.stop();
    await trainer.checkpoint(join(config.outDir, 'checkpoint'));
  } finally {
    await trainer.dispose();
    await generator?.dispose();
  }
  write(io, `train: ${steps} PPO steps (metrics ${log.path}, plot ${writePlot(config)})\n`);
  return results;
}

/** plot.html of the run so far: metrics over iterations, the config, and pass@k once evaluated. */
function writePlot(config: StepcoderConfig, passAtK?: PlotExtras['passAtK']): string {
  const path = join(config.outDir, 'plot.html');
  const rows = MetricsLog.read(join(config.outDir, 'metrics.jsonl'));
  const title = `stepcoder train (seed ${config.seed})`;
  writeFileSync(path, renderPlotHtml(title, [{ label: 'train', rows }], PLOT_METRICS, { config, passAtK }));
  return path;
}

export interface EvalReports {
  train?: EvaluationReport;
  /** In-distribution test problems (`eval.on: all`). */
  test?: EvaluationReport;
  heldout?: EvaluationReport;
}

/**
 * pass@k on the configured problem sets; writes `outDir/eval-<label>.json` (`eval.json` without a
 * label: the `eval` command, whose progress reads "eval train", not "eval eval train").
 */
export async function evalStage(ctx: RunContext, label?: string, io: RunIo = {}): Promise<EvalReports> {
  const { config } = ctx;
  const task = label ? `eval ${label}` : 'eval';
  const sets: Array<[keyof EvalReports, Problem[]]> = [];
  if (config.eval.on !== 'heldout') sets.push(['train', evalTrainSample(config, ctx.problems.train)]);
  if (config.eval.on === 'all' && ctx.problems.test.length > 0) sets.push(['test', ctx.problems.test]);
  if (config.eval.on !== 'train' && ctx.problems.heldout.length > 0)
    sets.push(['heldout', ctx.problems.heldout]);
  const reports: EvalReports = {};
  // One worker for every set of this evaluation, holding the weights as they are now.
  const worker = config.eval.generatorWorker ? await createGeneratorWorker.fromPolicy(ctx.policy) : undefined;
  try {
    for (const [name, problems] of sets) {
      const progress = createProgress(`${task} ${name}`, problems.length, { quiet: io.quiet });
      // The key metric of an evaluation: the pass rate of the samples executed so far.
      const counted = countingPasses(ctx.executor);
      const off = ctx.events.on('progress', (p) =>
        progress.update(
          p.done,
          counted.runs > 0
            ? { pass: `${((100 * counted.passes) / counted.runs).toFixed(1)}% of ${counted.runs}` }
            : undefined,
          p.total,
        ),
      );
      reports[name] = await evaluatePassAtK({
        policy: ctx.policy,
        problems,
        executor: counted.executor,
        curriculum: ctx.curriculum,
        k: config.eval.k,
        n: config.eval.n,
        seed: config.seed,
        temperature: config.eval.temperature,
        maxNewTokens: config.eval.maxNewTokens,
        batchSize: config.eval.batchSize,
        events: ctx.events,
        ...(worker ? { generators: [worker] } : {}),
      });
      off();
      progress.stop();
    }
  } finally {
    await worker?.dispose();
  }
  mkdirSync(config.outDir, { recursive: true });
  writeFileSync(
    join(config.outDir, label ? `eval-${label}.json` : 'eval.json'),
    `${JSON.stringify(reports, null, 2)}\n`,
  );
  write(io, `${task}: ${describeEval(reports)}\n`);
  return reports;
}

/** `executor`, counting the runs it answers and how many passed (progress lines of evaluations). */
function countingPasses(executor: Executor): { executor: Executor; runs: number; passes: number } {
  const counts = { executor, runs: 0, passes: 0 };
  const run: Executor['run'] = async (request) => {
    const result = await executor.run(request);
    if (result.outcome !== 'infra_error') {
      counts.runs++;
      if (result.outcome === 'pass') counts.passes++;
    }
    return result;
  };
  counts.executor = new Proxy(executor, {
    get(target, key) {
      if (key === 'run') return run;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return counts;
}

/** The training problems pass@k is reported on: all, or a seeded `eval.trainSample` of them. */
function evalTrainSample(config: StepcoderConfig, train: Problem[]): Problem[] {
  const n = config.eval.trainSample;
  if (n === undefined || n >= train.length) return train;
  const ids = new Set(
    new Rng(config.seed)
      .split('eval-train-sample')
      .sample(train, n)
      .map((p) => p.id),
  );
  return train.filter((p) => ids.has(p.id));
}

export function describeEval(reports: EvalReports): string {
  return (Object.entries(reports) as Array<[string, EvaluationReport]>)
    .map(
      ([name, r]) =>
        `${name} ${Object.entries(r.passAtK)
          .map(([k, v]) => `${k} ${(100 * v).toFixed(1)}%`)
          .join(', ')} (${r.problems} problems)`,
    )
    .join('; ');
}

export interface PipelineSummary {
  seed: number;
  before: EvalReports;
  after: EvalReports;
  /** after − before per pass@k, paired by problem, with 95% intervals. */
  delta: Partial<Record<keyof EvalReports, PairedDelta[]>>;
  /** Rollout pass rate over the first and the last quarter of the RL iterations. */
  rollouts?: RolloutQuarters;
  sft?: SftResult;
  iterations: IterationResult[];
  seconds: number;
}

/** The main job: SFT warm-start, evaluate, PPO (CCCS + FGO as configured), evaluate again. */
export async function runPipeline(config: StepcoderConfig, io: RunIo = {}): Promise<PipelineSummary> {
  const started = Date.now();
  const ctx = await createRunContext(config, io);
  try {
    write(
      io,
      `stepcoder: ${ctx.problems.train.length} training / ${ctx.problems.test.length} test / ${ctx.problems.heldout.length} held-out ${config.data.language} problems, ` +
        `curriculum ${name(config.curriculum)}, mask ${name(config.mask)}, seed ${config.seed}\n`,
    );
    const sft = config.sft.epochs > 0 && !config.model.checkpoint ? await sftStage(ctx, io) : undefined;
    const before = await evalStage(ctx, 'before', io);
    const iterations = config.train.steps > 0 ? await trainStage(ctx, io) : [];
    const after = await evalStage(ctx, 'after', io);
    writePlot(config, { before, after });
    const deltas = (['train', 'test', 'heldout'] as const).flatMap((set) => {
      const b = before[set];
      const a = after[set];
      return b && a
        ? [
            {
              set,
              delta: a.k.filter((k) => k <= a.n).map((k) => pairedDelta(b, a, k)),
              text: describeDelta(b, a),
            },
          ]
        : [];
    });
    const rollouts = rolloutPassQuarters(iterations);
    const summary = {
      seed: config.seed,
      before,
      after,
      delta: Object.fromEntries(deltas.map((d) => [d.set, d.delta])),
      rollouts,
      sft,
      iterations,
      seconds: (Date.now() - started) / 1000,
    };
    writeFileSync(
      join(config.outDir, 'summary.json'),
      `${JSON.stringify({ ...summary, iterations: iterations.map((i) => ({ step: i.step, ...i.metrics })) }, null, 2)}\n`,
    );
    write(
      io,
      `pass rate before PPO: ${describeEval(before)}\npass rate after PPO:  ${describeEval(after)}\n` +
        deltas.map((d) => `change on ${d.set} (paired by problem): ${d.text}\n`).join('') +
        (rollouts ? `${describeQuarters(rollouts)}\n` : '') +
        `(${summary.seconds.toFixed(0)} s, outputs in ${config.outDir})\n`,
    );
    return summary;
  } finally {
    await ctx.dispose();
  }
}

function name(ref: StepcoderConfig['mask']): string {
  return typeof ref === 'string' ? ref : ref.name;
}

function prefixed(prefix: string, values: object): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v as number]));
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toFixed(3);
}
