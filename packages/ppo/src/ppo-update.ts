import type { Rng } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  clipByGlobalNorm,
  clippedPolicyLoss,
  clippedValueLoss,
  k3Kl,
  tokenEntropy,
  tokenLogprobs,
  weightedMean,
} from './losses.js';
import type { TrainablePolicy } from './policy.js';
import { collate, type Rollout } from './rollout.js';

export interface PpoUpdateOptions {
  epochs: number;
  minibatchSize: number;
  clipRange: number;
  /** Value clip; `null` turns it off. */
  clipRangeValue: number | null;
  vfCoef: number;
  entCoef: number;
  maxGradNorm: number;
  /** False for critic-free estimators: no value loss, the value head is left alone. */
  useValueLoss: boolean;
  /**
   * Sampling temperature T: the loss forms log π_θ on logits / T, the distribution the rollouts
   * were drawn from (their old and reference log-probs are at T too). Default 1.
   */
  temperature?: number;
  /**
   * β of a k3 KL(π_θ ‖ π_ref) loss term (`kl.penalty: 'loss'`); 0 or absent: none (the KL then
   * acts through the per-token rewards instead).
   */
  klLossCoef?: number;
  /** How the policy loss averages over tokens (default `token-mean`); see `lossWeightsOf`. */
  lossAggregation?: LossAggregation;
  /** The `constant` aggregation's length (the generation budget, maxNewTokens). */
  constantLength?: number;
}

export type LossAggregation = 'token-mean' | 'sequence-mean' | 'constant';

export interface PpoUpdateStats {
  policyLoss: number;
  valueLoss: number;
  entropyBonus: number;
  clipFraction: number;
  approxKl: number;
  gradNorm: number;
  minibatches: number;
  /** Mean k3 KL to the reference over the minibatches (0 without a KL loss term). */
  klLoss: number;
  /** approxKl of the first minibatch, before any step: 0 on-policy, > 0 when rollouts are stale. */
  firstApproxKl: number;
  /** Minibatches whose gradients were not finite: their step was skipped, weights unchanged. */
  skippedSteps: number;
}

/** Shuffle rollout indices per epoch (seeded) and cut them into minibatches. */
export function minibatchOrder(count: number, size: number, epochs: number, rng: Rng): number[][] {
  const batches: number[][] = [];
  const indices = Array.from({ length: count }, (_, i) => i);
  for (let e = 0; e < epochs; e++) {
    const order = rng.shuffle(indices);
    for (let s = 0; s < order.length; s += size) batches.push(order.slice(s, s + size));
  }
  return batches;
}

/** A collated minibatch: [B, T] inputs and [B, T−1] per-position targets (see `collate`). */
export interface MinibatchTensors {
  ids: tf.Tensor2D;
  attention: tf.Tensor2D;
  targets: tf.Tensor2D;
  oldLogprobs: tf.Tensor2D;
  refLogprobs: tf.Tensor2D;
  oldValues: tf.Tensor2D;
  advantages: tf.Tensor2D;
  returns: tf.Tensor2D;
  weights: tf.Tensor2D;
  /** Per-token coefficients of the policy loss, summing to the aggregation's normaliser. */
  lossWeights: tf.Tensor2D;
  valid: tf.Tensor2D;
}

/**
 * Per-token coefficients c_t of the policy loss L = Σ_t c_t·ℓ_t for one minibatch of per-sequence
 * weights w (FGO mask × validity):
 *   token-mean     c_t = w_t / Σ_all w          (long sequences weigh more)
 *   sequence-mean  c_t = w_t / (Σ_seq w · S)    (S = sequences with any weight)
 *   constant       c_t = w_t / (B · L)          (Dr. GRPO; L = the generation budget)
 */
export function lossWeightsOf(
  weights: readonly Float32Array[],
  aggregation: LossAggregation,
  constantLength = 1,
): Float32Array[] {
  const sums = weights.map((w) => w.reduce((a, x) => a + x, 0));
  const total = sums.reduce((a, x) => a + x, 0);
  const live = sums.filter((x) => x > 0).length;
  return weights.map((w, i) => {
    const scale =
      aggregation === 'token-mean'
        ? total > 0
          ? 1 / total
          : 0
        : aggregation === 'sequence-mean'
          ? sums[i]! > 0
            ? 1 / (sums[i]! * live)
            : 0
          : 1 / (weights.length * Math.max(1, constantLength));
    return w.map((x) => x * scale);
  });
}

/**
 * Collate rollouts into tensors. `weights` (mask × validity) drive the policy loss and entropy
 * bonus; `valid` (1 on every generated token) drives the value loss — see README.
 */
export function buildMinibatch(
  rollouts: readonly Rollout[],
  padId: number,
  maxLength: number,
  aggregation: LossAggregation = 'token-mean',
  constantLength = 1,
): MinibatchTensors {
  const c = collate(rollouts, padId, maxLength);
  const b = rollouts.length;
  const w = c.length - 1;
  const grid = () => new Float32Array(b * w);
  const [oldLp, refLp, oldV, adv, ret, weights, valid] = [
    grid(),
    grid(),
    grid(),
    grid(),
    grid(),
    grid(),
    grid(),
  ];
  const targets = new Int32Array(b * w);
  const coefficients = lossWeightsOf(
    rollouts.map((r) => r.weights),
    aggregation,
    constantLength,
  );
  const lossW = grid();
  rollouts.forEach((r, i) => {
    const row = c.ids[i]!;
    for (let t = 0; t < w; t++) targets[i * w + t] = row[t + 1]!;
    c.positions[i]!.forEach((p, j) => {
      const k = i * w + p;
      oldLp[k] = r.oldLogprobs[j]!;
      refLp[k] = r.refLogprobs[j] ?? 0;
      oldV[k] = r.values[j]!;
      adv[k] = r.advantages[j]!;
      ret[k] = r.returns[j] ?? 0;
      weights[k] = r.weights[j]!;
      lossW[k] = coefficients[i]![j]!;
      valid[k] = 1;
    });
  });
  return {
    ids: tf.tensor2d(c.ids.flat(), [b, c.length], 'int32'),
    attention: tf.tensor2d(c.attention.flat(), [b, c.length], 'float32'),
    targets: tf.tensor2d(targets, [b, w], 'int32'),
    oldLogprobs: tf.tensor2d(oldLp, [b, w]),
    refLogprobs: tf.tensor2d(refLp, [b, w]),
    oldValues: tf.tensor2d(oldV, [b, w]),
    advantages: tf.tensor2d(adv, [b, w]),
    returns: tf.tensor2d(ret, [b, w]),
    weights: tf.tensor2d(weights, [b, w]),
    lossWeights: tf.tensor2d(lossW, [b, w]),
    valid: tf.tensor2d(valid, [b, w]),
  };
}

export interface PpoLossOutput {
  /** L = L_pg + c_vf·L_vf − c_ent·H (differentiable). */
  loss: tf.Scalar;
  policyLoss: tf.Scalar;
  valueLoss: tf.Scalar;
  entropyBonus: tf.Scalar;
  clipFraction: tf.Scalar;
  approxKl: tf.Scalar;
  /** Weighted mean k3 KL to the reference (0 when there is no KL loss term). */
  klLoss: tf.Scalar;
}

type LossOptions = Pick<
  PpoUpdateOptions,
  'clipRange' | 'clipRangeValue' | 'vfCoef' | 'entCoef' | 'useValueLoss' | 'temperature' | 'klLossCoef'
>;

/**
 * The PPO objective of one minibatch from the model's outputs on it: logits [B, T, V] and values
 * [B, T]; position t predicts token t+1, so both are cut to the first T−1 positions.
 */
export function ppoLoss(
  outputs: { logits: tf.Tensor3D; values: tf.Tensor2D },
  mb: MinibatchTensors,
  options: LossOptions,
): PpoLossOutput {
  const { logits, values } = outputs;
  const [b, t, v] = logits.shape;
  const temperature = options.temperature ?? 1;
  const cut = tf.slice(logits, [0, 0, 0], [b, t - 1, v]);
  const shifted = temperature === 1 ? cut : tf.div(cut, temperature);
  const logprobs = tokenLogprobs(shifted, mb.targets);
  const pg = clippedPolicyLoss({
    logprobs,
    oldLogprobs: mb.oldLogprobs,
    advantages: mb.advantages,
    weights: mb.weights,
    lossWeights: mb.lossWeights,
    clipRange: options.clipRange,
  });
  let loss: tf.Scalar = pg.loss;
  let valueLoss: tf.Scalar = tf.scalar(0);
  if (options.useValueLoss) {
    valueLoss = clippedValueLoss({
      values: tf.slice(values, [0, 0], [b, t - 1]),
      oldValues: mb.oldValues,
      returns: mb.returns,
      mask: mb.valid,
      clipRange: options.clipRangeValue ?? undefined,
    });
    loss = tf.add(loss, tf.mul(valueLoss, options.vfCoef));
  }
  let klLoss: tf.Scalar = tf.scalar(0);
  if (options.klLossCoef && options.klLossCoef > 0) {
    // Over every generated token (`valid`), not the FGO weights: the reference anchor holds on
    // code no test executed too.
    klLoss = weightedMean(k3Kl(logprobs, mb.refLogprobs), mb.valid);
    loss = tf.add(loss, tf.mul(klLoss, options.klLossCoef));
  }
  let entropyBonus: tf.Scalar = tf.scalar(0);
  if (options.entCoef > 0) {
    entropyBonus = weightedMean(tokenEntropy(shifted), mb.weights);
    loss = tf.sub(loss, tf.mul(entropyBonus, options.entCoef));
  }
  return {
    loss,
    policyLoss: pg.loss,
    valueLoss,
    entropyBonus,
    clipFraction: pg.clipFraction,
    approxKl: pg.approxKl,
    klLoss,
  };
}

/**
 * Several epochs of minibatch gradient steps on the rollouts:
 *   L = L_pg + c_vf·L_vf − c_ent·H,  gradients clipped to a global norm, one Adam step per minibatch.
 */
export function ppoUpdate(
  policy: TrainablePolicy,
  optimizer: tf.Optimizer,
  rollouts: readonly Rollout[],
  options: PpoUpdateOptions,
  rng: Rng,
  onSkip?: (info: { minibatch: number; gradNorm: number; loss: number }) => void,
): PpoUpdateStats {
  const vars = policy.trainableVariables();
  const totals = {
    policyLoss: 0,
    valueLoss: 0,
    entropyBonus: 0,
    clipFraction: 0,
    approxKl: 0,
    gradNorm: 0,
    klLoss: 0,
  };
  let firstApproxKl = 0;
  let skippedSteps = 0;
  let finiteSteps = 0;
  const order = minibatchOrder(rollouts.length, options.minibatchSize, options.epochs, rng);
  for (const [m, indices] of order.entries()) {
    const mb = buildMinibatch(
      indices.map((i) => rollouts[i]!),
      policy.tokenizer.padTokenId,
      policy.config.nPositions,
      options.lossAggregation,
      options.constantLength,
    );
    let aux: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = ppoLoss(policy.apply(mb.ids, mb.attention), mb, options);
      aux = [out.policyLoss, out.valueLoss, out.entropyBonus, out.clipFraction, out.approxKl, out.klLoss].map(
        (x) => tf.keep(x),
      );
      return out.loss;
    }, vars);
    // Variables without a gradient (the value head under a critic-free estimator) get zeros, so
    // Adam's accumulators always line up with `vars` by position — required for exact resume.
    const raw = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
    const clipped = clipByGlobalNorm(raw, options.maxGradNorm);
    const [pgL, vfL, entL, clipF, akl, klL] = aux.map((x) => x.dataSync()[0]!);
    if (m === 0) firstApproxKl = akl!;
    if (!Number.isFinite(clipped.norm) || !Number.isFinite(pgL!)) {
      // One NaN/Inf step would poison every weight (and Adam's moments) for good: skip it.
      skippedSteps++;
      onSkip?.({ minibatch: m, gradNorm: clipped.norm, loss: pgL! });
    } else {
      optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: clipped.grads[i]! })));
      finiteSteps++;
      totals.klLoss += klL!;
      totals.policyLoss += pgL!;
      totals.valueLoss += vfL!;
      totals.entropyBonus += entL!;
      totals.clipFraction += clipF!;
      totals.approxKl += akl!;
      totals.gradNorm += clipped.norm;
    }
    tf.dispose([value, ...aux, ...raw, ...clipped.grads, ...Object.values(grads), ...Object.values(mb)]);
  }
  const n = Math.max(1, finiteSteps);
  return {
    klLoss: totals.klLoss / n,
    firstApproxKl,
    skippedSteps,
    policyLoss: totals.policyLoss / n,
    valueLoss: totals.valueLoss / n,
    entropyBonus: totals.entropyBonus / n,
    clipFraction: totals.clipFraction / n,
    approxKl: totals.approxKl / n,
    gradNorm: totals.gradNorm / n,
    minibatches: order.length,
  };
}
