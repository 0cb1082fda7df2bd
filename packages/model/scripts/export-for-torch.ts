/*
 * Writes a randomly initialised GPT-2 checkpoint (every parameter perturbed, so that LayerNorm
 * gains, biases and the value head are all exercised), a left-padded batch of random inputs and
 * the logits and values our tfjs decoder computes for it, for scripts/verify-torch.py.
 * Usage: tsx scripts/export-for-torch.ts <out-dir> [tiny|mini] [cpu|wasm]
 */
import { join } from 'node:path';
import { Rng } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  createByteTokenizer,
  createPolicy,
  GPT2_MINI,
  GPT2_TINY,
  initBackend,
  writeSafeTensors,
} from '../src/index.js';

const [out = 'verify-torch-out', size = 'tiny', backend = 'cpu'] = process.argv.slice(2);
// 'wasm' is tfjs's own kernels; 'wasm-native' the same backend with @stepcoder/native-kernels.
await initBackend(
  backend === 'wasm-native'
    ? { prefer: 'wasm', native: true }
    : { prefer: backend as 'cpu' | 'wasm', native: false },
);
const config = size === 'mini' ? GPT2_MINI : GPT2_TINY;
const policy = await createPolicy({ config, tokenizer: createByteTokenizer(), seed: 2024 });
const rng = new Rng(7);
const perturbed = new Map<string, tf.Tensor>();
for (const [name, w] of policy.getWeights()) {
  const noise = Float32Array.from({ length: w.size }, () => rng.normal() * 0.05);
  perturbed.set(name, tf.add(w, tf.tensor(noise, w.shape)));
  w.dispose();
}
policy.setWeights(perturbed);
tf.dispose([...perturbed.values()]);

const batch = 3;
const length = 24;
const pads = [0, 5, 11];
const ids: number[][] = [];
const mask: number[][] = [];
for (let b = 0; b < batch; b++) {
  ids.push(Array.from({ length }, (_, t) => (t < pads[b]! ? 257 : rng.int(256))));
  mask.push(Array.from({ length }, (_, t) => (t < pads[b]! ? 0 : 1)));
}
const { logits, values } = policy.apply(
  tf.tensor2d(ids, [batch, length], 'int32'),
  tf.tensor2d(mask, [batch, length]),
);
await policy.save(out);
await writeSafeTensors(
  join(out, 'inputs.safetensors'),
  new Map([
    ['input_ids', { shape: [batch, length], data: Float32Array.from(ids.flat()) }],
    ['attention_mask', { shape: [batch, length], data: Float32Array.from(mask.flat()) }],
    ['logits', { shape: logits.shape, data: (await logits.data()) as Float32Array }],
    ['values', { shape: values.shape, data: (await values.data()) as Float32Array }],
  ]),
);
console.log(`exported ${size} GPT-2 (${backend}) and inputs to ${out}`);
