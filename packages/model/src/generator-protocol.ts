import type { BackendName } from './backend.js';
import type { ModelConfig } from './family.js';
import type { LoraOptions } from './lora.js';
import type { GenerateOptions, Generation } from './policy.js';
import type { SafeTensor } from './safetensors.js';
import type { SerializedTokenizer } from './tokenizer-transfer.js';

/*
 * Messages between `createGeneratorWorker` (caller thread) and `generator-worker-entry` (the
 * worker thread). Internal: the two files are always of the same build.
 */

/** Weights on the wire: parallel arrays, so the Float32Arrays' buffers can be transferred. */
export interface WireWeights {
  names: string[];
  shapes: number[][];
  data: Float32Array[];
}

export interface WorkerInit {
  config: ModelConfig;
  tokenizer: SerializedTokenizer;
  /** Every parameter; with `lora`, the base's (adapters not folded in). */
  weights: WireWeights;
  backend?: BackendName;
  /**
   * Build a LoRA policy: `applyLora(policy, options)` on the policy of `weights` (dropout off:
   * the worker only generates), then `adapters` (trainable state by `getWeights` names, partial).
   */
  lora?: { options: LoraOptions; adapters?: WireWeights };
}

export type Request =
  | { id: number; type: 'generate'; prompts: string[]; options: GenerateOptions }
  | { id: number; type: 'setWeights'; weights: WireWeights; partial: boolean };

export interface WireError {
  name: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
  stack?: string;
}

export type Reply =
  | { type: 'ready'; backend: string }
  | { type: 'init-error'; error: WireError }
  | { type: 'result'; id: number; ok: true; result: Generation[] | null; durationMs: number }
  | { type: 'result'; id: number; ok: false; error: WireError };

export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & { code?: unknown; details?: unknown };
  let details: Record<string, unknown> | undefined;
  if (e.details && typeof e.details === 'object') {
    try {
      details = structuredClone(e.details) as Record<string, unknown>;
    } catch {
      try {
        details = JSON.parse(JSON.stringify(e.details));
      } catch {
        details = undefined;
      }
    }
  }
  return {
    name: e.name,
    message: e.message,
    code: typeof e.code === 'string' ? e.code : undefined,
    details,
    stack: e.stack,
  };
}

export function toWireWeights(weights: Map<string, SafeTensor>): WireWeights {
  const out: WireWeights = { names: [], shapes: [], data: [] };
  for (const [name, t] of weights) {
    out.names.push(name);
    out.shapes.push([...t.shape]);
    out.data.push(t.data);
  }
  return out;
}

export function fromWireWeights(wire: WireWeights): Map<string, SafeTensor> {
  return new Map(wire.names.map((name, i) => [name, { shape: wire.shapes[i]!, data: wire.data[i]! }]));
}
