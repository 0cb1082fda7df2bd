import { createRng } from '@stepcoder/core';
import type { Family } from './family.js';

/** `list-agg:filter=gt,agg=sum`: the family and its component labels in order. */
export function combinationKey(family: string, combination: string[]): string {
  return `${family}:${combination.join(',')}`;
}

export interface FamilySplit {
  combinations: string[][];
  /** Keys of the held-out combinations. */
  heldout: Set<string>;
}

/**
 * Held-out combinations of one family. Keys are ranked by a seeded hash of the key alone (never of
 * the instance), and the first `round(fraction × keys)` (at least one when fraction > 0) go to
 * held-out, skipping any key whose removal would leave one of its components without a training
 * combination: every operator / step kind is seen in training, only the combination is new.
 */
export function splitFamily(family: Family, fraction: number, splitSeed: number): FamilySplit {
  const combinations = family.combinations();
  const rng = createRng(`synthetic-split/${splitSeed}`);
  const ranked = combinations
    .map((c) => ({ c, key: combinationKey(family.name, c) }))
    .map((e) => ({ ...e, h: rng.split(e.key).nextUint32() }))
    .sort((a, b) => a.h - b.h || (a.key < b.key ? -1 : 1));
  const want = fraction > 0 ? Math.max(1, Math.round(fraction * combinations.length)) : 0;
  const inTrain = new Map<string, number>();
  for (const c of combinations)
    for (const label of new Set(c)) inTrain.set(label, (inTrain.get(label) ?? 0) + 1);
  const heldout = new Set<string>();
  for (const { c, key } of ranked) {
    if (heldout.size >= want) break;
    const labels = [...new Set(c)];
    if (labels.some((l) => inTrain.get(l)! < 2)) continue;
    for (const l of labels) inTrain.set(l, inTrain.get(l)! - 1);
    heldout.add(key);
  }
  return { combinations, heldout };
}
