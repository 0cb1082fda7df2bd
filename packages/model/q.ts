import * as tf from '@tensorflow/tfjs-core';
import { createByteTokenizer, createPolicy, initBackend, GPT2_MINI } from './src/index.ts';
await initBackend({ prefer: process.argv[2] as any });
const p = await createPolicy({ config: GPT2_MINI, tokenizer: createByteTokenizer(), seed: 1 });
const B = +process.argv[3], T = +process.argv[4];
const ids = tf.tensor2d(Array.from({ length: B }, () => Array.from({ length: T }, (_, i) => (i * 7) % 256)), [B, T], 'int32');
const opt = tf.train.adam(1e-4);
const loss = () => tf.tidy(() => { const { logits } = p.apply(ids); const v = logits.shape[2]; const lp = tf.logSoftmax(logits); return tf.neg(tf.mean(tf.sum(tf.mul(lp, tf.cast(tf.oneHot(ids, v), 'float32')), -1))) as tf.Scalar; });
for (let i = 0; i < 3; i++) { const t0 = performance.now(); const l = opt.minimize(loss, true, p.trainableVariables()); l!.dataSync(); console.log('train', (performance.now() - t0).toFixed(0), 'ms', (B * T / ((performance.now() - t0) / 1000)).toFixed(0), 'tok/s'); l!.dispose(); }
let t0 = performance.now(); await p.generate(['def fibonacci(n):'], { maxNewTokens: 64, seed: 1 }); console.log('gen cache 64', (64 / ((performance.now() - t0) / 1000)).toFixed(1), 'tok/s');
t0 = performance.now(); await p.generate(['def fibonacci(n):'], { maxNewTokens: 64, seed: 1, useCache: false }); console.log('gen nocache 64', (64 / ((performance.now() - t0) / 1000)).toFixed(1), 'tok/s');
