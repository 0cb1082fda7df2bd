import type { Rng } from '@stepcoder/core';

export interface SamplingOptions {
  /** 0 = greedy. Default 1. */
  temperature: number;
  /** Keep the k most likely tokens (0 or absent = all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = all). */
  topP?: number;
  /** Ids allowed to be sampled: [0, allowed) minus `banned`. */
  allowed: number;
  banned?: readonly number[];
}

/** Temperature the log-probs of a policy sampled at `temperature` are formed at: T, or 1 for greedy (T = 0). */
export function scoringTemperature(temperature: number | undefined): number {
  return temperature !== undefined && temperature > 0 ? temperature : 1;
}

/**
 * log-softmax value of `id` in `logits / temperature` (no top-k/top-p truncation): the log-prob
 * of the distribution the token was sampled from, as TRL and veRL form PPO ratios.
 */
export function logprobOf(logits: Float32Array, id: number, temperature = 1): number {
  const t = scoringTemperature(temperature);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i]! - max) / t);
  return (logits[id]! - max) / t - Math.log(sum);
}

/**
 * Draw one token. Done in JS over the logits row with the core Rng, so the same seed draws the
 * same uniform numbers on every backend.
 */
export function sampleToken(logits: Float32Array, options: SamplingOptions, rng: Rng): number {
  const n = Math.min(options.allowed, logits.length);
  const banned = new Set(options.banned ?? []);
  if (options.temperature === 0) {
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (banned.has(i)) continue;
      if (best < 0 || logits[i]! > logits[best]!) best = i;
    }
    return best;
  }
  const ids: number[] = [];
  for (let i = 0; i < n; i++) if (!banned.has(i)) ids.push(i);
  let max = Number.NEGATIVE_INFINITY;
  for (const i of ids) max = Math.max(max, logits[i]!);
  const probs = new Float64Array(ids.length);
  let total = 0;
  ids.forEach((id, j) => {
    const p = Math.exp((logits[id]! - max) / options.temperature);
    probs[j] = p;
    total += p;
  });
  const topK = options.topK && options.topK > 0 ? options.topK : 0;
  const topP = options.topP ?? 1;
  if (topK > 0 || topP < 1) {
    // Stable order: ties broken by id so the kept set does not depend on sort internals.
    const order = ids.map((_, j) => j).sort((a, b) => probs[b]! - probs[a]! || a - b);
    const keep = new Uint8Array(ids.length);
    let cum = 0;
    for (let r = 0; r < order.length; r++) {
      if (topK > 0 && r >= topK) break;
      const j = order[r]!;
      keep[j] = 1;
      cum += probs[j]! / total;
      if (cum >= topP) break;
    }
    for (let j = 0; j < ids.length; j++) if (!keep[j]) probs[j] = 0;
  }
  return ids[rng.categorical(probs)]!;
}
