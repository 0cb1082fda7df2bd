/*
 * Training-step tokens/s with the native kernels on OpenBLAS against the native kernels on the
 * built-in SGEMM of @stepcoder/native-kernels (what a machine without an optimised BLAS gets),
 * at one thread, for GPT2_MINI at 2×64 (the model README's benchmark shape) and the demo's
 * 4-layer, 192-wide model (BPE vocabulary 1024) at an SFT batch of 16×96. Each variant runs in
 * its own child process (OpenBLAS fixes its core type when it loads), rounds interleaved,
 * fastest step of each.
 *
 *   pnpm --filter @stepcoder/model exec tsx bench/train-gemm.ts     # BENCH_ROUNDS=3, BENCH_WASM=0
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  createAdamOptimizer,
  createByteTokenizer,
  createPolicy,
  GPT2_MINI,
  type GPT2Config,
  initBackend,
  nativeKernelsInfo,
} from '../src/index.js';
import { trainStep } from './train-step.js';

const MODELS: Array<{ name: string; config: GPT2Config; batch: number; seq: number; steps: number }> = [
  { name: 'GPT2_MINI, 2×64', config: GPT2_MINI, batch: 2, seq: 64, steps: 5 },
  {
    name: 'demo 4×192, 16×96',
    config: { vocabSize: 1024, nPositions: 256, nEmbd: 192, nLayer: 4, nHead: 6 },
    batch: 16,
    seq: 96,
    steps: 4,
  },
];

interface Variant {
  key: string;
  label: string;
  native: boolean;
  library?: string;
  gemmPath?: 'portable' | 'avx2' | 'avx512';
  ownCore?: boolean;
}

interface ChildResult {
  describe: string;
  config: string | null;
  /** Fastest step, seconds, per model. */
  seconds: number[];
}

async function runChild(v: Variant): Promise<ChildResult> {
  await initBackend({
    prefer: 'wasm',
    native: v.native,
    blas: {
      threads: 1,
      ...(v.library ? { library: v.library } : {}),
      ...(v.gemmPath ? { gemmPath: v.gemmPath } : {}),
    },
    log: false,
  });
  const info = nativeKernelsInfo();
  const seconds: number[] = [];
  for (const m of MODELS) {
    const policy = await createPolicy({ config: m.config, tokenizer: createByteTokenizer(), seed: 1 });
    const ids = tf.tensor2d(
      Array.from({ length: m.batch }, (_, b) =>
        Array.from({ length: m.seq }, (_, t) => (b * 31 + t * 7) % 256),
      ),
      [m.batch, m.seq],
      'int32',
    );
    const optimizer = createAdamOptimizer(1e-4);
    trainStep(policy, optimizer, ids);
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < m.steps; i++) {
      const t0 = performance.now();
      trainStep(policy, optimizer, ids);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    seconds.push(best);
    optimizer.dispose();
    ids.dispose();
    policy.dispose();
  }
  return { describe: info?.describe ?? 'wasm kernels only', config: info?.config ?? null, seconds };
}

const childArg = process.argv.indexOf('--child');
if (childArg >= 0) {
  const r = await runChild(JSON.parse(process.argv[childArg + 1]!) as Variant);
  console.log(JSON.stringify(r));
  process.exit(0);
}

const { cpuGemmSupport } = await import('@stepcoder/native-kernels');
const support = cpuGemmSupport();
const pinned = process.env.OPENBLAS_CORETYPE;
const variants: Variant[] = [
  {
    key: 'blas',
    label: pinned ? `native + OpenBLAS (OPENBLAS_CORETYPE=${pinned})` : 'native + OpenBLAS',
    native: true,
  },
  ...(pinned
    ? [{ key: 'blasOwn', label: 'native + OpenBLAS (own core choice)', native: true, ownCore: true }]
    : []),
  ...[...support.gemmPaths].reverse().map((p) => ({
    key: p,
    label: `native + built-in ${p}`,
    native: true,
    library: 'builtin',
    gemmPath: p,
  })),
  ...(process.env.BENCH_WASM === '0' ? [] : [{ key: 'wasm', label: 'wasm alone', native: false }]),
];

const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const script = fileURLToPath(import.meta.url);
const results = new Map<string, ChildResult>();
for (let round = 0; round < rounds; round++)
  for (const v of variants) {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
    delete env.STEPCODER_BLAS;
    delete env.STEPCODER_GEMM_PATH;
    if (v.ownCore) {
      delete env.OPENBLAS_CORETYPE;
      delete env.OPENBLAS_L2_SIZE;
    }
    const out = execFileSync(process.execPath, [...process.execArgv, script, '--child', JSON.stringify(v)], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
    const prev = results.get(v.key);
    if (prev) prev.seconds = prev.seconds.map((s, i) => Math.min(s, r.seconds[i]!));
    else results.set(v.key, r);
  }

console.log(
  `Training step (forward, backward, Adam), 1 thread, fastest of ${MODELS.map((m) => m.steps).join('/')} steps × ${rounds} rounds; ` +
    `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores shared with other jobs, load ${loadavg()[0]!.toFixed(2)}\n`,
);
console.log(
  `| variant | ${MODELS.map((m) => `${m.name} tokens/s`).join(' | ')} | ${MODELS.map((m) => `${m.name} vs OpenBLAS`).join(' | ')} |`,
);
console.log(`|---|${MODELS.map(() => '---:|').join('')}${MODELS.map(() => '---:|').join('')}`);
const blas = results.get('blas')!;
for (const v of variants) {
  const r = results.get(v.key)!;
  const tps = MODELS.map((m, i) => ((m.batch * m.seq) / r.seconds[i]!).toFixed(0));
  const ratio = MODELS.map((_, i) => `${(blas.seconds[i]! / r.seconds[i]!).toFixed(2)}×`);
  console.log(`| ${v.label} | ${tps.join(' | ')} | ${ratio.join(' | ')} |`);
}
console.log('\nBackend lines:');
for (const v of variants) {
  const r = results.get(v.key)!;
  console.log(`- ${v.label}: ${r.describe}${r.config ? ` — ${r.config}` : ''}`);
}
