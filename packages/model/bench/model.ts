/*
 * pnpm bench: the ~10.9M-parameter GPT2_MINI on the wasm backend (tfjs's own kernels, and with
 * @stepcoder/native-kernels on OpenBLAS at 1 thread and at all cores, and on its built-in SGEMM
 * at 1 thread), the cpu backend, and
 * PyTorch CPU (Debian python3-torch on OpenBLAS, installed here when root; verified in the child)
 * on the identical config, training step and cached generation, at 1 thread each and at all
 * cores. Ratios come from this run only.
 * Sizes are cut to keep the run near 3 minutes on 2 shared cores; BENCH_FULL=1 measures the
 * no-cache generation at the full 256 new tokens (several minutes).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  countParameters,
  createAdamOptimizer,
  createByteTokenizer,
  createPolicy,
  GPT2_MINI,
  initBackend,
  type NativeKernelsInfo,
  nativeKernelsInfo,
} from '../src/index.js';
import { trainStep } from './train-step.js';

const full = process.env.BENCH_FULL === '1';
const config = GPT2_MINI;
const tokenizer = createByteTokenizer();
const prompt = 'def fibonacci(n):\n    ';
const SHORT = 64;
/** New tokens of the cached-generation comparison (wasm and PyTorch). */
const GEN_NEW = 256;

async function seconds(f: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

interface Row {
  backend: string;
  threads: number;
  train?: number;
  trainShape: string;
  cacheLong?: number;
  cacheShort?: number;
  noCacheShort?: number;
  noCacheLong?: number;
  note?: string;
}

interface Variant {
  backend: 'wasm' | 'cpu';
  /** wasm: route GEMM, transpose, LayerNorm, GELU and Adam through the native kernels. */
  native?: boolean;
  /** BLAS threads for the native kernels. */
  blasThreads?: number;
  /** 'builtin': the native kernels on @stepcoder/native-kernels' built-in SGEMM instead of OpenBLAS. */
  blasLibrary?: string;
}

async function measure(
  variant: Variant,
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
  const { backend, native = false, blasThreads = 1, blasLibrary } = variant;
  await initBackend({
    prefer: backend,
    ...(backend === 'wasm'
      ? { native, blas: { threads: blasThreads, ...(blasLibrary ? { library: blasLibrary } : {}) } }
      : {}),
  });
  const policy = await createPolicy({ config, tokenizer, seed: 1 });
  const ids = tf.tensor2d(
    Array.from({ length: plan.batch }, (_, b) =>
      Array.from({ length: plan.seq }, (_, t) => (b * 31 + t * 7) % 256),
    ),
    [plan.batch, plan.seq],
    'int32',
  );
  const optimizer = createAdamOptimizer(1e-4);
  if (plan.warmup) trainStep(policy, optimizer, ids);
  // The fastest step: other jobs on the shared cores slow some steps, never speed one up.
  let trainS = Number.POSITIVE_INFINITY;
  for (let i = 0; i < plan.steps; i++)
    trainS = Math.min(trainS, await seconds(() => trainStep(policy, optimizer, ids)));
  const row: Row = {
    backend: native
      ? `wasm + native kernels${blasLibrary === 'builtin' ? ' (built-in SGEMM)' : ''}`
      : backend,
    threads: native ? blasThreads : 1,
    train: (plan.batch * plan.seq) / trainS,
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
  // Best of two, as the PyTorch baseline does.
  if (plan.long) row.cacheLong = Math.max(await gen(plan.long, true), await gen(plan.long, true));
  if (plan.long && full && plan.noCache) row.noCacheLong = await gen(plan.long, false);
  optimizer.dispose();
  ids.dispose();
  policy.dispose();
  return row;
}

interface TorchResult {
  torch: string;
  threads: number;
  blas: string;
  blasFiles: string[];
  blasThreads: number | null;
  gemmGflops: number;
  trainTokensPerSec: number;
  genTokensPerSec?: number;
}

/** Below this single-thread GEMM rate the BLAS is the reference one (netlib runs ~1–3 GFLOP/s). */
const MIN_BLAS_GFLOPS = 15;

/**
 * Debian's python3-torch links libblas.so.3, which the alternatives system points at netlib's
 * reference BLAS unless an optimised one is installed: install OpenBLAS (pthread build) when root,
 * then check in the child which library is actually mapped and how fast its GEMM runs.
 */
function ensureOptimisedBlas(): string | undefined {
  const probe = () => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const libs = [
    '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
    '/usr/lib/aarch64-linux-gnu/openblas-pthread/libblas.so.3',
  ];
  if (probe() && libs.some((l) => existsSync(l))) return undefined;
  if (process.getuid?.() !== 0)
    return 'python3-torch with OpenBLAS missing and not root: apt-get install -y python3-torch libopenblas0-pthread';
  console.log('installing python3-torch libopenblas0-pthread with apt-get (PyTorch baseline)…');
  try {
    execFileSync(
      'apt-get',
      ['install', '-y', '--no-install-recommends', 'python3-torch', 'libopenblas0-pthread'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      },
    );
  } catch (err) {
    return `apt-get install python3-torch libopenblas0-pthread failed: ${(err as Error).message.split('\n')[0]}`;
  }
  return probe() ? undefined : 'python3-torch still not importable after apt-get install';
}

function torchBaseline(batch: number, seq: number, threads: number): TorchResult | string {
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
    steps: 5,
    threads,
    prompt_ids: tokenizer.encode(prompt),
    new_tokens: GEN_NEW,
  };
  // OpenBLAS takes its thread count from the environment when it loads; without these it uses
  // every core whatever torch.set_num_threads says. Tuning variables are cleared so the library
  // picks its kernels for this CPU itself.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
    MKL_NUM_THREADS: String(threads),
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const out = execFileSync('/usr/bin/python3', [script, JSON.stringify(job)], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.trim().split('\n').pop()!) as TorchResult;
  } catch (err) {
    return `torch_bench.py failed: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`;
  }
}

/** Why a ratio against this PyTorch run would mislead, or undefined when it is honest. */
function blasProblem(r: TorchResult, threads: number): string | undefined {
  if (!/openblas|mkl/i.test(r.blas)) return `PyTorch links ${r.blas} (${r.blasFiles.join(', ')})`;
  if (r.blasThreads !== null && r.blasThreads !== threads)
    return `OpenBLAS runs ${r.blasThreads} threads, ${threads} requested`;
  if (threads === 1 && r.gemmGflops < MIN_BLAS_GFLOPS)
    return `GEMM at ${r.gemmGflops.toFixed(1)} GFLOP/s is a reference-BLAS rate`;
  return undefined;
}

/** Single-thread float32 GEMM rate of the wasm backend (XNNPACK), for the roofline note. */
async function wasmGemmGflops(n = 512, reps = 10): Promise<number> {
  await initBackend({ prefer: 'wasm', native: false, log: false });
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  tf.matMul(a, b).dispose();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b]);
  return (2 * n ** 3 * reps) / s / 1e9;
}

// OpenBLAS reads these when it loads: cleared for the native kernels as for the PyTorch child
// (this environment pins OPENBLAS_CORETYPE=Haswell; the library then skips its AVX-512
// kernels), so both sides run the kernels the library picks for this CPU.
delete process.env.OPENBLAS_CORETYPE;
delete process.env.OPENBLAS_L2_SIZE;

const fmt = (x?: number) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
console.log(
  `GPT2_MINI: ${(countParameters(config) / 1e6).toFixed(1)}M parameters, byte vocabulary; ` +
    `${availableParallelism()} cores on this machine (shared with other jobs: absolute rates are noisy)`,
);
const allCores = Math.max(2, availableParallelism());
const plan = { batch: 2, seq: 64, steps: 5, warmup: true, short: SHORT, long: GEN_NEW, noCache: true };
const wasm = await measure({ backend: 'wasm', native: false }, plan);
const wasmGemm = await wasmGemmGflops();
// The native rows skip the no-cache generation (the cache comparison is wasm's own, above).
const nativeRows: Row[] = [];
let nativeInfo: NativeKernelsInfo | undefined;
let nativeSkipped: string | undefined;
try {
  await initBackend({ prefer: 'wasm', native: true, log: false });
  for (const blasThreads of [1, allCores]) {
    nativeRows.push(
      await measure({ backend: 'wasm', native: true, blasThreads }, { ...plan, noCache: false }),
    );
    nativeInfo ??= nativeKernelsInfo();
  }
} catch (err) {
  nativeSkipped = (err as Error).message;
}
// The native kernels on the package's built-in SGEMM (what a machine without OpenBLAS gets), 1 thread.
let builtinRow: Row | undefined;
let builtinInfo: NativeKernelsInfo | undefined;
try {
  builtinRow = await measure(
    { backend: 'wasm', native: true, blasThreads: 1, blasLibrary: 'builtin' },
    { ...plan, noCache: false },
  );
  builtinInfo = nativeKernelsInfo();
} catch (err) {
  nativeSkipped ??= (err as Error).message;
}
const cpu = await measure(
  { backend: 'cpu' },
  { batch: 2, seq: 64, steps: 1, warmup: false, short: 16, noCache: false },
);
const blasSetup = ensureOptimisedBlas();
const torchRuns = blasSetup
  ? []
  : [1, allCores].map((threads) => ({
      threads,
      load: loadavg()[0]!,
      r: torchBaseline(2, 64, threads),
    }));

console.log(
  `\n| backend | threads | train tokens/s (B×T) | gen tok/s, cache, ${GEN_NEW} new | gen, no cache, ${GEN_NEW} new | gen, cache, short | gen, no cache, short | cache speed-up |`,
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of [wasm, ...nativeRows, ...(builtinRow ? [builtinRow] : []), cpu]) {
  const speedup = r.noCacheLong
    ? `${(r.cacheLong! / r.noCacheLong).toFixed(1)}× at ${GEN_NEW}`
    : r.noCacheShort
      ? `${(r.cacheShort! / r.noCacheShort).toFixed(1)}× at ${SHORT}`
      : '—';
  const shortLabel = r.backend === 'cpu' ? ' (16 new)' : ` (${SHORT} new)`;
  const threads = r.backend.includes('built-in')
    ? 'wasm 1, built-in GEMM 1'
    : r.backend.includes('native')
      ? `wasm 1, BLAS ${r.threads}`
      : `1 (Node cannot start wasm threads)`;
  console.log(
    `| tfjs ${r.backend} | ${threads} | ${fmt(r.train)} (${r.trainShape}) | ${fmt(r.cacheLong)} | ${fmt(r.noCacheLong)} | ${fmt(r.cacheShort)}${shortLabel} | ${fmt(r.noCacheShort)} | ${speedup} |`,
  );
}
for (const { threads, r } of torchRuns) {
  if (typeof r === 'string') continue;
  console.log(
    `| PyTorch ${r.torch} CPU | ${threads} (torch ${r.threads}, BLAS ${r.blasThreads ?? '?'}) | ${fmt(r.trainTokensPerSec)} (2×64) | ${fmt(r.genTokensPerSec)} | — | — | — | — |`,
  );
}

console.log('\nBaselines:');
console.log(
  `- tfjs wasm: SIMD build, 1 thread, tfjs's own kernels; 512×512 float32 GEMM ${wasmGemm.toFixed(1)} GFLOP/s (XNNPACK)`,
);
if (nativeInfo)
  console.log(
    `- tfjs wasm + native kernels: @stepcoder/native-kernels (GEMM, transpose, LayerNorm, GELU, Adam; everything else wasm) on ${nativeInfo.library} (${nativeInfo.config ?? 'no build string'}); BLAS threads as in the table; OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE cleared as for PyTorch`,
  );
else console.log(`- tfjs wasm + native kernels: not measured, ${nativeSkipped}`);
if (builtinInfo)
  console.log(
    `- tfjs wasm + native kernels (built-in SGEMM): the same kernels with GEMM on @stepcoder/native-kernels' own SGEMM (${builtinInfo.config}), 1 thread`,
  );
if (blasSetup) console.log(`- PyTorch: not measured, ${blasSetup}`);
for (const { threads, r, load } of torchRuns) {
  if (typeof r === 'string') console.log(`- PyTorch, ${threads} threads: ${r}`);
  else
    console.log(
      `- PyTorch ${r.torch} (Debian python3-torch, same functional GPT-2, eager, no torch.compile), ${threads} thread(s): ` +
        `BLAS ${r.blas} via ${r.blasFiles.join(', ')}; OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=${threads}; ` +
        `512×512 GEMM ${r.gemmGflops.toFixed(1)} GFLOP/s; 1-min load average before the run ${load.toFixed(2)} on ${availableParallelism()} cores`,
    );
}

console.log('\nRatios (same run):');
console.log(`- wasm / cpu training: ${(wasm.train! / cpu.train!).toFixed(1)}×`);
console.log(
  `- wasm / cpu generation with cache: ${(wasm.cacheShort! / cpu.cacheShort!).toFixed(1)}× (${SHORT} vs 16 new tokens)`,
);
if (nativeRows[0])
  console.log(
    `- wasm + native kernels / wasm, 1 thread each: training ${(nativeRows[0].train! / wasm.train!).toFixed(2)}×, generation ${(nativeRows[0].cacheLong! / wasm.cacheLong!).toFixed(2)}×`,
  );
if (nativeRows[0] && builtinRow)
  console.log(
    `- native kernels on the built-in SGEMM / on OpenBLAS, 1 thread each: training ${(builtinRow.train! / nativeRows[0].train!).toFixed(2)}× (goal ≥ 0.7×), generation ${(builtinRow.cacheLong! / nativeRows[0].cacheLong!).toFixed(2)}×; per-GEMM table: pnpm --filter @stepcoder/native-kernels bench`,
  );
for (const { threads, r } of torchRuns) {
  if (typeof r === 'string') continue;
  const problem = blasProblem(r, threads);
  const label = threads === 1 ? '1 thread each' : `${threads} threads each (all cores)`;
  if (problem) {
    console.log(`- ours / PyTorch, ${label}: not reported, ${problem}`);
    continue;
  }
  const native = nativeRows.find((n) => n.threads === threads);
  if (native) {
    console.log(
      `- wasm + native kernels / PyTorch CPU, ${label}: training ${(native.train! / r.trainTokensPerSec).toFixed(2)}× (target ≥ 0.5×)` +
        (r.genTokensPerSec
          ? `, generation with KV cache (${GEN_NEW} new, greedy, batch 1) ${(native.cacheLong! / r.genTokensPerSec).toFixed(2)}× (target ≥ 0.5×)`
          : ''),
    );
  }
  const wasmLabel =
    threads === 1 ? '1 thread each' : `wasm 1 thread (all it can use) vs PyTorch ${threads} threads`;
  console.log(
    `- wasm alone / PyTorch CPU, ${wasmLabel}: training ${(wasm.train! / r.trainTokensPerSec).toFixed(2)}×` +
      (r.genTokensPerSec ? `, generation ${(wasm.cacheLong! / r.genTokensPerSec).toFixed(2)}×` : ''),
  );
  if (threads === 1)
    console.log(
      `- peak float32 GEMM (512×512), 1 thread: wasm ${wasmGemm.toFixed(1)} / OpenBLAS ${r.gemmGflops.toFixed(1)} GFLOP/s = ${(wasmGemm / r.gemmGflops).toFixed(2)}× (wasm SIMD is 128-bit without FMA; OpenBLAS uses AVX2/AVX-512 FMA; ~95% of a step's FLOPs are GEMMs)`,
    );
}
if (wasm.noCacheLong) {
  console.log(
    `- KV cache speed-up at ${GEN_NEW} new tokens (wasm): ${(wasm.cacheLong! / wasm.noCacheLong).toFixed(1)}× (target ≥ 5×)`,
  );
} else {
  console.log(
    `- KV cache speed-up at ${SHORT} new tokens (wasm): ${(wasm.cacheShort! / wasm.noCacheShort!).toFixed(1)}×; at ${GEN_NEW} run with BENCH_FULL=1`,
  );
}
