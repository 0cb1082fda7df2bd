import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyLora,
  createAdamOptimizer,
  createByteTokenizer,
  createPolicy,
  type GPT2Config,
  initBackend,
  type LoraOptions,
  LoraPolicy,
  loadLoraAdapters,
  loadLoraPolicy,
  loadPolicy,
  mergeLora,
  type Policy,
  peftTensorName,
  readSafeTensors,
} from '../src/base.js';

import { LLAMA, QWEN2, randomPolicy } from './helpers.js';

const tokenizer = createByteTokenizer();

const GPT2: GPT2Config = { vocabSize: 258, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4 };

const ALL_LLAMA = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

let dir: string;
beforeAll(async () => {
  const backend = await initBackend({ prefer: 'wasm', log: false });
  expect(backend.name).toBe('wasm');
  dir = await mkdtemp(join(tmpdir(), 'stepcoder-lora-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const IDS = [
  [257, 10, 20, 30, 40, 50, 60, 70],
  [1, 2, 3, 4, 5, 6, 7, 8],
];
const MASK = [
  [0, 1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 1, 1, 1],
];

function logits(policy: Policy): Float32Array {
  return tf.tidy(() => {
    const { logits } = policy.apply(tf.tensor2d(IDS, [2, 8], 'int32'), tf.tensor2d(MASK, [2, 8]));
    return logits.dataSync() as Float32Array;
  });
}

async function scores(policy: Policy): Promise<number[]> {
  const r = await policy.scoreTokens(IDS, MASK);
  return [...r.logprobs.flatMap((x) => [...x]), ...r.values.flatMap((x) => [...x])];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  return maxAbsDiff(a, b) / scale;
}

async function snapshot(weights: Map<string, tf.Tensor>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [n, t] of weights) out.set(n, Float32Array.from(await t.data()));
  tf.dispose([...weights.values()]);
  return out;
}

/** A PPO-shaped step on `policy`: forward, a loss on log-probs and values, backward, Adam. */
function trainStep(policy: Policy, optimizer: tf.Optimizer): void {
  const vars = policy.trainableVariables();
  tf.tidy(() => {
    const ids = tf.tensor2d(IDS, [2, 8], 'int32');
    const { grads } = tf.variableGrads(() => {
      const { logits, values } = policy.apply(ids, tf.tensor2d(MASK, [2, 8]));
      const lp = tf.logSoftmax(logits);
      const target = tf.reshape(tf.oneHot(tf.tensor1d([104, 105], 'int32'), 258), [2, 1, 258]);
      return tf.add(
        tf.neg(tf.mean(tf.mul(lp, tf.cast(target, 'float32')))),
        tf.mean(tf.square(values)),
      ) as tf.Scalar;
    }, vars);
    optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
  });
}

describe('LoRA on the Llama family', () => {
  it('the adapted model equals the base at init (B = 0); only adapters and the value head train', async () => {
    const base = await randomPolicy(LLAMA, 1);
    const baseLogits = logits(base);
    const baseScores = await scores(base);
    const lora = applyLora(base, { rank: 4, alpha: 8, targetModules: ALL_LLAMA, seed: 3 });
    expect(() => base.trainableVariables()).toThrow(StepcoderError); // taken over
    expect(maxAbsDiff(logits(lora), baseLogits)).toBe(0);
    expect(maxAbsDiff(await scores(lora), baseScores)).toBe(0);
    const gen = async (p: Policy) =>
      (await p.generate(['ab', 'xyz'], { maxNewTokens: 5, seed: 2 })).map((g) => g.tokenIds);
    const vars = lora.trainableVariables();
    expect(vars).toHaveLength(2 * 7 * 2 + 2);
    expect(lora.lora.scale).toBe(2);
    const names = [...lora.getWeights()].map(([n, t]) => {
      t.dispose();
      return n;
    });
    expect(names[0]).toBe('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(names[1]).toBe('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight');
    expect(names.slice(-2)).toEqual(['v_head.summary.weight', 'v_head.summary.bias']);
    // A ~ U(−1/√in, 1/√in), B = 0
    const a = lora.adapterVariables()[0]!.a.dataSync();
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(32));
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.5 / Math.sqrt(32));
    expect(Math.max(...lora.adapterVariables()[0]!.b.dataSync().map(Math.abs))).toBe(0);

    const reference = await lora.referenceCopy();
    const baseBefore = await snapshot(reference.getWeights());
    const adaptersBefore = await snapshot(lora.getWeights());
    const genBefore = await gen(lora);
    const optimizer = createAdamOptimizer(1e-2, 0.9, 0.999, 1e-8);
    trainStep(lora, optimizer);
    trainStep(lora, optimizer);
    const baseAfter = await snapshot(reference.getWeights());
    const adaptersAfter = await snapshot(lora.getWeights());
    for (const [n, before] of baseBefore) {
      if (n.startsWith('v_head.')) continue; // shared with the policy, and trained
      expect(maxAbsDiff(baseAfter.get(n)!, before), n).toBe(0);
    }
    for (const [n, before] of adaptersBefore)
      expect(maxAbsDiff(adaptersAfter.get(n)!, before), n).toBeGreaterThan(0);
    // The reference view ignores the adapters: its log-probs are the base's, bit for bit.
    const trained = await scores(lora);
    const refScores = await scores(reference);
    const lpCount = baseScores.length / 2;
    expect(maxAbsDiff(refScores.slice(0, lpCount), baseScores.slice(0, lpCount))).toBe(0);
    expect(maxAbsDiff(trained.slice(0, lpCount), baseScores.slice(0, lpCount))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(logits(reference), baseLogits)).toBe(0);
    expect(await lora.withAdaptersDisabled(() => logits(lora))).toEqual(logits(reference));
    expect(await gen(reference)).toEqual(genBefore);
    // The trainer disposes a reference it owns: the base stays.
    reference.dispose();
    expect(maxAbsDiff(await scores(lora), trained)).toBe(0);
    optimizer.dispose();
    lora.dispose();
  });

  it('memory: applyLora adds only the adapters, and the reference view no tensors at all', async () => {
    const base = await randomPolicy(LLAMA, 2);
    const m0 = tf.memory();
    const lora = applyLora(base, { rank: 4, targetModules: 'all-linear' });
    const m1 = tf.memory();
    const adapterValues = lora.adapterVariables().reduce((n, { a, b }) => n + a.size + b.size, 0);
    expect(lora.adapterVariables()).toHaveLength(14);
    expect(m1.numTensors - m0.numTensors).toBe(28);
    expect(m1.numBytes - m0.numBytes).toBe(4 * adapterValues);
    const reference = await lora.referenceCopy();
    const m2 = tf.memory();
    expect(m2.numTensors).toBe(m1.numTensors);
    expect(m2.numBytes).toBe(m1.numBytes);
    await reference.scoreTokens(IDS, MASK);
    reference.dispose();
    expect(tf.memory().numBytes).toBe(m1.numBytes);
    lora.dispose();
    expect(tf.memory().numBytes).toBe(m0.numBytes - (await baseBytes()));
  });

  it('PEFT layout: save → load is bit-exact; merge → plain HF directory gives the same logits', async () => {
    const base = await randomPolicy(QWEN2, 3);
    const baseDir = join(dir, 'qwen-base');
    await base.save(baseDir);
    const lora = applyLora(base, {
      rank: 4,
      alpha: 16,
      targetModules: ['q_proj', 'v_proj', 'down_proj'],
      seed: 9,
      baseModelNameOrPath: '../qwen-base',
    });
    const optimizer = createAdamOptimizer(1e-2, 0.9, 0.999, 1e-8);
    trainStep(lora, optimizer);
    trainStep(lora, optimizer);
    const adapted = logits(lora);
    const adapterDir = join(dir, 'qwen-adapter');
    await lora.save(adapterDir);
    const cfg = JSON.parse(await readFile(join(adapterDir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      bias: 'none',
      r: 4,
      lora_alpha: 16,
      lora_dropout: 0,
      target_modules: ['down_proj', 'q_proj', 'v_proj'],
      base_model_name_or_path: '../qwen-base',
      fan_in_fan_out: false,
    });
    const { tensors, metadata } = await readSafeTensors(join(adapterDir, 'adapter_model.safetensors'));
    expect(metadata.format).toBe('pt');
    expect([...tensors.keys()]).toHaveLength(2 * 3 * 2);
    expect(tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')!.shape).toEqual([
      4, 48,
    ]);
    expect(tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight')!.shape).toEqual([
      32, 4,
    ]);
    expect(tensors.get(peftTensorName('model.layers.0.self_attn.v_proj', 'B'))!.shape).toEqual([8, 4]);
    // Load through base_model_name_or_path (relative to the adapter directory).
    const loaded = await loadLoraPolicy(adapterDir);
    expect(loaded).toBeInstanceOf(LoraPolicy);
    const want = await snapshot(lora.getWeights());
    const got = await snapshot(loaded.getWeights());
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [n, w] of want) expect(maxAbsDiff(got.get(n)!, w), n).toBe(0);
    expect(maxAbsDiff(logits(loaded), adapted)).toBe(0);
    expect(maxAbsDiff(await scores(loaded), await scores(lora))).toBe(0);
    loaded.dispose();

    // merge: a plain HF directory, loaded as any model
    const mergedDir = join(dir, 'qwen-merged');
    await lora.save(mergedDir, { merge: true });
    await expect(access(join(mergedDir, 'config.json'))).resolves.toBeUndefined();
    const plain = await loadPolicy(mergedDir);
    expect(plain).not.toBeInstanceOf(LoraPolicy);
    expect(maxRel(logits(plain), adapted)).toBeLessThanOrEqual(1e-5);
    plain.dispose();
    // in place (merge_and_unload)
    const merged = mergeLora(lora);
    expect(maxRel(logits(merged), adapted)).toBeLessThanOrEqual(1e-5);
    expect(merged.trainableVariables()).toHaveLength(merged.family.parameterShapes().size);
    merged.dispose();
    optimizer.dispose();
  });

  it('getWeights/setWeights round-trip the trainable state exactly (the trainer checkpoint)', async () => {
    const lora = applyLora(await randomPolicy(LLAMA, 4), { rank: 2, targetModules: ['o_proj', 'up_proj'] });
    const optimizer = createAdamOptimizer(1e-2, 0.9, 0.999, 1e-8);
    trainStep(lora, optimizer);
    const state = lora.getWeights();
    const other = applyLora(await randomPolicy(LLAMA, 4), {
      rank: 2,
      targetModules: ['o_proj', 'up_proj'],
      seed: 5,
    });
    expect(maxAbsDiff(logits(other), logits(lora))).toBeGreaterThan(0);
    other.setWeights(state);
    expect(maxAbsDiff(logits(other), logits(lora))).toBe(0);
    // base weights are frozen, unknown names and wrong shapes fail naming the tensor
    const err = (() => {
      try {
        other.setWeights(new Map([['model.norm.weight', tf.ones([32])]]), { partial: true });
      } catch (e) {
        return e as StepcoderError;
      }
    })();
    expect(err).toBeInstanceOf(StepcoderError);
    expect(err!.message).toMatch(/model\.norm\.weight.*frozen/);
    const first = [...state.keys()][0]!;
    expect(() => other.setWeights(new Map([[first, tf.ones([3, 3])]]), { partial: true })).toThrow(
      /shape \[3,3\]/,
    );
    expect(() => other.setWeights(new Map([[first, state.get(first)!]]))).toThrow(/missing tensor/);
    tf.dispose([...state.values()]);
    optimizer.dispose();
    lora.dispose();
    other.dispose();
  });

  it('dropout is seeded, on in apply (training) only', async () => {
    const make = async () => {
      const lora = applyLora(await randomPolicy(LLAMA, 6), { rank: 4, dropout: 0.5, seed: 1 });
      // non-zero B so the adapters matter
      lora.setWeights(
        new Map(
          lora
            .adapterVariables()
            .map(({ module, b }) => [peftTensorName(module, 'B'), tf.fill(b.shape, 0.05)]),
        ),
        { partial: true },
      );
      return lora;
    };
    const p1 = await make();
    const p2 = await make();
    const [a1, a2] = [logits(p1), logits(p1)];
    expect(maxAbsDiff(a1, a2)).toBeGreaterThan(0);
    expect(maxAbsDiff(logits(p2), a1)).toBe(0);
    expect(maxAbsDiff(logits(p2), a2)).toBe(0);
    expect(await scores(p1)).toEqual(await scores(p2));
    await p1.save(join(dir, 'dropout-adapter'));
    const cfg = JSON.parse(await readFile(join(dir, 'dropout-adapter', 'adapter_config.json'), 'utf8'));
    expect(cfg.lora_dropout).toBe(0.5);
    p1.dispose();
    p2.dispose();
  });
});

describe('LoRA on GPT-2', () => {
  it('c_attn / c_proj / c_fc: init equals base, merge matches, PEFT names and fan_in_fan_out', async () => {
    const base = await randomPolicy(GPT2, 7);
    const baseLogits = logits(base);
    const lora = applyLora(base, { rank: 4, targetModules: ['c_attn', 'c_proj', 'c_fc'] });
    // c_proj is both attn.c_proj and mlp.c_proj, as PEFT's suffix rule gives
    expect(lora.adapterVariables().map((a) => a.module)).toEqual(
      [0, 1].flatMap((l) =>
        ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'].map((m) => `transformer.h.${l}.${m}`),
      ),
    );
    expect(maxAbsDiff(logits(lora), baseLogits)).toBe(0);
    const fc = lora.adapterVariables()[2]!;
    expect(fc.a.shape).toEqual([4, 32]);
    expect(fc.b.shape).toEqual([128, 4]);
    const optimizer = createAdamOptimizer(1e-2, 0.9, 0.999, 1e-8);
    trainStep(lora, optimizer);
    trainStep(lora, optimizer);
    const adapted = logits(lora);
    expect(maxAbsDiff(adapted, baseLogits)).toBeGreaterThan(1e-4);
    const adapterDir = join(dir, 'gpt2-adapter');
    await lora.save(adapterDir);
    const cfg = JSON.parse(await readFile(join(adapterDir, 'adapter_config.json'), 'utf8'));
    expect(cfg.fan_in_fan_out).toBe(true);
    expect(cfg.target_modules).toEqual(['c_attn', 'c_fc', 'c_proj']);
    const { tensors } = await readSafeTensors(join(adapterDir, 'adapter_model.safetensors'));
    expect(tensors.has('base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight')).toBe(true);
    const reference = await lora.referenceCopy();
    expect(maxAbsDiff(logits(reference), baseLogits)).toBe(0);
    const baseDir = join(dir, 'gpt2-base');
    await reference.save(baseDir);
    reference.dispose();
    const loaded = await loadLoraAdapters(await loadPolicy(baseDir), adapterDir);
    expect(maxAbsDiff(logits(loaded), adapted)).toBe(0);
    loaded.dispose();
    const merged = mergeLora(lora);
    expect(maxRel(logits(merged), adapted)).toBeLessThanOrEqual(1e-5);
    merged.dispose();
    optimizer.dispose();
  });
});

describe('LoRA errors', () => {
  const bad: Array<[LoraOptions, RegExp]> = [
    [{ rank: 0 }, /rank/],
    [{ rank: 2.5 }, /rank/],
    [{ alpha: -1 }, /alpha/],
    [{ dropout: 1 }, /dropout/],
    [{ targetModules: [] }, /targetModules/],
    [
      { targetModules: ['q_proj', 'c_attn'] },
      /targetModules: 'c_attn' is not a linear module of this llama model; one of q_proj/,
    ],
    [{ targetModules: 'lm_head' }, /targetModules: the pattern 'lm_head' matches no linear module/],
    [{ targetModules: '(' }, /targetModules: '\(' is not a valid regular expression/],
    [{ rnak: 4 } as LoraOptions, /rnak/],
  ];
  for (const [options, message] of bad) {
    it(`${JSON.stringify(options)} is an INVALID_OPTIONS error naming the option`, async () => {
      const policy = await createPolicy({ config: LLAMA, tokenizer, seed: 1 });
      let err: unknown;
      try {
        applyLora(policy, options);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StepcoderError);
      expect((err as StepcoderError).code).toBe('INVALID_OPTIONS');
      expect((err as StepcoderError).message).toMatch(message);
      // a refused applyLora leaves the policy usable
      expect(policy.trainableVariables().length).toBeGreaterThan(0);
      policy.dispose();
    });
  }

  it('bad adapter directories are CHECKPOINT errors naming what is wrong', async () => {
    const lora = applyLora(await createPolicy({ config: LLAMA, tokenizer, seed: 1 }), { rank: 2 });
    const d = join(dir, 'bad-adapter');
    await lora.save(d);
    lora.dispose();
    const cfgPath = join(d, 'adapter_config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    const attempt = async () => {
      const base = await createPolicy({ config: LLAMA, tokenizer, seed: 1 });
      try {
        (await loadLoraAdapters(base, d)).dispose();
        return undefined;
      } catch (e) {
        base.dispose();
        return e as StepcoderError;
      }
    };
    await writeFile(cfgPath, JSON.stringify({ ...cfg, peft_type: 'IA3' }));
    expect((await attempt())?.message).toMatch(/peft_type/);
    await writeFile(cfgPath, JSON.stringify({ ...cfg, r: 3 }));
    const shapeErr = await attempt();
    expect(shapeErr?.code).toBe('CHECKPOINT');
    expect(shapeErr?.message).toMatch(/lora_A\.weight' has shape \[2,32\], expected \[3,32\]/);
    await writeFile(cfgPath, JSON.stringify({ ...cfg, target_modules: ['q_proj', 'v_proj', 'k_proj'] }));
    expect((await attempt())?.message).toMatch(
      /missing tensor 'base_model\.model\.model\.layers\.0\.self_attn\.k_proj\.lora_A\.weight'/,
    );
    await writeFile(cfgPath, JSON.stringify({ ...cfg, base_model_name_or_path: null }));
    await expect(loadLoraPolicy(d)).rejects.toThrow(/no base_model_name_or_path/);
  });
});

/** Bytes of LLAMA's base parameters (what a disposed LoRA policy frees besides its adapters). */
async function baseBytes(): Promise<number> {
  const p = await createPolicy({ config: LLAMA, tokenizer, seed: 0 });
  const n = [...p.family.parameterShapes().values()].reduce(
    (s, sh) => s + 4 * sh.reduce((a, b) => a * b, 1),
    0,
  );
  p.dispose();
  return n;
}

describe('LoRA gradients through the frozen base', () => {
  /** The loss of trainStep, on logits and values. */
  const loss = (policy: Policy) => {
    const { logits, values } = policy.apply(tf.tensor2d(IDS, [2, 8], 'int32'), tf.tensor2d(MASK, [2, 8]));
    const target = tf.reshape(tf.oneHot(tf.tensor1d([104, 105], 'int32'), 258), [2, 1, 258]);
    return tf.add(
      tf.neg(tf.mean(tf.mul(tf.logSoftmax(logits), tf.cast(target, 'float32')))),
      tf.mean(tf.square(values)),
    ) as tf.Scalar;
  };

  // dL/dB = s·G·Aᵀ and dL/dA = s·Bᵀ·G, G = dL/dW of the merged model in [out, in] layout: the
  // adapters' gradients must be what the chain rule gives through a plain, fully trainable copy.
  for (const [family, config, targets] of [
    ['llama', LLAMA, 'all-linear'],
    ['qwen2', QWEN2, 'all-linear'],
    ['gpt2', GPT2, ['c_attn', 'attn.c_proj', 'c_fc', 'mlp.c_proj']],
  ] as const) {
    it(`${family}: adapter gradients equal the chain rule through the merged model`, async () => {
      const lora = applyLora(await randomPolicy(config, 21), {
        rank: 4,
        alpha: 8,
        targetModules: targets as string[] | string,
        seed: 3,
      });
      // Non-zero B, so dL/dA is not zero.
      const rng = new Rng(5).split('B');
      const bs = new Map(
        lora.adapterVariables().map(({ module, b }) => [
          peftTensorName(module, 'B'),
          tf.tensor(
            Float32Array.from({ length: b.size }, () => rng.normal() * 0.05),
            b.shape,
          ),
        ]),
      );
      lora.setWeights(bs, { partial: true });
      tf.dispose([...bs.values()]);
      const vars = lora.trainableVariables();
      const { grads } = tf.variableGrads(() => loss(lora), vars);
      // No kernel of a backward step outputs a frozen weight's shape: no dW is computed for them.
      // (15 = 3×5 rows: no activation shares a dimension with a weight here.)
      const frozenShapes = new Set(
        [...(await lora.readWeights())]
          .filter(([n, w]) => w.shape.length === 2 && !n.startsWith('v_head.'))
          .map(([, w]) => `${w.shape}`),
      );
      const ids = tf.tensor2d(
        Array.from({ length: 15 }, (_, i) => (i * 37) % 256),
        [3, 5],
        'int32',
      );
      const profile = await tf.profile(() =>
        Object.values(
          tf.variableGrads(() => tf.sum(tf.square(lora.apply(ids).logits)) as tf.Scalar, vars).grads,
        ),
      );
      ids.dispose();
      const products = profile.kernels.filter((k) => /MatMul|StepcoderLinear/.test(k.name));
      expect(products.length).toBeGreaterThan(0);
      const dW = products.filter((k) =>
        k.outputShapes.some((sh) => sh.length === 2 && frozenShapes.has(`${sh}`)),
      );
      expect(dW.map((k) => `${k.name} ${JSON.stringify(k.outputShapes)}`)).toEqual([]);
      const merged = await lora.readWeights();
      const plain = await createPolicy({ config, tokenizer, seed: 0 });
      plain.setWeights(new Map([...merged].map(([n, w]) => [n, tf.tensor(w.data, w.shape)])));
      const plainVars = new Map([...plain.variableNames()].map(([vname, hf]) => [hf, vname]));
      const full = tf.variableGrads(() => loss(plain), plain.trainableVariables()).grads;
      const scale = lora.lora.scale;
      for (const spec of lora.lora.modules) {
        const ad = lora.adapterVariables().find((a) => a.module === spec.module)!;
        let g = full[plainVars.get(spec.weight)!]!;
        if (spec.fanInFanOut) g = tf.transpose(g); // GPT-2 Conv1D stores W as [in, out]
        const wantB = tf.mul(tf.matMul(g, ad.a, false, true), scale);
        const wantA = tf.mul(tf.matMul(ad.b, g, true, false), scale);
        expect(maxRel(await grads[ad.b.name]!.data(), await wantB.data()), `${spec.module} B`).toBeLessThan(
          1e-4,
        );
        expect(maxRel(await grads[ad.a.name]!.data(), await wantA.data()), `${spec.module} A`).toBeLessThan(
          1e-4,
        );
        tf.dispose([wantA, wantB]);
      }
      // The value head trains in both: the same gradient.
      for (const n of ['v_head.summary.weight', 'v_head.summary.bias']) {
        const mine = vars.find((v) => lora.variableNames().get(v.name) === n)!;
        expect(maxRel(await grads[mine.name]!.data(), await full[plainVars.get(n)!]!.data()), n).toBeLessThan(
          1e-4,
        );
      }
      tf.dispose([...Object.values(grads), ...Object.values(full)]);
      plain.dispose();
      lora.dispose();
    });
  }
});
