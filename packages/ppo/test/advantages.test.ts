import { createRegistry, registry } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { createGaeEstimator, createGrpoEstimator, gae, groupNormalise, whiten } from '../src/index.js';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('gae', () => {
  it('matches a hand-computed 3-token example', () => {
    // γ = 0.9, λ = 0.8, rewards r = [0, 0, 1] (score at the last token), values V = [0.5, 0.6, 0.7],
    // V after the last token = 0 (episode ends).
    //   δ2 = 1 + 0.9·0   − 0.7 = 0.3          A2 = 0.3
    //   δ1 = 0 + 0.9·0.7 − 0.6 = 0.03         A1 = 0.03 + 0.72·0.3   = 0.246
    //   δ0 = 0 + 0.9·0.6 − 0.5 = 0.04         A0 = 0.04 + 0.72·0.246 = 0.21712
    //   returns R = A + V = [0.71712, 0.846, 1.0]
    const { advantages, returns } = gae(f32([0, 0, 1]), f32([0.5, 0.6, 0.7]), 0.9, 0.8);
    expect([...advantages].map((x) => +x.toFixed(6))).toEqual([0.21712, 0.246, 0.3]);
    expect([...returns].map((x) => +x.toFixed(6))).toEqual([0.71712, 0.846, 1]);
  });

  it('with γ = λ = 1 gives Monte-Carlo return minus value on a 4-token example', () => {
    // r = [−0.1, 0, −0.1, 1] (KL penalties + score), V = [0.2, 0.4, 0.1, 0.3]
    // return-to-go G = [0.8, 0.9, 0.9, 1.0]; A = G − V = [0.6, 0.5, 0.8, 0.7]
    const { advantages, returns } = gae(f32([-0.1, 0, -0.1, 1]), f32([0.2, 0.4, 0.1, 0.3]), 1, 1);
    expect([...advantages].map((x) => +x.toFixed(5))).toEqual([0.6, 0.5, 0.8, 0.7]);
    expect([...returns].map((x) => +x.toFixed(5))).toEqual([0.8, 0.9, 0.9, 1]);
  });

  it('whitens over every token of the batch; the estimator returns un-whitened returns', () => {
    const est = createGaeEstimator({ gamma: 1, lambda: 1 });
    const out = est.compute({
      rewards: [f32([0, 1]), f32([0, 0, -1])],
      values: [f32([0, 0]), f32([0, 0, 0])],
    });
    const all = out.advantages.flatMap((a) => [...a]);
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
    expect(mean).toBeCloseTo(0, 6);
    expect(std).toBeCloseTo(1, 4);
    expect([...out.returns![0]!]).toEqual([1, 1]);
    expect([...out.returns![1]!]).toEqual([-1, -1, -1]);
    expect([...whiten([f32([2, 2])])[0]!]).toEqual([0, 0]);
  });

  it('whitening statistics use the tokens the mask keeps (weight 0 tokens do not count)', () => {
    // Kept tokens: 1 and 3 → mean 2, std 1; the masked token (100) is shifted and scaled alike.
    const [w] = whiten([f32([1, 100, 3])], [f32([1, 0, 1])]);
    expect([...w!].map((x) => +x.toFixed(5))).toEqual([-1, 98, 1]);
    const est = createGaeEstimator({ gamma: 1, lambda: 1 });
    const out = est.compute({
      rewards: [f32([0, 0, 1])],
      values: [f32([0, 0, 0])],
      weights: [f32([1, 1, 0])],
    } as Parameters<typeof est.compute>[0]);
    // raw advantages [1, 1, 1]: std 0 over the kept tokens → every token becomes 0
    expect([...out.advantages[0]!]).toEqual([0, 0, 0]);
  });

  it('validates options with the option path and needs values', () => {
    expect(() => createGaeEstimator({ lambda: 2 })).toThrow(/lambda/);
    expect(() => createGaeEstimator().compute({ rewards: [f32([1])] })).toThrow(/value/);
  });
});

describe('grpo', () => {
  it('normalises scores within each group (population std) and gives the same advantage to every token', () => {
    // group 0: scores [1, −1] → mean 0, std 1 → [1, −1]; group 1: [0.5, 0.5, 0.5] → std 0 → [0, 0, 0];
    // group 2: a single sample → 0.
    const groups = [0, 0, 1, 1, 1, 2];
    const scores = [1, -1, 0.5, 0.5, 0.5, 1];
    const est = createGrpoEstimator({ klPenaltyToGo: false, eps: 0 });
    const rewards = scores.map((s) => f32([0, 0, s]));
    const out = est.compute({ rewards, groups, scores });
    expect(out.returns).toBeUndefined();
    expect(out.advantages.map((a) => [...a])).toEqual([
      [1, 1, 1],
      [-1, -1, -1],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    // scores 1, 0, −0.3: mean 0.2333…, population std 0.5437…
    const g = groupNormalise([1, 0, -0.3], [7, 7, 7], 0);
    const mean = 0.7 / 3;
    const std = Math.sqrt(((1 - mean) ** 2 + mean ** 2 + (-0.3 - mean) ** 2) / 3);
    expect(g[0]).toBeCloseTo((1 - mean) / std, 10);
    expect(g[2]).toBeCloseTo((-0.3 - mean) / std, 10);
  });

  it('by default gives the group advantage alone (the KL acts as a k3 loss term in the trainer)', () => {
    const out = createGrpoEstimator({ eps: 0 }).compute({
      rewards: [f32([-0.1, -0.2, 0.7]), f32([0, 0, -1])],
      groups: [0, 0],
      scores: [1, -1],
    });
    expect([...out.advantages[0]!]).toEqual([1, 1, 1]);
    expect([...out.advantages[1]!]).toEqual([-1, -1, -1]);
  });

  it('klPenaltyToGo: adds the KL-penalty reward-to-go on top of the group advantage', () => {
    // rewards = penalty [−0.1, −0.2, −0.3] with the score (1) added on the last token.
    const est = createGrpoEstimator({ eps: 0, klPenaltyToGo: true });
    const out = est.compute({
      rewards: [f32([-0.1, -0.2, 0.7]), f32([0, 0, -1])],
      groups: [0, 0],
      scores: [1, -1],
    });
    expect([...out.advantages[0]!].map((x) => +x.toFixed(5))).toEqual([0.4, 0.5, 0.7]);
    expect([...out.advantages[1]!]).toEqual([-1, -1, -1]);
  });

  it('is registered as an advantage plugin next to the default gae', async () => {
    expect(registry.list('advantage').slice(0, 2)).toEqual(['gae', 'grpo']);
    const best = await registry.createBest('advantage');
    expect(best.name).toBe('gae');
    const grpo = await registry.create('advantage', 'grpo', { eps: 1e-3 });
    expect(grpo.needsValues).toBe(false);
    await expect(registry.create('advantage', 'grpo', { eps: -1 })).rejects.toThrow(/eps/);
    expect(createRegistry().list('advantage')).toEqual([]);
  });
});
