import * as tf from '@tensorflow/tfjs-core';
import { createByteTokenizer, createPolicy, initBackend, GPT2_MINI } from './src/index.ts';
await initBackend({ prefer: process.argv[2] as any });
const p = await createPolicy({ config: GPT2_MINI, tokenizer: createByteTokenizer(), seed: 1 });
const B = 2, T = 64;
const ids = tf.tensor2d(Array.from({ length: B }, () => Array.from({ length: T }, (_, i) => (i * 7) % 256)), [B, T], 'int32');
const loss = () => tf.tidy(() => { const { logits } = p.apply(ids); const v = logits.shape[2]; const lp = tf.logSoftmax(logits); return tf.neg(tf.mean(tf.sum(tf.mul(lp, tf.cast(tf.oneHot(ids, v), 'float32')), -1))) as tf.Scalar; });
const run = () => { const { value, grads } = tf.variableGrads(loss, p.trainableVariables()); value.dataSync(); tf.dispose([value, ...Object.values(grads)]); };
run();
const info = await tf.profile(run);
const agg = new Map<string, { ms: number; n: number; shapes: string }>();
for (const k of info.kernels) { const key = k.name === "BatchMatMul" ? k.name + JSON.stringify(k.inputShapes) : k.name; const a = agg.get(key) ?? { ms: 0, n: 0, shapes: '' }; a.ms += k.kernelTimeMs as number; a.n++; if (!a.shapes) a.shapes = JSON.stringify(k.inputShapes); agg.set(key, a); }
console.log([...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15).map(([k, v]) => `${k} ${v.ms.toFixed(0)}ms x${v.n} ${v.shapes}`).join('\n'));
