import * as tf from '@tensorflow/tfjs-core';

/*
 * PPO losses on per-token tensors of any (equal) shape, typically [batch, time]. Every op here has
 * a gradient kernel on the wasm backend (no gather, no clipByValue in differentiable paths).
 */

/** Σ x·w / Σ w, with 0 when every weight is 0 (a fully masked minibatch trains nothing). */
export function weightedMean(x: tf.Tensor, weights: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(x, weights)), tf.maximum(tf.sum(weights), 1e-8)) as tf.Scalar);
}

export interface PolicyLossInput {
  /** log π_θ(a_t | s_t) under the current parameters (differentiable). */
  logprobs: tf.Tensor;
  /** log π_old(a_t | s_t) from the rollout (constant). */
  oldLogprobs: tf.Tensor;
  advantages: tf.Tensor;
  /** Per-token loss weights: FGO mask × validity (0 on padding). */
  weights: tf.Tensor;
  /**
   * Per-token coefficients of the loss (Σ c·ℓ, see `lossWeightsOf` in ppo-update); default the
   * token mean over `weights`. Clip fraction and approx-KL stay token means either way.
   */
  lossWeights?: tf.Tensor;
  /** ε of the ratio clip. */
  clipRange: number;
}

export interface PolicyLossOutput {
  loss: tf.Scalar;
  /** Weighted fraction of tokens whose ratio left [1−ε, 1+ε]. */
  clipFraction: tf.Scalar;
  /** Weighted mean of ½(log π − log π_old)², a low-variance KL(π_old‖π) estimate. */
  approxKl: tf.Scalar;
}

/**
 * Clipped surrogate (Schulman et al., 2017), token-weighted:
 *   ρ_t = exp(log π_θ − log π_old)
 *   L_pg = Σ_t w_t · max(−A_t·ρ_t, −A_t·clip(ρ_t, 1−ε, 1+ε)) / Σ_t w_t
 */
export function clippedPolicyLoss(input: PolicyLossInput): PolicyLossOutput {
  const { logprobs, oldLogprobs, advantages, weights, clipRange, lossWeights } = input;
  return tf.tidy(() => {
    const logRatio = tf.sub(logprobs, oldLogprobs);
    const ratio = tf.exp(logRatio);
    const clipped = tf.minimum(tf.maximum(ratio, 1 - clipRange), 1 + clipRange);
    const perToken = tf.maximum(tf.neg(tf.mul(advantages, ratio)), tf.neg(tf.mul(advantages, clipped)));
    const outside = tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipRange), 'float32');
    return {
      loss: lossWeights
        ? (tf.sum(tf.mul(perToken, lossWeights)) as tf.Scalar)
        : weightedMean(perToken, weights),
      clipFraction: weightedMean(outside, weights),
      approxKl: weightedMean(tf.mul(tf.square(logRatio), 0.5), weights),
    };
  });
}

export interface ValueLossInput {
  values: tf.Tensor;
  oldValues: tf.Tensor;
  returns: tf.Tensor;
  /** Which tokens count: 1 on every generated token, 0 on padding and prompt (see README). */
  mask: tf.Tensor;
  /** Clip of the value change around the rollout's value; `undefined` = unclipped. */
  clipRange?: number;
}

/**
 * Clipped value loss (PPO2 / OpenAI baselines):
 *   V_clip = V_old + clip(V − V_old, −c, c)
 *   L_vf = ½ · Σ_t m_t · max((V − R)², (V_clip − R)²) / Σ_t m_t
 */
export function clippedValueLoss(input: ValueLossInput): tf.Scalar {
  const { values, oldValues, returns, mask, clipRange } = input;
  return tf.tidy(() => {
    const unclipped = tf.square(tf.sub(values, returns));
    if (clipRange === undefined) return tf.mul(weightedMean(unclipped, mask), 0.5) as tf.Scalar;
    const delta = tf.minimum(tf.maximum(tf.sub(values, oldValues), -clipRange), clipRange);
    const clipped = tf.square(tf.sub(tf.add(oldValues, delta), returns));
    return tf.mul(weightedMean(tf.maximum(unclipped, clipped), mask), 0.5) as tf.Scalar;
  });
}

/**
 * k3 estimator of KL(π_θ ‖ π_ref) per token (Schulman, "Approximating KL divergence"; the GRPO
 * loss term of DeepSeekMath and TRL's GRPOTrainer): exp(r) − r − 1 with r = log π_ref − log π_θ.
 * Non-negative for every token and unbiased, so as a loss term it pulls towards the reference
 * per token instead of through an unbaselined sum over the completion.
 *
 * Clamped as veRL's `low_var_kl` is: r to [−20, 20] and the estimate to at most 10 nats. Unclamped,
 * a sampled token the policy has made far less likely than the reference does (r ≫ 0) gives
 * exp(r): one such token took a LoRA run's KL loss from ~5 to 35,879 and its gradient norm from
 * 0.03 to 13,671, and Adam turned that into a step that collapsed a solved task (reward 1 → 0,
 * packages/ppo/test/lora-learning.test.ts). Past the clamp a token pulls no further.
 */
const K3_MAX = 10;
export function k3Kl(logprobs: tf.Tensor, refLogprobs: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // minimum/maximum, not clipByValue: wasm has no clipByValue gradient kernel.
    const r = tf.minimum(tf.maximum(tf.sub(refLogprobs, logprobs), -20), 20);
    return tf.minimum(tf.sub(tf.sub(tf.exp(r), r), 1), K3_MAX);
  });
}

/** log-softmax of `logits` [..., V] picked at `ids` [...] (int32): one-hot product, no gather. */
export function tokenLogprobs(logits: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const vocab = logits.shape[logits.shape.length - 1]!;
    const logp = tf.logSoftmax(logits);
    return tf.sum(tf.mul(logp, tf.oneHot(tf.cast(ids, 'int32'), vocab)), -1);
  });
}

/** Entropy of the next-token distribution at each position: H = −Σ_v p_v log p_v. */
export function tokenEntropy(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1));
  });
}

/** Global-norm clipping: every gradient is scaled by min(1, maxNorm / ‖g‖₂), ‖g‖ over all of them. */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: number } {
  const normT = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
  const norm = normT.dataSync()[0]!;
  normT.dispose();
  if (!(maxNorm > 0) || norm <= maxNorm || !Number.isFinite(norm)) {
    return { grads: grads.map((g) => g.clone()), norm };
  }
  const scale = maxNorm / (norm + 1e-6);
  return { grads: grads.map((g) => tf.mul(g, scale)), norm };
}
