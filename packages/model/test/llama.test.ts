import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createByteTokenizer,
  createGeneratorWorker,
  createPolicy,
  decodeSafeTensors,
  initBackend,
  type LlamaConfig,
  loadHfModel,
  loadPolicy,
  type Policy,
  readSafeTensors,
  ropeInverseFrequencies,
  type SafeTensor,
  saveHfModel,
  writeSafeTensors,
} from '../src/base.js';
import { LLAMA, paddedBatch, randomPolicy } from './helpers.js';

const tokenizer = createByteTokenizer();

/** Qwen2: q/k/v biases, tied embeddings, GQA 4:1, a vocabulary padded past the tokenizer's. */
const QWEN2: LlamaConfig = {
  family: 'llama',
  modelType: 'qwen2',
  vocabSize: 272,
  nPositions: 64,
  hiddenSize: 32,
  intermediateSize: 40,
  nLayer: 2,
  nHead: 4,
  nKvHead: 1,
  ropeTheta: 1e6,
  tieWordEmbeddings: true,
};

let dir: string;
beforeAll(async () => {
  const backend = await initBackend({ prefer: 'wasm', log: false });
  expect(backend.name).toBe('wasm');
  dir = await mkdtemp(join(tmpdir(), 'stepcoder-llama-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A policy with every parameter perturbed, so that norm weights, biases and the value head matter. */
/** Logits then values of `policy.apply` on rows (optionally masked), flattened. */
async function outputsOf(policy: Policy, rows: number[][], mask?: number[][]): Promise<Float32Array> {
  const t = tf.tidy(() => {
    const shape: [number, number] = [rows.length, rows[0]!.length];
    const { logits, values } = policy.apply(
      tf.tensor2d(rows, shape, 'int32'),
      mask ? tf.tensor2d(mask, shape) : undefined,
    );
    return tf.concat([tf.reshape(logits, [-1]), tf.reshape(values, [-1])]);
  });
  const out = (await t.data()) as Float32Array;
  t.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function lmLoss(policy: Policy, ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  const [b, t] = ids.shape;
  const { logits, values } = policy.apply(ids, mask);
  const v = logits.shape[2];
  const logp = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [b, t - 1, v]));
  const next = tf.cast(tf.oneHot(tf.slice(ids, [0, 1], [b, t - 1]), v), 'float32');
  const w = tf.slice(mask, [0, 1], [b, t - 1]);
  const nll = tf.neg(tf.sum(tf.mul(logp, next), -1));
  const valueTerm = tf.mul(tf.mean(tf.square(values)), 0.1);
  return tf.add(tf.div(tf.sum(tf.mul(nll, w)), tf.sum(w)), valueTerm) as tf.Scalar;
}

describe('Llama-family policy on the wasm backend', () => {
  it('has Hugging Face parameter names and [out, in] shapes (llama: GQA, untied)', async () => {
    const policy = await createPolicy({ config: LLAMA, tokenizer, seed: 1 });
    const w = policy.getWeights();
    expect(w.get('model.embed_tokens.weight')!.shape).toEqual([258, 32]);
    expect(w.get('model.layers.1.self_attn.q_proj.weight')!.shape).toEqual([32, 32]);
    expect(w.get('model.layers.1.self_attn.k_proj.weight')!.shape).toEqual([16, 32]);
    expect(w.get('model.layers.0.self_attn.v_proj.weight')!.shape).toEqual([16, 32]);
    expect(w.get('model.layers.0.self_attn.o_proj.weight')!.shape).toEqual([32, 32]);
    expect(w.get('model.layers.0.mlp.gate_proj.weight')!.shape).toEqual([48, 32]);
    expect(w.get('model.layers.0.mlp.down_proj.weight')!.shape).toEqual([32, 48]);
    expect(w.get('model.layers.0.input_layernorm.weight')!.shape).toEqual([32]);
    expect(w.get('lm_head.weight')!.shape).toEqual([258, 32]);
    expect(w.has('model.layers.0.self_attn.q_proj.bias')).toBe(false);
    expect(w.size).toBe(1 + 2 * 9 + 1 + 1 + 2);
    expect(policy.trainableVariables()).toHaveLength(w.size);
    tf.dispose([...w.values()]);
    policy.dispose();
  });

  it('qwen2 has q/k/v biases, no o_proj bias, and a tied head', async () => {
    const policy = await createPolicy({ config: QWEN2, tokenizer, seed: 1 });
    const w = policy.getWeights();
    expect(w.get('model.layers.0.self_attn.q_proj.bias')!.shape).toEqual([32]);
    expect(w.get('model.layers.0.self_attn.k_proj.bias')!.shape).toEqual([8]);
    expect(w.get('model.layers.0.self_attn.v_proj.bias')!.shape).toEqual([8]);
    expect(w.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    expect(w.has('lm_head.weight')).toBe(false);
    tf.dispose([...w.values()]);
    policy.dispose();
  });

  it('computes RoPE inverse frequencies as LlamaRotaryEmbedding does', () => {
    const inv = ropeInverseFrequencies(8, 10000);
    expect(Array.from(inv)).toEqual([1, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513]);
  });

  it('rescales RoPE frequencies as rope_scaling says: linear, and llama3 band by band', () => {
    const plain = ropeInverseFrequencies(16, 10000);
    const linear = ropeInverseFrequencies(16, 10000, { type: 'linear', factor: 4 });
    for (let i = 0; i < plain.length; i++) expect(linear[i]).toBe(Math.fround(plain[i]! / 4));
    // Original context 512, low/high factors 1/4: wavelengths 2π/f below 128 are kept, above 512
    // divided by 8, and the one between (≈199) blended: (512/λ − 1)/3 of the original, the rest /8.
    const llama3 = ropeInverseFrequencies(16, 10000, {
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 512,
    });
    const wavelengths = Array.from(plain, (f) => (2 * Math.PI) / f);
    const kept = wavelengths.flatMap((w, i) => (w < 128 ? [i] : []));
    const scaled = wavelengths.flatMap((w, i) => (w > 512 ? [i] : []));
    const blended = wavelengths.flatMap((w, i) => (w >= 128 && w <= 512 ? [i] : []));
    expect([kept, blended, scaled]).toEqual([[0, 1, 2], [3], [4, 5, 6, 7]]);
    for (const i of kept) expect(llama3[i]).toBe(plain[i]);
    for (const i of scaled) expect(llama3[i]).toBe(Math.fround(plain[i]! / 8));
    const smooth = (512 / wavelengths[3]! - 1) / 3;
    const expected = plain[3]! * (smooth + (1 - smooth) / 8);
    expect(Math.abs(llama3[3]! - expected) / expected).toBeLessThan(2 ** -23); // float32 rounding
    expect(llama3[3]).toBeLessThan(plain[3]!);
    expect(llama3[3]).toBeGreaterThan(plain[3]! / 8);
  });

  it('a scaled rotary embedding leaves position 0 as it is and changes later positions', async () => {
    const scaling = { type: 'linear', factor: 4 } as const;
    const plain = await randomPolicy(LLAMA, 3);
    const scaled = await randomPolicy({ ...LLAMA, ropeScaling: scaling }, 3);
    const rows = [[5, 6, 7, 8, 9, 10, 11, 12]];
    const a = await outputsOf(plain, rows);
    const b = await outputsOf(scaled, rows);
    // Position 0 has angle 0 under any scaling; later positions rotate by less.
    const vocab = LLAMA.vocabSize;
    expect(Array.from(b.slice(0, vocab))).toEqual(Array.from(a.slice(0, vocab)));
    let differ = 0;
    for (let i = vocab; i < a.length; i++) differ = Math.max(differ, Math.abs(a[i]! - b[i]!));
    expect(differ).toBeGreaterThan(1e-3);
    plain.dispose();
    scaled.dispose();
  });

  for (const [name, config] of [
    ['llama', LLAMA],
    ['qwen2', QWEN2],
  ] as const) {
    it(`${name}: matches finite differences of the loss (every op has a wasm gradient)`, async () => {
      // Small perturbations keep the loss close to quadratic over ±eps (float32 central differences);
      // the analytic gradients were also checked against autodiff of the plain ops on cpu.
      const policy = await randomPolicy(config, 7, 0.02);
      const { ids, mask } = paddedBatch();
      const vars = policy.trainableVariables();
      const { grads } = tf.variableGrads(() => lmLoss(policy, ids, mask), vars);
      const probes: Array<[string, number]> = [
        ['model.embed_tokens.weight', 20 * 32 + 3],
        ['model.layers.0.self_attn.q_proj.weight', 5 * 32 + 7],
        ['model.layers.1.self_attn.k_proj.weight', 3 * 32 + 1],
        ['model.layers.0.self_attn.v_proj.weight', 2 * 32 + 9],
        ['model.layers.1.self_attn.o_proj.weight', 4 * 32 + 4],
        ['model.layers.0.mlp.gate_proj.weight', 11 * 32 + 2],
        ['model.layers.1.mlp.up_proj.weight', 6 * 32 + 30],
        ['model.layers.0.mlp.down_proj.weight', 3 * config.intermediateSize + 5],
        ['model.layers.0.input_layernorm.weight', 4],
        ['model.layers.1.post_attention_layernorm.weight', 17],
        ['model.norm.weight', 9],
        ['v_head.summary.weight', 6],
        ...(config.tieWordEmbeddings
          ? ([
              ['model.embed_tokens.weight', 200 * 32 + 5],
              ['model.layers.0.self_attn.k_proj.bias', 3],
              ['model.layers.1.self_attn.q_proj.bias', 10],
            ] as Array<[string, number]>)
          : ([['lm_head.weight', 40 * 32 + 8]] as Array<[string, number]>)),
      ];
      const eps = 1e-2;
      for (const [param, index] of probes) {
        const v = vars.find((x) => x.name.endsWith(`/${param}`))!;
        expect(v, param).toBeDefined();
        const analytic = grads[v.name]!.dataSync()[index]!;
        const original = v.dataSync().slice();
        const at = (delta: number) => {
          const changed = original.slice();
          changed[index] = original[index]! + delta;
          v.assign(tf.tensor(changed, v.shape));
          return tf.tidy(() => lmLoss(policy, ids, mask).dataSync()[0]!);
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        v.assign(tf.tensor(original, v.shape));
        expect(Math.abs(analytic - numeric), `${param}[${index}]: ${analytic} vs ${numeric}`).toBeLessThan(
          2e-3 + 0.05 * Math.abs(numeric),
        );
      }
      tf.dispose([ids, mask, ...Object.values(grads)]);
      policy.dispose();
    });

    it(`${name}: KV-cache generation equals generation without cache (greedy)`, async () => {
      const policy = await randomPolicy(config, 3);
      const prompts = ['def f(x):', 'hello', 'a'];
      const opts = { maxNewTokens: 20, temperature: 0, seed: 1, ignoreEos: true };
      const cached = await policy.generate(prompts, { ...opts, useCache: true });
      const full = await policy.generate(prompts, { ...opts, useCache: false });
      expect(cached.map((g) => g.tokenIds)).toEqual(full.map((g) => g.tokenIds));
      cached.forEach((g, i) => {
        expect(g.tokenIds).toHaveLength(20);
        g.logprobs.forEach((lp, j) => {
          expect(lp).toBeCloseTo(full[i]!.logprobs[j]!, 4);
        });
        // The padded vocabulary's tail (ids ≥ the tokenizer's 258) is never sampled.
        for (const id of g.tokenIds) expect(id).toBeLessThan(256);
      });
      policy.dispose();
    });

    it(`${name}: a left-padded row gives the logits of the unpadded row (RoPE follows positions)`, async () => {
      const policy = await randomPolicy(config, 4);
      const row = [5, 6, 7, 8, 9];
      const one = await outputsOf(policy, [row]);
      const padded = await outputsOf(policy, [[257, 257, 257, ...row]], [[0, 0, 0, 1, 1, 1, 1, 1]]);
      const v = config.vocabSize;
      const logits = padded.subarray(3 * v, 8 * v);
      const values = padded.subarray(8 * v + 3);
      expect(maxAbsDiff(one.subarray(0, 5 * v), logits)).toBeLessThan(1e-4);
      expect(maxAbsDiff(one.subarray(5 * v), values)).toBeLessThan(1e-4);
      // and scoreTokens agrees with generate's log-probs
      const [g] = await policy.generate(['score me'], { maxNewTokens: 6, seed: 11, temperature: 1 });
      const ids = [...g!.promptIds, ...g!.tokenIds];
      const scored = await policy.scoreTokens([ids], [ids.map(() => 1)]);
      g!.logprobs.forEach((lp, j) => {
        expect(scored.logprobs[0]![g!.promptIds.length - 1 + j]).toBeCloseTo(lp, 4);
      });
      policy.dispose();
    });
  }

  it('GQA equals multi-head attention with each KV head repeated (repeat_kv)', async () => {
    const gqa = await randomPolicy(LLAMA, 9);
    const mha = await createPolicy({ config: { ...LLAMA, nKvHead: 4 }, tokenizer, seed: 1 });
    const weights = gqa.getWeights();
    const hd = 8;
    const rep = 2;
    for (const [name, w] of [...weights]) {
      if (!/\.(k_proj|v_proj)\.weight$/.test(name)) continue;
      // [KV·hd, D] → rows of KV head j // rep for query head j: [H·hd, D]
      const heads = tf.split(w, w.shape[0]! / hd, 0);
      const repeated = tf.concat(
        heads.flatMap((h) => Array.from({ length: rep }, () => h)),
        0,
      );
      weights.set(name, repeated);
      tf.dispose([w, ...heads]);
    }
    mha.setWeights(weights);
    tf.dispose([...weights.values()]);
    const { ids, mask } = paddedBatch();
    const rows = await ids.array();
    const m = await mask.array();
    const diff = maxAbsDiff(await outputsOf(gqa, rows, m), await outputsOf(mha, rows, m));
    expect(diff).toBeLessThan(1e-5);
    const a = await gqa.generate(['gqa'], { maxNewTokens: 8, temperature: 0, seed: 0 });
    const b = await mha.generate(['gqa'], { maxNewTokens: 8, temperature: 0, seed: 0 });
    expect(a[0]!.tokenIds).toEqual(b[0]!.tokenIds);
    tf.dispose([ids, mask]);
    gqa.dispose();
    mha.dispose();
  });

  it('keeps a frozen reference copy; does not leak tensors', async () => {
    const policy = await randomPolicy(QWEN2, 5);
    const ref = await policy.referenceCopy();
    expect(ref.trainableVariables()).toEqual([]);
    expect(ref.config).toEqual(policy.config);
    const ids = [[1, 2, 3, 4]];
    const mask = [[1, 1, 1, 1]];
    const before = Array.from((await ref.scoreTokens(ids, mask)).logprobs[0]!);
    expect(Array.from((await policy.scoreTokens(ids, mask)).logprobs[0]!)).toEqual(before);
    const count = tf.memory().numTensors;
    await policy.generate(['leak', 'x'], { maxNewTokens: 5, seed: 1 });
    await policy.generate(['leak'], { maxNewTokens: 5, seed: 1, useCache: false });
    await policy.scoreTokens(ids, mask);
    tf.tidy(() => {
      policy.apply(tf.tensor2d([[1, 2]], [1, 2], 'int32'));
    });
    expect(tf.memory().numTensors).toBe(count);
    ref.dispose();
    policy.dispose();
  });

  it('generates the same on a generator worker thread (config, weights and EOS ids travel)', async () => {
    const policy = await randomPolicy({ ...QWEN2, eosTokenIds: [65] }, 13);
    const worker = await createGeneratorWorker.fromPolicy(policy);
    try {
      const opts = { maxNewTokens: 10, temperature: 0.8, seed: 4 };
      const here = await policy.generate(['def ', 'x'], opts);
      const there = await worker.generate(['def ', 'x'], opts);
      expect(there.map((g) => g.tokenIds)).toEqual(here.map((g) => g.tokenIds));
      expect(there.map((g) => g.finishReason)).toEqual(here.map((g) => g.finishReason));
    } finally {
      await worker.dispose();
      policy.dispose();
    }
  });

  it('learns a tiny memorisation task (loss falls)', async () => {
    const student = await createPolicy({ config: LLAMA, tokenizer, seed: 3 });
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

/** A safetensors file by hand: tensors of raw 16-bit patterns (F16/BF16) or float32. */
function rawSafetensors(
  entries: Array<{ name: string; dtype: 'F16' | 'BF16' | 'F32'; shape: number[]; data: number[] }>,
): Buffer {
  const header: Record<string, unknown> = {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const width = e.dtype === 'F32' ? 4 : 2;
    const buf = Buffer.alloc(e.data.length * width);
    e.data.forEach((v, i) => {
      if (width === 2) buf.writeUInt16LE(v, i * 2);
      else buf.writeFloatLE(v, i * 4);
    });
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + buf.length] };
    chunks.push(buf);
    offset += buf.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...chunks]);
}

/** float32 → bf16 bits by truncation (what the test stores), and back. */
function bf16Bits(x: number): number {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return b.readUInt32LE() >>> 16;
}

describe('bf16 / fp16 decoding', () => {
  it('decodes known bit patterns, subnormals, infinities, NaN and signed zero', () => {
    const f16 = [
      0x3c00, 0xc000, 0x3800, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00,
    ];
    const f16Expected = [
      1,
      -2,
      0.5,
      65504,
      2 ** -14,
      2 ** -24,
      1023 * 2 ** -24,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0.333251953125,
    ];
    const bf16 = [0x3f80, 0xc000, 0x4049, 0xc2f7, 0x7f7f, 0x0080, 0x0001, 0x7f80, 0xff80, 0x8000, 0x7fc0];
    const bf16Expected = [
      1,
      -2,
      3.140625,
      -123.5,
      3.3895313892515355e38,
      2 ** -126,
      2 ** -133,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
    ];
    const file = decodeSafeTensors(
      rawSafetensors([
        { name: 'h', dtype: 'F16', shape: [f16.length], data: f16 },
        { name: 'b', dtype: 'BF16', shape: [bf16.length], data: bf16 },
      ]),
    );
    const h = Array.from(file.tensors.get('h')!.data);
    const b = Array.from(file.tensors.get('b')!.data);
    expect(h.slice(0, -1)).toEqual(f16Expected);
    expect(Object.is(h[9], -0)).toBe(true);
    expect(Number.isNaN(h[11])).toBe(true);
    expect(b.slice(0, -1)).toEqual(bf16Expected);
    expect(Object.is(b[9], -0)).toBe(true);
    expect(Number.isNaN(b[10])).toBe(true);
  });
});

describe('Hugging Face directories', () => {
  for (const [name, config] of [
    ['llama', LLAMA],
    ['qwen2', QWEN2],
  ] as const) {
    it(`${name}: save → load round-trips bit-exactly (weights, logits, config, EOS ids)`, async () => {
      const policy = await randomPolicy({ ...config, eosTokenIds: [255] }, 6);
      const out = join(dir, `rt-${name}`);
      await saveHfModel(policy, out);
      const cfg = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
      expect(cfg).toMatchObject({
        model_type: name,
        architectures: [name === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
        vocab_size: config.vocabSize,
        hidden_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: config.nKvHead,
        max_position_embeddings: 64,
        tie_word_embeddings: config.tieWordEmbeddings ?? false,
        hidden_act: 'silu',
      });
      const gen = JSON.parse(await readFile(join(out, 'generation_config.json'), 'utf8'));
      expect(gen.eos_token_id).toEqual([256, 255]);
      const { tensors } = await readSafeTensors(join(out, 'model.safetensors'));
      expect(tensors.has('lm_head.weight')).toBe(!config.tieWordEmbeddings);
      const loaded = await loadHfModel(out);
      expect(loaded.config).toEqual(policy.config);
      expect(loaded.tokenizer.kind).toBe('byte'); // config.json's stepcoder block says so
      expect(loaded.tokenizer.eosTokenId).toBe(256);
      const a = await policy.readWeights();
      const b = await loaded.readWeights();
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [k, t] of a) expect(Array.from(b.get(k)!.data), k).toEqual(Array.from(t.data));
      const rows = [
        [1, 2, 3, 4, 5],
        [9, 8, 7, 6, 5],
      ];
      expect(Array.from(await outputsOf(loaded, rows))).toEqual(Array.from(await outputsOf(policy, rows)));
      const opts = { maxNewTokens: 10, temperature: 0, seed: 0 };
      expect((await loaded.generate(['abc'], opts))[0]!.tokenIds).toEqual(
        (await policy.generate(['abc'], opts))[0]!.tokenIds,
      );
      // As a plain HF directory (no stepcoder block): the tokenizer comes from tokenizer.json.
      const { stepcoder: _tag, ...plain } = cfg;
      await writeFile(join(out, 'config.json'), JSON.stringify(plain));
      const hf = await loadHfModel(out);
      expect(hf.tokenizer.kind).toBe('hf');
      expect(hf.tokenizer.eosTokenId).toBe(256);
      expect(hf.tokenizer.encode('héllo\n')).toEqual(tokenizer.encode('héllo\n'));
      expect(Array.from(await outputsOf(hf, rows))).toEqual(Array.from(await outputsOf(policy, rows)));
      policy.dispose();
      loaded.dispose();
      hf.dispose();
    });
  }

  for (const [name, scaling, hf] of [
    ['linear (DeepSeek-Coder)', { type: 'linear', factor: 4 }, { type: 'linear', factor: 4 }],
    [
      'llama3 (Llama 3.1+)',
      {
        type: 'llama3',
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 512,
      },
      {
        rope_type: 'llama3',
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 512,
      },
    ],
  ] as const) {
    it(`rope_scaling ${name}: read from config.json, written back, same outputs`, async () => {
      const policy = await randomPolicy({ ...LLAMA, ropeScaling: scaling }, 8);
      const out = join(dir, `rope-${scaling.type}`);
      await saveHfModel(policy, out);
      const cfg = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
      expect(cfg.rope_scaling).toMatchObject(hf);
      // As a checkpoint from the Hub writes it (one of `type` / `rope_type`).
      await writeFile(join(out, 'config.json'), JSON.stringify({ ...cfg, rope_scaling: hf }));
      const loaded = await loadHfModel(out);
      expect(loaded.config).toEqual(policy.config);
      const rows = [[3, 1, 4, 1, 5, 9, 2, 6]];
      expect(Array.from(await outputsOf(loaded, rows))).toEqual(Array.from(await outputsOf(policy, rows)));
      policy.dispose();
      loaded.dispose();
    });
  }

  it('stops generation at any EOS id of generation_config.json', async () => {
    const policy = await randomPolicy(LLAMA, 12);
    const [free] = await policy.generate(['eos'], {
      maxNewTokens: 12,
      temperature: 0,
      seed: 0,
      ignoreEos: true,
    });
    const stopId = free!.tokenIds[4]!;
    const cut = free!.tokenIds.indexOf(stopId);
    const out = join(dir, 'eos');
    await policy.save(out);
    await writeFile(join(out, 'generation_config.json'), JSON.stringify({ eos_token_id: [256, stopId] }));
    const loaded = await loadPolicy(out);
    const [g] = await loaded.generate(['eos'], { maxNewTokens: 12, temperature: 0, seed: 0 });
    expect(g!.finishReason).toBe('eos');
    expect(g!.tokenIds).toEqual(free!.tokenIds.slice(0, cut + 1));
    // with ignoreEos both ids are banned
    const [h] = await loaded.generate(['eos'], {
      maxNewTokens: 12,
      temperature: 0,
      seed: 0,
      ignoreEos: true,
    });
    expect(h!.tokenIds).not.toContain(stopId);
    policy.dispose();
    loaded.dispose();
  });

  it('loads a sharded model.safetensors.index.json and a bf16 checkpoint', async () => {
    const policy = await randomPolicy(QWEN2, 8);
    const out = join(dir, 'sharded');
    await policy.save(out);
    const weights = await policy.readWeights();
    await unlink(join(out, 'model.safetensors'));
    const names = [...weights.keys()];
    const half = Math.floor(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, group] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      // bf16 on disk: the loader must give exactly the truncated values as float32
      await writeFile(
        join(out, file),
        rawSafetensors(
          group.map((n) => ({
            name: n,
            dtype: 'BF16' as const,
            shape: weights.get(n)!.shape,
            data: Array.from(weights.get(n)!.data, bf16Bits),
          })),
        ),
      );
      for (const n of group) weightMap[n] = file;
    }
    await writeFile(
      join(out, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const loaded = await loadHfModel(out);
    const back = await loaded.readWeights();
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (const [n, t] of weights) {
      const expected = Array.from(t.data, (x) => {
        f[0] = x;
        u[0] = u[0]! & 0xffff0000;
        return f[0]!;
      });
      expect(Array.from(back.get(n)!.data), n).toEqual(expected);
    }
    policy.dispose();
    loaded.dispose();
  });

  it('fails clearly: unsupported model_type, missing shard, tensor missing from a shard, wrong shape', async () => {
    const policy = await randomPolicy(LLAMA, 2);
    const base = join(dir, 'errors');
    await policy.save(base);
    const cfgPath = join(base, 'config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));

    await writeFile(cfgPath, JSON.stringify({ ...cfg, model_type: 'mistral' }));
    await expect(loadHfModel(base)).rejects.toMatchObject({
      code: 'CHECKPOINT',
      message: expect.stringMatching(
        /model_type 'mistral' is not supported; supported model types: gpt2, llama, qwen2/,
      ),
    });
    await writeFile(cfgPath, JSON.stringify({ ...cfg, rope_scaling: { rope_type: 'yarn', factor: 4 } }));
    await expect(loadHfModel(base)).rejects.toThrow(
      /rope_scaling of type 'yarn' is not supported \(supported: default \(none\), linear, llama3\)/,
    );
    await writeFile(cfgPath, JSON.stringify({ ...cfg, rope_scaling: { type: 'dynamic', factor: 2 } }));
    await expect(loadHfModel(base)).rejects.toThrow(/rope_scaling of type 'dynamic' is not supported/);
    await writeFile(
      cfgPath,
      JSON.stringify({ ...cfg, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1 } }),
    );
    await expect(loadHfModel(base)).rejects.toThrow(
      /rope_scaling\.high_freq_factor must be a positive number, got undefined; rope_scaling\.original_max_position_embeddings must be/,
    );
    await writeFile(cfgPath, JSON.stringify({ ...cfg, rope_scaling: { type: 'linear', factor: 0 } }));
    await expect(loadHfModel(base)).rejects.toThrow(/rope_scaling\.factor must be a positive number, got 0/);
    await writeFile(cfgPath, JSON.stringify(cfg));

    const file = join(base, 'model.safetensors');
    const good = (await readSafeTensors(file)).tensors;
    const wrong = new Map(good);
    wrong.set('model.layers.1.self_attn.k_proj.weight', { shape: [32, 32], data: new Float32Array(32 * 32) });
    await writeSafeTensors(file, wrong);
    await expect(loadHfModel(base)).rejects.toMatchObject({
      code: 'CHECKPOINT',
      message: expect.stringMatching(
        /'model\.layers\.1\.self_attn\.k_proj\.weight' has shape \[32,32\], expected \[16,32\]/,
      ),
      details: expect.objectContaining({ expected: [16, 32], found: [32, 32] }),
    });

    await unlink(file);
    const names = [...good.keys()];
    const first = new Map<string, SafeTensor>(names.slice(0, 5).map((n) => [n, good.get(n)!]));
    await writeSafeTensors(join(base, 'model-00001-of-00002.safetensors'), first);
    const weightMap = Object.fromEntries(
      names.map((n, i) => [
        n,
        i < 5 ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors',
      ]),
    );
    await writeFile(join(base, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    await expect(loadHfModel(base)).rejects.toMatchObject({
      code: 'CHECKPOINT',
      message: expect.stringMatching(
        new RegExp(
          `shard 'model-00002-of-00002\\.safetensors' is missing \\(it holds tensor '${names[5]!.replace(/\./g, '\\.')}'`,
        ),
      ),
      details: expect.objectContaining({ file: 'model-00002-of-00002.safetensors', tensor: names[5] }),
    });
    // a shard that exists but lacks a tensor the index puts in it
    await writeSafeTensors(
      join(base, 'model-00002-of-00002.safetensors'),
      new Map(names.slice(5, -1).map((n) => [n, good.get(n)!])),
    );
    await expect(loadHfModel(base)).rejects.toThrow(
      new RegExp(
        `tensor '${names.at(-1)!.replace(/\./g, '\\.')}' is listed in .* but not in shard 'model-00002-of-00002\\.safetensors'`,
      ),
    );
    await mkdir(join(base, 'empty'), { recursive: true });
    await writeFile(join(base, 'empty', 'config.json'), JSON.stringify(cfg));
    await expect(loadHfModel(join(base, 'empty'))).rejects.toThrow(
      /neither model\.safetensors nor model\.safetensors\.index\.json/,
    );
    policy.dispose();
  });

  it('rejects invalid Llama configs naming the field', async () => {
    await expect(createPolicy({ config: { ...LLAMA, nKvHead: 3 }, tokenizer, seed: 1 })).rejects.toThrow(
      /nKvHead: nHead must be a multiple of nKvHead/,
    );
    await expect(
      createPolicy({
        config: { ...LLAMA, modelType: 'qwen2' as const, attentionBias: false },
        tokenizer,
        seed: 1,
      }),
    ).rejects.toThrow(/attentionBias: qwen2 always has q\/k\/v biases/);
  });
});
