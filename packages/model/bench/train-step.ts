import * as tf from '@tensorflow/tfjs-core';
import type { Policy } from '../src/index.js';

/** One next-token cross-entropy step (forward, backward, Adam), as bench/torch_bench.py does. */
export function trainStep(policy: Policy, optimizer: tf.Optimizer, ids: tf.Tensor2D): void {
  const loss = optimizer.minimize(
    () =>
      tf.tidy(() => {
        const [b, t] = ids.shape;
        const { logits } = policy.apply(ids);
        const v = logits.shape[2];
        const logp = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [b, t - 1, v]));
        const next = tf.cast(tf.oneHot(tf.slice(ids, [0, 1], [b, t - 1]), v), 'float32');
        return tf.neg(tf.mean(tf.sum(tf.mul(logp, next), -1))) as tf.Scalar;
      }),
    true,
    policy.trainableVariables(),
  );
  loss!.dataSync();
  loss!.dispose();
}
