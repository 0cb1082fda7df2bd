import type { Rng } from '@stepcoder/core';
import type * as tf from '@tensorflow/tfjs-core';
import { type GPT2Config, type ResolvedGPT2Config, resolveConfig, toHfConfig } from './config.js';
import { type ForwardInput, type ForwardOutput, gpt2Forward, lmHead, type ParamLookup } from './forward.js';
import {
  isLlamaConfig,
  type LlamaConfig,
  llamaForward,
  llamaInitialWeight,
  llamaLmHead,
  llamaParameterShapes,
  type ResolvedLlamaConfig,
  resolveLlamaConfig,
  toHfLlamaConfig,
} from './llama.js';
import { initialWeight, parameterShapes } from './weights.js';

/** Any decoder this package builds: GPT-2 (the default, no `family`) or `family: 'llama'`. */
export type ModelConfig = GPT2Config | LlamaConfig;
export type ResolvedModelConfig = ResolvedGPT2Config | ResolvedLlamaConfig;

/** What the Policy needs from a model family. */
export interface ModelFamily {
  name: 'gpt2' | 'llama';
  hiddenSize: number;
  parameterShapes(): Map<string, number[]>;
  initialWeight(name: string, shape: number[], rng: Rng): Float32Array;
  forward(p: ParamLookup, input: ForwardInput): ForwardOutput;
  /** `frozen`: the head's weights get no gradient (LoRA); an optimisation, same values. */
  lmHead(p: ParamLookup, hidden: tf.Tensor, frozen?: boolean): tf.Tensor;
  /** config.json for Hugging Face transformers. */
  toHfConfig(extra: Record<string, unknown>): Record<string, unknown>;
  /** Ids that end generation besides the tokenizer's EOS. */
  extraEosTokenIds: number[];
}

export function resolveModelConfig(config: ModelConfig, where?: string): ResolvedModelConfig {
  return isLlamaConfig(config)
    ? resolveLlamaConfig(config as LlamaConfig, where ?? 'LlamaConfig')
    : resolveConfig(config as GPT2Config, where ?? 'GPT2Config');
}

export function modelFamily(config: ResolvedModelConfig): ModelFamily {
  if (isLlamaConfig(config)) {
    const c = config as ResolvedLlamaConfig;
    return {
      name: 'llama',
      hiddenSize: c.hiddenSize,
      parameterShapes: () => llamaParameterShapes(c),
      initialWeight: (name, shape, rng) => llamaInitialWeight(name, shape, rng),
      forward: (p, input) => llamaForward(c, p, input),
      lmHead: (p, hidden, frozen) => llamaLmHead(c, p, hidden, frozen),
      toHfConfig: (extra) => toHfLlamaConfig(c, extra),
      extraEosTokenIds: c.eosTokenIds,
    };
  }
  const c = config as ResolvedGPT2Config;
  return {
    name: 'gpt2',
    hiddenSize: c.nEmbd,
    parameterShapes: () => parameterShapes(c),
    initialWeight: (name, shape, rng) => initialWeight(name, shape, c, rng),
    forward: (p, input) => gpt2Forward(c, p, input),
    lmHead: (p, hidden, frozen) => lmHead(p, hidden, frozen),
    toHfConfig: (extra) => toHfConfig(c, extra),
    extraEosTokenIds: [],
  };
}
