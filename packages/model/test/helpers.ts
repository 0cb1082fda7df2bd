import { Rng } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import {
  createByteTokenizer,
  createPolicy,
  type GPT2Config,
  type LlamaConfig,
  type Policy,
} from '../src/base.js';

/** Small enough that a forward + backward pass takes milliseconds on 2 slow cores. */
export const TEST_CONFIG: GPT2Config = { vocabSize: 258, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4 };

/** A micro Llama: GQA 4:2, untied LM head, no biases. */
export const LLAMA: LlamaConfig = {
  family: 'llama',
  vocabSize: 258,
  nPositions: 64,
  hiddenSize: 32,
  intermediateSize: 48,
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
};

/** Qwen2-shaped: q/k/v biases, tied head, GQA 4:1. */
export const QWEN2: LlamaConfig = { ...LLAMA, modelType: 'qwen2', nKvHead: 1, tieWordEmbeddings: true };

/** A byte-tokenizer policy with every parameter perturbed (norm gains, biases and value head matter). */
export async function randomPolicy(
  config: LlamaConfig | GPT2Config,
  seed: number,
  scale = 0.1,
): Promise<Policy> {
  const policy = await createPolicy({ config, tokenizer: createByteTokenizer(), seed });
  const rng = new Rng(seed).split('perturb');
  const perturbed = new Map<string, tf.Tensor>();
  for (const [name, w] of policy.getWeights()) {
    const noise = Float32Array.from({ length: w.size }, () => rng.normal() * scale);
    perturbed.set(name, tf.add(w, tf.tensor(noise, w.shape)));
    w.dispose();
  }
  policy.setWeights(perturbed);
  tf.dispose([...perturbed.values()]);
  return policy;
}

/** A 2×6 batch whose first row is left-padded (pad id 257, mask 0): ids int32 and mask float. */
export function paddedBatch(): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const ids = tf.tensor2d(
    [
      [257, 10, 20, 30, 40, 50],
      [1, 2, 3, 4, 5, 6],
    ],
    [2, 6],
    'int32',
  );
  const mask = tf.tensor2d(
    [
      [0, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ],
    [2, 6],
  );
  return { ids, mask };
}

/** max |a − b| / max |b| (the scale floored at 1e-6); a and b must have the same length. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 1e-6;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return diff / scale;
}

/**
 * Logits and values of `policy` on paddedBatch(), and every trainable variable's gradient of a
 * loss on both (mean logit² + position-weighted values), as arrays: what a kernel comparison
 * checks, forward and backward.
 */
export function forwardAndGradients(policy: Policy): {
  logits: Float32Array;
  values: Float32Array;
  grads: Float32Array[];
  names: string[];
} {
  const { ids, mask } = paddedBatch();
  const vars = policy.trainableVariables();
  try {
    return tf.tidy(() => {
      const forward = policy.apply(ids, mask);
      const { grads } = tf.variableGrads(() => {
        const { logits, values } = policy.apply(ids, mask);
        return tf.add(
          tf.mean(tf.square(logits)),
          tf.mean(tf.mul(values, tf.reshape(tf.range(0, 6), [1, 6]))),
        ) as tf.Scalar;
      }, vars);
      return {
        logits: forward.logits.dataSync().slice() as Float32Array,
        values: forward.values.dataSync().slice() as Float32Array,
        grads: vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array),
        names: vars.map((v) => v.name),
      };
    });
  } finally {
    tf.dispose([ids, mask]);
  }
}

/** Greedy generation of two prompts of different lengths (a left-padded batch): ids and log-probs. */
export async function greedyPair(
  policy: Policy,
  maxNewTokens: number,
): Promise<Array<{ ids: number[]; logprobs: number[] }>> {
  const gens = await policy.generate(['def add(a, b):\n', 'x = 1\n'], {
    maxNewTokens,
    temperature: 0,
    seed: 1,
    ignoreEos: true,
  });
  return gens.map((g) => ({ ids: g.tokenIds, logprobs: g.logprobs }));
}
