import { StepcoderError, validate } from '@stepcoder/core';
import { z } from 'zod';

/** Size of a GPT-2 decoder. Field names follow tfjs/TS style; `toHfConfig` maps them to HF's. */
export interface GPT2Config {
  /** Model family discriminator; absent or 'gpt2' is GPT-2 (see `LlamaConfig` for 'llama'). */
  family?: 'gpt2';
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** LayerNorm epsilon; GPT-2 uses 1e-5. */
  layerNormEpsilon?: number;
}

export const gpt2ConfigSchema = z
  .object({
    family: z.literal('gpt2').optional(),
    vocabSize: z.number().int().positive(),
    nPositions: z.number().int().positive(),
    nEmbd: z.number().int().positive(),
    nLayer: z.number().int().positive(),
    nHead: z.number().int().positive(),
    layerNormEpsilon: z.number().positive().optional(),
  })
  .strict()
  .refine((c) => c.nEmbd % c.nHead === 0, { message: 'nEmbd must be divisible by nHead', path: ['nHead'] });

/** ≈385k parameters with the byte tokenizer: tests and demos. */
export const GPT2_TINY: GPT2Config = Object.freeze({
  vocabSize: 258,
  nPositions: 256,
  nEmbd: 96,
  nLayer: 3,
  nHead: 4,
});

/** ≈10.9M parameters with the byte tokenizer: the benchmark size, trainable on a laptop CPU. */
export const GPT2_MINI: GPT2Config = Object.freeze({
  vocabSize: 258,
  nPositions: 512,
  nEmbd: 384,
  nLayer: 6,
  nHead: 6,
});

/** GPT-2 small (124M), the size of the original `gpt2` checkpoint: for GPU users. */
export const GPT2_SMALL: GPT2Config = Object.freeze({
  vocabSize: 50257,
  nPositions: 1024,
  nEmbd: 768,
  nLayer: 12,
  nHead: 12,
});

/** A GPT-2 config with every default filled in (the `family` tag is dropped). */
export type ResolvedGPT2Config = Required<Omit<GPT2Config, 'family'>> & { family?: 'gpt2' };

export function resolveConfig(config: GPT2Config, where = 'GPT2Config'): ResolvedGPT2Config {
  const { family: _family, ...c } = validate(gpt2ConfigSchema, config, where) as GPT2Config;
  return { ...c, layerNormEpsilon: c.layerNormEpsilon ?? 1e-5 };
}

/** Parameter count of the decoder (tied LM head counted once) plus the value head. */
export function countParameters(config: GPT2Config): number {
  const d = config.nEmbd;
  const perLayer = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
  return config.vocabSize * d + config.nPositions * d + config.nLayer * perLayer + 2 * d + (d + 1);
}

/** config.json as Hugging Face transformers' GPT2Config reads it. */
export function toHfConfig(config: GPT2Config, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const c = resolveConfig(config);
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.nPositions,
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: c.layerNormEpsilon,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    initializer_range: 0.02,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    ...extra,
  };
}

/** Read a Hugging Face GPT-2 config.json object; rejects variants this decoder does not implement. */
export function fromHfConfig(json: Record<string, unknown>, where: string): ResolvedGPT2Config {
  const problems: string[] = [];
  if (json.model_type !== undefined && json.model_type !== 'gpt2') {
    problems.push(`model_type is '${String(json.model_type)}', expected 'gpt2'`);
  }
  const act = json.activation_function;
  if (act !== undefined && act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
    problems.push(`activation_function '${String(act)}' is not supported (gelu_new only)`);
  }
  if (json.n_inner !== undefined && json.n_inner !== null && json.n_inner !== 4 * Number(json.n_embd)) {
    problems.push(`n_inner ${String(json.n_inner)} is not supported (4 * n_embd only)`);
  }
  if (json.scale_attn_by_inverse_layer_idx === true)
    problems.push('scale_attn_by_inverse_layer_idx is not supported');
  if (json.tie_word_embeddings === false) problems.push('untied word embeddings are not supported');
  if (problems.length > 0) {
    throw new StepcoderError('CHECKPOINT', `Unsupported GPT-2 config in ${where}: ${problems.join('; ')}`, {
      details: { where, problems },
    });
  }
  return resolveConfig(
    {
      vocabSize: Number(json.vocab_size),
      nPositions: Number(json.n_positions ?? json.n_ctx),
      nEmbd: Number(json.n_embd),
      nLayer: Number(json.n_layer),
      nHead: Number(json.n_head),
      layerNormEpsilon: json.layer_norm_epsilon === undefined ? 1e-5 : Number(json.layer_norm_epsilon),
    },
    where,
  );
}
