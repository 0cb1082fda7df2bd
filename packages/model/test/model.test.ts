import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createByteTokenizer, createPolicy, initBackend, type Policy } from '../src/base.js';
import { paddedBatch, TEST_CONFIG } from './helpers.js';

const tokenizer = createByteTokenizer();

/** Mean next-token cross-entropy over the real (mask = 1) positions. */
function lmLoss(policy: Policy, ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  const [b, t] = ids.shape;
  const { logits, values } = policy.apply(ids, mask);
  const v = logits.shape[2];
  const logp = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [b, t - 1, v]));
  const next = tf.cast(tf.oneHot(tf.slice(ids, [0, 1], [b, t - 1]), v), 'float32');
  const w = tf.slice(mask, [0, 1], [b, t - 1]);
  const nll = tf.neg(tf.sum(tf.mul(logp, next), -1));
  // A small value-head term so that its parameters get a gradient too.
  const valueTerm = tf.mul(tf.mean(tf.square(values)), 0.1);
  return tf.add(tf.div(tf.sum(tf.mul(nll, w)), tf.sum(w)), valueTerm) as tf.Scalar;
}

describe('GPT-2 policy on the wasm backend', () => {
  let policy: Policy;
  beforeAll(async () => {
    const backend = await initBackend({ prefer: 'wasm', log: false });
    expect(backend.name).toBe('wasm');
    policy = await createPolicy({ config: TEST_CONFIG, tokenizer, seed: 7 });
  });

  it('has GPT-2 parameter names and shapes', () => {
    const w = policy.getWeights();
    expect(w.get('transformer.wte.weight')!.shape).toEqual([258, 32]);
    expect(w.get('transformer.h.1.attn.c_attn.weight')!.shape).toEqual([32, 96]);
    expect(w.get('transformer.h.0.mlp.c_fc.weight')!.shape).toEqual([32, 128]);
    expect(w.get('transformer.h.0.mlp.c_proj.weight')!.shape).toEqual([128, 32]);
    expect(w.get('v_head.summary.weight')!.shape).toEqual([1, 32]);
    expect([...w.keys()]).toContain('transformer.ln_f.bias');
    expect(w.size).toBe(2 + 12 * 2 + 2 + 2);
    tf.dispose([...w.values()]);
  });

  it('matches finite differences of the loss (gradient check, float32)', () => {
    const { ids, mask } = paddedBatch();
    const vars = policy.trainableVariables();
    const { grads } = tf.variableGrads(() => lmLoss(policy, ids, mask), vars);
    const probes: Array<[string, number]> = [
      ['transformer.wte.weight', 20 * 32 + 3], // used as embedding and LM head
      ['transformer.wte.weight', 200 * 32 + 5], // LM head only
      ['transformer.wpe.weight', 2 * 32 + 1],
      ['transformer.h.0.attn.c_attn.weight', 5 * 96 + 40],
      ['transformer.h.1.mlp.c_fc.weight', 7 * 128 + 9],
      ['transformer.h.0.ln_1.weight', 4],
      ['v_head.summary.weight', 6],
    ];
    const eps = 1e-2;
    for (const [name, index] of probes) {
      const v = vars.find((x) => x.name.endsWith(`/${name}`))!;
      const analytic = grads[v.name]!.dataSync()[index]!;
      const original = v.dataSync().slice();
      const at = (delta: number) => {
        const changed = original.slice();
        changed[index] = original[index]! + delta;
        v.assign(tf.tensor(changed, v.shape));
        const l = tf.tidy(() => lmLoss(policy, ids, mask).dataSync()[0]!);
        return l;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(original, v.shape));
      expect(Math.abs(analytic - numeric), `${name}[${index}]: ${analytic} vs ${numeric}`).toBeLessThan(
        2e-3 + 0.05 * Math.abs(numeric),
      );
    }
    tf.dispose([ids, mask, ...Object.values(grads)]);
  });

  it('KV-cache generation equals generation without cache, token for token (greedy)', async () => {
    const prompts = ['def f(x):', 'hello', 'a'];
    const opts = { maxNewTokens: 24, temperature: 0, seed: 1 };
    const cached = await policy.generate(prompts, { ...opts, useCache: true });
    const full = await policy.generate(prompts, { ...opts, useCache: false });
    expect(cached.map((g) => g.tokenIds)).toEqual(full.map((g) => g.tokenIds));
    cached.forEach((g, i) => {
      g.logprobs.forEach((lp, j) => {
        expect(lp).toBeCloseTo(full[i]!.logprobs[j]!, 3);
      });
    });
  });

  it('a left-padded batch equals generating one by one', async () => {
    const prompts = ['x = 1\nprint(x)', 'def', 'import os, sys'];
    const opts = { maxNewTokens: 12, temperature: 0, seed: 3 };
    const batched = await policy.generate(prompts, opts);
    for (const [i, p] of prompts.entries()) {
      const [single] = await policy.generate([p], opts);
      expect(batched[i]!.tokenIds).toEqual(single!.tokenIds);
      batched[i]!.logprobs.forEach((lp, j) => {
        expect(lp).toBeCloseTo(single!.logprobs[j]!, 3);
      });
    }
  });

  it('apply gives the same logits and values for a row with and without left padding', () => {
    const row = [5, 6, 7, 8];
    const [a, b] = tf.tidy(() => {
      const one = policy.apply(tf.tensor2d([row], [1, 4], 'int32'));
      const padded = policy.apply(
        tf.tensor2d([[257, 257, ...row]], [1, 6], 'int32'),
        tf.tensor2d([[0, 0, 1, 1, 1, 1]], [1, 6]),
      );
      return [
        tf.concat([tf.reshape(one.logits, [-1]), tf.reshape(one.values, [-1])]),
        tf.concat([
          tf.reshape(tf.slice(padded.logits, [0, 2, 0], [1, 4, 258]), [-1]),
          tf.reshape(tf.slice(padded.values, [0, 2], [1, 4]), [-1]),
        ]),
      ];
    });
    const da = a!.dataSync();
    const db = b!.dataSync();
    let maxDiff = 0;
    for (let i = 0; i < da.length; i++) maxDiff = Math.max(maxDiff, Math.abs(da[i]! - db[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    tf.dispose([a!, b!]);
  });

  it('scoreTokens agrees with the log-probs reported by generate', async () => {
    const [g] = await policy.generate(['score me'], { maxNewTokens: 8, seed: 11, temperature: 1 });
    const ids = [...g!.promptIds, ...g!.tokenIds];
    const scored = await policy.scoreTokens([ids], [ids.map(() => 1)]);
    expect(scored.logprobs[0]).toHaveLength(ids.length - 1);
    expect(scored.values[0]).toHaveLength(ids.length - 1);
    const p = g!.promptIds.length;
    g!.logprobs.forEach((lp, j) => {
      expect(scored.logprobs[0]![p - 1 + j]).toBeCloseTo(lp, 3);
    });
    for (const e of scored.entropies[0]!) {
      expect(e).toBeGreaterThan(0);
      expect(e).toBeLessThanOrEqual(Math.log(258) + 1e-3);
    }
  });

  it('samples deterministically from the seed; top-k 1 is greedy', async () => {
    const opts = { maxNewTokens: 16, temperature: 1.3, topP: 0.95, seed: 42 };
    const a = await policy.generate(['same seed'], opts);
    const b = await policy.generate(['same seed'], opts);
    const c = await policy.generate(['same seed'], { ...opts, seed: 43 });
    expect(a[0]!.tokenIds).toEqual(b[0]!.tokenIds);
    expect(a[0]!.tokenIds).not.toEqual(c[0]!.tokenIds);
    const topK1 = await policy.generate(['same seed'], { maxNewTokens: 16, topK: 1, seed: 5 });
    const greedy = await policy.generate(['same seed'], { maxNewTokens: 16, temperature: 0, seed: 9 });
    expect(topK1[0]!.tokenIds).toEqual(greedy[0]!.tokenIds);
  });

  it('cuts text and tokens at a stop sequence and reports spans inside the text', async () => {
    const opts = { maxNewTokens: 40, temperature: 1, seed: 21 };
    const [free] = await policy.generate(['stop test'], opts);
    expect(free!.finishReason).toBe('length');
    expect(free!.tokenSpans).toHaveLength(free!.tokenIds.length);
    const stop = free!.text.slice(12, 14);
    const cut = free!.text.indexOf(stop);
    const [stopped] = await policy.generate(['stop test'], { ...opts, stop: [stop] });
    expect(stopped!.finishReason).toBe('stop');
    expect(stopped!.text).toBe(free!.text.slice(0, cut));
    expect(stopped!.tokenIds).toEqual(free!.tokenIds.slice(0, stopped!.tokenIds.length));
    expect(stopped!.logprobs).toHaveLength(stopped!.tokenIds.length);
    for (const [s, e] of stopped!.tokenSpans) {
      expect(s).toBeLessThan(cut);
      expect(e).toBeLessThanOrEqual(stopped!.text.length);
    }
  });

  it('does not leak tensors in generate, scoreTokens or apply under tidy', async () => {
    const before = tf.memory().numTensors;
    await policy.generate(['leak check', 'x'], { maxNewTokens: 6, seed: 1 });
    await policy.generate(['leak check'], { maxNewTokens: 6, seed: 1, useCache: false });
    await policy.scoreTokens([[1, 2, 3]], [[1, 1, 1]]);
    tf.tidy(() => {
      policy.apply(tf.tensor2d([[1, 2]], [1, 2], 'int32'));
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps a frozen reference copy independent of the policy', async () => {
    const ref = await policy.referenceCopy();
    expect(ref.trainableVariables()).toEqual([]);
    const ids = [[1, 2, 3, 4]];
    const mask = [[1, 1, 1, 1]];
    const before = (await ref.scoreTokens(ids, mask)).logprobs[0]!;
    expect(Array.from((await policy.scoreTokens(ids, mask)).logprobs[0]!)).toEqual(Array.from(before));
    const wte = policy.trainableVariables()[0]!;
    const saved = wte.clone();
    wte.assign(tf.add(wte, 0.5));
    const after = (await ref.scoreTokens(ids, mask)).logprobs[0]!;
    expect(Array.from(after)).toEqual(Array.from(before));
    wte.assign(saved);
    saved.dispose();
    ref.dispose();
  });

  it('generates exactly maxNewTokens with ignoreEos and reports length', async () => {
    const gens = await policy.generate(['a', 'bb'], {
      maxNewTokens: 20,
      seed: 4,
      temperature: 2,
      ignoreEos: true,
    });
    for (const g of gens) {
      expect(g.tokenIds).toHaveLength(20);
      expect(g.tokenIds).not.toContain(tokenizer.eosTokenId);
      expect(g.tokenIds).not.toContain(tokenizer.padTokenId);
      expect(g.finishReason).toBe('length');
    }
  });

  it('rejects bad generate options naming the option', async () => {
    await expect(policy.generate(['x'], { maxNewTokens: 0, seed: 1 })).rejects.toThrow(/maxNewTokens/);
    await expect(policy.generate(['x'], { maxNewTokens: 64, seed: 1 })).rejects.toThrow(/nPositions/);
  });

  it('learns a tiny memorisation task on wasm (loss falls)', async () => {
    const student = await createPolicy({ config: TEST_CONFIG, tokenizer, seed: 3 });
    const texts = ['def add(a, b): return a + b', 'print("hi")'];
    const encoded = texts.map((t) => tokenizer.encode(t));
    const len = Math.max(...encoded.map((e) => e.length));
    const ids = tf.tensor2d(
      encoded.map((e) => [...new Array(len - e.length).fill(257), ...e]),
      [encoded.length, len],
      'int32',
    );
    const mask = tf.tensor2d(
      encoded.map((e) => [...new Array(len - e.length).fill(0), ...new Array(e.length).fill(1)]),
      [encoded.length, len],
    );
    const optimizer = tf.train.adam(1e-2);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const loss = optimizer.minimize(() => lmLoss(student, ids, mask), true, student.trainableVariables());
      losses.push(loss!.dataSync()[0]!);
      loss!.dispose();
    }
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
    const [g] = await student.generate(['def add'], { maxNewTokens: 7, temperature: 0, seed: 0 });
    expect(g!.text).toBe('(a, b):');
    optimizer.dispose();
    tf.dispose([ids, mask]);
    student.dispose();
  });
});
