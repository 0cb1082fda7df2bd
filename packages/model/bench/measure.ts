/*
 * The tfjs side of the benchmarks against PyTorch (bench/model.ts for GPT-2, bench/llama.ts for
 * the Llama family): one policy on one backend variant, the fastest of N training steps
 * (bench/train-step.ts) and greedy generation with and without the KV cache.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  createAdamOptimizer,
  createByteTokenizer,
  createPolicy,
  initBackend,
  type ModelConfig,
  type NativeKernelsInfo,
  nativeKernelsInfo,
} from '../src/index.js';
import { trainStep } from './train-step.js';

export async function seconds(f: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

export interface Row {
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

export interface Variant {
  backend: 'wasm' | 'cpu';
  /** wasm: route GEMM, transpose, Adam and the fused kernels through the native kernels. */
  native?: boolean;
  /** BLAS threads for the native kernels. */
  blasThreads?: number;
  /** 'builtin': the native kernels on @stepcoder/native-kernels' built-in SGEMM instead of OpenBLAS. */
  blasLibrary?: string;
}

export interface Plan {
  batch: number;
  seq: number;
  steps: number;
  warmup: boolean;
  /** New tokens of the short cached (and, with noCache, uncached) generation; 0 skips it. */
  short: number;
  /** New tokens of the long cached generation (best of two); absent skips it. */
  long?: number;
  /** Also generate without the cache (at `short`, and at `long` when `noCacheLong`). */
  noCache: boolean;
  noCacheLong?: boolean;
}

/** The training batch both sides use: token (b·31 + t·7) mod 256 at row b, position t. */
export function benchIds(batch: number, seq: number): tf.Tensor2D {
  return tf.tensor2d(
    Array.from({ length: batch }, (_, b) => Array.from({ length: seq }, (_, t) => (b * 31 + t * 7) % 256)),
    [batch, seq],
    'int32',
  );
}

export async function measure(
  config: ModelConfig,
  prompt: string,
  variant: Variant,
  plan: Plan,
): Promise<Row> {
  const { backend, native = false, blasThreads = 1, blasLibrary } = variant;
  await initBackend({
    prefer: backend,
    ...(backend === 'wasm'
      ? { native, blas: { threads: blasThreads, ...(blasLibrary ? { library: blasLibrary } : {}) } }
      : {}),
  });
  const policy = await createPolicy({ config, tokenizer: createByteTokenizer(), seed: 1 });
  const ids = benchIds(plan.batch, plan.seq);
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
  if (plan.short) row.cacheShort = await gen(plan.short, true);
  if (plan.short && plan.noCache) row.noCacheShort = await gen(plan.short, false);
  // Best of two, as the PyTorch baseline does.
  if (plan.long) row.cacheLong = Math.max(await gen(plan.long, true), await gen(plan.long, true));
  if (plan.long && plan.noCacheLong && plan.noCache) row.noCacheLong = await gen(plan.long, false);
  optimizer.dispose();
  ids.dispose();
  policy.dispose();
  return row;
}

export interface TfjsRows {
  wasm: Row;
  /** wasm + native kernels on OpenBLAS, one row per BLAS thread count asked for. */
  nativeRows: Row[];
  nativeInfo?: NativeKernelsInfo;
  /** wasm + native kernels on the built-in SGEMM, 1 thread. */
  builtinRow?: Row;
  builtinInfo?: NativeKernelsInfo;
  /** Why a native row is missing. */
  nativeSkipped?: string;
}

/**
 * wasm alone (`plan`), then the native kernels on OpenBLAS at each of `blasThreads` and on the
 * built-in SGEMM at 1 thread (`nativePlan`: the native rows skip what only wasm's row needs).
 */
export async function measureTfjs(
  config: ModelConfig,
  prompt: string,
  plan: Plan,
  nativePlan: Plan,
  blasThreads: number[],
): Promise<TfjsRows> {
  const out: TfjsRows = {
    wasm: await measure(config, prompt, { backend: 'wasm', native: false }, plan),
    nativeRows: [],
  };
  try {
    await initBackend({ prefer: 'wasm', native: true, log: false });
    for (const threads of blasThreads) {
      out.nativeRows.push(
        await measure(config, prompt, { backend: 'wasm', native: true, blasThreads: threads }, nativePlan),
      );
      out.nativeInfo ??= nativeKernelsInfo();
    }
  } catch (err) {
    out.nativeSkipped = (err as Error).message;
  }
  // The native kernels on the package's built-in SGEMM (what a machine without OpenBLAS gets), 1 thread.
  try {
    out.builtinRow = await measure(
      config,
      prompt,
      { backend: 'wasm', native: true, blasThreads: 1, blasLibrary: 'builtin' },
      nativePlan,
    );
    out.builtinInfo = nativeKernelsInfo();
  } catch (err) {
    out.nativeSkipped ??= (err as Error).message;
  }
  return out;
}

/** The table's threads cell for a tfjs row. */
export function threadsCell(r: Row): string {
  return r.backend.includes('built-in')
    ? 'wasm 1, built-in GEMM 1'
    : r.backend.includes('native')
      ? `wasm 1, BLAS ${r.threads}`
      : `1 (Node cannot start wasm threads)`;
}

export const fmt = (x?: number) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(2));

/**
 * The "Baselines:" lines of the tfjs rows. `nativeKernels`: which native kernels this model's
 * step uses (everything else runs on wasm).
 */
export function printTfjsBaselines(rows: TfjsRows, nativeKernels: string, wasmGemm?: number): void {
  console.log(
    `- tfjs wasm: SIMD build, 1 thread, tfjs's own kernels${wasmGemm === undefined ? '' : `; 512×512 float32 GEMM ${wasmGemm.toFixed(1)} GFLOP/s (XNNPACK)`}`,
  );
  const { nativeInfo, builtinInfo } = rows;
  if (nativeInfo)
    console.log(
      `- tfjs wasm + native kernels: @stepcoder/native-kernels (${nativeKernels}; everything else wasm) on ${nativeInfo.library} (${nativeInfo.config ?? 'no build string'}); BLAS threads as in the table; OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE cleared as for PyTorch`,
    );
  else console.log(`- tfjs wasm + native kernels: not measured, ${rows.nativeSkipped}`);
  if (builtinInfo)
    console.log(
      `- tfjs wasm + native kernels (built-in SGEMM): the same kernels with GEMM on @stepcoder/native-kernels' own SGEMM (${builtinInfo.config}), 1 thread`,
    );
}

/** Single-thread float32 GEMM rate of the wasm backend (XNNPACK), for the roofline note. */
export async function wasmGemmGflops(n = 512, reps = 10): Promise<number> {
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
