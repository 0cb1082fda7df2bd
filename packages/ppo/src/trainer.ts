import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  AdvantageEstimator,
  Curriculum,
  CurriculumPrompt,
  EventBus,
  ExecutionResult,
  Executor,
  MaskStrategy,
  Problem,
  RewardFn,
  Rng,
  RngState,
} from '@stepcoder/core';
import {
  type AlignedPrompt,
  createEventBus,
  createPromptAligner,
  createRng,
  mapLimited,
  Rng as RngClass,
  StepcoderError,
} from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { createGaeEstimator, type WeightedAdvantageInput } from './advantage-gae.js';
import { groupStats, informativeGroups } from './group-filter.js';
import { createKlController, type KlController, type KlControllerState } from './kl-controller.js';
import { learningRateAt } from './lr-schedule.js';
import { createAdam, loadOptimizerState, saveOptimizerState, setLearningRate } from './optimizer.js';
import { createPlainCurriculum } from './plain-curriculum.js';
import {
  type PolicyGenerateOptions,
  type PolicyGeneration,
  type PolicyGenerator,
  promptIdsOf,
  type TrainablePolicy,
} from './policy.js';
import { ppoUpdate } from './ppo-update.js';
import { perTokenRewards, type Rollout, scoreSequences } from './rollout.js';
import { scoringTemperature } from './temperature.js';
import { readTensorFile, writeTensorFile } from './tensor-io.js';
import {
  parseTrainerOptions,
  type ResolvedTrainerOptions,
  resolvePlugin,
  type TrainerConfig,
} from './trainer-config.js';

/**
 * Wall-clock breakdown of one iteration, ms. Without a `generator`, `generateMs` is the generation
 * done during this iteration (with overlap: the next batch's, concurrent with execution). With a
 * `generator` it is the time the generator spent on the batch trained in this iteration (its own
 * report when it has `generateTimed`; with overlap that batch was generated during the previous
 * iteration's execution and update), and `generateWaitMs` is how long this iteration waited for
 * it. See the README's "Timing metrics" section.
 */
export interface IterationTiming {
  generateMs: number;
  executeMs: number;
  updateMs: number;
  wallMs: number;
  /** With a generator: time this iteration waited for its batch's generation. */
  generateWaitMs?: number;
  /** With a generator: time to read the updated weights and hand them to the generator. */
  weightSyncMs?: number;
}

export interface IterationResult {
  /** Iterations completed, this one included. */
  step: number;
  /** Same values as the `metric` events of this iteration. */
  metrics: Record<string, number>;
  timing: IterationTiming;
  /** Samples trained on. */
  samples: number;
  skipped: number;
}

interface PlannedSample {
  problemIndex: number;
  group: number;
  prompt: CurriculumPrompt;
}

interface GeneratedSample extends PlannedSample {
  generation?: PolicyGeneration;
  error?: string;
  /** Why there is no generation (default 'generation_failed'). */
  skipReason?: string;
}

interface GeneratedBatch {
  step: number;
  samples: GeneratedSample[];
  generateMs: number;
}

interface ExecutedSample {
  sample: GeneratedSample & { generation: PolicyGeneration };
  result: ExecutionResult;
  score: number;
  weights: Float32Array;
}

interface Skipped {
  skip: string;
  problem: Problem;
  error?: string;
}

interface TrainerState {
  version: 1;
  step: number;
  rng: { problems: RngState; generation: RngState; minibatch: RngState };
  curriculum: unknown;
  kl: KlControllerState;
  pending: GeneratedBatch | null;
  weights: string[];
  /** `policy.checkpointState()`, when the policy has one. */
  policy?: Record<string, unknown>;
  /** false: no reference file, the reference is the policy's frozen base (`referenceIsFrozenBase`). */
  referenceSaved?: boolean;
}

declare module '@stepcoder/core' {
  interface StepcoderEvents {
    /** A PPO minibatch step was skipped (non-finite gradients or loss); the weights are unchanged. */
    'update:skipped': { step: number; reason: string; minibatch: number; gradNorm: number; loss: number };
  }
}

const STATE_FILE = 'trainer-state.json';
const POLICY_FILE = 'policy.tensors';
const REFERENCE_FILE = 'reference.tensors';
const OPTIMIZER_FILE = 'optimizer.tensors';
const MODEL_DIR = 'policy';

const now = () => performance.now();

/**
 * The PPO loop. It talks to core plugin interfaces and the Policy contract only; concrete
 * executors, rewards, masks and curricula come in as objects or registry names.
 */
export class Trainer {
  readonly events: EventBus;
  readonly policy: TrainablePolicy;
  readonly options: ResolvedTrainerOptions;
  private reference!: TrainablePolicy;
  private ownsReference = false;
  private executor!: Executor;
  private reward!: RewardFn;
  private mask: MaskStrategy | undefined;
  private curriculum!: Curriculum;
  private advantage!: AdvantageEstimator;
  private readonly created: Array<{ dispose?: () => unknown }> = [];
  private readonly problems: readonly Problem[];
  private readonly optimizer: tf.AdamOptimizer;
  private readonly kl: KlController;
  private problemRng: Rng;
  private generationRng: Rng;
  private minibatchRng: Rng;
  /** The next batch: generated, or (with a generator and overlap) still generating. */
  private pending: GeneratedBatch | Promise<GeneratedBatch> | undefined;
  private readonly generator: PolicyGenerator | undefined;
  /** The last `generator.setWeights`; its failure fails the next generation. */
  private weightsPushed: Promise<void> | undefined;
  /** The generator may not hold the policy's weights (start, resume): push before generating. */
  private generatorStale = true;
  private stepIndex = 0;
  private disposed = false;
  private align: ((cp: CurriculumPrompt) => AlignedPrompt) | undefined;
  /** Prompt alignment outcomes of the batches planned since the last iteration's metrics. */
  private alignCounts = { moved: 0, unaligned: 0 };

  private constructor(private readonly config: TrainerConfig) {
    this.options = parseTrainerOptions(config);
    this.policy = config.policy;
    this.generator = config.generator;
    this.problems = config.problems;
    this.events = config.events ?? createEventBus();
    const root = createRng(this.options.seed);
    this.problemRng = root.split('problems');
    this.generationRng = root.split('generation');
    this.minibatchRng = root.split('minibatch');
    this.kl = createKlController(this.options.kl);
    this.optimizer = createAdam({ lr: this.options.lr, ...this.options.adam });
    if (this.options.alignPrompts) this.align = createPromptAligner(this.policy.tokenizer);
  }

  static async create(config: TrainerConfig): Promise<Trainer> {
    const t = new Trainer(config);
    try {
      await t.init();
    } catch (err) {
      await t.dispose(); // plugins created by name before the failure
      throw err;
    }
    return t;
  }

  private async init(): Promise<void> {
    const room = this.policy.config.nPositions;
    if (this.options.generation.maxNewTokens >= room) {
      throw new StepcoderError(
        'INVALID_CONFIG',
        `trainer config: generation.maxNewTokens (${this.options.generation.maxNewTokens}) must be below the model's nPositions (${room})`,
        { details: { path: 'generation.maxNewTokens' } },
      );
    }
    const reg = this.config.registry;
    const take = async <K extends 'executor' | 'reward' | 'mask' | 'curriculum' | 'advantage'>(
      kind: K,
      ref: Parameters<typeof resolvePlugin<K>>[1],
    ) => {
      const { plugin, created } = await resolvePlugin(kind, ref, reg);
      if (created) this.created.push(plugin as { dispose?: () => unknown });
      return plugin;
    };
    this.executor = await take('executor', this.config.executor);
    this.reward = await take('reward', this.config.reward);
    this.mask = this.config.mask === undefined ? undefined : await take('mask', this.config.mask);
    this.curriculum =
      this.config.curriculum === undefined
        ? createPlainCurriculum()
        : await take('curriculum', this.config.curriculum);
    this.advantage =
      this.config.advantage === undefined || this.config.advantage === 'gae'
        ? createGaeEstimator()
        : await take('advantage', this.config.advantage);
    const minGroup = this.advantage.minGroupSize ?? 1;
    if (this.options.samplesPerPrompt < minGroup) {
      throw new StepcoderError(
        'INVALID_CONFIG',
        `trainer config: samplesPerPrompt is ${this.options.samplesPerPrompt} but advantage '${this.advantage.name}' compares samples of one prompt and needs at least ${minGroup} (with one sample every advantage is 0 and nothing trains)`,
        { details: { path: 'samplesPerPrompt' } },
      );
    }
    if (this.config.reference) {
      this.reference = this.config.reference;
    } else {
      this.reference = await this.policy.referenceCopy();
      this.ownsReference = true;
    }
  }

  /** Iterations completed. */
  get step(): number {
    return this.stepIndex;
  }

  /** Where the KL to the reference acts: in the per-token rewards or as a k3 loss term. */
  get klPenalty(): 'reward' | 'loss' {
    const mode = this.options.klPenalty;
    if (mode !== 'auto') return mode;
    return this.advantage.needsValues ? 'reward' : 'loss';
  }

  /** Current KL coefficient β. */
  get klBeta(): number {
    return this.kl.beta;
  }

  /** Run `iterations` PPO iterations, checkpointing every `checkpoint.every` steps when configured. */
  async train(iterations: number): Promise<IterationResult[]> {
    const results: IterationResult[] = [];
    for (let i = 0; i < iterations; i++) {
      results.push(await this.iterate());
      this.events.emit('progress', { task: 'train', done: i + 1, total: iterations });
    }
    return results;
  }

  /**
   * One iteration: generate (or take the batch prefetched by the previous iteration) → execute,
   * while the next batch generates → rewards, masks, curriculum feedback → PPO update → metrics.
   */
  async iterate(): Promise<IterationResult> {
    this.assertAlive();
    const start = now();
    const step = this.stepIndex;
    let generateMs = 0;
    let generateWaitMs = 0;
    let batch: GeneratedBatch | undefined;
    if (this.pending) {
      const waitStart = now();
      batch = await this.pending;
      this.pending = undefined;
      generateWaitMs += now() - waitStart;
      // Without a generator its generation time was counted by the iteration that waited for it.
      if (this.generator) generateMs += batch.generateMs;
    }
    if (!batch) {
      batch = await this.generateBatch(await this.planBatch(step), step);
      generateMs += batch.generateMs;
      generateWaitMs += batch.generateMs;
    }
    // Plan before executing so that curriculum feedback from this batch cannot race the next prompts.
    const nextPlan = this.options.overlap ? await this.planBatch(step + 1) : undefined;
    const execStart = now();
    let executeMs = 0;
    const execution = this.executeBatch(batch).then((r) => {
      executeMs = now() - execStart;
      return r;
    });
    const nextGeneration = nextPlan ? this.generateBatch(nextPlan, step + 1) : undefined;
    // Awaited later (next iteration, checkpoint or dispose); a handler now keeps a failure from
    // counting as unhandled in between.
    nextGeneration?.catch(() => undefined);
    const first = await execution;
    let { executed, skipped } = first;
    const { skipReasons } = first;
    // Groups of the first round, before any filter: what the policy gives on its own.
    const drawn = groupStats(executed);
    const ds = this.options.dynamicSampling;
    let refillRounds = 0;
    let dropped = 0;
    if (ds.filter !== 'none') {
      let keep = informativeGroups(executed, ds.filter);
      dropped += executed.length - keep.length;
      let groupOffset = this.options.batchSize;
      while (refillRounds < ds.maxRounds) {
        const missing = this.options.batchSize - new Set(keep.map((e) => e.sample.group)).size;
        if (missing <= 0) break;
        refillRounds++;
        // Oversample: about half the groups of a round are informative at a ~40% pass rate.
        const ask = Math.min(2 * missing, this.options.batchSize);
        const plan = await this.planBatch(step, ask, groupOffset);
        groupOffset += ask;
        const gen = await this.generateBatch(plan, step);
        generateMs += gen.generateMs;
        const more = await this.executeBatch(gen);
        skipped += more.skipped;
        for (const [reason, n] of Object.entries(more.skipReasons)) {
          skipReasons[reason] = (skipReasons[reason] ?? 0) + n;
        }
        // Curriculum feedback counts every rollout, kept or not.
        executed = [...executed, ...more.executed];
        const extra = informativeGroups(more.executed, ds.filter);
        dropped += more.executed.length - extra.length;
        // Whole groups only, up to batchSize groups in all.
        const extraGroups = [...new Set(extra.map((e) => e.sample.group))].slice(0, missing);
        keep = [...keep, ...extra.filter((e) => extraGroups.includes(e.sample.group))];
      }
      // When no round gave an informative group, train on nothing rather than on noise.
      this.recordFeedback(executed, step);
      executed = keep;
    } else {
      this.recordFeedback(executed, step);
    }
    if (nextGeneration && this.generator) {
      // It runs elsewhere with the weights it was given, so it keeps going through the update;
      // the weights pushed after the update apply after it (the generator runs calls in order).
      this.pending = nextGeneration;
    } else if (nextGeneration) {
      // In-process, the next batch must finish generating before the weights change under it.
      const waitStart = now();
      this.pending = await nextGeneration;
      generateMs += this.pending.generateMs;
      generateWaitMs += now() - waitStart;
    }
    const updateStart = now();
    const update = await this.update(executed, step);
    const updateMs = now() - updateStart;
    this.stepIndex = step + 1;
    let weightSyncMs = 0;
    if (this.generator) {
      const syncStart = now();
      this.pushWeights();
      weightSyncMs = now() - syncStart;
    }
    const timing: IterationTiming = {
      generateMs,
      executeMs,
      updateMs,
      wallMs: now() - start,
      ...(this.generator ? { generateWaitMs, weightSyncMs } : {}),
    };
    const metrics: Record<string, number> = {
      ...this.outcomeMetrics(first.executed),
      // Groups as drawn (first round): how many carry a pass/fail contrast, how many all-equal.
      groups: drawn.groups,
      contrast_groups: drawn.contrast,
      equal_groups: drawn.equal,
      ...(ds.filter !== 'none'
        ? {
            trained_groups: new Set(executed.map((e) => e.sample.group)).size,
            dropped_rollouts: dropped,
            refill_rounds: refillRounds,
          }
        : {}),
      ...(this.align
        ? { prompts_realigned: this.alignCounts.moved, prompts_unaligned: this.alignCounts.unaligned }
        : {}),
      ...update.metrics,
      kl_beta: this.kl.beta,
      samples: update.trained,
      skipped,
      ...Object.fromEntries(Object.entries(skipReasons).map(([reason, n]) => [`skipped_${reason}`, n])),
      generate_ms: timing.generateMs,
      execute_ms: timing.executeMs,
      update_ms: timing.updateMs,
      wall_ms: timing.wallMs,
      ...(this.generator ? { generate_wait_ms: generateWaitMs, weight_sync_ms: weightSyncMs } : {}),
    };
    this.alignCounts = { moved: 0, unaligned: 0 };
    for (const [name, value] of Object.entries(metrics)) {
      this.events.emit('metric', { name, value, step: this.stepIndex });
    }
    const every = this.options.checkpoint?.every;
    if (this.options.checkpoint && every && this.stepIndex % every === 0) {
      await this.checkpoint(
        join(this.options.checkpoint.dir, `step-${String(this.stepIndex).padStart(6, '0')}`),
      );
    }
    return { step: this.stepIndex, metrics, timing, samples: update.trained, skipped };
  }

  private recordFeedback(executed: readonly ExecutedSample[], step: number): void {
    for (const e of executed) {
      this.curriculum.record({
        problemId: this.problems[e.sample.problemIndex]!.id,
        stage: e.sample.prompt.stage,
        passed: e.result.outcome === 'pass',
        reward: e.score,
        step,
      });
    }
  }

  private async planBatch(
    step: number,
    size = this.options.batchSize,
    groupOffset = 0,
  ): Promise<PlannedSample[]> {
    const n = this.problems.length;
    const indices =
      size <= n
        ? this.problemRng.sample(
            Array.from({ length: n }, (_, i) => i),
            size,
          )
        : Array.from({ length: size }, () => this.problemRng.int(n));
    const planned: PlannedSample[] = [];
    for (const [group, problemIndex] of indices.entries()) {
      const problem = this.problems[problemIndex]!;
      try {
        const stage = await this.curriculum.stageOf(problem, step);
        let prompt = await this.curriculum.prompt(problem, stage);
        if (this.align) {
          const aligned = this.align(prompt);
          if (aligned.status === 'moved') this.alignCounts.moved++;
          else if (aligned.status === 'unaligned') this.alignCounts.unaligned++;
          prompt = aligned.prompt;
        }
        for (let k = 0; k < this.options.samplesPerPrompt; k++) {
          planned.push({ problemIndex, group: groupOffset + group, prompt });
        }
      } catch (err) {
        this.skip('prompt_failed', problem.id, err);
      }
    }
    return planned;
  }

  /**
   * Hand a copy of the policy's current weights to the generator, synchronously: the generator
   * takes effect in call order, so this applies after every generation requested before it and
   * before every one requested after it, whatever the thread timings.
   */
  private pushWeights(): void {
    const generator = this.generator!;
    const weights = snapshotWeights(this.policy);
    this.generatorStale = false;
    let pushed: Promise<void>;
    try {
      pushed = Promise.resolve(generator.setWeights(weights));
    } catch (err) {
      pushed = Promise.reject(err);
    }
    pushed.catch(() => undefined); // surfaced by the next generateBatch
    this.weightsPushed = pushed;
  }

  private async generateBatch(planned: PlannedSample[], step: number): Promise<GeneratedBatch> {
    const seed = this.generationRng.nextUint32();
    if (this.generator && this.generatorStale) this.pushWeights();
    const weightsPushed = this.weightsPushed;
    const start = now();
    const g = this.options.generation;
    const opts = {
      maxNewTokens: g.maxNewTokens,
      temperature: g.temperature,
      topK: g.topK,
      topP: g.topP,
      stop: g.stop,
      useCache: g.useCache,
      seed,
    };
    // The model would silently drop the oldest prompt tokens (the problem statement) of a prompt
    // that leaves no room for maxNewTokens: skip such a sample with its reason instead.
    const room = this.policy.config.nPositions - g.maxNewTokens;
    const tooLong: GeneratedSample[] = [];
    const fits: PlannedSample[] = [];
    // The samplesPerPrompt copies of a prompt share one string: encode each distinct prompt once.
    const lengths = new Map<string, number>();
    for (const p of planned) {
      let length = lengths.get(p.prompt.prompt);
      if (length === undefined) {
        length = promptIdsOf(this.policy.tokenizer, p.prompt.prompt).length;
        lengths.set(p.prompt.prompt, length);
      }
      if (length > room) {
        tooLong.push({
          ...p,
          skipReason: 'prompt_too_long',
          error: `prompt has ${length} tokens; nPositions ${this.policy.config.nPositions} − generation.maxNewTokens ${g.maxNewTokens} leaves room for ${room}`,
        });
      } else fits.push(p);
    }
    const chunk = g.chunkSize ?? Math.max(1, fits.length);
    const samples: GeneratedSample[] = [...tooLong];
    // What a timed generator reports it spent; undefined: measure request to result here.
    const clock = { ms: this.generator?.generateTimed ? 0 : undefined };
    if (this.generator) {
      // Every chunk is requested now, before this method first yields: nothing the caller does
      // next (an update, a weight push) can come between this batch's requests in the
      // generator's order. A generator does not block this thread, so no turns are needed.
      const parts: Array<Promise<GeneratedSample[]>> = [];
      for (let c = 0; c * chunk < fits.length; c++) {
        const part = fits.slice(c * chunk, (c + 1) * chunk);
        parts.push(this.generateChunk(part, { ...opts, seed: (seed + c * 7919) >>> 0 }, clock));
      }
      for (const p of parts) p.catch(() => undefined); // all awaited below
      for (const p of parts) samples.push(...(await p));
      await weightsPushed; // a failed push would have left the generator on old weights
      return { step, samples, generateMs: clock.ms ?? now() - start };
    }
    for (let c = 0; c * chunk < fits.length; c++) {
      // A macrotask turn between chunks lets overlapped executions hand back results and
      // dispatch the next programs (a generate call itself may never yield to the event loop).
      if (c > 0) await new Promise((resolve) => setImmediate(resolve));
      const part = fits.slice(c * chunk, (c + 1) * chunk);
      samples.push(...(await this.generateChunk(part, { ...opts, seed: (seed + c * 7919) >>> 0 }, clock)));
    }
    return { step, samples, generateMs: clock.ms ?? now() - start };
  }

  private async generateChunk(
    planned: PlannedSample[],
    opts: PolicyGenerateOptions,
    clock: { ms: number | undefined },
  ): Promise<GeneratedSample[]> {
    const generator = this.generator;
    const generate = async (prompts: string[], o: PolicyGenerateOptions) => {
      if (clock.ms !== undefined && generator?.generateTimed) {
        const timed = await generator.generateTimed(prompts, o);
        clock.ms += timed.durationMs;
        return timed.generations;
      }
      return (generator ?? this.policy).generate(prompts, o);
    };
    try {
      const gens = await generate(
        planned.map((p) => p.prompt.prompt),
        opts,
      );
      if (gens.length !== planned.length) {
        throw new StepcoderError(
          'INVALID_OPTIONS',
          `generate returned ${gens.length} completions for ${planned.length} prompts`,
        );
      }
      return planned.map((p, i) => ({ ...p, generation: gens[i]! }));
    } catch (batchError) {
      if (this.generatorGone(batchError)) throw batchError;
      // Isolate the culprit: retry each prompt alone (seeded by its position) and skip only failures.
      const samples: GeneratedSample[] = [];
      for (const [i, p] of planned.entries()) {
        try {
          const [gen] = await generate([p.prompt.prompt], {
            ...opts,
            seed: (opts.seed + i + 1) >>> 0,
          });
          if (!gen) throw new StepcoderError('INVALID_OPTIONS', 'generate returned no completion');
          samples.push({ ...p, generation: gen });
        } catch (err) {
          if (this.generatorGone(err)) throw err;
          samples.push({ ...p, error: describe(err ?? batchError) });
        }
      }
      return samples;
    }
  }

  /** A generator that exited or was disposed fails every sample: stop instead of skipping them all. */
  private generatorGone(err: unknown): boolean {
    return (
      this.generator !== undefined &&
      (StepcoderError.is(err, 'WORKER_EXITED') || StepcoderError.is(err, 'NOT_READY'))
    );
  }

  private async executeBatch(
    batch: GeneratedBatch,
  ): Promise<{ executed: ExecutedSample[]; skipped: number; skipReasons: Record<string, number> }> {
    const needsCoverage = this.mask?.needsCoverage ?? false;
    const exec = this.options.execution;
    const outcomes = await mapLimited(batch.samples, exec.concurrency, (sample) =>
      this.processSample(sample, needsCoverage),
    );
    const executed: ExecutedSample[] = [];
    const skipReasons: Record<string, number> = {};
    let skipped = 0;
    for (const o of outcomes) {
      if ('skip' in o) {
        skipped++;
        skipReasons[o.skip] = (skipReasons[o.skip] ?? 0) + 1;
        this.skip(o.skip, o.problem.id, o.error);
      } else executed.push(o);
    }
    return { executed, skipped, skipReasons };
  }

  /** Execute one sample, score it and mask it; any failure skips this sample only. */
  private async processSample(
    sample: GeneratedSample,
    needsCoverage: boolean,
  ): Promise<ExecutedSample | Skipped> {
    const problem = this.problems[sample.problemIndex]!;
    const gen = sample.generation;
    if (!gen) return { skip: sample.skipReason ?? 'generation_failed', problem, error: sample.error };
    const exec = this.options.execution;
    const program = sample.prompt.givenPrefix + gen.text;
    let result: ExecutionResult;
    try {
      result = await this.executor.run({
        program,
        language: problem.language,
        tests: problem.tests,
        limits: exec.limits,
        testBudget: exec.testBudget,
        coverage: needsCoverage,
        stopOnFirstFailure: !needsCoverage,
        preamble: problem.harness?.preamble,
        epilogue: problem.harness?.epilogue,
      });
    } catch (err) {
      return { skip: 'execution_failed', problem, error: describe(err) };
    }
    let score: number | null;
    try {
      score = this.reward.score(result);
    } catch (err) {
      return { skip: 'reward_failed', problem, error: describe(err) };
    }
    if (score === null || !Number.isFinite(score)) {
      const reason = result.outcome === 'infra_error' ? 'infra_error' : 'no_reward';
      return { skip: reason, problem, error: result.message };
    }
    try {
      const weights = this.mask
        ? this.mask.weights({
            program,
            completionStart: sample.prompt.completionStart,
            tokenSpans: gen.tokenSpans,
            language: problem.language,
            outcome: result.outcome,
            coverage: result.coverage,
          })
        : new Float32Array(gen.tokenIds.length).fill(1);
      if (weights.length !== gen.tokenIds.length) {
        throw new StepcoderError(
          'INVALID_OPTIONS',
          `mask '${this.mask?.name}' gave ${weights.length} weights for ${gen.tokenIds.length} tokens`,
        );
      }
      return { sample: { ...sample, generation: gen }, result, score, weights };
    } catch (err) {
      return { skip: 'mask_failed', problem, error: describe(err) };
    }
  }

  private async update(
    executed: ExecutedSample[],
    step: number,
  ): Promise<{ metrics: Record<string, number>; trained: number }> {
    const maxLen = this.policy.config.nPositions;
    const usable = executed.filter((e) => {
      const n = e.sample.generation.tokenIds.length;
      return n > 0 && n < maxLen;
    });
    if (usable.length === 0) return { metrics: {}, trained: 0 };
    const seqs = usable.map((e) => e.sample.generation);
    const chunk = this.options.scoreChunk;
    // Log-probs, KL and entropy are formed at the sampling temperature (logits / T).
    const temperature = scoringTemperature(this.options.generation.temperature);
    const scored = await scoreSequences(this.policy, seqs, chunk, temperature);
    const ref = await scoreSequences(this.reference, seqs, chunk, temperature);
    // π_old is the behaviour policy: the generation-time log-probs. Without overlap they equal
    // the re-scored ones (to float error); with overlap the batch was drawn by the previous
    // weights and re-scoring would hide that lag from the ratio.
    const old = scored.map((s, i) => {
      const behaviour = seqs[i]!.logprobs;
      return behaviour && behaviour.length === s.logprobs.length
        ? { ...s, logprobs: Float32Array.from(behaviour) }
        : s;
    });
    const beta = this.kl.beta;
    const klInLoss = this.klPenalty === 'loss';
    const rewards = usable.map((e, i) =>
      perTokenRewards(e.score, old[i]!.logprobs, ref[i]!.logprobs, klInLoss ? 0 : beta),
    );
    const input: WeightedAdvantageInput = {
      rewards,
      values: old.map((o) => o.values),
      groups: usable.map((e) => e.sample.group),
      scores: usable.map((e) => e.score),
      weights: usable.map((e) => e.weights),
    };
    const adv = this.advantage.compute(input);
    const rollouts: Rollout[] = usable.map((e, i) => ({
      problemId: this.problems[e.sample.problemIndex]!.id,
      group: e.sample.group,
      stage: e.sample.prompt.stage,
      promptIds: e.sample.generation.promptIds,
      tokenIds: e.sample.generation.tokenIds,
      score: e.score,
      passed: e.result.outcome === 'pass',
      weights: e.weights,
      oldLogprobs: old[i]!.logprobs,
      refLogprobs: ref[i]!.logprobs,
      values: old[i]!.values,
      entropies: old[i]!.entropies,
      rewards: rewards[i]!,
      advantages: adv.advantages[i]!,
      returns: adv.returns?.[i] ?? new Float32Array(0),
    }));
    const lr = learningRateAt(this.options.lr, step, this.options.lrSchedule);
    setLearningRate(this.optimizer, lr);
    const p = this.options.ppo;
    const stats = ppoUpdate(
      this.policy,
      this.optimizer,
      rollouts,
      {
        epochs: p.epochs,
        minibatchSize: p.minibatchSize,
        clipRange: p.clipRange,
        clipRangeValue: p.clipRangeValue,
        vfCoef: p.vfCoef,
        entCoef: p.entCoef,
        maxGradNorm: p.maxGradNorm,
        useValueLoss: adv.returns !== undefined && p.vfCoef > 0,
        temperature,
        klLossCoef: klInLoss ? beta : 0,
        lossAggregation: p.lossAggregation,
        constantLength: this.options.generation.maxNewTokens,
      },
      this.minibatchRng,
      (info) => {
        this.events.emit('update:skipped', { step, reason: 'nonfinite_gradients', ...info });
        this.events.emit('log', {
          level: 'warn',
          source: 'ppo',
          message: `iteration ${step + 1}: minibatch ${info.minibatch} had non-finite gradients (norm ${info.gradNorm}, loss ${info.loss}); its step was skipped`,
        });
      },
    );
    let klSum = 0;
    let tokens = 0;
    let weightSum = 0;
    let entropySum = 0;
    for (const r of rollouts) {
      for (let t = 0; t < r.tokenIds.length; t++) {
        klSum += r.oldLogprobs[t]! - r.refLogprobs[t]!;
        weightSum += r.weights[t]!;
        entropySum += r.entropies[t]!;
      }
      tokens += r.tokenIds.length;
    }
    const kl = klSum / rollouts.length;
    this.kl.update(kl, rollouts.length);
    return {
      trained: rollouts.length,
      metrics: {
        kl,
        policy_loss: stats.policyLoss,
        value_loss: stats.valueLoss,
        entropy: entropySum / tokens,
        entropy_bonus: stats.entropyBonus,
        masked_fraction: 1 - weightSum / tokens,
        clip_fraction: stats.clipFraction,
        approx_kl: stats.approxKl,
        grad_norm: stats.gradNorm,
        kl_loss: stats.klLoss,
        first_approx_kl: stats.firstApproxKl,
        nonfinite_steps: stats.skippedSteps,
        lr,
        tokens,
      },
    };
  }

  private outcomeMetrics(executed: ExecutedSample[]): Record<string, number> {
    if (executed.length === 0) return {};
    const mean = (f: (e: ExecutedSample) => number) =>
      executed.reduce((a, e) => a + f(e), 0) / executed.length;
    return {
      rollouts: executed.length,
      passes: executed.filter((e) => e.result.outcome === 'pass').length,
      reward_mean: mean((e) => e.score),
      pass_rate: mean((e) => (e.result.outcome === 'pass' ? 1 : 0)),
      // Rollouts that compiled: FGO can only mask programs that ran (a compile error keeps every token).
      compile_rate: mean((e) => (e.result.outcome === 'compile_error' ? 0 : 1)),
      stage_mean: mean((e) => e.sample.prompt.stage),
    };
  }

  private skip(reason: string, problemId: string, error: unknown): void {
    const message = describe(error);
    this.events.emit('sample:skipped', { reason, problemId, details: { error: message } });
    this.events.emit('log', {
      level: 'warn',
      source: 'ppo',
      message: `sample of problem '${problemId}' skipped (${reason})${message ? `: ${message}` : ''}`,
    });
  }

  /**
   * Save everything an exact resume needs: policy, reference and optimizer tensors, the RNG
   * streams, curriculum and KL-controller state, the step and the prefetched batch.
   */
  async checkpoint(dir: string): Promise<void> {
    this.assertAlive();
    // A batch still generating on the generator is part of the state: wait for it.
    if (this.pending) this.pending = await this.pending;
    await mkdir(dir, { recursive: true });
    const names = await saveWeights(this.policy, join(dir, POLICY_FILE));
    const referenceSaved = !this.referenceIsBase();
    if (referenceSaved) await saveWeights(this.reference, join(dir, REFERENCE_FILE));
    await saveOptimizerState(this.optimizer, join(dir, OPTIMIZER_FILE));
    // Also a folder `loadPolicy` reads, for evaluation and for starting new runs from this one.
    if (this.policy.save) await this.policy.save(join(dir, MODEL_DIR));
    const state: TrainerState = {
      version: 1,
      step: this.stepIndex,
      rng: {
        problems: this.problemRng.state(),
        generation: this.generationRng.state(),
        minibatch: this.minibatchRng.state(),
      },
      curriculum: this.curriculum.state(),
      kl: this.kl.state(),
      pending: (this.pending as GeneratedBatch | undefined) ?? null,
      weights: names,
      ...(this.policy.checkpointState ? { policy: this.policy.checkpointState() } : {}),
      referenceSaved,
    };
    await writeFile(join(dir, STATE_FILE), `${JSON.stringify(state)}\n`);
  }

  /** The reference is the policy's own frozen base (LoRA's view), not a copy or a given policy. */
  private referenceIsBase(): boolean {
    return this.config.reference === undefined && this.policy.referenceIsFrozenBase === true;
  }

  /** @internal used by `resumeTrainer`. */
  async restore(dir: string): Promise<void> {
    let state: TrainerState;
    try {
      state = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as TrainerState;
    } catch (cause) {
      throw new StepcoderError('CHECKPOINT', `no readable ${STATE_FILE} in ${dir}`, { cause });
    }
    if (state.version !== 1) {
      throw new StepcoderError(
        'CHECKPOINT',
        `unsupported trainer checkpoint version ${state.version} in ${dir}`,
      );
    }
    await loadWeightsInto(this.policy, join(dir, POLICY_FILE));
    if (state.referenceSaved !== false) await loadWeightsInto(this.reference, join(dir, REFERENCE_FILE));
    else if (!this.referenceIsBase())
      throw new StepcoderError(
        'CHECKPOINT',
        `${dir} holds no reference weights (it was written by a policy whose reference is its frozen base, e.g. LoRA); resume it with such a policy, not one needing a separate reference`,
        { details: { dir } },
      );
    await loadOptimizerState(this.optimizer, join(dir, OPTIMIZER_FILE));
    this.problemRng = RngClass.fromState(state.rng.problems);
    this.generationRng = RngClass.fromState(state.rng.generation);
    this.minibatchRng = RngClass.fromState(state.rng.minibatch);
    this.curriculum.restore(state.curriculum);
    this.kl.restore(state.kl);
    this.pending = state.pending ?? undefined;
    if (state.policy) {
      if (!this.policy.restoreState)
        throw new StepcoderError(
          'CHECKPOINT',
          `${join(dir, STATE_FILE)} holds policy state (${Object.keys(state.policy).join(', ')}) this policy cannot restore: resume with the kind of policy that wrote it`,
          { details: { keys: Object.keys(state.policy) } },
        );
      this.policy.restoreState(state.policy);
    }
    this.stepIndex = state.step;
    this.generatorStale = true;
  }

  /**
   * Release the optimizer, the reference copy and every plugin the trainer created by name. A
   * `generator` is the caller's: the trainer waits for its calls in flight, never disposes it.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.resolve(this.pending).catch(() => undefined);
    await this.weightsPushed?.catch(() => undefined);
    this.optimizer.dispose();
    if (this.ownsReference) this.reference.dispose();
    for (const p of this.created) await p.dispose?.();
  }

  private assertAlive(): void {
    if (this.disposed) throw new StepcoderError('NOT_READY', 'this trainer has been disposed');
  }
}

async function saveWeights(policy: TrainablePolicy, path: string): Promise<string[]> {
  const weights = policy.getWeights();
  try {
    await writeTensorFile(
      path,
      [...weights].map(([name, tensor]) => ({ name, tensor })),
    );
  } finally {
    tf.dispose([...weights.values()]);
  }
  return [...weights.keys()];
}

/**
 * Copies of the policy's parameters as plain arrays (fresh buffers: a generator may take them),
 * read synchronously so that the push keeps its place in the generator's call order.
 */
function snapshotWeights(policy: TrainablePolicy): Map<string, { shape: number[]; data: Float32Array }> {
  const tensors = policy.getWeights();
  try {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of tensors) {
      // A copy: some backends hand out the storage the tensor (and the variable it clones) uses.
      out.set(name, { shape: [...t.shape], data: new Float32Array(t.dataSync()) });
    }
    return out;
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

async function loadWeightsInto(policy: TrainablePolicy, path: string): Promise<void> {
  const entries = await readTensorFile(path);
  const map = new Map(entries.map((e) => [e.name, e.tensor]));
  await policy.setWeights(map);
  tf.dispose(entries.map((e) => e.tensor));
}

function describe(err: unknown): string {
  if (err === undefined || err === null) return '';
  return err instanceof Error ? err.message : String(err);
}

export function createTrainer(config: TrainerConfig): Promise<Trainer> {
  return Trainer.create(config);
}

/**
 * Continue training from `trainer.checkpoint(dir)`. `config` must be the one the run started with
 * (same problems, plugins, seed); its policy receives the saved weights.
 */
export async function resumeTrainer(dir: string, config: TrainerConfig): Promise<Trainer> {
  const trainer = await Trainer.create(config);
  await trainer.restore(dir);
  return trainer;
}
