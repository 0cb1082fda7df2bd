import type { Curriculum, CurriculumPrompt, EventBus, Problem, Rng } from '@stepcoder/core';
import { createPromptAligner, createRng, StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { clipByGlobalNorm, tokenLogprobs, weightedMean } from './losses.js';
import { learningRateAt } from './lr-schedule.js';
import { createAdam, setLearningRate } from './optimizer.js';
import { createPlainCurriculum, finalStagePrompt } from './plain-curriculum.js';
import { type PolicyTokenizer, promptIdsOf, type TrainablePolicy } from './policy.js';
import { collate } from './rollout.js';

export interface SftOptions {
  policy: TrainablePolicy;
  problems: readonly Problem[];
  /** Prompt template; its last stage (whole program) is used. Default: `createPlainCurriculum()`. */
  curriculum?: Curriculum;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Tokens per example (prompt + target + EOS); longer prompts lose their oldest tokens. */
  maxLength: number;
  maxGradNorm?: number;
  /**
   * Per-step schedule of `lr` (default constant). `'cosine'`: 5% linear warm-up, then cosine decay
   * to 10% over all steps — from-scratch training reaches a lower loss in the same steps.
   */
  schedule?: 'constant' | 'cosine';
  /**
   * Completion examples mixed in (CCCS preparation): about `fraction` × problems extra examples,
   * each a seeded non-final stage of `curriculum` — the stage's prefix given, loss on the canonical
   * remainder only. Without them the model only ever sees whole-program prompts, and CCCS rollouts
   * start from prompts unlike anything it was trained on.
   */
  completionMix?: { curriculum: Curriculum; fraction: number };
  /**
   * Align every prompt's cut to the tokenizer (`alignPromptToTokens`), as the trainer does by
   * default, so SFT and RL condition on the same tokens. Default true.
   */
  alignPrompts?: boolean;
  events?: EventBus;
}

export interface SftResult {
  /** Mean target-token cross-entropy of each optimizer step (nats). */
  losses: number[];
  /** Mean loss of each epoch. */
  epochLosses: number[];
  examples: number;
  /** Of `examples`, the completion examples (`completionMix`). */
  completionExamples: number;
  skipped: number;
}

/** One SFT example: prompt tokens condition, the loss is on `tokenIds` (target + EOS). */
export interface SftExample {
  promptIds: number[];
  tokenIds: number[];
}

/**
 * Supervised warm-start on canonical solutions: next-token cross-entropy on the target tokens
 * (canonical remainder + EOS) only, prompt tokens conditioning but not trained.
 */
export async function runSft(options: SftOptions): Promise<SftResult> {
  const { policy, epochs, batchSize, lr, seed, maxLength, events } = options;
  if (!(epochs >= 1 && batchSize >= 1 && lr > 0 && maxLength >= 2)) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `runSft needs epochs ≥ 1, batchSize ≥ 1, lr > 0, maxLength ≥ 2 (got ${epochs}, ${batchSize}, ${lr}, ${maxLength})`,
    );
  }
  const curriculum = options.curriculum ?? createPlainCurriculum();
  const tok = policy.tokenizer;
  const limit = Math.min(maxLength, policy.config.nPositions);
  const built = await sftExamples({ ...options, tokenizer: tok, maxLength: limit, curriculum });
  const { examples, completionExamples } = built;
  if (examples.length === 0)
    throw new StepcoderError('INVALID_OPTIONS', 'runSft: no problem has a canonical solution');
  const rng = createRng(seed).split('sft');
  const optimizer = createAdam({ lr });
  const vars = policy.trainableVariables();
  const losses: number[] = [];
  const epochLosses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const batches = lengthBucketedBatches(examples, batchSize, rng);
      let sum = 0;
      let count = 0;
      for (const indices of batches) {
        const batch = indices.map((i) => examples[i]!);
        if (options.schedule === 'cosine') {
          const total = epochs * batches.length;
          setLearningRate(
            optimizer,
            learningRateAt(lr, losses.length, {
              type: 'cosine',
              warmupSteps: Math.ceil(total * 0.05),
              totalSteps: total,
              minRatio: 0.1,
            }),
          );
        }
        const loss = sftStep(policy, optimizer, vars, batch, limit, options.maxGradNorm ?? 1);
        losses.push(loss);
        sum += loss;
        count++;
        events?.emit('metric', { name: 'sft_loss', value: loss, step: losses.length });
        events?.emit('progress', {
          task: 'sft',
          done: losses.length,
          total: epochs * batches.length,
        });
      }
      epochLosses.push(sum / count);
    }
  } finally {
    optimizer.dispose();
  }
  return {
    losses,
    epochLosses,
    examples: examples.length,
    completionExamples,
    skipped: built.skipped,
  };
}

export interface SftExampleOptions
  extends Pick<SftOptions, 'problems' | 'curriculum' | 'completionMix' | 'alignPrompts' | 'events' | 'seed'> {
  tokenizer: PolicyTokenizer;
  /** Tokens per example (prompt + target + EOS): the target is cut to fit. */
  maxLength: number;
}

export interface SftExamples {
  /** Whole-program examples first (one per problem with a canonical solution), then completions. */
  examples: SftExample[];
  /** The (aligned) curriculum prompt of each example, in the same order. */
  prompts: CurriculumPrompt[];
  completionExamples: number;
  skipped: number;
}

/**
 * The examples `runSft` trains on: each problem's whole-program prompt (the curriculum's last
 * stage) and, with `completionMix`, seeded CCCS-stage prompts; every prompt aligned to the
 * tokenizer unless `alignPrompts` is false. Prompt tokens condition; loss is on `tokenIds`.
 */
export async function sftExamples(options: SftExampleOptions): Promise<SftExamples> {
  const { problems, events, tokenizer: tok, maxLength: limit } = options;
  const curriculum = options.curriculum ?? createPlainCurriculum();
  const align = options.alignPrompts === false ? undefined : createPromptAligner(tok);
  const examples: SftExample[] = [];
  const prompts: CurriculumPrompt[] = [];
  const add = (raw: CurriculumPrompt) => {
    const cp = align ? align(raw).prompt : raw;
    const promptIds = promptIdsOf(tok, cp.prompt);
    const tokenIds = [...tok.encode(cp.target), tok.eosTokenId].slice(0, limit - 1);
    examples.push({ promptIds: promptIds.length ? promptIds : [tok.eosTokenId], tokenIds });
    prompts.push(cp);
  };
  let skipped = 0;
  const usable: Problem[] = [];
  for (const problem of problems) {
    if (problem.canonicalSolutions.length === 0) {
      skipped++;
      events?.emit('sample:skipped', { reason: 'no_canonical_solution', problemId: problem.id });
      continue;
    }
    usable.push(problem);
    add(await finalStagePrompt(curriculum, problem));
  }
  const mixRng = createRng(options.seed).split('sft').split('mix');
  const completions = await completionExamplesOf(usable, options.completionMix, mixRng);
  for (const cp of completions) add(cp);
  return { examples, prompts, completionExamples: completions.length, skipped };
}

/**
 * The completion examples of `completionMix`: round(fraction × problems) draws of a problem (without
 * replacement while they last) and one of its non-final stages, uniformly. Problems with a single
 * stage (nothing to cut) are skipped.
 */
async function completionExamplesOf(
  problems: readonly Problem[],
  mix: SftOptions['completionMix'],
  rng: Rng,
): Promise<CurriculumPrompt[]> {
  if (!mix || !(mix.fraction > 0)) return [];
  if (!(mix.fraction <= 4)) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `runSft: completionMix.fraction must be in (0, 4], got ${mix.fraction}`,
    );
  }
  const want = Math.round(mix.fraction * problems.length);
  const out: CurriculumPrompt[] = [];
  let order: Problem[] = [];
  for (let attempts = 0; out.length < want && attempts < 4 * want + problems.length; attempts++) {
    if (order.length === 0) order = rng.shuffle([...problems]);
    const problem = order.pop()!;
    const first = await mix.curriculum.prompt(problem, 0);
    if (first.stageCount <= 1) continue;
    const stage = rng.int(first.stageCount - 1);
    out.push(stage === 0 ? first : await mix.curriculum.prompt(problem, stage));
  }
  return out;
}

/**
 * Seeded batches of similar lengths: shuffle, sort windows of 16 batches by length, cut them into
 * batches and shuffle the batch order. A batch is padded to its longest example, so mixing 60- and
 * 250-token programs wastes most of a step; bucketing keeps the randomness of the order while
 * cutting the padding.
 */
export function lengthBucketedBatches(
  examples: ReadonlyArray<{ promptIds: readonly number[]; tokenIds: readonly number[] }>,
  batchSize: number,
  rng: Rng,
): number[][] {
  const order = rng.shuffle(examples.map((_, i) => i));
  const size = (i: number) => examples[i]!.promptIds.length + examples[i]!.tokenIds.length;
  const window = batchSize * 16;
  const batches: number[][] = [];
  for (let w = 0; w < order.length; w += window) {
    const sorted = order.slice(w, w + window).sort((a, b) => size(a) - size(b) || a - b);
    for (let s = 0; s < sorted.length; s += batchSize) batches.push(sorted.slice(s, s + batchSize));
  }
  return rng.shuffle(batches);
}

function sftStep(
  policy: TrainablePolicy,
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  batch: SftExample[],
  maxLength: number,
  maxGradNorm: number,
): number {
  const c = collate(batch, policy.tokenizer.padTokenId, maxLength);
  const b = batch.length;
  const w = c.length - 1;
  const targets = new Int32Array(b * w);
  const mask = new Float32Array(b * w);
  batch.forEach((_, i) => {
    const row = c.ids[i]!;
    for (let t = 0; t < w; t++) targets[i * w + t] = row[t + 1]!;
    for (const p of c.positions[i]!) mask[i * w + p] = 1;
  });
  const ids = tf.tensor2d(c.ids.flat(), [b, c.length], 'int32');
  const attention = tf.tensor2d(c.attention.flat(), [b, c.length]);
  const targetT = tf.tensor2d(targets, [b, w], 'int32');
  const maskT = tf.tensor2d(mask, [b, w]);
  const { value, grads } = tf.variableGrads(() => {
    const { logits } = policy.apply(ids, attention);
    const [bb, t, v] = logits.shape;
    const lp = tokenLogprobs(tf.slice(logits, [0, 0, 0], [bb, t - 1, v]), targetT);
    return tf.neg(weightedMean(lp, maskT));
  }, vars);
  const raw = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
  const clipped = clipByGlobalNorm(raw, maxGradNorm);
  optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: clipped.grads[i]! })));
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ids, attention, targetT, maskT, ...raw, ...clipped.grads, ...Object.values(grads)]);
  return loss;
}
