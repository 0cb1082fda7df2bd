import { StepcoderError } from '@stepcoder/core';
import type { TrainablePolicy } from './policy.js';

/** One generated completion ready for the PPO update. Per-token arrays have one entry per generated token. */
export interface Rollout {
  problemId: string;
  /** Prompt group (index of the prompt in its batch) for group-relative estimators. */
  group: number;
  stage: number;
  promptIds: number[];
  tokenIds: number[];
  /** Scalar outcome reward from the reward plugin. */
  score: number;
  passed: boolean;
  /** Policy-loss weights from the mask plugin, in [0, 1]. */
  weights: Float32Array;
  /**
   * log π_old of each generated token at the sampling temperature: the behaviour policy's
   * generation-time log-probs (see the trainer), so that the PPO ratio is π_θ / π_behaviour.
   */
  oldLogprobs: Float32Array;
  refLogprobs: Float32Array;
  /** Value-head estimate of the state before each generated token. */
  values: Float32Array;
  /** Next-token entropy at each generated position under π_old (for metrics). */
  entropies: Float32Array;
  rewards: Float32Array;
  advantages: Float32Array;
  /** Value targets; empty for critic-free estimators. */
  returns: Float32Array;
}

export interface Sequence {
  promptIds: readonly number[];
  tokenIds: readonly number[];
}

/**
 * A left-padded batch. Position t of the logits predicts token t+1, so generated token j of row i
 * is scored at `positions[i][j]` of the [B, T−1] grid (`offset + P + j − 1`).
 */
export interface Collated {
  ids: number[][];
  attention: number[][];
  positions: number[][];
  length: number;
}

/**
 * Left-pad sequences to a common length. When prompt + completion exceeds `maxLength` the oldest
 * prompt tokens are dropped (scoring and training see the same cut, so ratios stay consistent).
 */
export function collate(seqs: readonly Sequence[], padId: number, maxLength: number): Collated {
  const rows = seqs.map((s) => {
    if (s.tokenIds.length === 0 || s.tokenIds.length >= maxLength) {
      throw new StepcoderError(
        'INVALID_OPTIONS',
        `a completion must have 1..${maxLength - 1} tokens to be trained on, got ${s.tokenIds.length}`,
      );
    }
    const keep = Math.min(s.promptIds.length, maxLength - s.tokenIds.length);
    const prompt = s.promptIds.slice(s.promptIds.length - Math.max(1, keep));
    return { prompt, tokens: s.tokenIds };
  });
  const length = Math.max(...rows.map((r) => r.prompt.length + r.tokens.length));
  const ids: number[][] = [];
  const attention: number[][] = [];
  const positions: number[][] = [];
  for (const r of rows) {
    const offset = length - r.prompt.length - r.tokens.length;
    ids.push([...new Array<number>(offset).fill(padId), ...r.prompt, ...r.tokens]);
    attention.push([...new Array<number>(offset).fill(0), ...new Array<number>(length - offset).fill(1)]);
    positions.push(r.tokens.map((_, j) => offset + r.prompt.length + j - 1));
  }
  return { ids, attention, positions, length };
}

export interface TokenScores {
  logprobs: Float32Array;
  values: Float32Array;
  entropies: Float32Array;
}

/**
 * Score the generated tokens of each sequence with `policy` (no gradients), `chunk` rows at a
 * time, on logits / `temperature` (the sampling temperature; see `scoringTemperature`).
 */
export async function scoreSequences(
  policy: TrainablePolicy,
  seqs: readonly Sequence[],
  chunk: number,
  temperature = 1,
): Promise<TokenScores[]> {
  const out: TokenScores[] = [];
  for (let start = 0; start < seqs.length; start += chunk) {
    const part = seqs.slice(start, start + chunk);
    const c = collate(part, policy.tokenizer.padTokenId, policy.config.nPositions);
    const scored = await policy.scoreTokens(c.ids, c.attention, { temperature });
    part.forEach((_, i) => {
      const pos = c.positions[i]!;
      const pick = (a: Float32Array | undefined) => Float32Array.from(pos, (p) => a?.[p] ?? 0);
      out.push({
        logprobs: pick(scored.logprobs[i]),
        values: pick(scored.values[i]),
        entropies: pick(scored.entropies[i]),
      });
    });
  }
  return out;
}

/**
 * Per-token rewards: −β·(log π_old − log π_ref) on every token, plus the outcome score on the last
 * generated token (Ziegler et al., 2019; StepCoder §3).
 */
export function perTokenRewards(
  score: number,
  logprobs: Float32Array,
  refLogprobs: Float32Array,
  beta: number,
): Float32Array {
  const r = logprobs.map((lp, t) => -beta * (lp - refLogprobs[t]!));
  if (r.length > 0) r[r.length - 1] = r[r.length - 1]! + score;
  return r;
}
