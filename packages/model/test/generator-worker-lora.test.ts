import { StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyLora,
  createByteTokenizer,
  createGeneratorWorker,
  createPolicy,
  type GenerateOptions,
  type Generation,
  type GeneratorWorker,
  initBackend,
  type LoraOptions,
  type LoraPolicy,
  type ModelConfig,
  type Policy,
  type SafeTensor,
} from '../src/base.js';
import { LLAMA, TEST_CONFIG } from './helpers.js';

/*
 * A generator worker for a LoRA policy (real worker threads with their own wasm backend, real
 * tensors): it holds the unmerged base plus the same adapters, generates what the LoRA policy
 * generates in-process, and follows adapter-only pushes (`getWeights()`: adapters + value head).
 */

const PROMPTS = ['def f(xs):\n', 'x = 1\nprint(', '', '# sum of squares\ndef g(n):\n    '];
const GREEDY: GenerateOptions = { maxNewTokens: 12, temperature: 0, seed: 1 };
const SAMPLED: GenerateOptions = { maxNewTokens: 12, temperature: 0.9, topP: 0.95, seed: 11 };

/** Attach the handler at once (an unhandled rejection crashes the wasm backend's process). */
function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** Token-for-token equal; log-probs within 1e-5. */
function expectSameGenerations(actual: Generation[], expected: Generation[]): void {
  const strip = (gs: Generation[]) => gs.map(({ logprobs: _, ...rest }) => rest);
  expect(strip(actual)).toEqual(strip(expected));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!.logprobs;
    const e = expected[i]!.logprobs;
    expect(a).toHaveLength(e.length);
    for (let j = 0; j < e.length; j++) expect(Math.abs(a[j]! - e[j]!), `${i}/${j}`).toBeLessThan(1e-5);
  }
}

async function expectWorkerEqualsPolicy(worker: GeneratorWorker, policy: Policy): Promise<void> {
  for (const options of [GREEDY, SAMPLED])
    expectSameGenerations(await worker.generate(PROMPTS, options), await policy.generate(PROMPTS, options));
}

/** Random values (seeded) for every `which` adapter of `lora`, set in-process. */
function randomiseAdapters(lora: LoraPolicy, seed: number, which: Array<'A' | 'B'>, std = 0.5): void {
  const weights = new Map<string, tf.Tensor>();
  const current = lora.getWeights();
  try {
    let k = 0;
    for (const [name, t] of current) {
      const m = /\.lora_([AB])\.weight$/.exec(name);
      if (m && which.includes(m[1] as 'A' | 'B'))
        weights.set(name, tf.randomNormal(t.shape, 0, std, 'float32', seed * 1000 + k++));
    }
    lora.setWeights(weights, { partial: true });
  } finally {
    tf.dispose([...current.values(), ...weights.values()]);
  }
}

/** What the trainer pushes: `getWeights()` copied into Float32Arrays. */
function snapshot(policy: Policy): Map<string, SafeTensor> {
  const tensors = policy.getWeights();
  try {
    return new Map(
      [...tensors].map(([n, t]) => [n, { shape: [...t.shape], data: new Float32Array(t.dataSync()) }]),
    );
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

const bytes = (weights: Map<string, SafeTensor>) =>
  [...weights.values()].reduce((sum, t) => sum + t.data.byteLength, 0);

async function loraPolicy(config: ModelConfig, options: LoraOptions, seed: number): Promise<LoraPolicy> {
  const base = await createPolicy({ config, tokenizer: createByteTokenizer(), seed });
  const lora = applyLora(base, options);
  randomiseAdapters(lora, seed, ['B']);
  return lora;
}

const CASES: Array<{ name: string; config: ModelConfig; options: LoraOptions }> = [
  {
    name: 'micro Llama (q/v/down_proj, rsLoRA, dropout in training)',
    config: LLAMA,
    options: {
      rank: 4,
      alpha: 8,
      targetModules: ['q_proj', 'v_proj', 'down_proj'],
      useRslora: true,
      dropout: 0.1,
      seed: 3,
    },
  },
  {
    name: 'micro GPT-2 (Conv1D fan-in-fan-out, modules by regular expression)',
    config: TEST_CONFIG,
    options: {
      rank: 4,
      alpha: 16,
      targetModules: 'transformer\\.h\\.\\d+\\.(attn\\.c_attn|mlp\\.c_fc)',
      seed: 4,
    },
  },
];

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', log: false });
});

describe.each(CASES)('generator worker for a LoRA policy: $name', ({ config, options }) => {
  let lora: LoraPolicy;
  let worker: GeneratorWorker;

  beforeAll(async () => {
    lora = await loraPolicy(config, options, 7);
    worker = await createGeneratorWorker.fromPolicy(lora);
  });

  afterAll(async () => {
    await worker?.dispose();
    lora?.dispose();
  });

  it('generates what the LoRA policy generates in-process (greedy and seeded sampling)', async () => {
    expect(worker.lora).toBe(true);
    expect(worker.backend).toMatch(/^wasm/);
    await expectWorkerEqualsPolicy(worker, lora);
    // the adapters matter: the base alone generates something else
    const base = await lora.withAdaptersDisabled(() => lora.generate(PROMPTS, GREEDY));
    expect(base.map((g) => g.tokenIds)).not.toEqual(
      (await lora.generate(PROMPTS, GREEDY)).map((g) => g.tokenIds),
    );
  });

  it('follows adapter-only pushes of getWeights(), which hold no base weight', async () => {
    const before = (await lora.generate(PROMPTS, GREEDY)).map((g) => g.tokenIds);
    randomiseAdapters(lora, 21, ['A', 'B']);
    const pushed = snapshot(lora);
    const baseNames = new Set((await lora.readBaseWeights()).keys());
    const names = [...pushed.keys()];
    expect(names.every((n) => /\.lora_[AB]\.weight$/.test(n) || n.startsWith('v_head.summary.'))).toBe(true);
    expect(names.filter((n) => baseNames.has(n)).sort()).toEqual([
      'v_head.summary.bias',
      'v_head.summary.weight',
    ]);
    expect(bytes(pushed)).toBeLessThan(bytes(await lora.readBaseWeights()) / 4);
    await worker.setWeights(pushed);
    expect((await lora.generate(PROMPTS, GREEDY)).map((g) => g.tokenIds)).not.toEqual(before);
    await expectWorkerEqualsPolicy(worker, lora);
    // a partial push (one adapter) applies too
    const one = lora.adapterVariables()[0]!;
    const b = tf.mul(one.b, -2);
    lora.setWeights(new Map([[`base_model.model.${one.module}.lora_B.weight`, b]]), { partial: true });
    b.dispose();
    const partial = new Map([...snapshot(lora)].filter(([n]) => n.includes(`${one.module}.lora_B`)));
    expect(partial.size).toBe(1);
    await worker.setWeights(partial, { partial: true });
    await expectWorkerEqualsPolicy(worker, lora);
  });

  it('refuses full or merged weights with a typed error naming the tensor, and keeps its adapters', async () => {
    for (const weights of [await lora.readWeights(), await lora.readBaseWeights()]) {
      const { error } = await settle(worker.setWeights(weights));
      expect(StepcoderError.is(error, 'CHECKPOINT'), String(error)).toBe(true);
      const first = weights.keys().next().value!;
      expect((error as Error).message).toContain(`'${first}' is a frozen base weight of this LoRA worker`);
      expect((error as Error).message).toMatch(/getWeights\(\)/);
      expect((error as StepcoderError).details).toMatchObject({ tensor: first, thread: 'generator-worker' });
    }
    // a misshapen adapter is refused by LoraPolicy.setWeights, naming it
    const bad = snapshot(lora);
    const [name] = [...bad.keys()].filter((n) => n.endsWith('lora_A.weight'));
    bad.set(name!, { shape: [2, 2], data: new Float32Array(4) });
    const { error } = await settle(worker.setWeights(bad));
    expect(StepcoderError.is(error, 'CHECKPOINT'), String(error)).toBe(true);
    expect((error as Error).message).toContain(`'${name}' has shape [2,2]`);
    expect(worker.alive).toBe(true);
    await expectWorkerEqualsPolicy(worker, lora);
  });
});

describe('generator worker: LoRA and plain policies do not mix', () => {
  let plain: Policy;
  let lora: LoraPolicy;

  beforeAll(async () => {
    plain = await createPolicy({ config: LLAMA, tokenizer: createByteTokenizer(), seed: 5 });
    lora = await loraPolicy(LLAMA, { rank: 2, seed: 1 }, 5);
  });

  afterAll(() => {
    plain?.dispose();
    lora?.dispose();
  });

  it('a plain worker refuses adapter tensors, pointing at fromPolicy(loraPolicy)', async () => {
    const worker = await createGeneratorWorker.fromPolicy(plain);
    try {
      expect(worker.lora).toBe(false);
      const { error } = await settle(worker.setWeights(snapshot(lora)));
      expect(StepcoderError.is(error, 'CHECKPOINT'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /'base_model\.model\..*\.lora_A\.weight' is a LoRA adapter tensor/,
      );
      expect((error as Error).message).toMatch(/fromPolicy\(loraPolicy\)/);
      // the worker is unchanged and usable
      await expectWorkerEqualsPolicy(worker, plain);
    } finally {
      await worker.dispose();
    }
  });

  it('createGeneratorWorker with the lora option: the base, the options and any adapters', async () => {
    // without adapters the worker's A is applyLora's seeded init and B zero: the base model
    const bare = await createGeneratorWorker({
      config: lora.config,
      tokenizer: lora.tokenizer,
      weights: await lora.readBaseWeights(),
      lora: { options: lora.loraOptions() },
    });
    try {
      expect(bare.lora).toBe(true);
      const base = await lora.referenceCopy();
      await expectWorkerEqualsPolicy(bare, base);
      base.dispose();
      await bare.setWeights(snapshot(lora));
      await expectWorkerEqualsPolicy(bare, lora);
    } finally {
      await bare.dispose();
    }
    // adapters that do not fit the options fail the start with the worker's typed error
    const adapters = await lora.readAdapters();
    const err = await createGeneratorWorker({
      config: lora.config,
      tokenizer: lora.tokenizer,
      weights: await lora.readBaseWeights(),
      lora: { options: { ...lora.loraOptions(), rank: 3 }, adapters },
    }).catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'CHECKPOINT'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/lora_A\.weight' has shape/);
  });
});
