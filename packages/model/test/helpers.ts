import * as tf from '@tensorflow/tfjs-core';
import type { GPT2Config, LlamaConfig } from '../src/base.js';

/** Small enough that a forward + backward pass takes milliseconds on 2 slow cores. */
export const TEST_CONFIG: GPT2Config = { vocabSize: 258, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4 };

/** A 2×6 batch whose first row is left-padded (pad id 257, mask 0): ids int32 and mask float. */
/** A micro Llama: GQA 4:2, untied LM head, no biases. */
export const LLAMA: LlamaConfig = {
  family: 'llama',
  vocabSize: 258,
  nPositions: 64,
  hiddenSize: 32,
  intermediateSize: 48,
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
};

export function paddedBatch(): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const ids = tf.tensor2d(
    [
      [257, 10, 20, 30, 40, 50],
      [1, 2, 3, 4, 5, 6],
    ],
    [2, 6],
    'int32',
  );
  const mask = tf.tensor2d(
    [
      [0, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ],
    [2, 6],
  );
  return { ids, mask };
}
