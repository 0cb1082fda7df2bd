import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StepcoderError } from '@stepcoder/core';

/**
 * Native CPU kernels that work in place on float32 data inside an ArrayBuffer (the tfjs wasm
 * heap): GEMM through an optimised BLAS opened at run time, and a fused Adam step. All offsets
 * and strides are in bytes and must be 4-byte aligned; every operand is bounds-checked against
 * the buffer before any work, so a bad call throws instead of corrupting memory.
 */
export interface NativeKernels {
  /** The BLAS in use: the file the loader mapped, and OpenBLAS's build string when it has one. */
  readonly library: { readonly path: string; readonly config: string | null };
  /** BLAS threads (OpenBLAS/MKL report it; -1 when the library cannot say). */
  threads(): number;
  /** Set the BLAS thread count for the whole process (the library's pool is process-wide). */
  setThreads(n: number): void;
  /**
   * C[i] = op(A[i]) · op(B[i]) for i < batch, row-major; op(A) is m×k, op(B) k×n, C m×n.
   * A stride of 0 broadcasts that operand over the batch. With `biasOffset` (≥ 0), a length-n
   * bias row is added to every row of C; with `residualOffset` (≥ 0), an m×n residual (strided
   * like C; it may be C itself) is added: both fused into the GEMM as β = 1.
   */
  sgemm(
    heap: ArrayBuffer,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    aOffset: number,
    aStride: number,
    bOffset: number,
    bStride: number,
    cOffset: number,
    cStride: number,
    biasOffset?: number,
    residualOffset?: number,
  ): void;
  /**
   * One Adam step for one variable of `n` floats, in place, in float32 and in the order of
   * tfjs's AdamOptimizer: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
   * x += −lr · (m / (1 − accBeta1)) / (√(v / (1 − accBeta2)) + ε).
   */
  adam(
    heap: ArrayBuffer,
    n: number,
    valueOffset: number,
    gradOffset: number,
    mOffset: number,
    vOffset: number,
    lr: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    accBeta1: number,
    accBeta2: number,
  ): void;
  /**
   * out = x.transpose(perm) for 4-byte elements (float32, int32): out.shape[d] = shape[perm[d]].
   * Rank 1–8.
   */
  transpose(
    heap: ArrayBuffer,
    shape: readonly number[],
    perm: readonly number[],
    inOffset: number,
    outOffset: number,
  ): void;
  /**
   * LayerNorm over the last axis of x [rows, d]: y = x̂·g + b, x̂ = (x − mean)·rstd,
   * rstd = 1/√(var + eps), biased variance accumulated in double. x̂ [rows, d] and rstd [rows]
   * are written when their offsets are ≥ 0 (the backward pass needs them).
   */
  layerNorm(
    heap: ArrayBuffer,
    rows: number,
    d: number,
    eps: number,
    xOffset: number,
    gOffset: number,
    bOffset: number,
    yOffset: number,
    xhatOffset: number,
    rstdOffset: number,
  ): void;
  /** GPT-2's gelu_new as x·σ(2u), u = √(2/π)(x + 0.044715x³); σ(2u) is written at sOffset ≥ 0. */
  gelu(heap: ArrayBuffer, n: number, xOffset: number, yOffset: number, sOffset: number): void;
  /**
   * KV-cache decoding attention, one new query per (batch, head): out [B,H,hd] =
   * softmax(q·Kᵀ·scale + bias) · V with q [B,H,hd], K and V [B,H,S,hd], an additive bias
   * [biasBatch,S] (biasBatch 1 broadcasts over the batch).
   */
  attendOne(
    heap: ArrayBuffer,
    batch: number,
    heads: number,
    keys: number,
    headDim: number,
    scale: number,
    qOffset: number,
    kOffset: number,
    vOffset: number,
    biasOffset: number,
    biasBatch: number,
    outOffset: number,
  ): void;
  /**
   * GPT-2's fused qkv [B·T, 3·H·hd] → q [B,H,T,hd] and k, v [B,H,P+T,hd], the P cached positions
   * (pastK, pastV [B,H,P,hd]; ignored when P = 0) first: head split and KV-cache append in one pass.
   */
  splitHeads(
    heap: ArrayBuffer,
    batch: number,
    tokens: number,
    heads: number,
    headDim: number,
    past: number,
    qkvOffset: number,
    pastKOffset: number,
    pastVOffset: number,
    qOffset: number,
    kOffset: number,
    vOffset: number,
  ): void;
}

export interface LoadNativeKernelsOptions {
  /**
   * A BLAS shared library (a path or a soname) exporting `cblas_sgemm`. Default: env
   * `STEPCODER_BLAS`, else the first of {@link DEFAULT_BLAS_LIBRARIES} that loads.
   */
  library?: string;
  /** BLAS threads; default env `STEPCODER_BLAS_THREADS`, else 1 (see README: equal to wasm's 1). */
  threads?: number;
}

/**
 * Optimised BLAS builds tried in order. The generic `libblas.so.3` is left out on purpose: on
 * many systems it is netlib's reference BLAS, 30–50× slower than these; pass it explicitly if
 * your alternatives point it at an optimised one.
 */
export const DEFAULT_BLAS_LIBRARIES: readonly string[] = [
  'libopenblas.so.0',
  'libopenblas.so',
  'libopenblasp-r0.3.so',
  'libmkl_rt.so.2',
  'libmkl_rt.so',
  'libblis.so.4',
  'libblis.so',
  'libopenblas.dylib',
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  '/usr/local/opt/openblas/lib/libopenblas.dylib',
  '/System/Library/Frameworks/Accelerate.framework/Accelerate',
];

interface Addon {
  load(path: string): { path: string; config: string | null; canSetThreads: boolean };
  setThreads(n: number): void;
  getThreads(): number;
  sgemm(...args: unknown[]): void;
  adam(...args: unknown[]): void;
  transpose(...args: unknown[]): void;
  layerNorm(...args: unknown[]): void;
  gelu(...args: unknown[]): void;
  attendOne(...args: unknown[]): void;
  splitHeads(...args: unknown[]): void;
}

/** Where the addon is built: `build/Release` beside `src/` and `dist/`. */
export function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', 'build', 'Release', 'stepcoder_native.node');
}

let addon: Addon | undefined;

function loadAddon(): Addon {
  if (addon) return addon;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new StepcoderError(
      'BACKEND_UNAVAILABLE',
      `native kernels not built: ${path} is missing (run \`node scripts/build-native.mjs\` in @stepcoder/native-kernels; it needs a C compiler and Node's headers)`,
      { details: { path } },
    );
  }
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (err) {
    throw new StepcoderError(
      'BACKEND_UNAVAILABLE',
      `native kernels failed to load from ${path}: ${(err as Error).message}`,
      {
        details: { path },
      },
    );
  }
  return addon;
}

function threadsFrom(options: LoadNativeKernelsOptions): number {
  const raw =
    options.threads ?? (process.env.STEPCODER_BLAS_THREADS ? Number(process.env.STEPCODER_BLAS_THREADS) : 1);
  if (!Number.isInteger(raw) || raw < 1) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `native kernels: threads must be a positive integer, got ${String(raw)}`,
      {
        details: { threads: raw },
      },
    );
  }
  return raw;
}

/**
 * Load the addon and an optimised BLAS. Throws `StepcoderError('BACKEND_UNAVAILABLE')` naming
 * every library tried and why each failed, or `INVALID_OPTIONS` for a bad thread count.
 */
export function loadNativeKernels(options: LoadNativeKernelsOptions = {}): NativeKernels {
  const threads = threadsFrom(options);
  const native = loadAddon();
  const requested = options.library ?? process.env.STEPCODER_BLAS;
  const candidates = requested ? [requested] : DEFAULT_BLAS_LIBRARIES;
  const failures: string[] = [];
  let library: { path: string; config: string | null; canSetThreads: boolean } | undefined;
  for (const candidate of candidates) {
    try {
      library = native.load(candidate);
      break;
    } catch (err) {
      failures.push(`${candidate}: ${(err as Error).message}`);
    }
  }
  if (!library) {
    throw new StepcoderError(
      'BACKEND_UNAVAILABLE',
      `no optimised BLAS found (${failures.join('; ')}); install one (Debian: apt-get install libopenblas0-pthread) or set STEPCODER_BLAS to its path`,
      { details: { tried: candidates, failures } },
    );
  }
  if (library.canSetThreads) native.setThreads(threads);
  const info = { path: library.path, config: library.config };
  return {
    library: info,
    threads: () => native.getThreads(),
    setThreads: (n: number) => {
      threadsFrom({ threads: n });
      native.setThreads(n);
    },
    sgemm: (
      heap,
      batch,
      m,
      n,
      k,
      transA,
      transB,
      aOff,
      aStride,
      bOff,
      bStride,
      cOff,
      cStride,
      bias = -1,
      res = -1,
    ) =>
      native.sgemm(
        heap,
        batch,
        m,
        n,
        k,
        transA ? 1 : 0,
        transB ? 1 : 0,
        aOff,
        aStride,
        bOff,
        bStride,
        cOff,
        cStride,
        bias,
        res,
      ),
    // The rest pass straight through: the addon checks every argument and bound.
    transpose: (...args) => native.transpose(...args),
    layerNorm: (...args) => native.layerNorm(...args),
    gelu: (...args) => native.gelu(...args),
    attendOne: (...args) => native.attendOne(...args),
    splitHeads: (...args) => native.splitHeads(...args),
    adam: (...args) => native.adam(...args),
  };
}
