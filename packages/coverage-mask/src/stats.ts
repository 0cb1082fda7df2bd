import type { MaskReason, MaskResult } from './mask-input.js';

export interface MaskStats {
  sequences: number;
  tokens: number;
  /** Tokens with weight 0. */
  masked: number;
  /** `masked / tokens` (0 when there are no tokens). */
  maskedFraction: number;
  /** Tokens with 0 < weight < 1 (soft masks). */
  partial: number;
  meanWeight: number;
  /** Sequences per reason, when `MaskResult`s were given (e.g. how many had no coverage). */
  reasons: Partial<Record<MaskReason, number>>;
}

/** Fraction of completion tokens masked over a batch of masks (weights or `explain` results). */
export function maskStats(masks: ReadonlyArray<Float32Array | MaskResult>): MaskStats {
  let tokens = 0;
  let masked = 0;
  let partial = 0;
  let sum = 0;
  const reasons: Partial<Record<MaskReason, number>> = {};
  for (const m of masks) {
    const weights = m instanceof Float32Array ? m : m.weights;
    if (!(m instanceof Float32Array)) reasons[m.reason] = (reasons[m.reason] ?? 0) + 1;
    tokens += weights.length;
    for (const w of weights) {
      sum += w;
      if (w === 0) masked++;
      else if (w < 1) partial++;
    }
  }
  return {
    sequences: masks.length,
    tokens,
    masked,
    maskedFraction: tokens > 0 ? masked / tokens : 0,
    partial,
    meanWeight: tokens > 0 ? sum / tokens : 1,
    reasons,
  };
}

/** `maskStats` per strategy, e.g. `{ line: [...], branch: [...] }` for an ablation table. */
export function maskStatsByStrategy(
  byStrategy: Readonly<Record<string, ReadonlyArray<Float32Array | MaskResult>>>,
): Record<string, MaskStats> {
  return Object.fromEntries(Object.entries(byStrategy).map(([name, masks]) => [name, maskStats(masks)]));
}
