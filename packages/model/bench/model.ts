/*
 * pnpm bench: the ~10.9M-parameter GPT2_MINI on the wasm and cpu backends and, when Debian's
 * python3-torch is importable, PyTorch CPU on the identical config and training step, all at
 * one thread (Node cannot start wasm threads). Ratios come from this run only.
 * Sizes are cut to keep the run near 3 minutes on 2 shared cores; BENCH_FULL=1 measures the
 * no-cache generation at the full 256 new tokens (several minutes).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  countParameters,
  createByteTokenizer,
  createPolicy,
  GPT2_MINI,
  initBackend,
  type Policy,
} from '../src/index.js';

const full = process.env.BENCH_FULL === '1';
const config = GPT2_MINI;
const tokenizer = createByteTokenizer();
const prompt = 'def fibonacci(n):\n    ';

function trainStep(policy: Policy, optimizer: tf.Optimizer, ids: tf.Tensor2D): void {
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

async function seconds(f: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

interface Row {
  backend: string;
  train?: number;
  trainShape: string;
  cacheLong?: number;
  cacheShort?: number;
  noCacheShort?: number;
  noCacheLong?: number;
  note?: string;
}

async function measure(
  backend: 'wasm' | 'cpu',
  plan: {
    batch: number;
    seq: number;
    steps: number;
    warmup: boolean;
    short: number;
    long?: number;
    noCache: boolean;
  },
): Promise<Row> {
  await initBackend({ prefer: backend });
  const policy = await createPolicy({ config, tokenizer, seed: 1 });
  const ids = tf.tensor2d(
    Array.from({ length: plan.batch }, (_, b) =>
      Array.from({ length: plan.seq }, (_, t) => (b * 31 + t * 7) % 256),
    ),
    [plan.batch, plan.seq],
    'int32',
  );
  const optimizer = tf.train.adam(1e-4);
  if (plan.warmup) trainStep(policy, optimizer, ids);
  const trainS = await seconds(() => {
    for (let i = 0; i < plan.steps; i++) trainStep(policy, optimizer, ids);
  });
  const row: Row = {
    backend,
    train: (plan.batch * plan.seq * plan.steps) / trainS,
    trainShape: `${plan.batch}×${plan.seq}`,
  };
  const gen = (n: number, useCache: boolean) =>
    seconds(async () => {
      const [g] = await policy.generate([prompt], {
        maxNewTokens: n,
        temperature: 0,
        seed: 1,
        useCache,
        ignoreEos: true,
      });
      if (g!.tokenIds.length !== n) throw new Error(`generated ${g!.tokenIds.length} of ${n} tokens`);
    }).then((s) => n / s);
  await policy.generate([prompt], { maxNewTokens: 2, seed: 1 });
  row.cacheShort = await gen(plan.short, true);
  if (plan.noCache) row.noCacheShort = await gen(plan.short, false);
  if (plan.long) row.cacheLong = await gen(plan.long, true);
  if (plan.long && full && plan.noCache) row.noCacheLong = await gen(plan.long, false);
  optimizer.dispose();
  ids.dispose();
  policy.dispose();
  return row;
}

function torchBaseline(batch: number, seq: number): { tokensPerSec: number; version: string } | string {
  const script = fileURLToPath(new URL('./torch_bench.py', import.meta.url));
  const job = {
    config: {
      vocab_size: config.vocabSize,
      n_positions: config.nPositions,
      n_embd: config.nEmbd,
      n_layer: config.nLayer,
      n_head: config.nHead,
    },
    batch,
    seq,
    steps: 3,
    threads: 1,
  };
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      const out = execFileSync(python, [script, JSON.stringify(job)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const r = JSON.parse(out.trim().split('\n').pop()!);
      return { tokensPerSec: r.trainTokensPerSec, version: r.torch };
    } catch {
      // try the next interpreter
    }
  }
  return 'python3-torch not importable (apt-get install -y python3-torch)';
}

const fmt = (x?: number) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
const SHORT = 64;
const LONG = 256;
console.log(
  `GPT2_MINI: ${(countParameters(config) / 1e6).toFixed(1)}M parameters, byte vocabulary, 1 thread`,
);
const wasm = await measure('wasm', {
  batch: 2,
  seq: 64,
  steps: 3,
  warmup: true,
  short: SHORT,
  long: LONG,
  noCache: true,
});
const cpu = await measure('cpu', { batch: 2, seq: 64, steps: 1, warmup: false, short: 16, noCache: false });
const torch = torchBaseline(2, 64);

console.log(
  '\n| backend | train tokens/s (B×T) | gen tok/s, cache, 256 new | gen, no cache, 256 new | gen, cache, short | gen, no cache, short | cache speed-up |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of [wasm, cpu]) {
  const speedup = r.noCacheLong
    ? `${(r.cacheLong! / r.noCacheLong).toFixed(1)}× at ${LONG}`
    : r.noCacheShort
      ? `${(r.cacheShort! / r.noCacheShort).toFixed(1)}× at ${SHORT}`
      : '—';
  const shortLabel = r.backend === 'cpu' ? ' (16 new)' : ` (${SHORT} new)`;
  console.log(
    `| ${r.backend} | ${fmt(r.train)} (${r.trainShape}) | ${fmt(r.cacheLong)} | ${fmt(r.noCacheLong)} | ${fmt(r.cacheShort)}${shortLabel} | ${fmt(r.noCacheShort)} | ${speedup} |`,
  );
}
if (typeof torch !== 'string') {
  console.log(`| PyTorch ${torch.version} CPU | ${fmt(torch.tokensPerSec)} (2×64) | — | — | — | — | — |`);
}
console.log('\nRatios (same run):');
console.log(`- wasm / cpu training: ${(wasm.train! / cpu.train!).toFixed(1)}×`);
console.log(
  `- wasm / cpu generation with cache: ${(wasm.cacheShort! / cpu.cacheShort!).toFixed(1)}× (${SHORT} vs 16 new tokens)`,
);
if (typeof torch === 'string') console.log(`- PyTorch: skipped, ${torch}`);
else
  console.log(
    `- wasm / PyTorch CPU training, 1 thread each: ${(wasm.train! / torch.tokensPerSec).toFixed(2)}× (target ≥ 0.5×)`,
  );
if (wasm.noCacheLong) {
  console.log(
    `- KV cache speed-up at ${LONG} new tokens (wasm): ${(wasm.cacheLong! / wasm.noCacheLong).toFixed(1)}× (target ≥ 5×)`,
  );
} else {
  console.log(
    `- KV cache speed-up at ${SHORT} new tokens (wasm): ${(wasm.cacheShort! / wasm.noCacheShort!).toFixed(1)}×; at ${LONG} run with BENCH_FULL=1`,
  );
}
