import {
  applyLora,
  createGeneratorWorker,
  type Generation,
  type GeneratorWorker,
  type LoraOptions,
  type LoraPolicy,
} from '@stepcoder/model';
import type * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTrainer,
  type IterationResult,
  type PolicyGenerator,
  type TrainerConfig,
} from '../src/index.js';
import { microPolicy, microTrainerConfig, ruleExecutor } from './helpers.js';

/*
 * The trainer with a LoRA policy and a real generator worker thread started from it: the worker
 * holds the base once, every push after an update is the trainable state only (adapters + value
 * head), and training is exactly what the same trainer computes generating in-process.
 */

/** Every linear layer of the GPT-2 micro model, with adapter dropout in training. */
const LORA: LoraOptions = {
  rank: 4,
  alpha: 8,
  targetModules: ['c_attn', 'c_proj', 'c_fc'],
  dropout: 0.05,
  seed: 1,
};

async function loraPolicy(): Promise<LoraPolicy> {
  return applyLora(await microPolicy(13), LORA);
}

function config(overrides: Partial<TrainerConfig>): Omit<TrainerConfig, 'policy'> {
  const base = microTrainerConfig();
  return {
    ...base,
    seed: 9,
    executor: ruleExecutor((p) => /^[a-m]/.test(p)),
    advantage: 'grpo',
    batchSize: 2,
    ppo: { ...base.ppo, minibatchSize: 8 },
    lr: 1e-2,
    ...overrides,
  };
}

/** Every metric except timings, which differ from run to run. */
function learning(results: IterationResult[]): Array<Record<string, number>> {
  return results.map((r) =>
    Object.fromEntries(Object.entries(r.metrics).filter(([name]) => !name.endsWith('_ms'))),
  );
}

async function trainable(policy: LoraPolicy): Promise<Map<string, Float32Array>> {
  const weights: Map<string, tf.Tensor> = policy.getWeights();
  const out = new Map<string, Float32Array>();
  for (const [n, t] of weights) {
    out.set(n, Float32Array.from(await t.data()));
    t.dispose();
  }
  return out;
}

function expectSameGenerations(actual: Generation[], expected: Generation[]): void {
  const strip = (gs: Generation[]) => gs.map(({ logprobs: _, ...rest }) => rest);
  expect(strip(actual)).toEqual(strip(expected));
  for (let i = 0; i < expected.length; i++)
    for (let j = 0; j < expected[i]!.logprobs.length; j++)
      expect(Math.abs(actual[i]!.logprobs[j]! - expected[i]!.logprobs[j]!)).toBeLessThan(1e-5);
}

let worker: GeneratorWorker;
let lora: LoraPolicy;

beforeAll(async () => {
  lora = await loraPolicy();
  worker = await createGeneratorWorker.fromPolicy(lora);
});

afterAll(async () => {
  await worker?.dispose();
  lora?.dispose();
});

describe('trainer with a LoRA policy and a generator worker', () => {
  it('pushes only adapters + value head, trains as in-process, and the worker follows', async () => {
    const baseNames = new Set((await lora.readBaseWeights()).keys());
    const baseBytes = [...(await lora.readBaseWeights()).values()].reduce((s, t) => s + t.data.byteLength, 0);
    const pushes: Array<{ names: string[]; bytes: number }> = [];
    const recording: PolicyGenerator = {
      generate: (prompts, options) => worker.generate(prompts, options),
      generateTimed: (prompts, options) => worker.generateTimed(prompts, options),
      setWeights: (weights) => {
        const names = [...weights.keys()];
        const bytes = [...weights.values()].reduce((s, t) => s + t.data.byteLength, 0);
        pushes.push({ names, bytes });
        return worker.setWeights(weights);
      },
    };
    const trainer = await createTrainer({ ...config({ generator: recording, overlap: true }), policy: lora });
    const viaWorker = await trainer.train(3);
    await trainer.dispose();
    expect(worker.alive).toBe(true);

    // the start push plus one per update, each the trainable state only
    expect(pushes.length).toBeGreaterThanOrEqual(3);
    for (const p of pushes) {
      expect(p.names.filter((n) => baseNames.has(n)).sort()).toEqual([
        'v_head.summary.bias',
        'v_head.summary.weight',
      ]);
      expect(p.names.every((n) => /\.lora_[AB]\.weight$/.test(n) || n.startsWith('v_head.'))).toBe(true);
      expect(p.bytes).toBeLessThan(baseBytes / 4);
    }

    // the same training generating in-process: every non-timing metric and the adapters equal
    const inProcess = await loraPolicy();
    const local = await createTrainer({ ...config({ overlap: true }), policy: inProcess });
    const localResults = await local.train(3);
    await local.dispose();
    expect(learning(viaWorker)).toEqual(learning(localResults));
    const trained = await trainable(lora);
    expect(trained).toEqual(await trainable(inProcess));
    inProcess.dispose();
    // the updates did move the adapters (B starts at zero)
    const bs = [...trained].filter(([n]) => n.endsWith('lora_B.weight'));
    expect(bs.length).toBeGreaterThan(0);
    expect(bs.every(([, b]) => b.some((v) => v !== 0))).toBe(true);

    // after training the worker holds the trained adapters: it generates what the policy does
    const prompts = ['# task 0: print a word\n', 'def f(', ''];
    for (const options of [
      { maxNewTokens: 10, temperature: 0, seed: 1 },
      { maxNewTokens: 10, temperature: 1, seed: 4 },
    ])
      expectSameGenerations(await worker.generate(prompts, options), await lora.generate(prompts, options));
  });
});
