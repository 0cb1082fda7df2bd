import * as tf from '@tensorflow/tfjs-core';
import {
  applyLora,
  createAdamOptimizer,
  createByteTokenizer,
  createPolicy,
  LLAMA_MINI,
  type Policy,
} from '../src/index.js';

/*
 * Trainer peak memory, LoRA against full fine-tuning, on LLAMA_MINI: the peak of
 * tf.memory().numBytes (tf.profile's peakBytes: every tensor the backend holds, weights included)
 * during a PPO-like step, forward + backward + Adam, plus the reference the trainer keeps (a deep
 * copy for full fine-tuning, a view for LoRA). Step 1 creates Adam's moments; step 2 is the steady
 * state. Used by bench/lora-memory.ts (`bench:lora`) and bench/llama.ts (`bench:llama`).
 *
 * numBytes counts tensors, not buffers: a reshape of a tensor counts again, so the peak overstates
 * the backend's buffers somewhat (here by 3–10 MiB, 3–7% of the step's transient). The tape's saved
 * tensors are real copies on wasm (its Identity kernel copies).
 */

const MB = (n: number) => (n / 2 ** 20).toFixed(1);

function step(policy: Policy, optimizer: tf.Optimizer, ids: tf.Tensor2D, targets: tf.Tensor): void {
  const vars = policy.trainableVariables();
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => {
      const { logits, values } = policy.apply(ids);
      const lp = tf.sum(tf.mul(tf.logSoftmax(logits), targets), -1); // log π(token)
      return tf.add(tf.neg(tf.mean(lp)), tf.mul(0.5, tf.mean(tf.square(values)))) as tf.Scalar;
    }, vars);
    optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
  });
}

export interface LoraMemoryRow {
  label: string;
  /** Bytes of the base weights alone. */
  baseBytes: number;
  trainable: number;
  /** Weights, adapters, reference and batch before the first step. */
  held: number;
  /** Peak bytes of step 1 and step 2. */
  peaks: number[];
  after: number;
  /** Wall time of each step, ms. */
  times: number[];
}

async function measureOne(
  label: string,
  lora: boolean,
  batch: number,
  tokens: number,
): Promise<LoraMemoryRow> {
  const start = tf.memory().numBytes;
  let policy: Policy = await createPolicy({ config: LLAMA_MINI, tokenizer: createByteTokenizer(), seed: 1 });
  const baseBytes = tf.memory().numBytes - start;
  if (lora) policy = applyLora(policy, { rank: 8, alpha: 16, targetModules: 'all-linear' });
  const reference = await policy.referenceCopy();
  const trainable = policy.trainableVariables().reduce((n, v) => n + v.size, 0);
  const optimizer = createAdamOptimizer(1e-4, 0.9, 0.999, 1e-8);
  const ids = tf.randomUniform([batch, tokens], 0, 256, 'int32') as tf.Tensor2D;
  const targets = tf.tidy(() =>
    tf.cast(tf.oneHot(tf.randomUniform([batch, tokens], 0, 256, 'int32') as tf.Tensor2D, 258), 'float32'),
  );
  const held = tf.memory().numBytes - start;
  const peaks: number[] = [];
  const times: number[] = [];
  for (let s = 0; s < 2; s++) {
    const t0 = performance.now();
    const info = await tf.profile(() => step(policy, optimizer, ids, targets));
    times.push(performance.now() - t0);
    peaks.push(info.peakBytes - start);
  }
  const after = tf.memory().numBytes - start;
  tf.dispose([ids, targets]);
  optimizer.dispose();
  reference.dispose();
  policy.dispose();
  return { label, baseBytes, trainable, held, peaks, after, times };
}

/** Full fine-tuning, then LoRA r=8 on all linear layers, on the active backend. */
export async function measureLoraMemory(batch: number, tokens: number): Promise<LoraMemoryRow[]> {
  return [
    await measureOne('full fine-tuning', false, batch, tokens),
    await measureOne('LoRA r=8 all-linear', true, batch, tokens),
  ];
}

export function printLoraMemory(rows: LoraMemoryRow[]): void {
  console.log(
    '| run | trainable params | held before step (MiB) | peak step 1 (MiB) | peak step 2 (MiB) | after (MiB) | step 2 (s) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.label} | ${r.trainable.toLocaleString('en')} | ${MB(r.held)} | ${MB(r.peaks[0]!)} | ${MB(r.peaks[1]!)} | ${MB(r.after)} | ${(r.times[1]! / 1000).toFixed(2)} |`,
    );
  console.log(
    `base weights ${MB(rows[0]!.baseBytes)} MiB; peak LoRA / full = ${(rows[1]!.peaks[1]! / rows[0]!.peaks[1]!).toFixed(2)}`,
  );
}
