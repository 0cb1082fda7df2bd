import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createByteTokenizer,
  createPolicy,
  decodeSafeTensors,
  encodeSafeTensors,
  initBackend,
  loadOptimizerState,
  loadPolicy,
  loadTokenizer,
  type Policy,
  readSafeTensors,
  writeSafeTensors,
} from '../src/base.js';
import { TEST_CONFIG } from './helpers.js';

const tokenizer = createByteTokenizer();
let dir: string;

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', log: false });
  dir = await mkdtemp(join(tmpdir(), 'stepcoder-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function logitsOf(policy: Policy, rows: number[][]): Promise<Float32Array> {
  const t = tf.tidy(() => {
    const { logits, values } = policy.apply(tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32'));
    return tf.concat([tf.reshape(logits, [-1]), tf.reshape(values, [-1])]);
  });
  const out = (await t.data()) as Float32Array;
  t.dispose();
  return out;
}

describe('safetensors', () => {
  it('round-trips F32 with metadata and an 8-byte aligned header', () => {
    const tensors = new Map([
      ['a', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -1e8]) }],
      ['b', { shape: [], data: Float32Array.from([42]) }],
    ]);
    const buf = encodeSafeTensors(tensors, { format: 'pt' });
    expect(Number(buf.readBigUInt64LE(0)) % 8).toBe(0);
    const back = decodeSafeTensors(buf);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors.get('a')).toEqual(tensors.get('a'));
    expect(back.tensors.get('b')!.shape).toEqual([]);
  });

  it('reads F16 and BF16 tensors written by hand', () => {
    // 1.0, -2.0, 0.5 in F16 (0x3c00, 0xc000, 0x3800) and BF16 (0x3f80, 0xc000, 0x3f00).
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      b: { dtype: 'BF16', shape: [3], data_offsets: [6, 12] },
    });
    const data = Buffer.alloc(12);
    for (const [i, v] of [0x3c00, 0xc000, 0x3800, 0x3f80, 0xc000, 0x3f00].entries())
      data.writeUInt16LE(v, i * 2);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
    const file = decodeSafeTensors(Buffer.concat([len, Buffer.from(header), data]));
    expect(Array.from(file.tensors.get('h')!.data)).toEqual([1, -2, 0.5]);
    expect(Array.from(file.tensors.get('b')!.data)).toEqual([1, -2, 0.5]);
  });

  it('rejects corrupt offsets naming the tensor', () => {
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    expect(() => decodeSafeTensors(Buffer.concat([len, Buffer.from(header), Buffer.alloc(8)]))).toThrow(
      /tensor 'w' has data_offsets/,
    );
  });
});

describe('checkpoints', () => {
  it('save → load gives identical logits, config.json is HF GPT-2', async () => {
    const policy = await createPolicy({ config: TEST_CONFIG, tokenizer, seed: 5 });
    const out = join(dir, 'ckpt');
    await policy.save(out);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64 });
    expect(config.vocab_size).toBe(258);
    const { tensors } = await readSafeTensors(join(out, 'model.safetensors'));
    expect(tensors.get('transformer.h.0.attn.c_attn.weight')!.shape).toEqual([32, 96]);
    const loaded = await loadPolicy(out);
    const rows = [
      [1, 2, 3, 4, 5],
      [9, 8, 7, 6, 5],
    ];
    expect(Array.from(await logitsOf(loaded, rows))).toEqual(Array.from(await logitsOf(policy, rows)));
    // The saved tokenizer.json is a valid HF byte-level tokenizer with the same ids.
    const hf = await loadTokenizer(join(out, 'tokenizer.json'));
    expect(hf.encode('héllo\r\n\tx')).toEqual(tokenizer.encode('héllo\r\n\tx'));
    policy.dispose();
    loaded.dispose();
  });

  it('imports a Hugging Face GPT-2 folder (unprefixed names, attn.bias buffers, lm_head, tokenizer.json)', async () => {
    const src = await createPolicy({
      config: { ...TEST_CONFIG, vocabSize: 374 },
      tokenizer: createByteTokenizer(),
      seed: 8,
    });
    const weights = await src.readWeights();
    const hfTensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of weights) {
      if (name.startsWith('v_head.')) continue; // a plain GPT2LMHeadModel has no value head
      hfTensors.set(name.replace(/^transformer\./, ''), t);
    }
    hfTensors.set('h.0.attn.bias', { shape: [1, 1, 64, 64], data: new Float32Array(64 * 64) });
    hfTensors.set('lm_head.weight', weights.get('transformer.wte.weight')!);
    const out = join(dir, 'hf');
    await writeSafeTensors(join(out, '..', 'hf-model.safetensors'), hfTensors);
    await cp(join(out, '..', 'hf-model.safetensors'), join(out, 'model.safetensors'));
    await writeFile(
      join(out, 'config.json'),
      JSON.stringify({
        model_type: 'gpt2',
        vocab_size: 374,
        n_positions: 64,
        n_embd: 32,
        n_layer: 2,
        n_head: 4,
      }),
    );
    await cp(
      fileURLToPath(new URL('./fixtures/tiny-bpe/tokenizer.json', import.meta.url)),
      join(out, 'tokenizer.json'),
    );
    const imported = await loadPolicy(out, { seed: 1 });
    expect(imported.tokenizer.vocabSize).toBe(374);
    expect(imported.tokenizer.kind).toBe('hf');
    const rows = [[300, 12, 40, 373]];
    const a = await logitsOf(imported, rows);
    const b = await logitsOf(src, rows);
    // Logits (all but the trailing values) match; the fresh value head differs.
    expect(Array.from(a.subarray(0, 4 * 374))).toEqual(Array.from(b.subarray(0, 4 * 374)));
    const [g] = await imported.generate(['def fibonacci(n):'], { maxNewTokens: 5, seed: 2 });
    expect(g!.tokenSpans).toHaveLength(g!.tokenIds.length);
    src.dispose();
    imported.dispose();
  });

  it('fails naming the tensor on a shape mismatch, a missing tensor or an unknown tensor', async () => {
    const policy = await createPolicy({ config: TEST_CONFIG, tokenizer, seed: 5 });
    const base = join(dir, 'bad');
    await policy.save(base);
    const file = join(base, 'model.safetensors');
    const good = (await readSafeTensors(file)).tensors;

    const wrongShape = new Map(good);
    wrongShape.set('transformer.h.1.mlp.c_fc.weight', { shape: [128, 32], data: new Float32Array(128 * 32) });
    await writeSafeTensors(file, wrongShape);
    await expect(loadPolicy(base)).rejects.toMatchObject({
      code: 'CHECKPOINT',
      message: expect.stringMatching(
        /'transformer\.h\.1\.mlp\.c_fc\.weight' has shape \[128,32\], expected \[32,128\]/,
      ),
    });

    const missing = new Map(good);
    missing.delete('transformer.ln_f.bias');
    await writeSafeTensors(file, missing);
    await expect(loadPolicy(base)).rejects.toThrow(/missing tensor 'transformer\.ln_f\.bias'/);

    const extra = new Map(good);
    extra.set('transformer.h.2.ln_1.weight', { shape: [32], data: new Float32Array(32) });
    await writeSafeTensors(file, extra);
    await expect(loadPolicy(base)).rejects.toThrow(/unexpected tensor 'transformer\.h\.2\.ln_1\.weight'/);

    expect(() =>
      policy.setWeights(new Map([['transformer.wpe.weight', tf.zeros([3, 3])]]), { partial: true }),
    ).toThrow(/'transformer\.wpe\.weight' has shape \[3,3\], expected \[64,32\]/);
    policy.dispose();
  });

  it('reports a folder without config.json and bad createPolicy options clearly', async () => {
    await expect(loadPolicy(join(dir, 'nowhere'))).rejects.toMatchObject({
      code: 'CHECKPOINT',
      message: expect.stringMatching(/config\.json/),
    });
    await expect(createPolicy({ config: { ...TEST_CONFIG, nHead: 5 }, tokenizer, seed: 1 })).rejects.toThrow(
      /nHead: nEmbd must be divisible by nHead/,
    );
    await expect(createPolicy({ config: TEST_CONFIG, tokenizer, seed: Number.NaN })).rejects.toThrow(/seed/);
  });

  it('saves Adam state so that training resumes exactly', async () => {
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const loss = (p: Policy) => () =>
      tf.tidy(() => {
        const { logits, values } = p.apply(ids);
        return tf.add(tf.mean(tf.square(logits)), tf.mean(values)) as tf.Scalar;
      });
    const a = await createPolicy({ config: TEST_CONFIG, tokenizer, seed: 9 });
    const optA = tf.train.adam(1e-3);
    for (let i = 0; i < 2; i++) optA.minimize(loss(a), false, a.trainableVariables());
    const out = join(dir, 'resume');
    await a.save(out, { optimizer: optA });

    const b = await loadPolicy(out);
    const optB = tf.train.adam(1e-3);
    await loadOptimizerState(b, optB, join(out, 'optimizer.safetensors'));
    expect(optB.iterations).toBe(2);
    optA.minimize(loss(a), false, a.trainableVariables());
    optB.minimize(loss(b), false, b.trainableVariables());
    const rows = [[3, 1, 4, 1, 5]];
    expect(Array.from(await logitsOf(b, rows))).toEqual(Array.from(await logitsOf(a, rows)));
    ids.dispose();
    optA.dispose();
    optB.dispose();
    a.dispose();
    b.dispose();
  });
});
