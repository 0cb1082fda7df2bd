import type * as tf from '@tensorflow/tfjs-core';

/*
 * The part of `@stepcoder/model`'s Policy the trainer uses, written structurally so that the
 * trainer depends on the contract, not on the class: any object with these members trains.
 */

export interface PolicyTokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

export interface PolicyGenerateOptions {
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  stop?: string[];
  seed: number;
  useCache?: boolean;
}

export interface PolicyGeneration {
  promptIds: number[];
  tokenIds: number[];
  logprobs: number[];
  text: string;
  tokenSpans: Array<[number, number]>;
  finishReason: 'eos' | 'stop' | 'length';
}

export interface TrainablePolicy {
  readonly config: { readonly vocabSize: number; readonly nPositions: number };
  readonly tokenizer: PolicyTokenizer;
  generate(prompts: string[], options: PolicyGenerateOptions): Promise<PolicyGeneration[]>;
  apply(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): { logits: tf.Tensor3D; values: tf.Tensor2D };
  scoreTokens(
    inputIds: number[][],
    attentionMask: number[][],
  ): Promise<{ logprobs: Float32Array[]; entropies: Float32Array[]; values: Float32Array[] }>;
  trainableVariables(): tf.Variable[];
  referenceCopy(): Promise<TrainablePolicy>;
  getWeights(): Map<string, tf.Tensor>;
  setWeights(weights: Map<string, tf.Tensor>): void;
  /** Write a folder the model package can load back (`loadPolicy`); optional. */
  save?(dir: string): Promise<void>;
  dispose(): void;
}
