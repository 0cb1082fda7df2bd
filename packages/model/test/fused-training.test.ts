import { Rng } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyLora,
  initBackend,
  type LinearAdapter,
  type LlamaConfig,
  type LoraOptions,
  type Policy,
  peftTensorName,
} from '../src/base.js';
import { LLAMA, QWEN2, randomPolicy } from './helpers.js';

/*
 * The Llama training forward runs each decoder layer as two ops with hand-written gradients
 * (llama.ts, trainingAttention / trainingMlp); the op-by-op forward (taken when the adapter has
 * no `lowRank`, and for inference) is the reference: the same gradients, far less memory held
 * for the backward pass.
 */

/** q/k/v and o_proj biases (Llama's attention_bias), no GQA. */
const LLAMA_BIAS: LlamaConfig = { ...LLAMA, attentionBias: true, nKvHead: 4 };

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', log: false });
});

type AdapterHook = { linearAdapter(training: boolean): LinearAdapter | undefined };

/** Make `policy`'s training forward op-by-op: its adapter loses `lowRank` (full fine-tuning: a no-op adapter). */
function opByOp(policy: Policy): Policy {
  const hook = policy as unknown as AdapterHook;
  const original = hook.linearAdapter.bind(policy);
  hook.linearAdapter = (training) => {
    const a = original(training);
    return a ? { frozenBase: a.frozenBase, adapt: a.adapt } : { frozenBase: false, adapt: (_m, _x, y) => y };
  };
  return policy;
}

async function make(config: LlamaConfig, lora: LoraOptions | undefined, reference: boolean): Promise<Policy> {
  let policy = await randomPolicy(config, 11);
  if (lora) {
    const adapted = applyLora(policy, { rank: 4, alpha: 8, seed: 2, ...lora });
    const rng = new Rng(4).split('B'); // non-zero B, so that dA and the adapters' dx matter
    const bs = new Map(
      adapted.adapterVariables().map(({ module, b }) => [
        peftTensorName(module, 'B'),
        tf.tensor(
          Float32Array.from({ length: b.size }, () => rng.normal() * 0.05),
          b.shape,
        ),
      ]),
    );
    adapted.setWeights(bs, { partial: true });
    tf.dispose([...bs.values()]);
    policy = adapted;
  }
  return reference ? opByOp(policy) : policy;
}

const IDS = [
  [257, 10, 20, 30, 40, 50, 60, 70],
  [1, 2, 3, 4, 5, 6, 7, 8],
];
const MASK = [
  [0, 0, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 1, 1, 1],
];

function loss(policy: Policy, masked: boolean): tf.Scalar {
  const ids = tf.tensor2d(IDS, [2, 8], 'int32');
  const { logits, values } = policy.apply(ids, masked ? tf.tensor2d(MASK, [2, 8]) : undefined);
  const target = tf.cast(tf.oneHot(ids, 258), 'float32');
  return tf.add(
    tf.neg(tf.mean(tf.mul(tf.logSoftmax(logits), target))),
    tf.mean(tf.square(values)),
  ) as tf.Scalar;
}

async function gradients(policy: Policy, masked: boolean): Promise<Map<string, Float32Array>> {
  const vars = policy.trainableVariables();
  const names = policy.variableNames();
  const { value, grads } = tf.variableGrads(() => loss(policy, masked), vars);
  const out = new Map<string, Float32Array>([['loss', (await value.data()) as Float32Array]]);
  for (const v of vars) out.set(names.get(v.name)!, (await grads[v.name]!.data()) as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

function maxRel(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return scale > 0 ? diff / scale : diff;
}

describe('fused Llama training layers', () => {
  const cases: Array<[string, LlamaConfig, LoraOptions | undefined, boolean]> = [
    ['llama, full fine-tuning, padded', LLAMA, undefined, true],
    ['llama, full fine-tuning', LLAMA, undefined, false],
    ['qwen2 (q/k/v biases, tied head, GQA 4:1), full fine-tuning', QWEN2, undefined, true],
    ['llama with attention biases, full fine-tuning', LLAMA_BIAS, undefined, true],
    ['llama, LoRA all-linear', LLAMA, { targetModules: 'all-linear' }, true],
    ['llama, LoRA all-linear with dropout', LLAMA, { targetModules: 'all-linear', dropout: 0.3 }, true],
    ['llama, LoRA on q_proj/v_proj (frozen modules without adapters)', LLAMA, {}, true],
    ['qwen2, LoRA all-linear', QWEN2, { targetModules: 'all-linear' }, true],
    [
      'llama with attention biases, LoRA on o_proj/down_proj',
      LLAMA_BIAS,
      { targetModules: ['o_proj', 'down_proj'] },
      false,
    ],
  ];
  for (const [name, config, lora, masked] of cases) {
    it(`${name}: the gradients of the op-by-op forward`, async () => {
      const fused = await make(config, lora, false);
      const reference = await make(config, lora, true);
      const before = tf.memory().numTensors;
      const got = await gradients(fused, masked);
      expect(tf.memory().numTensors).toBe(before); // nothing leaks from the fused ops
      const want = await gradients(reference, masked);
      expect([...got.keys()]).toEqual([...want.keys()]);
      // Kernel for kernel the same computation (bit-identical when written); allow float32 noise.
      for (const [param, g] of got) expect(maxRel(g, want.get(param)!), param).toBeLessThan(1e-6);
      fused.dispose();
      reference.dispose();
    });
  }

  it('hold a fraction of the memory the op-by-op tape holds during a step', async () => {
    const config: LlamaConfig = { ...LLAMA, hiddenSize: 64, intermediateSize: 160, nLayer: 3 };
    const ids = tf.tensor2d(
      Array.from({ length: 4 }, (_, r) => Array.from({ length: 32 }, (_, i) => (r * 31 + i * 7) % 256)),
      [4, 32],
      'int32',
    );
    const peak = async (policy: Policy) => {
      const vars = policy.trainableVariables();
      const start = tf.memory().numBytes;
      const info = await tf.profile(() =>
        tf.tidy(() => {
          const { grads } = tf.variableGrads(
            () => tf.mean(tf.square(policy.apply(ids).logits)) as tf.Scalar,
            vars,
          );
          return tf.add(tf.sum(grads[vars[0]!.name]!), 0);
        }),
      );
      (info.result as tf.Tensor).dispose();
      policy.dispose();
      return info.peakBytes - start;
    };
    for (const lora of [undefined, { targetModules: 'all-linear' }] as const) {
      const fused = await peak(await make(config, lora, false));
      const reference = await peak(await make(config, lora, true));
      expect(fused, lora ? 'LoRA' : 'full fine-tuning').toBeLessThan(0.5 * reference);
    }
    ids.dispose();
  });
});
