import type { Curriculum, EventBus, Problem, Rng } from '@stepcoder/core';
import { createRng, StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { clipByGlobalNorm, tokenLogprobs, weightedMean } from './losses.js';
import { learningRateAt } from './lr-schedule.js';
import { createAdam, setLearningRate } from './optimizer.js';
import { createPlainCurriculum, finalStagePrompt } from './plain-curriculum.js';
import type { TrainablePolicy } from './policy.js';
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
  events?: EventBus;
}

export interface SftResult {
  /** Mean target-token cross-entropy of each optimizer step (nats). */
  losses: number[];
  /** Mean loss of each epoch. */
  epochLosses: number[];
  examples: number;
  skipped: number;
}

interface Example {
  promptIds: number[];
  tokenIds: number[];
}

/**
 * Supervised warm-start on canonical solutions: next-token cross-entropy on the target tokens
 * (canonical remainder + EOS) only, prompt tokens conditioning but not trained.
 */
export async function runSft(options: SftOptions): Promise<SftResult> {
  const { policy, problems, epochs, batchSize, lr, seed, maxLength, events } = options;
  if (!(epochs >= 1 && batchSize >= 1 && lr > 0 && maxLength >= 2)) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `runSft needs epochs ≥ 1, batchSize ≥ 1, lr > 0, maxLength ≥ 2 (got ${epochs}, ${batchSize}, ${lr}, ${maxLength})`,
    );
  }
  const curriculum = options.curriculum ?? createPlainCurriculum();
  const tok = policy.tokenizer;
  const limit = Math.min(maxLength, policy.config.nPositions);
  const examples: Example[] = [];
  let skipped = 0;
  for (const problem of problems) {
    if (problem.canonicalSolutions.length === 0) {
      skipped++;
      events?.emit('sample:skipped', { reason: 'no_canonical_solution', problemId: problem.id });
      continue;
    }
    const cp = await finalStagePrompt(curriculum, problem);
    const promptIds = tok.encode(cp.prompt);
    const tokenIds = [...tok.encode(cp.target), tok.eosTokenId].slice(0, limit - 1);
    examples.push({ promptIds: promptIds.length ? promptIds : [tok.eosTokenId], tokenIds });
  }
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
  return { losses, epochLosses, examples: examples.length, skipped };
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
  batch: Example[],
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
