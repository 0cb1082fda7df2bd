import { describe, expect, it } from 'vitest';
import {
  collate,
  createAdaptiveKlController,
  createFixedKlController,
  createKlController,
  learningRateAt,
  passAtK,
  perTokenRewards,
} from '../src/index.js';

describe('KL controllers', () => {
  it('fixed keeps β', () => {
    const c = createFixedKlController(0.1);
    c.update(100, 64);
    expect(c.beta).toBe(0.1);
  });

  it('adaptive raises β above target, lowers it below, proportionally and clipped at ±20%', () => {
    const up = createAdaptiveKlController(0.1, 6, 100);
    up.update(12, 10); // error = clip(12/6 − 1) = 0.2 → β·(1 + 0.2·10/100)
    expect(up.beta).toBeCloseTo(0.1 * 1.02, 10);
    const down = createAdaptiveKlController(0.1, 6, 100);
    down.update(3, 10); // error = −0.5 → −0.2 → β·0.98
    expect(down.beta).toBeCloseTo(0.098, 10);
    const near = createAdaptiveKlController(0.1, 6, 100);
    near.update(6.6, 50); // error 0.1 → β·1.05
    expect(near.beta).toBeCloseTo(0.105, 10);
    const restored = createKlController({ type: 'adaptive', target: 6, horizon: 100 });
    restored.restore(up.state());
    expect(restored.beta).toBe(up.beta);
    expect(() => restored.restore({ type: 'fixed', beta: 1 })).toThrow(/adaptive/);
  });
});

describe('learning-rate schedules', () => {
  it('warms up linearly then decays with cosine or linearly to minRatio', () => {
    const s = { type: 'cosine' as const, warmupSteps: 4, totalSteps: 14, minRatio: 0.1 };
    expect(learningRateAt(1, 0, s)).toBeCloseTo(0.25);
    expect(learningRateAt(1, 3, s)).toBeCloseTo(1);
    expect(learningRateAt(1, 4, s)).toBeCloseTo(1);
    expect(learningRateAt(1, 9, s)).toBeCloseTo(0.1 + 0.9 * 0.5); // halfway: cos = 0
    expect(learningRateAt(1, 14, s)).toBeCloseTo(0.1);
    expect(learningRateAt(1, 100, s)).toBeCloseTo(0.1);
    expect(learningRateAt(2, 9, { type: 'linear', totalSteps: 10 })).toBeCloseTo(0.2);
    expect(learningRateAt(3, 50, {})).toBe(3);
  });
});

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return r;
}

describe('pass@k', () => {
  it('equals brute-force enumeration over all k-subsets for small n', () => {
    for (let n = 1; n <= 7; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) {
          // enumerate every k-subset of n samples of which the first c pass
          let hit = 0;
          let total = 0;
          for (let mask = 0; mask < 1 << n; mask++) {
            let bits = 0;
            for (let i = 0; i < n; i++) if (mask & (1 << i)) bits++;
            if (bits !== k) continue;
            total++;
            if (mask & ((1 << c) - 1)) hit++;
          }
          expect(passAtK(n, c, k)).toBeCloseTo(hit / total, 12);
          expect(passAtK(n, c, k)).toBeCloseTo(1 - binom(n - c, k) / binom(n, k), 12);
        }
      }
    }
  });

  it('is stable for large n and rejects k > n', () => {
    expect(passAtK(200, 1, 1)).toBeCloseTo(0.005, 12);
    expect(passAtK(1000, 3, 100)).toBeCloseTo(1 - (900 * 899 * 898) / (1000 * 999 * 998), 12);
    expect(() => passAtK(3, 1, 5)).toThrow(/k=5/);
  });
});

describe('per-token rewards and collation', () => {
  it('puts −β·(log π − log π_ref) on each token and the score on the last', () => {
    const r = perTokenRewards(1, Float32Array.from([-1, -2, -0.5]), Float32Array.from([-1.5, -2, -1]), 0.1);
    expect([...r].map((x) => +x.toFixed(6))).toEqual([-0.05, 0, 0.95]);
  });

  it('left-pads and maps generated token j to position offset + P + j − 1', () => {
    const c = collate(
      [
        { promptIds: [7, 8], tokenIds: [1] },
        { promptIds: [9], tokenIds: [2, 3, 4] },
      ],
      0,
      16,
    );
    expect(c.ids).toEqual([
      [0, 7, 8, 1],
      [9, 2, 3, 4],
    ]);
    expect(c.attention).toEqual([
      [0, 1, 1, 1],
      [1, 1, 1, 1],
    ]);
    expect(c.positions).toEqual([[2], [0, 1, 2]]);
    // too long: the oldest prompt tokens go, the completion stays
    expect(collate([{ promptIds: [1, 2, 3, 4], tokenIds: [5, 6] }], 0, 4).ids).toEqual([[3, 4, 5, 6]]);
  });
});
