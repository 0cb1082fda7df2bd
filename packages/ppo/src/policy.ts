import { withBos } from '@stepcoder/core';
import type { GenerateOptions, Generation } from '@stepcoder/model';
import type * as tf from '@tensorflow/tfjs-core';

/*
 * The part of `@stepcoder/model`'s Policy the trainer uses, written structurally so that the
 * trainer depends on the contract, not on the class: any object with these members trains.
 */

export interface PolicyTokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  /** Put in front of every prompt the policy sees (see the model package's Tokenizer). */
  readonly bosTokenId?: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** The ids of `text` as a prompt: the tokenizer's BOS, when it has one, in front. */
export function promptIdsOf(tokenizer: PolicyTokenizer, text: string): number[] {
  return withBos(tokenizer, tokenizer.encode(text));
}

/** Generation options and results are the model package's own types, not copies of them. */
export type PolicyGenerateOptions = GenerateOptions;
export type PolicyGeneration = Generation;

export interface TrainablePolicy {
  readonly config: { readonly vocabSize: number; readonly nPositions: number };
  readonly tokenizer: PolicyTokenizer;
  generate(prompts: string[], options: PolicyGenerateOptions): Promise<PolicyGeneration[]>;
  apply(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): { logits: tf.Tensor3D; values: tf.Tensor2D };
  /** `temperature` scales the logits (logits / T) before the log-softmax; default 1. */
  scoreTokens(
    inputIds: number[][],
    attentionMask: number[][],
    options?: { temperature?: number },
  ): Promise<{ logprobs: Float32Array[]; entropies: Float32Array[]; values: Float32Array[] }>;
  trainableVariables(): tf.Variable[];
  referenceCopy(): Promise<TrainablePolicy>;
  getWeights(): Map<string, tf.Tensor>;
  setWeights(weights: Map<string, tf.Tensor>): void;
  /** Write a folder the model package can load back (`loadPolicy`); optional. */
  save?(dir: string): Promise<void>;
  /**
   * Optional: state outside the weights that an exact resume needs (a LoRA policy's dropout-mask
   * counter), JSON-serialisable; the trainer stores it in its checkpoint and hands it back to
   * `restoreState` on resume.
   */
  checkpointState?(): Record<string, unknown>;
  /**
   * Optional: true when `referenceCopy()` is these same frozen weights with the trainable part
   * switched off (LoRA: the base without its adapters), so it never changes while training and a
   * checkpoint need not store it (for a 7B base that is 28 GB per checkpoint saved).
   */
  readonly referenceIsFrozenBase?: boolean;
  restoreState?(state: Record<string, unknown>): void;
  dispose(): void;
}

/**
 * Generation somewhere other than the trainer's thread, with weights pushed to it: a
 * `@stepcoder/model` `GeneratorWorker` (`createGeneratorWorker.fromPolicy(policy)`) or any object
 * with these members. `generate` must behave as `TrainablePolicy.generate` would with the weights
 * last given to `setWeights`, and calls must take effect in the order they are made (a
 * `setWeights` made while a `generate` runs applies after it).
 */
export interface PolicyGenerator {
  generate(prompts: string[], options: PolicyGenerateOptions): Promise<PolicyGeneration[]>;
  /**
   * Optional: `generate` plus the time the generator itself spent on the call, which the trainer
   * reports as `generate_ms` (the request-to-result time also counts waiting for the trainer's
   * thread to take the result, e.g. while it runs an update).
   */
  generateTimed?(
    prompts: string[],
    options: PolicyGenerateOptions,
  ): Promise<{ generations: PolicyGeneration[]; durationMs: number }>;
  /** Every parameter by HF name; the trainer hands over fresh arrays (they may be transferred). */
  setWeights(weights: Map<string, { shape: number[]; data: Float32Array }>): Promise<void>;
  dispose?(): unknown;
}
