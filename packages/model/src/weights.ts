import type { Rng } from '@stepcoder/core';
import type { ResolvedGPT2Config } from './config.js';

/** Shape of every parameter, keyed by its Hugging Face GPT-2 name (Conv1D weights are [in, out]). */
export function parameterShapes(config: ResolvedGPT2Config): Map<string, number[]> {
  const d = config.nEmbd;
  const shapes = new Map<string, number[]>();
  shapes.set('transformer.wte.weight', [config.vocabSize, d]);
  shapes.set('transformer.wpe.weight', [config.nPositions, d]);
  for (let l = 0; l < config.nLayer; l++) {
    const p = `transformer.h.${l}`;
    shapes.set(`${p}.ln_1.weight`, [d]);
    shapes.set(`${p}.ln_1.bias`, [d]);
    shapes.set(`${p}.attn.c_attn.weight`, [d, 3 * d]);
    shapes.set(`${p}.attn.c_attn.bias`, [3 * d]);
    shapes.set(`${p}.attn.c_proj.weight`, [d, d]);
    shapes.set(`${p}.attn.c_proj.bias`, [d]);
    shapes.set(`${p}.ln_2.weight`, [d]);
    shapes.set(`${p}.ln_2.bias`, [d]);
    shapes.set(`${p}.mlp.c_fc.weight`, [d, 4 * d]);
    shapes.set(`${p}.mlp.c_fc.bias`, [4 * d]);
    shapes.set(`${p}.mlp.c_proj.weight`, [4 * d, d]);
    shapes.set(`${p}.mlp.c_proj.bias`, [d]);
  }
  shapes.set('transformer.ln_f.weight', [d]);
  shapes.set('transformer.ln_f.bias', [d]);
  // TRL's AutoModelForCausalLMWithValueHead layout: nn.Linear(n_embd, 1), weight [out, in].
  shapes.set('v_head.summary.weight', [1, d]);
  shapes.set('v_head.summary.bias', [1]);
  return shapes;
}

export const VALUE_HEAD_NAMES = ['v_head.summary.weight', 'v_head.summary.bias'] as const;

/**
 * GPT-2's initialisation (N(0, 0.02), residual projections scaled by 1/sqrt(2·n_layer), zero
 * biases, unit LayerNorm gains), drawn from the seeded core Rng so that the same seed gives the
 * same weights on every backend.
 */
export function initialWeight(
  name: string,
  shape: number[],
  config: ResolvedGPT2Config,
  rng: Rng,
): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  if (/ln_(1|2|f)\.weight$/.test(name)) return out.fill(1);
  if (name.endsWith('.bias')) return out;
  const std = /c_proj\.weight$/.test(name) ? 0.02 / Math.sqrt(2 * config.nLayer) : 0.02;
  const stream = rng.split(name);
  for (let i = 0; i < size; i++) out[i] = stream.normal() * std;
  return out;
}
