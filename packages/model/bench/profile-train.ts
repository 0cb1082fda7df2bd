/*
 * Per-kernel profile with tf.profile: time per kernel name (summed), kernel count, bytes
 * allocated, of one training step (B×T = 2×64 for GPT2_MINI, 4×64 for LLAMA_MINI, as bench/model.ts
 * and bench/llama.ts measure) and of one KV-cache generation step at batch 1 (the kernels of a
 * 1+N-token generation less those of a 1-token one, over N: the prefill cancels out).
 * `pnpm --filter @stepcoder/model bench:profile [gpt2|llama] [--shapes]` (default gpt2; --shapes:
 * a row per kernel and input shapes). Kernel times are
 * wall-clock around each (synchronous) wasm kernel; what a step spends outside kernels (op
 * dispatch in JS, sampling, reading logits back) is the unprofiled time less the kernels' sum.
 * With @stepcoder/native-kernels and a BLAS present the native kernels are on (the backend line
 * says so); STEPCODER_NATIVE=0 profiles tfjs's own wasm kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  createAdamOptimizer,
  createByteTokenizer,
  createPolicy,
  GPT2_MINI,
  initBackend,
  LLAMA_MINI,
  type Policy,
} from '../src/index.js';
import { benchIds, seconds } from './measure.js';
import { clearOpenblasTuning } from './torch-baseline.js';
import { trainStep } from './train-step.js';

const args = process.argv.slice(2);
/** --shapes: one row per kernel name and input shapes (which RMSNorm, RoPE, GEMM… a row is). */
const byShape = args.includes('--shapes');
const model = args.find((a) => !a.startsWith('--')) ?? 'gpt2';
if (model !== 'gpt2' && model !== 'llama') throw new Error('usage: profile-train.ts [gpt2|llama] [--shapes]');
const [B, T] = model === 'llama' ? [4, 64] : [2, 64];
/** Decode steps of the generation profile. */
const N = 64;
const prompt = 'def fibonacci(n):\n    ';

// As in bench/model.ts: let OpenBLAS pick its kernels for this CPU.
clearOpenblasTuning();
const backend = (process.env.STEPCODER_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm';
const chosen = await initBackend({ prefer: backend, log: false });
const policy = await createPolicy({
  config: model === 'llama' ? LLAMA_MINI : GPT2_MINI,
  tokenizer: createByteTokenizer(),
  seed: 1,
});

interface Tally {
  ms: number;
  n: number;
}

// Scopes (customGrad's 'unnamed scope', 'backward', '<op>__op') contain kernels listed on their
// own: leave them out so that nothing is counted twice.
const isScope = (name: string) => name === 'unnamed scope' || name === 'backward' || name.endsWith('__op');

function byKernel(info: Awaited<ReturnType<typeof tf.profile>>): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const k of info.kernels) {
    if (isScope(k.name)) continue;
    const key = byShape ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}` : k.name;
    const e = out.get(key) ?? { ms: 0, n: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.n += 1;
    out.set(key, e);
  }
  return out;
}

const total = (m: Map<string, Tally>) => [...m.values()].reduce((s, e) => s + e.ms, 0);

function printTable(m: Map<string, Tally>, limit = byShape ? 40 : 25): void {
  const sum = total(m);
  console.log('\n| kernel | calls | ms | share |');
  console.log('|---|---:|---:|---:|');
  for (const [name, e] of [...m].sort((a, b) => b[1].ms - a[1].ms).slice(0, limit)) {
    const calls = Number.isInteger(e.n) ? String(e.n) : e.n.toFixed(1);
    console.log(`| ${name} | ${calls} | ${e.ms.toFixed(2)} | ${((100 * e.ms) / sum).toFixed(1)}% |`);
  }
}

const ids = benchIds(B, T);
const optimizer = createAdamOptimizer(1e-4);
trainStep(policy, optimizer, ids);
// The fastest of three, as the benchmarks take.
let plain = Number.POSITIVE_INFINITY;
for (let i = 0; i < 3; i++) plain = Math.min(plain, await seconds(() => trainStep(policy, optimizer, ids)));
const info = await tf.profile(() => trainStep(policy, optimizer, ids));
const train = byKernel(info);
console.log(
  `${model === 'llama' ? 'LLAMA_MINI' : 'GPT2_MINI'} training step ${B}×${T} on ${chosen.describe()}: ${(plain * 1000).toFixed(0)} ms unprofiled; ${info.kernels.length} kernels, ` +
    `${total(train).toFixed(0)} ms inside kernels, ${(info.newBytes / 2 ** 20).toFixed(1)} MiB new, peak ${(info.peakBytes / 2 ** 20).toFixed(1)} MiB`,
);
printTable(train);
optimizer.dispose();
ids.dispose();

const generate = (policy: Policy, n: number) =>
  policy.generate([prompt], { maxNewTokens: n, temperature: 0, seed: 1, useCache: true, ignoreEos: true });
await generate(policy, N + 1);
const wall = (await seconds(() => generate(policy, N + 1))) - (await seconds(() => generate(policy, 1)));
const long = byKernel(await tf.profile(() => generate(policy, N + 1).then(() => tf.scalar(0))));
const short = byKernel(await tf.profile(() => generate(policy, 1).then(() => tf.scalar(0))));
const step = new Map<string, Tally>();
for (const [name, e] of long) {
  const s = short.get(name) ?? { ms: 0, n: 0 };
  step.set(name, { ms: (e.ms - s.ms) / N, n: (e.n - s.n) / N });
}
const kernels = [...step.values()].reduce((s, e) => s + e.n, 0);
console.log(
  `\none KV-cache generation step (batch 1, greedy; ${N} steps after a ${prompt.length}-token prompt, averaged): ` +
    `${((wall / N) * 1000).toFixed(2)} ms unprofiled (${(N / wall).toFixed(0)} tokens/s); ${kernels.toFixed(0)} kernels, ` +
    `${total(step).toFixed(2)} ms inside kernels, so ~${((wall / N) * 1000 - total(step)).toFixed(2)} ms outside them (op dispatch, sampling, read-back)`,
);
printTable(step);
policy.dispose();
