/*
 * Per-kernel profile of one GPT2_MINI training step (B×T = 2×64) on wasm with tf.profile: time
 * per kernel name (summed), kernel count, bytes allocated. `pnpm --filter @stepcoder/model
 * bench:profile`. Kernel times are wall-clock around each (synchronous) wasm kernel. With
 * @stepcoder/native-kernels and a BLAS present the native kernels are on (the backend line says
 * so); STEPCODER_NATIVE=0 profiles tfjs's own wasm kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  createAdamOptimizer,
  createByteTokenizer,
  createPolicy,
  GPT2_MINI,
  initBackend,
} from '../src/index.js';
import { trainStep } from './train-step.js';

// As in bench/model.ts: let OpenBLAS pick its kernels for this CPU.
delete process.env.OPENBLAS_CORETYPE;
delete process.env.OPENBLAS_L2_SIZE;
const backend = (process.env.STEPCODER_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm';
const chosen = await initBackend({ prefer: backend, log: false });
const policy = await createPolicy({ config: GPT2_MINI, tokenizer: createByteTokenizer(), seed: 1 });
const [B, T] = [2, 64];
const ids = tf.tensor2d(
  Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (b * 31 + t * 7) % 256)),
  [B, T],
  'int32',
);
const optimizer = createAdamOptimizer(1e-4);
trainStep(policy, optimizer, ids);
const t0 = performance.now();
trainStep(policy, optimizer, ids);
const plain = performance.now() - t0;
const info = await tf.profile(() => trainStep(policy, optimizer, ids));
const byName = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) {
  const e = byName.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.n += 1;
  byName.set(k.name, e);
}
// Scopes (customGrad's 'unnamed scope', 'backward', '<op>__op') contain kernels listed on their
// own: leave them out of the total so that nothing is counted twice.
const isScope = (name: string) => name === 'unnamed scope' || name === 'backward' || name.endsWith('__op');
const total = [...byName].filter(([n]) => !isScope(n)).reduce((s, [, e]) => s + e.ms, 0);
console.log(
  `training step ${B}×${T} on ${chosen.describe()}: ${plain.toFixed(0)} ms unprofiled; ${info.kernels.length} kernels, ` +
    `${total.toFixed(0)} ms inside kernels, ${(info.newBytes / 2 ** 20).toFixed(1)} MiB new, peak ${(info.peakBytes / 2 ** 20).toFixed(1)} MiB`,
);
console.log('\n| kernel | calls | ms | share |');
console.log('|---|---:|---:|---:|');
for (const [name, e] of [...byName]
  .filter(([n]) => !isScope(n))
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, 25)) {
  console.log(`| ${name} | ${e.n} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / total).toFixed(1)}% |`);
}
policy.dispose();
