import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StepcoderError } from '@stepcoder/core';

/** Code paths of the built-in SGEMM (`native/gemm.c`), chosen at run time from cpuid. */
export type GemmPath = 'portable' | 'avx2' | 'avx512';

/** Human-readable names of the built-in SGEMM's paths. */
export const GEMM_PATH_LABELS: Readonly<Record<GemmPath, string>> = {
  portable: 'portable C',
  avx2: 'AVX2/FMA',
  avx512: 'AVX-512F',
};

/** The GEMM the kernels run on: a dlopen'd BLAS or the built-in SGEMM. */
export interface GemmLibrary {
  /** 'blas': a system BLAS (OpenBLAS, MKL, BLIS, Accelerate); 'builtin': `native/gemm.c`. */
  readonly kind: 'blas' | 'builtin';
  /** The file the loader mapped, or `'builtin'`. */
  readonly path: string;
  /**
   * OpenBLAS's build string (`openblas_get_config`) when it has one; for the built-in, its path,
   * tile and cache blocking ("built-in SGEMM AVX-512F, 8×32 tile, MC 160 KC 256 NC 4096").
   */
  readonly config: string | null;
  /** Short name for one-line reports: "OpenBLAS 0.3.21 Haswell", "built-in SGEMM, AVX-512F". */
  readonly name: string;
  /** The built-in's code path (null for a BLAS). */
  readonly gemmPath: GemmPath | null;
}

/**
 * Native CPU kernels that work in place on float32 data inside an ArrayBuffer (the tfjs wasm
 * heap): GEMM through an optimised BLAS opened at run time (or the built-in SGEMM when none
 * loads), and a fused Adam step. All offsets
 * and strides are in bytes and must be 4-byte aligned; every operand is bounds-checked against
 * the buffer before any work, so a bad call throws instead of corrupting memory.
 */
export interface NativeKernels {
  /** The GEMM in use. */
  readonly library: GemmLibrary;
  /** BLAS threads (OpenBLAS/MKL report it; -1 when the library cannot say; 1 for the built-in). */
  threads(): number;
  /**
   * Set the BLAS thread count for the whole process (the library's pool is process-wide). The
   * built-in SGEMM is single-threaded and ignores it.
   */
  setThreads(n: number): void;
  /**
   * One cblas-style row-major GEMM on the GEMM in use: C = alpha·op(A)·op(B) + beta·C with
   * op(A) m×k, op(B) k×n and explicit leading dimensions lda/ldb/ldc **in floats** (offsets in
   * bytes). beta = 0 never reads C.
   */
  gemm(
    heap: ArrayBuffer,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    aOffset: number,
    lda: number,
    bOffset: number,
    ldb: number,
    beta: number,
    cOffset: number,
    ldc: number,
  ): void;
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
   * softmax(q·Kᵀ·scale + bias) · V with q [B,H,hd], K and V [B,KV,S,hd], an additive bias
   * [biasBatch,S] (biasBatch 1 broadcasts over the batch). Grouped-query attention: query head h
   * reads KV head h / (H / KV); `kvHeads` defaults to `heads` (multi-head attention).
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
    kvHeads?: number,
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
  /**
   * LlamaRMSNorm over the last axis of x [rows, d]: y = g·x̂, x̂ = x·r, r = 1/√(mean(x²) + eps)
   * (mean in double). x̂ [rows, d] and r [rows] are written when their offsets are ≥ 0.
   */
  rmsNorm(
    heap: ArrayBuffer,
    rows: number,
    d: number,
    eps: number,
    xOffset: number,
    gOffset: number,
    yOffset: number,
    xhatOffset: number,
    rstdOffset: number,
  ): void;
  /**
   * A projection y [B·T, H·hd] → out [B,H,P+T,hd]: rotary embedding (HF's apply_rotary_pos_emb,
   * cos/sin [B,T,hd]; cosOffset < 0 copies without rotating), head transpose, and the P cached
   * positions past [B,H,P,hd] first (P = 0 ignores pastOffset).
   */
  ropeSplit(
    heap: ArrayBuffer,
    batch: number,
    tokens: number,
    heads: number,
    headDim: number,
    past: number,
    yOffset: number,
    cosOffset: number,
    sinOffset: number,
    pastOffset: number,
    outOffset: number,
  ): void;
  /** ropeSplit's gradient (no cache): d [B,H,T,hd] → [B·T, H·hd], rotated back (cosOffset < 0: merge only). */
  ropeMerge(
    heap: ArrayBuffer,
    batch: number,
    tokens: number,
    heads: number,
    headDim: number,
    dOffset: number,
    cosOffset: number,
    sinOffset: number,
    outOffset: number,
  ): void;
  /** Llama's MLP gate y = silu(g)·u over n floats; σ(g) and silu(g) are written at offsets ≥ 0. */
  swiglu(
    heap: ArrayBuffer,
    n: number,
    gOffset: number,
    uOffset: number,
    yOffset: number,
    sOffset: number,
    siluOffset: number,
  ): void;
}

export interface LoadNativeKernelsOptions {
  /**
   * A BLAS shared library (a path or a soname) exporting `cblas_sgemm`, or `'builtin'` for the
   * built-in SGEMM. Default: env `STEPCODER_BLAS`, else the first of
   * {@link DEFAULT_BLAS_LIBRARIES} that loads, else the built-in SGEMM. A library named
   * explicitly that fails to load throws (no silent fallback).
   */
  library?: string;
  /**
   * The built-in SGEMM's code path; default env `STEPCODER_GEMM_PATH`, else `'auto'` (the best
   * this CPU allows: avx512 > avx2 > portable). A path the CPU cannot run throws.
   */
  gemmPath?: GemmPath | 'auto';
  /**
   * The libraries searched when none is named (default {@link DEFAULT_BLAS_LIBRARIES}); the
   * built-in SGEMM is used when none of them loads.
   */
  search?: readonly string[];
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

/** What the addon reports about the CPU and the built-in SGEMM. */
interface AddonGemmInfo {
  arch: string;
  avx2: boolean;
  fma: boolean;
  avx512f: boolean;
  paths: GemmPath[];
  best: GemmPath;
  compiler: string;
  blocking: Partial<Record<GemmPath, [number, number, number, number, number]>>;
  active: 'blas' | 'builtin' | null;
  activePath: GemmPath | null;
}

interface Addon {
  load(path: string): { path: string; config: string | null; canSetThreads: boolean };
  useBuiltin(path: string): { path: string; config: string; canSetThreads: boolean; gemmPath: GemmPath };
  gemmInfo(): AddonGemmInfo;
  gemm(...args: unknown[]): void;
  setThreads(n: number): void;
  getThreads(): number;
  sgemm(...args: unknown[]): void;
  adam(...args: unknown[]): void;
  transpose(...args: unknown[]): void;
  layerNorm(...args: unknown[]): void;
  gelu(...args: unknown[]): void;
  attendOne(...args: unknown[]): void;
  splitHeads(...args: unknown[]): void;
  rmsNorm(...args: unknown[]): void;
  ropeSplit(...args: unknown[]): void;
  ropeMerge(...args: unknown[]): void;
  swiglu(...args: unknown[]): void;
}

/** Where the addon is built: `build/Release` beside `src/` and `dist/`. */
export function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', 'build', 'Release', 'stepcoder_native.node');
}

let addon: Addon | undefined;
let addonError: string | undefined;

function loadAddon(): Addon {
  if (addon) return addon;
  const path = addonPath();
  if (!existsSync(path)) {
    addonError = `${path} is missing`;
    throw new StepcoderError(
      'BACKEND_UNAVAILABLE',
      `native kernels not built: ${path} is missing (run \`node scripts/build-native.mjs\` in @stepcoder/native-kernels; it needs a C compiler and Node's headers)`,
      { details: { path, summary: 'native addon not built' } },
    );
  }
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (err) {
    addonError = (err as Error).message;
    throw new StepcoderError(
      'BACKEND_UNAVAILABLE',
      `native kernels failed to load from ${path}: ${(err as Error).message}`,
      {
        details: { path, summary: 'native addon failed to load' },
      },
    );
  }
  addonError = undefined;
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

/** One library the loader tried, for `nativeDiagnostics().tried`. */
export interface GemmAttempt {
  readonly library: string;
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * The GEMM in use and why (module state: one GEMM per process). A later load that throws
 * leaves it in place, as the addon does.
 */
let lastChoice:
  | { library: GemmLibrary; tried: GemmAttempt[]; reason: string; threads: () => number }
  | undefined;

/** The libraries the last `loadNativeKernels` call tried, whether it succeeded or threw. */
let lastTried: GemmAttempt[] | undefined;

const PATHS: readonly GemmPath[] = ['portable', 'avx2', 'avx512'];

function gemmPathFrom(options: LoadNativeKernelsOptions): string {
  const raw = options.gemmPath ?? process.env.STEPCODER_GEMM_PATH ?? 'auto';
  if (raw !== 'auto' && raw !== '' && !PATHS.includes(raw as GemmPath)) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `native kernels: GEMM path must be one of auto, ${PATHS.join(', ')}; got '${raw}'`,
      { details: { gemmPath: raw } },
    );
  }
  return raw;
}

/** "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" → "OpenBLAS 0.3.21 Haswell". */
function shortBlasName(path: string, config: string | null): string {
  if (config)
    return config
      .split(/\s+/)
      .filter((w) => !/^(NO_|USE_|DYNAMIC_|MAX_|SMP|OPENMP)/.test(w))
      .join(' ');
  return path.split('/').pop() ?? path;
}

/**
 * Load the addon and a GEMM: the library asked for (`options.library` / `STEPCODER_BLAS`; the
 * value `builtin` selects the built-in SGEMM), else the first optimised BLAS of
 * {@link DEFAULT_BLAS_LIBRARIES} that loads, else the built-in SGEMM (so the kernels are on
 * whenever the addon is built). Throws `StepcoderError('BACKEND_UNAVAILABLE')` when the addon
 * is missing or an explicitly named library fails, `INVALID_OPTIONS` for a bad thread count or
 * GEMM path. Every library tried, and why each failed, is in `nativeDiagnostics().tried`.
 */
export function loadNativeKernels(options: LoadNativeKernelsOptions = {}): NativeKernels {
  const threads = threadsFrom(options);
  const gemmPath = gemmPathFrom(options);
  const native = loadAddon();
  const requested = options.library ?? (process.env.STEPCODER_BLAS || undefined);
  const tried: GemmAttempt[] = [];
  lastTried = tried;
  let library: GemmLibrary | undefined;
  let canSetThreads = false;
  let reason: string;
  const builtin = (): GemmLibrary => {
    try {
      const r = native.useBuiltin(gemmPath);
      tried.push({ library: 'builtin', ok: true });
      return {
        kind: 'builtin',
        path: 'builtin',
        config: r.config,
        name: `built-in SGEMM, ${GEMM_PATH_LABELS[r.gemmPath]}`,
        gemmPath: r.gemmPath,
      };
    } catch (err) {
      throw new StepcoderError('INVALID_OPTIONS', `native kernels: ${(err as Error).message}`, {
        details: { gemmPath, summary: (err as Error).message },
      });
    }
  };
  if (requested === 'builtin') {
    library = builtin();
    reason = options.library ? "library: 'builtin'" : 'STEPCODER_BLAS=builtin';
  } else {
    const candidates = requested ? [requested] : (options.search ?? DEFAULT_BLAS_LIBRARIES);
    for (const candidate of candidates) {
      try {
        const r = native.load(candidate);
        tried.push({ library: candidate, ok: true });
        library = {
          kind: 'blas',
          path: r.path,
          config: r.config,
          name: shortBlasName(r.path, r.config),
          gemmPath: null,
        };
        canSetThreads = r.canSetThreads;
        break;
      } catch (err) {
        tried.push({ library: candidate, ok: false, error: (err as Error).message });
      }
    }
    if (!library && requested) {
      const failures = tried.map((t) => `${t.library}: ${t.error}`);
      throw new StepcoderError(
        'BACKEND_UNAVAILABLE',
        `no optimised BLAS found (${failures.join('; ')}); install one (Debian: apt-get install libopenblas0-pthread), set STEPCODER_BLAS to its path, or STEPCODER_BLAS=builtin for the built-in SGEMM`,
        {
          details: {
            tried: [requested],
            failures,
            summary: (() => {
              const e = tried[0]?.error ?? 'did not load';
              return e.includes(requested) ? e : `${requested}: ${e}`;
            })(),
          },
        },
      );
    }
    if (library) {
      reason = requested ? `requested ${requested}` : 'first optimised BLAS that loaded';
    } else {
      library = builtin();
      reason = 'no optimised BLAS found';
    }
  }
  if (canSetThreads) native.setThreads(threads);
  const lib = library;
  lastChoice = { library: lib, tried, reason, threads: () => native.getThreads() };
  return {
    library: lib,
    threads: () => native.getThreads(),
    setThreads: (n: number) => {
      threadsFrom({ threads: n });
      native.setThreads(n);
    },
    gemm: (heap, transA, transB, m, n, k, alpha, aOff, lda, bOff, ldb, beta, cOff, ldc) =>
      native.gemm(
        heap,
        0,
        '',
        transA ? 1 : 0,
        transB ? 1 : 0,
        m,
        n,
        k,
        alpha,
        aOff,
        lda,
        bOff,
        ldb,
        beta,
        cOff,
        ldc,
      ),
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
    rmsNorm: (...args) => native.rmsNorm(...args),
    ropeSplit: (...args) => native.ropeSplit(...args),
    ropeMerge: (...args) => native.ropeMerge(...args),
    swiglu: (...args) => native.swiglu(...args),
    adam: (...args) => native.adam(...args),
  };
}

/**
 * The built-in SGEMM on a given code path, whatever GEMM is loaded (tests and benchmarks):
 * C = alpha·op(A)·op(B) + beta·C, row-major, leading dimensions in floats, offsets in bytes.
 * M = 1 with a contiguous row of op(A) takes the GEMV path, as in `sgemm`. Throws for a path the
 * CPU cannot run.
 */
export function builtinGemm(
  heap: ArrayBuffer,
  path: GemmPath | 'auto',
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  aOffset: number,
  lda: number,
  bOffset: number,
  ldb: number,
  beta: number,
  cOffset: number,
  ldc: number,
): void {
  loadAddon().gemm(
    heap,
    1,
    path,
    transA ? 1 : 0,
    transB ? 1 : 0,
    m,
    n,
    k,
    alpha,
    aOffset,
    lda,
    bOffset,
    ldb,
    beta,
    cOffset,
    ldc,
  );
}

/** What this CPU allows the built-in SGEMM, and how the addon was built. */
export interface CpuGemmSupport {
  /** 'x64', 'arm64' or 'other' (the addon's compile target). */
  readonly arch: string;
  readonly avx2: boolean;
  readonly fma: boolean;
  readonly avx512f: boolean;
  /** The built-in's paths this CPU (and OS) can run, portable first. */
  readonly gemmPaths: readonly GemmPath[];
  /** The one `'auto'` picks. */
  readonly bestPath: GemmPath;
  /** Register and cache blocking per allowed path: [MR, NR, MC, KC, NC]. */
  readonly blocking: Readonly<Partial<Record<GemmPath, readonly number[]>>>;
  /** The compiler that built the addon ("gcc 12.2.0"). */
  readonly compiler: string;
  /** How the built-in's paths are compiled. */
  readonly flags: string;
}

/** Compile flags of the built-in SGEMM (binding.gyp plus the per-function target attributes). */
export const BUILTIN_GEMM_FLAGS =
  '-O3 -std=c11; avx2 path __attribute__((target("avx2,fma"))), avx512 path target("avx512f"); portable path the compiler\'s default ISA';

/** CPU features and built-in SGEMM paths (loads the addon; throws when it is not built). */
export function cpuGemmSupport(): CpuGemmSupport {
  const g = loadAddon().gemmInfo();
  return {
    arch: g.arch,
    avx2: g.avx2,
    fma: g.fma,
    avx512f: g.avx512f,
    gemmPaths: g.paths,
    bestPath: g.best,
    blocking: g.blocking,
    compiler: g.compiler,
    flags: BUILTIN_GEMM_FLAGS,
  };
}

/** Everything `stepcoder doctor` reports about the native kernels. */
export interface NativeDiagnostics {
  /** The compiled addon: where it is expected, whether it loaded, why not. */
  readonly addon: { readonly path: string; readonly loaded: boolean; readonly error?: string };
  /** CPU features and the built-in's allowed paths (null when the addon is not loaded). */
  readonly cpu: CpuGemmSupport | null;
  /** The GEMM in use (null when none is loaded). */
  readonly gemm:
    | (GemmLibrary & {
        /** BLAS threads (1 for the built-in; -1 when the library cannot say). */
        readonly threads: number;
        /** Why this one: "first optimised BLAS that loaded", "no optimised BLAS found", "STEPCODER_BLAS=builtin", … */
        readonly reason: string;
      })
    | null;
  /** Every library the last load tried, in order, with the loader's error for each failure. */
  readonly tried: readonly GemmAttempt[];
  /** One line: "built-in SGEMM, AVX-512F, 1 thread" / "OpenBLAS 0.3.21 Haswell, 1 BLAS thread". */
  readonly summary: string;
}

/** "OpenBLAS 0.3.21 Haswell, 1 BLAS thread" or "built-in SGEMM, AVX-512F, 1 thread". */
export function describeGemm(library: GemmLibrary, threads: number): string {
  if (library.kind === 'builtin') return `${library.name}, 1 thread`;
  const t = threads === -1 ? 'library-chosen' : String(threads);
  return `${library.name}, ${t} BLAS thread${threads === 1 ? '' : 's'}`;
}

/**
 * Diagnostics for `stepcoder doctor`: the addon, the CPU's SIMD paths, the GEMM in use and
 * every library tried. When no GEMM has been loaded in this process yet, it runs
 * `loadNativeKernels(options)` first (errors are reported, not thrown), so a fresh process
 * gets the same answer `initBackend` would.
 */
export function nativeDiagnostics(options: LoadNativeKernelsOptions = {}): NativeDiagnostics {
  if (!lastTried) {
    try {
      loadNativeKernels(options);
    } catch {
      // reported below
    }
  }
  const path = addonPath();
  const cpu = addon ? cpuGemmSupport() : null;
  const addonInfo = addon
    ? { path, loaded: true }
    : { path, loaded: false, error: addonError ?? 'not loaded' };
  if (!lastChoice) {
    return {
      addon: addonInfo,
      cpu,
      gemm: null,
      tried: lastTried ?? [],
      summary: addon
        ? 'no GEMM loaded'
        : `no native kernels (addon ${existsSync(path) ? 'failed to load' : 'not built'})`,
    };
  }
  const threads = lastChoice.threads();
  return {
    addon: addonInfo,
    cpu,
    gemm: { ...lastChoice.library, threads, reason: lastChoice.reason },
    tried: lastTried ?? lastChoice.tried,
    summary: describeGemm(lastChoice.library, threads),
  };
}
