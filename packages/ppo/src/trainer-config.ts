import type {
  EventBus,
  ExecutionLimits,
  PluginKind,
  PluginKinds,
  Problem,
  Registry,
  TestBudget,
} from '@stepcoder/core';
import { registry as globalRegistry, StepcoderError, validate } from '@stepcoder/core';
import { z } from 'zod';
import { klControlSchema } from './kl-controller.js';
import { lrScheduleSchema } from './lr-schedule.js';
import type { PolicyGenerator, TrainablePolicy } from './policy.js';

/** A plugin given as an object, a registered name, or a name with options. */
export type PluginRef<K extends PluginKind> =
  | PluginKinds[K]
  | string
  | { name: string; options?: Record<string, unknown> };

const pluginRef = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.custom<object>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      (v as { specificationVersion?: unknown }).specificationVersion === 'v1',
    {
      message: "expected a plugin object (specificationVersion 'v1'), a registered name, or {name, options}",
    },
  ),
]);

export const trainerOptionsSchema = z
  .object({
    seed: z.number().int(),
    /** Prompts per iteration. */
    batchSize: z.number().int().positive().default(8),
    /** Completions per prompt (the group of `grpo`). */
    samplesPerPrompt: z.number().int().positive().default(1),
    generation: z
      .object({
        maxNewTokens: z.number().int().positive().default(128),
        temperature: z.number().min(0).default(1),
        topK: z.number().int().positive().optional(),
        topP: z.number().positive().max(1).optional(),
        stop: z.array(z.string()).optional(),
        useCache: z.boolean().optional(),
        /**
         * Prompts per `generate` call (default: the whole batch). Smaller chunks give overlapped
         * executions event-loop turns between calls, at some cost in batching.
         */
        chunkSize: z.number().int().positive().optional(),
      })
      .strict()
      .default({ maxNewTokens: 128, temperature: 1 }),
    ppo: z
      .object({
        epochs: z.number().int().positive().default(4),
        minibatchSize: z.number().int().positive().default(4),
        clipRange: z.number().positive().default(0.2),
        /** `null` disables value clipping. */
        clipRangeValue: z.number().positive().nullable().default(0.2),
        vfCoef: z.number().min(0).default(0.1),
        entCoef: z.number().min(0).default(0),
        maxGradNorm: z.number().min(0).default(1),
        /**
         * How the policy loss of a minibatch is averaged. `token-mean` (PPO's default): Σ over
         * tokens / token count, so long completions weigh more than short ones. `sequence-mean`
         * (GRPO as published): each sequence's own token mean, averaged over sequences.
         * `constant` (Dr. GRPO): Σ over tokens / (sequences × generation.maxNewTokens), no length
         * bias in either direction. See the ppo README.
         */
        lossAggregation: z.enum(['token-mean', 'sequence-mean', 'constant']).default('token-mean'),
      })
      .strict()
      .default({
        epochs: 4,
        minibatchSize: 4,
        clipRange: 0.2,
        clipRangeValue: 0.2,
        vfCoef: 0.1,
        entCoef: 0,
        maxGradNorm: 1,
        lossAggregation: 'token-mean',
      }),
    /**
     * Groups (the `samplesPerPrompt` samples of one prompt) whose rewards cannot rank their
     * samples carry no group-relative signal. `filter: 'equal'` drops groups whose rewards are all
     * equal; `'contrast'` drops groups without both a pass and a non-pass (DAPO's dynamic
     * sampling filters on accuracy: all-pass or all-fail). Dropped groups are replaced by new
     * prompts, generated and executed, for up to `maxRounds` extra rounds per iteration, so the
     * update sees `batchSize` informative groups when the policy can give them. `'none'` keeps
     * every group (they are still counted: `equal_groups`, `contrast_groups`).
     */
    dynamicSampling: z
      .object({
        filter: z.enum(['none', 'equal', 'contrast']).default('none'),
        maxRounds: z.number().int().min(0).default(2),
      })
      .strict()
      .default({ filter: 'none', maxRounds: 2 }),
    /**
     * Move each curriculum prompt's cut so that prompt tokens + target tokens equal the tokens of
     * the whole text (`alignPromptToTokens` in @stepcoder/core): a CCCS prefix otherwise ends on a
     * token boundary SFT never produced. Default on; off reproduces the raw line-start cut.
     */
    alignPrompts: z.boolean().default(true),
    kl: klControlSchema.default({ type: 'fixed', beta: 0.05 }),
    /**
     * How the KL to the reference acts. 'reward': −β·(log π − log π_ref) in every token's reward
     * (Ziegler et al.; StepCoder), for estimators with a critic. 'loss': β·k3 KL as a loss term
     * (GRPO / DeepSeekMath, TRL's GRPOTrainer), bounded per token. 'auto': 'loss' for critic-free
     * estimators (grpo), 'reward' otherwise.
     */
    klPenalty: z.enum(['auto', 'reward', 'loss']).default('auto'),
    lr: z.number().positive().default(1e-5),
    lrSchedule: lrScheduleSchema.default({ type: 'constant', warmupSteps: 0, minRatio: 0 }),
    adam: z
      .object({
        beta1: z.number().default(0.9),
        beta2: z.number().default(0.999),
        epsilon: z.number().default(1e-8),
      })
      .strict()
      .default({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }),
    /**
     * Generate batch i+1 while batch i executes (and, with a `generator`, while batch i's update
     * runs). Its rollouts are then one update stale: the ratio is formed against their
     * generation-time log-probs (the behaviour policy), so PPO's clip sees the lag. Opt-in (see README).
     */
    overlap: z.boolean().default(false),
    execution: z
      .object({
        limits: z.custom<Partial<ExecutionLimits>>((v) => typeof v === 'object' && v !== null).optional(),
        testBudget: z.custom<TestBudget>((v) => typeof v === 'object' && v !== null).optional(),
        /** Programs in flight at once; the executor's own pool may bound this further. */
        concurrency: z.number().int().positive().default(16),
      })
      .strict()
      .default({ concurrency: 16 }),
    checkpoint: z
      .object({ dir: z.string().min(1), every: z.number().int().positive() })
      .strict()
      .optional(),
    /** Rows per `scoreTokens` call when re-scoring rollouts. */
    scoreChunk: z.number().int().positive().default(8),
    executor: pluginRef,
    reward: pluginRef,
    mask: pluginRef.optional(),
    curriculum: pluginRef.optional(),
    advantage: pluginRef.default('gae'),
  })
  .strict();

export type TrainerOptions = z.input<typeof trainerOptionsSchema>;
export type ResolvedTrainerOptions = z.output<typeof trainerOptionsSchema>;

export interface TrainerConfig
  extends Omit<TrainerOptions, 'executor' | 'reward' | 'mask' | 'curriculum' | 'advantage'> {
  policy: TrainablePolicy;
  /**
   * Generate through this instead of `policy.generate` (e.g. a `GeneratorWorker` on another
   * thread). The trainer pushes the policy's weights to it when training starts, after a resume
   * and after every update, before the next generation is requested. Owned by the caller: the
   * trainer never disposes it.
   */
  generator?: PolicyGenerator;
  /** Frozen reference for the KL penalty; default `policy.referenceCopy()` at creation. */
  reference?: TrainablePolicy;
  problems: readonly Problem[];
  executor: PluginRef<'executor'>;
  reward: PluginRef<'reward'>;
  /** Default: every generated token has weight 1 (plain PPO). */
  mask?: PluginRef<'mask'>;
  /** Default: `createPlainCurriculum()` (the model writes the whole program). */
  curriculum?: PluginRef<'curriculum'>;
  /** Default: `gae` with its defaults. */
  advantage?: PluginRef<'advantage'>;
  /** Where names are looked up; default the global registry. */
  registry?: Registry;
  events?: EventBus;
}

export function parseTrainerOptions(config: TrainerConfig): ResolvedTrainerOptions {
  const { policy, reference, problems, registry, events, generator, ...options } = config;
  if (!policy || typeof policy.generate !== 'function' || typeof policy.apply !== 'function') {
    throw new StepcoderError(
      'INVALID_CONFIG',
      'trainer config: `policy` must be a Policy from @stepcoder/model',
    );
  }
  if (
    generator !== undefined &&
    (typeof generator !== 'object' ||
      generator === null ||
      typeof generator.generate !== 'function' ||
      typeof generator.setWeights !== 'function')
  ) {
    throw new StepcoderError(
      'INVALID_CONFIG',
      'trainer config: `generator` must have generate(prompts, options) and setWeights(weights), e.g. a GeneratorWorker from @stepcoder/model',
      { details: { path: 'generator' } },
    );
  }
  if (!Array.isArray(problems) || problems.length === 0) {
    throw new StepcoderError('INVALID_CONFIG', 'trainer config: `problems` must be a non-empty array');
  }
  return validate(trainerOptionsSchema, options, 'trainer config', 'INVALID_CONFIG');
}

/** Use a plugin object as is, or create it by name through the registry. */
export async function resolvePlugin<K extends PluginKind>(
  kind: K,
  ref: PluginRef<K> | object,
  registry: Registry = globalRegistry,
): Promise<{ plugin: PluginKinds[K]; created: boolean }> {
  if (typeof ref === 'string') return { plugin: await registry.create(kind, ref), created: true };
  if ('specificationVersion' in ref) return { plugin: ref as PluginKinds[K], created: false };
  const { name, options } = ref as { name: string; options?: Record<string, unknown> };
  return { plugin: await registry.create(kind, name, options as never), created: true };
}
