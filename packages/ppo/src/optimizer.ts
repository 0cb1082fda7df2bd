import { StepcoderError } from '@stepcoder/core';
import { createAdamOptimizer } from '@stepcoder/model/base';
import * as tf from '@tensorflow/tfjs-core';
import { readTensorFile, writeTensorFile } from './tensor-io.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  /** Explicit, because tfjs's default is the backend's epsilon (1e-7 on cpu, 1e-4 on webgl). */
  epsilon?: number;
}

/**
 * tfjs's Adam (same state, same checkpoints); on wasm with the native kernels it applies each
 * variable's update in one native pass (`@stepcoder/model`'s `createAdamOptimizer`).
 */
export function createAdam(options: AdamOptions): tf.AdamOptimizer {
  return createAdamOptimizer(
    options.lr,
    options.beta1 ?? 0.9,
    options.beta2 ?? 0.999,
    options.epsilon ?? 1e-8,
  );
}

/**
 * tfjs keeps the rate in a protected field it reads on every `applyGradients`, so a schedule can
 * move it between steps without rebuilding the optimizer (and losing its moments).
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

export function getLearningRate(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as { learningRate: number }).learningRate;
}

/** Save an optimizer's state (iteration count + accumulators, in order) for exact resume. */
export async function saveOptimizerState(optimizer: tf.Optimizer, path: string): Promise<void> {
  const weights = await optimizer.getWeights();
  await writeTensorFile(path, weights);
}

/** Restore state saved by `saveOptimizerState` into an optimizer of the same kind and variables. */
export async function loadOptimizerState(optimizer: tf.Optimizer, path: string): Promise<void> {
  const entries = await readTensorFile(path);
  if (entries.length === 0) {
    throw new StepcoderError('CHECKPOINT', `optimizer state ${path} is empty`);
  }
  // setWeights makes variables that share the tensors' data (ref-counted), so ours can go.
  await optimizer.setWeights(entries);
  tf.dispose(entries.map((e) => e.tensor));
}
