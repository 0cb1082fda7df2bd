import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildMinibatch,
  clipByGlobalNorm,
  clippedPolicyLoss,
  clippedValueLoss,
  k3Kl,
  ppoLoss,
  type Rollout,
  tokenEntropy,
  tokenLogprobs,
} from '../src/index.js';
import { useCpuBackend } from './setup-backend.js';

beforeAll(useCpuBackend);

const t = (xs: number[]) => tf.tensor1d(xs);
const num = (x: tf.Tensor) => x.dataSync()[0]!;

describe('clipped policy loss', () => {
  // ε = 0.2, four tokens:
  //   t0: ρ = 1,   A =  2 → min(2, 2)          = 2    → loss −2   (inside the clip range)
  //   t1: ρ = 1.5, A =  1 → min(1.5, 1.2)      = 1.2  → loss −1.2 (clipped)
  //   t2: ρ = 0.5, A = −1 → min(−0.5, −0.8)    = −0.8 → loss 0.8  (clipped)
  //   t3: ρ = 1.1, A = −2 → min(−2.2, −2.2)    = −2.2 → loss 2.2  (inside)
  const old = [-1, -1, -1, -1];
  const logprobs = [-1, -1 + Math.log(1.5), -1 + Math.log(0.5), -1 + Math.log(1.1)];
  const adv = [2, 1, -1, -2];

  it('matches hand-computed values, all weights 1', () => {
    const out = clippedPolicyLoss({
      logprobs: t(logprobs),
      oldLogprobs: t(old),
      advantages: t(adv),
      weights: t([1, 1, 1, 1]),
      clipRange: 0.2,
    });
    // (−2 − 1.2 + 0.8 + 2.2) / 4 = −0.05; clipped tokens t1, t2 → 2/4
    expect(num(out.loss)).toBeCloseTo(-0.05, 5);
    expect(num(out.clipFraction)).toBeCloseTo(0.5, 6);
  });

  it('weights multiply the per-token loss and the normaliser is Σw', () => {
    const out = clippedPolicyLoss({
      logprobs: t(logprobs),
      oldLogprobs: t(old),
      advantages: t(adv),
      weights: t([1, 1, 1, 0]),
      clipRange: 0.2,
    });
    // (−2 − 1.2 + 0.8) / 3 = −0.8; clip fraction 2/3; approx KL ½·(ln²1.5 + ln²0.5)/3
    expect(num(out.loss)).toBeCloseTo(-0.8, 5);
    expect(num(out.clipFraction)).toBeCloseTo(2 / 3, 6);
    expect(num(out.approxKl)).toBeCloseTo((0.5 * (Math.log(1.5) ** 2 + Math.log(0.5) ** 2)) / 3, 5);
    // soft weight: ½ on t3 → (−2 − 1.2 + 0.8 + 0.5·2.2) / 3.5
    const soft = clippedPolicyLoss({
      logprobs: t(logprobs),
      oldLogprobs: t(old),
      advantages: t(adv),
      weights: t([1, 1, 1, 0.5]),
      clipRange: 0.2,
    });
    expect(num(soft.loss)).toBeCloseTo((-2 - 1.2 + 0.8 + 1.1) / 3.5, 5);
  });

  it('a fully masked batch has loss 0, not NaN', () => {
    const out = clippedPolicyLoss({
      logprobs: t([0]),
      oldLogprobs: t([0]),
      advantages: t([1]),
      weights: t([0]),
      clipRange: 0.2,
    });
    expect(num(out.loss)).toBe(0);
  });

  it('zero-weight tokens get exactly zero policy gradient (tf.grad through log-softmax)', () => {
    // logits [1 sequence, 3 positions, vocab 4]; the middle token is masked out by FGO.
    const logits = tf.tensor3d([
      [
        [0.1, 0.2, 0.3, 0.4],
        [1, 0, -1, 0.5],
        [0.3, -0.2, 0.9, 0],
      ],
    ]);
    const ids = tf.tensor2d([[3, 0, 2]], [1, 3], 'int32');
    const old = tf.tensor2d([[-1.5, -1.2, -1.0]]);
    const adv = tf.tensor2d([[1, -2, 0.5]]);
    const weights = tf.tensor2d([[1, 0, 1]]);
    const grad = tf.grad(
      (l: tf.Tensor) =>
        clippedPolicyLoss({
          logprobs: tokenLogprobs(l, ids),
          oldLogprobs: old,
          advantages: adv,
          weights,
          clipRange: 100, // wide: a clipped token has zero gradient anyway, which would hide the mask
        }).loss,
    )(logits);
    const g = grad.arraySync() as number[][][];
    expect(g[0]![1]!.every((x) => x === 0)).toBe(true);
    expect(g[0]![0]!.some((x) => Math.abs(x) > 1e-4)).toBe(true);
    expect(g[0]![2]!.some((x) => Math.abs(x) > 1e-4)).toBe(true);
  });
});

describe('clipped value loss', () => {
  it('matches hand-computed values', () => {
    // c = 0.2, returns R:
    //   t0: V=1.0, V_old=0.8, R=1: (V−R)²=0;    V_clip=0.8+0.2=1.0 → 0     → max 0
    //   t1: V=0.5, V_old=0.8, R=1: 0.25;        V_clip=0.8−0.2=0.6 → 0.16  → max 0.25
    //   t2: V=0.0, V_old=0.1, R=1: 1;           V_clip=0.0         → 1     → max 1
    //   t3: V=1.5, V_old=1.0, R=2: 0.25;        V_clip=1.2         → 0.64  → max 0.64
    // L = ½·(0 + 0.25 + 1 + 0.64)/4 = 0.23625; unclipped ½·(0+0.25+1+0.25)/4 = 0.1875
    const input = {
      values: t([1, 0.5, 0, 1.5]),
      oldValues: t([0.8, 0.8, 0.1, 1]),
      returns: t([1, 1, 1, 2]),
      mask: t([1, 1, 1, 1]),
    };
    expect(num(clippedValueLoss({ ...input, clipRange: 0.2 }))).toBeCloseTo(0.23625, 6);
    expect(num(clippedValueLoss(input))).toBeCloseTo(0.1875, 6);
    // masking t3 out of the value loss: ½·(0 + 0.25 + 1)/3
    expect(num(clippedValueLoss({ ...input, mask: t([1, 1, 1, 0]), clipRange: 0.2 }))).toBeCloseTo(
      1.25 / 6,
      6,
    );
  });
});

describe('entropy and log-probs', () => {
  it('matches closed forms', () => {
    // p = [¼, ¾] → H = −(¼ ln ¼ + ¾ ln ¾) = 0.562335; uniform over 4 → ln 4
    const h = tokenEntropy(
      tf.tensor2d([
        [0, Math.log(3), -1e9, -1e9],
        [0, 0, 0, 0],
      ]),
    ).dataSync();
    expect(h[0]).toBeCloseTo(0.562335, 5);
    expect(h[1]).toBeCloseTo(Math.log(4), 5);
    const lp = tokenLogprobs(tf.tensor2d([[0, Math.log(3)]]), tf.tensor1d([1], 'int32')).dataSync();
    expect(lp[0]).toBeCloseTo(Math.log(0.75), 6);
  });
});

describe('k3 KL estimator', () => {
  it('is exp(r) − r − 1 in its range, clamped to 10 nats with no gradient past the clamp (veRL low_var_kl)', () => {
    const logp = [-1, -2, -0.5, -30, -1];
    const ref = [-1, -1.5, -1, -1, -100];
    const out = k3Kl(t(logp), t(ref)).dataSync();
    for (const i of [0, 1, 2]) {
      const r = ref[i]! - logp[i]!;
      expect(out[i]).toBeCloseTo(Math.exp(r) - r - 1, 6);
    }
    expect(out[0]).toBe(0);
    expect(out[3]).toBe(10); // r = 29: exp(29) ≈ 4e12 unclamped
    expect(out[4]).toBe(10); // r = −99: −r − 1 ≈ 98 unclamped
    const grad = tf
      .grad((x: tf.Tensor) => tf.sum(k3Kl(x, t(ref))))(t(logp))
      .dataSync();
    expect(grad[1]).toBeCloseTo(1 - Math.exp(0.5), 5); // d/dlogp of e^r − r − 1 = 1 − e^r
    expect(Math.abs(grad[3]!)).toBe(0);
    expect(Math.abs(grad[4]!)).toBe(0);
    expect([...grad].every(Number.isFinite)).toBe(true);
  });
});

describe('global-norm clipping', () => {
  it('scales every gradient by maxNorm/‖g‖ only when above the limit', () => {
    const grads = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])]; // ‖g‖ = 5
    const c = clipByGlobalNorm(grads, 1);
    expect(c.norm).toBeCloseTo(5, 6);
    expect([...c.grads[0]!.dataSync()].map((x) => +x.toFixed(5))).toEqual([0.6, 0]);
    expect([...c.grads[1]!.dataSync()].map((x) => +x.toFixed(5))).toEqual([0, 0.8]);
    const unchanged = clipByGlobalNorm(grads, 10);
    expect([...unchanged.grads[1]!.dataSync()]).toEqual([0, 4]);
  });
});

describe('mask semantics in the full PPO objective', () => {
  it('a zero-weight token has zero policy gradient but still trains the value head', () => {
    // One rollout: prompt [5], completion [1, 2, 3]; FGO weight 0 on the middle token.
    const rollout: Rollout = {
      problemId: 'p',
      group: 0,
      stage: 0,
      promptIds: [5],
      tokenIds: [1, 2, 3],
      score: 1,
      passed: true,
      weights: Float32Array.from([1, 0, 1]),
      oldLogprobs: Float32Array.from([-2, -2, -2]),
      refLogprobs: Float32Array.from([-2, -2, -2]),
      values: Float32Array.from([0.1, 0.2, 0.3]),
      entropies: Float32Array.from([1, 1, 1]),
      rewards: Float32Array.from([0, 0, 1]),
      advantages: Float32Array.from([0.5, -1, 0.7]),
      returns: Float32Array.from([1, 1, 1]),
    };
    const mb = buildMinibatch([rollout], 0, 16);
    // Sequence [5, 1, 2, 3]: positions 0, 1, 2 predict the generated tokens.
    const logits = tf.randomNormal([1, 4, 6], 0, 1, 'float32', 7) as tf.Tensor3D;
    const values = tf.tensor2d([[0.4, -0.2, 0.9, 0.0]]);
    const options = { clipRange: 100, clipRangeValue: null, vfCoef: 0.5, entCoef: 0.01, useValueLoss: true };
    const [gLogits, gValues] = tf.grads(
      (l: tf.Tensor, v: tf.Tensor) =>
        ppoLoss({ logits: l as tf.Tensor3D, values: v as tf.Tensor2D }, mb, options).loss,
    )([logits, values]);
    const gl = gLogits!.arraySync() as number[][][];
    const gv = gValues!.arraySync() as number[][];
    // Position p predicts generated token p (P = 1): position 1 predicts the masked token and
    // gets no policy (nor entropy) gradient; positions 0 and 2 do.
    expect(gl[0]![1]!.every((x) => x === 0)).toBe(true);
    expect(gl[0]![0]!.some((x) => x !== 0)).toBe(true);
    expect(gl[0]![2]!.some((x) => x !== 0)).toBe(true);
    // position 3 predicts nothing: no gradient at all
    expect(gl[0]![3]!.every((x) => x === 0)).toBe(true);
    // The value loss uses every generated token, the masked one included: ∂L/∂V_p = c_vf·(V_p − R)/3
    expect(gv[0]![1]).toBeCloseTo((0.5 * (-0.2 - 1)) / 3, 6);
    expect(gv[0]![0]).toBeCloseTo((0.5 * (0.4 - 1)) / 3, 6);
    expect(gv[0]![3]).toBe(0);
  });
});
