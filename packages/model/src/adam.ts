import * as tf from '@tensorflow/tfjs-core';
import { activeNativeKernels, heapOffset, type WasmBackendInternals, wasmInternals } from './native.js';

/*
 * tfjs's Adam runs ~10 elementwise kernels per variable per step (each reading and writing the
 * whole tensor, plus an allocation and a free); on GPT2_MINI that is ~760 kernels and a fifth of
 * the step on wasm. With the native kernels active this class does the same arithmetic in one
 * native pass per variable, in place in the wasm heap. Everything else — state layout,
 * getWeights/setWeights, the β-power accumulators, serialisation — is tfjs's AdamOptimizer, so
 * checkpoints move freely between the two paths.
 */

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  incrementIterations(): void;
}

/** Give `v` its own buffer when another tensor shares it, so an in-place write touches only `v`. */
function ownData(backend: WasmBackendInternals, v: tf.Variable): void {
  const entry = backend.dataIdMap.get(v.dataId as object);
  if (entry && entry.refCount > 1) tf.tidy(() => v.assign(tf.mul(v, 1)));
}

export class NativeAdamOptimizer extends tf.AdamOptimizer {
  /** Adam steps taken natively and with tfjs's kernels (for tests and benchmarks). */
  readonly path = { native: 0, tfjs: 0 };

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const native = activeNativeKernels();
    const self = this as unknown as AdamInternals;
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    /** Variable i, its moments (created at zero on first use) and gradient; undefined when none. */
    const slot = (name: string, i: number) => {
      const value = tf.engine().registeredVariables[name]!;
      if (self.accumulatedFirstMoment[i] == null) {
        self.accumulatedFirstMoment[i] = {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      if (self.accumulatedSecondMoment[i] == null) {
        self.accumulatedSecondMoment[i] = {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      const gradient: tf.Tensor | undefined = Array.isArray(variableGradients)
        ? variableGradients[i]!.tensor
        : variableGradients[name];
      if (gradient == null) return undefined;
      const m = self.accumulatedFirstMoment[i]!.variable;
      const v = self.accumulatedSecondMoment[i]!.variable;
      return { value, m, v, gradient };
    };
    if (!native || tf.getBackend() !== 'wasm') {
      this.path.tfjs++;
      // tfjs's AdamOptimizer.applyGradients, op for op, but one tidy per variable: tfjs's own
      // holds every variable's temporaries (~6 full-size tensors each) until all are updated,
      // which was 625 MiB of a LLAMA_MINI full fine-tuning step's peak without native kernels.
      const oneMinusAcc1 = tf.sub(1, self.accBeta1);
      const oneMinusAcc2 = tf.sub(1, self.accBeta2);
      names.forEach((name, i) => {
        const s = slot(name, i);
        if (!s) return;
        tf.tidy(() => {
          const m1 = tf.add(tf.mul(s.m, self.beta1), tf.mul(s.gradient, 1 - self.beta1));
          const m2 = tf.add(tf.mul(s.v, self.beta2), tf.mul(tf.square(s.gradient), 1 - self.beta2));
          const c1 = tf.div(m1, oneMinusAcc1);
          const c2 = tf.div(m2, oneMinusAcc2);
          s.m.assign(m1);
          s.v.assign(m2);
          s.value.assign(
            tf.add(tf.mul(tf.div(c1, tf.add(tf.sqrt(c2), self.epsilon)), -self.learningRate), s.value),
          );
        });
      });
      tf.dispose([oneMinusAcc1, oneMinusAcc2]);
      tf.tidy(() => {
        self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
        self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
      });
      self.incrementIterations();
      return;
    }
    this.path.native++;
    const backend = wasmInternals(tf.backend());
    const acc1 = self.accBeta1.dataSync()[0]!;
    const acc2 = self.accBeta2.dataSync()[0]!;
    names.forEach((name, i) => {
      const s = slot(name, i);
      if (!s) return;
      const { value, m, v, gradient } = s;
      for (const t of [value, m, v]) ownData(backend, t);
      const g = gradient.dtype === 'float32' ? gradient : tf.cast(gradient, 'float32');
      native.adam(
        backend.wasm.HEAPU8.buffer as ArrayBuffer,
        value.size,
        heapOffset(backend, value),
        heapOffset(backend, g),
        heapOffset(backend, m),
        heapOffset(backend, v),
        self.learningRate,
        self.beta1,
        self.beta2,
        self.epsilon,
        acc1,
        acc2,
      );
      if (g !== gradient) g.dispose();
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }
}

/**
 * Adam with tfjs's semantics and state; one native pass per variable when the native kernels are
 * active on wasm, tfjs's kernels otherwise. `epsilon` defaults to 1e-8 (not the backend's).
 */
export function createAdamOptimizer(
  learningRate: number,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon = 1e-8,
): NativeAdamOptimizer {
  return new NativeAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
