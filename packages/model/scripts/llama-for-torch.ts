/*
 * The TypeScript side of scripts/verify-llama-torch.py: loads the Hugging Face directory the
 * Python script wrote (loadHfModel: config.json, safetensors, tokenizer.json,
 * generation_config.json), runs the left-padded batch of `inputs.safetensors` through
 * `policy.apply`, generates greedily with the KV cache (and without, as a cross-check) from the
 * prompts of `prompts.json`, writes the results to `ours.safetensors` / `ours.json`, and saves the
 * policy back (saveHfModel) to `<dir>/resaved` for the Python side to read.
 * Usage: tsx scripts/llama-for-torch.ts <dir> [cpu|wasm|wasm-native]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadHfModel, readSafeTensors, saveHfModel, writeSafeTensors } from '../src/index.js';

const [dir, backend = 'cpu'] = process.argv.slice(2);
if (!dir) throw new Error('usage: tsx scripts/llama-for-torch.ts <dir> [cpu|wasm|wasm-native]');
const info = await initBackend(
  backend === 'wasm-native'
    ? { prefer: 'wasm', native: true, log: false }
    : { prefer: backend as 'cpu' | 'wasm', native: false, log: false },
);
const policy = await loadHfModel(dir);
const { tensors } = await readSafeTensors(join(dir, 'inputs.safetensors'));
const idsT = tensors.get('input_ids')!;
const maskT = tensors.get('attention_mask')!;
const [b, t] = idsT.shape as [number, number];
const { logits, values } = policy.apply(
  tf.tensor2d(Int32Array.from(idsT.data), [b, t], 'int32'),
  tf.tensor2d(maskT.data, [b, t]),
);
await writeSafeTensors(
  join(dir, 'ours.safetensors'),
  new Map([
    ['logits', { shape: logits.shape, data: (await logits.data()) as Float32Array }],
    ['values', { shape: values.shape, data: (await values.data()) as Float32Array }],
  ]),
);
const { prompts, maxNewTokens } = JSON.parse(await readFile(join(dir, 'prompts.json'), 'utf8')) as {
  prompts: string[];
  maxNewTokens: number;
};
const opts = { maxNewTokens, temperature: 0, seed: 0, ignoreEos: true };
const cached = await policy.generate(prompts, opts);
const uncached = await policy.generate(prompts, { ...opts, useCache: false });
await writeFile(
  join(dir, 'ours.json'),
  JSON.stringify({
    backend: info.describe(),
    promptIds: cached.map((g) => g.promptIds),
    tokenIds: cached.map((g) => g.tokenIds),
    logprobs: cached.map((g) => g.logprobs),
    uncachedTokenIds: uncached.map((g) => g.tokenIds),
    eosTokenId: policy.tokenizer.eosTokenId,
    config: policy.config,
  }),
);
await saveHfModel(policy, join(dir, 'resaved'));
policy.dispose();
