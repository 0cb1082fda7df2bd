import type { AdvantageEstimator, AdvantageInput, AdvantageOutput } from '@stepcoder/core';
import { StepcoderError, validate } from '@stepcoder/core';
import { z } from 'zod';

export const gaeOptionsSchema = z
  .object({
    /** Discount per token. Code rewards arrive once, at the end: 1 keeps them undiscounted. */
    gamma: z.number().min(0).max(1).default(1),
    /** GAE's bias/variance trade-off: 0 = one-step TD, 1 = Monte-Carlo return minus baseline. */
    lambda: z.number().min(0).max(1).default(0.95),
    /** Normalise advantages to mean 0, std 1 over the batch's generated tokens, weighted by the mask. */
    whiten: z.boolean().default(true),
  })
  .strict();

export type GaeOptions = z.input<typeof gaeOptionsSchema>;

declare module '@stepcoder/core' {
  interface PluginOptions {
    'advantage:gae': GaeOptions;
  }
}

/**
 * Generalised advantage estimation of one sequence (Schulman et al., 2016). The episode ends after
 * the last generated token, so the value after it is 0:
 *   δ_t = r_t + γ·V(s_{t+1}) − V(s_t),   A_t = δ_t + γλ·A_{t+1},   R_t = A_t + V(s_t).
 */
export function gae(
  rewards: Float32Array,
  values: Float32Array,
  gamma: number,
  lambda: number,
): { advantages: Float32Array; returns: Float32Array } {
  if (values.length !== rewards.length) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `gae: expected one value per reward, got ${values.length} values for ${rewards.length} rewards`,
    );
  }
  const n = rewards.length;
  const advantages = new Float32Array(n);
  const returns = new Float32Array(n);
  let next = 0;
  for (let t = n - 1; t >= 0; t--) {
    const nextValue = t + 1 < n ? values[t + 1]! : 0;
    const delta = rewards[t]! + gamma * nextValue - values[t]!;
    next = delta + gamma * lambda * next;
    advantages[t] = next;
    returns[t] = next + values[t]!;
  }
  return { advantages, returns };
}

/**
 * Whitening: (A − mean) / (std + eps). Sequences hold only generated tokens (never padding). With
 * `weights` (the mask's per-token loss weights) mean and population std are weighted by them, so the
 * statistics describe the tokens the policy loss actually uses; masked tokens are shifted and
 * scaled the same way (their loss weight is 0 anyway). All-zero weights fall back to equal weights.
 */
export function whiten(
  sequences: Float32Array[],
  weights?: readonly Float32Array[],
  eps = 1e-8,
): Float32Array[] {
  const total = weights?.reduce((a, w) => a + w.reduce((x, y) => x + y, 0), 0) ?? 0;
  const weightOf = total > 0 ? (i: number, t: number) => weights![i]![t] ?? 0 : () => 1;
  let mass = 0;
  let sum = 0;
  sequences.forEach((s, i) => {
    s.forEach((x, t) => {
      const w = weightOf(i, t);
      sum += w * x;
      mass += w;
    });
  });
  if (mass === 0) return sequences.map((s) => new Float32Array(s));
  const mean = sum / mass;
  let sq = 0;
  sequences.forEach((s, i) => {
    s.forEach((x, t) => {
      sq += weightOf(i, t) * (x - mean) ** 2;
    });
  });
  const std = Math.sqrt(sq / mass);
  return sequences.map((s) => s.map((x) => (x - mean) / (std + eps)));
}

/** What the trainer passes to estimators: core's input plus the mask's per-token loss weights. */
export interface WeightedAdvantageInput extends AdvantageInput {
  weights?: Float32Array[];
}

export function createGaeEstimator(options: GaeOptions = {}): AdvantageEstimator {
  const o = validate(gaeOptionsSchema, options, "options of advantage 'gae'");
  return {
    specificationVersion: 'v1',
    name: 'gae',
    needsValues: true,
    compute(input: WeightedAdvantageInput): AdvantageOutput {
      const { rewards, values } = input;
      if (!values || values.length !== rewards.length) {
        throw new StepcoderError(
          'INVALID_OPTIONS',
          `advantage 'gae' needs one value array per sequence (got ${values?.length ?? 'none'} for ${rewards.length} sequences)`,
        );
      }
      const raw = rewards.map((r, i) => gae(r, values[i]!, o.gamma, o.lambda));
      const advantages = raw.map((x) => x.advantages);
      return {
        advantages: o.whiten ? whiten(advantages, input.weights) : advantages,
        returns: raw.map((x) => x.returns),
      };
    },
  };
}
