import { StepcoderError } from '@stepcoder/core';
import type { NativeDiagnostics, NativeKernels } from '@stepcoder/native-kernels';
import * as tf from '@tensorflow/tfjs-core';

/*
 * Native kernels for the wasm backend (optional peer `@stepcoder/native-kernels`): tfjs's
 * BatchMatMul and Transpose on wasm are replaced by native calls that read and write the tensors
 * in place in the wasm heap (BLAS sgemm/sgemv, a strided copy), a few fused kernels are added
 * (Conv1D, LayerNorm, GELU, head split, decode attention), and `createAdamOptimizer` applies Adam
 * in one native pass per variable. Every other kernel stays wasm. Why: a GPT2_MINI training step
 * (README, Benchmark) is GEMM-bound, and wasm's 128-bit SIMD without FMA caps XNNPACK at ~36
 * GFLOP/s on one core here against OpenBLAS's ~190; wasm's Transpose and 5-D SplitV take generic
 * per-element paths.
 */

/** What `@stepcoder/native-kernels` exports (an optional peer, imported at run time). */
export interface NativeKernelsModule {
  loadNativeKernels(options?: NativeKernelOptions): NativeKernels;
  /** Absent from older builds of the package. */
  nativeDiagnostics?(options?: NativeKernelOptions): NativeDiagnostics;
}

export interface NativeKernelOptions {
  /**
   * BLAS library path or soname, or 'builtin' for the package's built-in SGEMM; default env
   * STEPCODER_BLAS, else OpenBLAS/MKL/BLIS by name, else the built-in SGEMM.
   */
  library?: string;
  /** BLAS threads; default env STEPCODER_BLAS_THREADS, else 1 (the built-in SGEMM runs 1). */
  threads?: number;
  /** The built-in SGEMM's code path; default env STEPCODER_GEMM_PATH, else 'auto' (best for this CPU). */
  gemmPath?: 'auto' | 'portable' | 'avx2' | 'avx512';
}

export interface NativeKernelsInfo {
  /** The BLAS file, or 'builtin'. */
  library: string;
  config: string | null;
  /** 'blas' (a dlopen'd BLAS) or 'builtin' (the package's own SGEMM). */
  kind: 'blas' | 'builtin';
  /** The built-in SGEMM's code path (null for a BLAS). */
  gemmPath: string | null;
  threads: number;
  /**
   * One line for logs: "native kernels (OpenBLAS 0.3.21 Haswell, 1 BLAS thread)" or
   * "native kernels (built-in SGEMM, AVX-512F, 1 thread)".
   */
  describe: string;
}

/** The slice of tfjs-backend-wasm's BackendWasm the kernels use (stable across 4.x). */
export interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

let handle: NativeKernels | undefined;
let info: NativeKernelsInfo | undefined;
let originalBatchMatMul: tf.KernelConfig | undefined;
let originalTranspose: tf.KernelConfig | undefined;

/** True while BatchMatMul on wasm is the native one. */
export function nativeGemmActive(): boolean {
  return originalBatchMatMul !== undefined && tf.getBackend() === 'wasm';
}

/** The loaded native kernels while active (for `createAdamOptimizer`), else undefined. */
export function activeNativeKernels(): NativeKernels | undefined {
  return originalBatchMatMul ? handle : undefined;
}

export function nativeKernelsInfo(): NativeKernelsInfo | undefined {
  return originalBatchMatMul ? info : undefined;
}

export function wasmInternals(backend: unknown): WasmBackendInternals {
  return backend as WasmBackendInternals;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: unknown, t: { dataId: object }): number {
  const entry = wasmInternals(backend).dataIdMap.get(t.dataId);
  if (!entry) throw new StepcoderError('NOT_READY', 'tensor data is not on the wasm backend (disposed?)');
  return entry.memoryOffset;
}

function product(shape: readonly number[]): number {
  return shape.reduce((x, y) => x * y, 1);
}

function makeBatchMatMul(native: NativeKernels, fallback: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ar = a.shape.length;
    const br = b.shape.length;
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const countA = product(batchA);
    const countB = product(batchB);
    // General broadcasting ([2,1,m,k]·[1,3,k,n]) and non-float inputs keep wasm's own kernel.
    const sameBatch =
      countA === countB && batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
    if (
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      ar < 2 ||
      br < 2 ||
      !(sameBatch || (countA === 1 && ar === 2) || (countB === 1 && br === 2))
    ) {
      return fallback.kernelFunc(args);
    }
    const m = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
    const k = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
    const kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!;
    const n = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!;
    if (k !== kb) {
      throw new Error(
        `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
      );
    }
    const batch = Math.max(countA, countB);
    // A rank-2 operand broadcasts over the other's batch dims ([k, n] · [1, m, k] → [1, m, n]).
    const outShape = [...(ar === 2 ? batchB : batchA), m, n];
    const backend = wasmInternals(args.backend);
    const out = backend.makeOutput(outShape, 'float32');
    // The heap's buffer is read after makeOutput: an allocation may have grown (replaced) it.
    native.sgemm(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      batch,
      m,
      n,
      k,
      transposeA,
      transposeB,
      heapOffset(backend, a),
      countA === 1 ? 0 : m * k * 4,
      heapOffset(backend, b),
      countB === 1 ? 0 : k * n * 4,
      heapOffset(backend, out),
      m * n * 4,
    );
    return out;
  };
}

/**
 * wasm's Transpose takes a generic per-element path for rank > 2 permutations: the attention
 * head split [B,T,3,H,hd] → [3,B,H,T,hd] of GPT2_MINI took ~6 ms for 147k floats, and the 24
 * such transposes of a 2×64 training step were 47% of its kernel time once GEMM was native.
 */
function makeTranspose(native: NativeKernels, fallback: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { perm } = args.attrs as { perm: number[] };
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length > 8 || x.shape.length === 0) {
      return fallback.kernelFunc(args);
    }
    const backend = wasmInternals(args.backend);
    const out = backend.makeOutput(
      perm.map((p) => x.shape[p]!),
      x.dtype,
    );
    native.transpose(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      x.shape,
      perm,
      heapOffset(backend, x),
      heapOffset(backend, out),
    );
    return out;
  };
}

/** Kernel names of the fused ops (not tfjs kernels: registered for wasm while native is on). */
export const FUSED_KERNELS = {
  linear: 'StepcoderLinear',
  layerNorm: 'StepcoderLayerNorm',
  gelu: 'StepcoderGelu',
  attendOne: 'StepcoderAttendOne',
  splitHeads: 'StepcoderSplitHeads',
  rmsNorm: 'StepcoderRmsNorm',
  ropeSplit: 'StepcoderRopeSplit',
  ropeMerge: 'StepcoderRopeMerge',
  swiglu: 'StepcoderSwiglu',
} as const;

/**
 * x [N, K] · w [K, M] + b [M] (+ r [N, M], a residual) as one GEMM with β = 1 over the
 * broadcast bias and the residual.
 */
function makeLinear(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { x, w, b, r } = args.inputs as {
      x: tf.TensorInfo;
      w: tf.TensorInfo;
      b: tf.TensorInfo;
      r?: tf.TensorInfo;
    };
    const [n, k] = x.shape as [number, number];
    const m = w.shape[1]!;
    const backend = wasmInternals(args.backend);
    const out = backend.makeOutput([n, m], 'float32');
    native.sgemm(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      1,
      n,
      m,
      k,
      false,
      false,
      heapOffset(backend, x),
      0,
      heapOffset(backend, w),
      0,
      heapOffset(backend, out),
      0,
      heapOffset(backend, b),
      r ? heapOffset(backend, r) : -1,
    );
    return out;
  };
}

/**
 * qkv [B·T, 3·H·hd] → q [B,H,T,hd], k and v [B,H,P+T,hd] with the cached pastK/pastV
 * [B,H,P,hd] first (when given): the head split, its transpose and the KV-cache concat in one
 * kernel instead of ~8 per layer.
 */
function makeSplitHeads(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { qkv, pastK, pastV } = args.inputs as Record<'qkv' | 'pastK' | 'pastV', tf.TensorInfo | undefined>;
    const { batch, tokens, heads } = args.attrs as { batch: number; tokens: number; heads: number };
    const hd = qkv!.shape[1]! / (3 * heads);
    const past = pastK ? pastK.shape[2]! : 0;
    const backend = wasmInternals(args.backend);
    const q = backend.makeOutput([batch, heads, tokens, hd], 'float32');
    const k = backend.makeOutput([batch, heads, past + tokens, hd], 'float32');
    const v = backend.makeOutput([batch, heads, past + tokens, hd], 'float32');
    native.splitHeads(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      batch,
      tokens,
      heads,
      hd,
      past,
      heapOffset(backend, qkv!),
      pastK ? heapOffset(backend, pastK) : 0,
      pastV ? heapOffset(backend, pastV) : 0,
      heapOffset(backend, q),
      heapOffset(backend, k),
      heapOffset(backend, v),
    );
    return [q, k, v];
  };
}

/** LayerNorm over the last axis; with `stats`, also x̂ (x's shape) and rstd (x's shape, last axis 1). */
function makeLayerNorm(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { x, g, b } = args.inputs as { x: tf.TensorInfo; g: tf.TensorInfo; b: tf.TensorInfo };
    const { eps, stats } = args.attrs as { eps: number; stats: boolean };
    const d = x.shape[x.shape.length - 1]!;
    const rows = product(x.shape) / d;
    const backend = wasmInternals(args.backend);
    const y = backend.makeOutput([...x.shape], 'float32');
    const xhat = stats ? backend.makeOutput([...x.shape], 'float32') : undefined;
    const rstd = stats ? backend.makeOutput([...x.shape.slice(0, -1), 1], 'float32') : undefined;
    native.layerNorm(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      rows,
      d,
      eps,
      heapOffset(backend, x),
      heapOffset(backend, g),
      heapOffset(backend, b),
      heapOffset(backend, y),
      xhat ? heapOffset(backend, xhat) : -1,
      rstd ? heapOffset(backend, rstd) : -1,
    );
    return xhat && rstd ? [y, xhat, rstd] : y;
  };
}

/** gelu_new; with `withSigmoid`, also σ(2u) for the backward pass. */
function makeGelu(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { withSigmoid } = args.attrs as { withSigmoid: boolean };
    const backend = wasmInternals(args.backend);
    const y = backend.makeOutput([...x.shape], 'float32');
    const s = withSigmoid ? backend.makeOutput([...x.shape], 'float32') : undefined;
    native.gelu(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      product(x.shape),
      heapOffset(backend, x),
      heapOffset(backend, y),
      s ? heapOffset(backend, s) : -1,
    );
    return s ? [y, s] : y;
  };
}

/**
 * KV-cache decoding attention: q [B,H,1,hd] over K, V [B,H,S,hd] with an additive bias
 * [1 or B, S]; out has q's shape. Replaces ~10 kernels per layer per generated token.
 */
function makeAttendOne(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { q, k, v, bias } = args.inputs as Record<'q' | 'k' | 'v' | 'bias', tf.TensorInfo>;
    const { scale, kvHeads } = args.attrs as { scale: number; kvHeads?: number };
    const [b, h, , hd] = q.shape as [number, number, number, number];
    const s = k.shape[2]!;
    const backend = wasmInternals(args.backend);
    const out = backend.makeOutput([...q.shape], 'float32');
    native.attendOne(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      b,
      h,
      s,
      hd,
      scale,
      heapOffset(backend, q),
      heapOffset(backend, k),
      heapOffset(backend, v),
      heapOffset(backend, bias),
      bias.shape[0]!,
      heapOffset(backend, out),
      kvHeads ?? h,
    );
    return out;
  };
}

/** RMSNorm over the last axis; with `stats`, also x̂ (x's shape) and r (x's shape, last axis 1). */
function makeRmsNorm(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { x, g } = args.inputs as { x: tf.TensorInfo; g: tf.TensorInfo };
    const { eps, stats } = args.attrs as { eps: number; stats: boolean };
    const d = x.shape[x.shape.length - 1]!;
    const backend = wasmInternals(args.backend);
    const y = backend.makeOutput([...x.shape], 'float32');
    const xhat = stats ? backend.makeOutput([...x.shape], 'float32') : undefined;
    const rstd = stats ? backend.makeOutput([...x.shape.slice(0, -1), 1], 'float32') : undefined;
    native.rmsNorm(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      product(x.shape) / d,
      d,
      eps,
      heapOffset(backend, x),
      heapOffset(backend, g),
      heapOffset(backend, y),
      xhat ? heapOffset(backend, xhat) : -1,
      rstd ? heapOffset(backend, rstd) : -1,
    );
    return xhat && rstd ? [y, xhat, rstd] : y;
  };
}

/**
 * y [B·T, H·hd] → [B,H,P+T,hd]: rotary embedding (cos/sin [B,T,(1,)hd]; `rotate: false` copies),
 * head transpose and the cached positions `past` [B,H,P,hd] first, in one pass.
 */
function makeRopeSplit(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { y, cos, sin, past } = args.inputs as Record<
      'y' | 'cos' | 'sin' | 'past',
      tf.TensorInfo | undefined
    >;
    const { batch, tokens, heads, rotate } = args.attrs as {
      batch: number;
      tokens: number;
      heads: number;
      rotate: boolean;
    };
    const hd = y!.shape[1]! / heads;
    const p = past ? past.shape[2]! : 0;
    const backend = wasmInternals(args.backend);
    const out = backend.makeOutput([batch, heads, p + tokens, hd], 'float32');
    native.ropeSplit(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      batch,
      tokens,
      heads,
      hd,
      p,
      heapOffset(backend, y!),
      rotate ? heapOffset(backend, cos!) : -1,
      rotate ? heapOffset(backend, sin!) : -1,
      past ? heapOffset(backend, past) : 0,
      heapOffset(backend, out),
    );
    return out;
  };
}

/** ropeSplit's gradient without a cache: d [B,H,T,hd] → [B·T, H·hd], rotated back. */
function makeRopeMerge(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { d, cos, sin } = args.inputs as Record<'d' | 'cos' | 'sin', tf.TensorInfo>;
    const { rotate } = args.attrs as { rotate: boolean };
    const [b, h, t, hd] = d.shape as [number, number, number, number];
    const backend = wasmInternals(args.backend);
    const out = backend.makeOutput([b * t, h * hd], 'float32');
    native.ropeMerge(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      b,
      t,
      h,
      hd,
      heapOffset(backend, d),
      rotate ? heapOffset(backend, cos) : -1,
      rotate ? heapOffset(backend, sin) : -1,
      heapOffset(backend, out),
    );
    return out;
  };
}

/** silu(g)·u; with `saved`, also σ(g) and silu(g) for the backward pass. */
function makeSwiglu(native: NativeKernels): tf.KernelFunc {
  return (args) => {
    const { g, u } = args.inputs as { g: tf.TensorInfo; u: tf.TensorInfo };
    const { saved } = args.attrs as { saved: boolean };
    const backend = wasmInternals(args.backend);
    const y = backend.makeOutput([...g.shape], 'float32');
    const s = saved ? backend.makeOutput([...g.shape], 'float32') : undefined;
    const silu = saved ? backend.makeOutput([...g.shape], 'float32') : undefined;
    native.swiglu(
      backend.wasm.HEAPU8.buffer as ArrayBuffer,
      product(g.shape),
      heapOffset(backend, g),
      heapOffset(backend, u),
      heapOffset(backend, y),
      s ? heapOffset(backend, s) : -1,
      silu ? heapOffset(backend, silu) : -1,
    );
    return s && silu ? [y, s, silu] : y;
  };
}

/** True when the fused kernels can run: native on, wasm active, all inputs float32. */
export function fusedKernelsActive(...inputs: tf.Tensor[]): boolean {
  return nativeGemmActive() && inputs.every((t) => t.dtype === 'float32');
}

/** Run a fused kernel (only while `fusedKernelsActive()`). */
export function runFused(
  name: (typeof FUSED_KERNELS)[keyof typeof FUSED_KERNELS],
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, number | boolean> = {},
): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as
    | tf.Tensor
    | tf.Tensor[];
}

/**
 * Gradient of the head split (training, no cache): dq, dk, dv [B,H,T,hd] merged back to
 * [B·T, D] each (native transposes) and concatenated into dqkv [B·T, 3D].
 */
let splitHeadsGradientRegistered = false;
function registerSplitHeadsGradient(): void {
  if (splitHeadsGradientRegistered) return;
  tf.registerGradient({
    kernelName: FUSED_KERNELS.splitHeads,
    gradFunc: (dy, _saved, attrs) => {
      const { batch, tokens } = attrs as unknown as { batch: number; tokens: number };
      const parts = dy as tf.Tensor[];
      return {
        qkv: () =>
          tf.concat(
            parts.map((g) => tf.reshape(tf.transpose(g, [0, 2, 1, 3]), [batch * tokens, -1])),
            1,
          ),
      };
    },
  });
  splitHeadsGradientRegistered = true;
}

/**
 * Gradient of ropeSplit in training (no cache): the inverse rotation and head merge, one native
 * pass. cos/sin are functions of the positions (constants): their gradients are never taken.
 */
let ropeSplitGradientRegistered = false;
function registerRopeSplitGradient(): void {
  if (ropeSplitGradientRegistered) return;
  tf.registerGradient({
    kernelName: FUSED_KERNELS.ropeSplit,
    inputsToSave: ['cos', 'sin'],
    gradFunc: (dy, saved, attrs) => {
      const [cos, sin] = saved as [tf.Tensor, tf.Tensor];
      const { rotate } = attrs as unknown as { rotate: boolean };
      return {
        y: () => runFused(FUSED_KERNELS.ropeMerge, { d: dy as tf.Tensor, cos, sin }, { rotate }) as tf.Tensor,
        cos: () => tf.zerosLike(cos),
        sin: () => tf.zerosLike(sin),
      };
    },
  });
  ropeSplitGradientRegistered = true;
}

/** True when the Llama fused kernels (RMSNorm, RoPE, SwiGLU) are registered: native on and a recent addon. */
export function llamaKernelsActive(...inputs: tf.Tensor[]): boolean {
  return fusedKernelsActive(...inputs) && tf.getKernel(FUSED_KERNELS.rmsNorm, 'wasm') !== undefined;
}

async function importNativeModule(): Promise<NativeKernelsModule> {
  const pkg = '@stepcoder/native-kernels';
  try {
    return (await import(/* @vite-ignore */ pkg)) as NativeKernelsModule;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new StepcoderError(
      'BACKEND_UNAVAILABLE',
      missing ? `${pkg} not installed` : `${pkg} failed to import: ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

/**
 * Route the wasm backend's BatchMatMul through a native BLAS and enable the native Adam step.
 * The wasm backend must be active. Throws `StepcoderError('BACKEND_UNAVAILABLE')` with the reason
 * when the addon or a BLAS is missing; idempotent (a second call only changes the thread count).
 */
export async function enableNativeKernels(
  options: NativeKernelOptions = {},
  module?: NativeKernelsModule,
): Promise<NativeKernelsInfo> {
  if (tf.getBackend() !== 'wasm') {
    throw new StepcoderError(
      'BACKEND_UNAVAILABLE',
      `native kernels plug into the wasm backend; the active backend is '${tf.getBackend()}'`,
    );
  }
  const mod = module ?? (await importNativeModule());
  const native = mod.loadNativeKernels(options);
  handle = native;
  if (!originalBatchMatMul) {
    const original = tf.getKernel('BatchMatMul', 'wasm');
    if (!original)
      throw new StepcoderError('BACKEND_UNAVAILABLE', 'wasm backend has no BatchMatMul kernel to replace');
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({
      kernelName: 'BatchMatMul',
      backendName: 'wasm',
      kernelFunc: makeBatchMatMul(native, original),
    });
    const transpose = tf.getKernel('Transpose', 'wasm');
    if (transpose) {
      tf.unregisterKernel('Transpose', 'wasm');
      tf.registerKernel({
        kernelName: 'Transpose',
        backendName: 'wasm',
        kernelFunc: makeTranspose(native, transpose),
      });
      originalTranspose = transpose;
    }
    tf.registerKernel({
      kernelName: FUSED_KERNELS.linear,
      backendName: 'wasm',
      kernelFunc: makeLinear(native),
    });
    tf.registerKernel({
      kernelName: FUSED_KERNELS.layerNorm,
      backendName: 'wasm',
      kernelFunc: makeLayerNorm(native),
    });
    tf.registerKernel({ kernelName: FUSED_KERNELS.gelu, backendName: 'wasm', kernelFunc: makeGelu(native) });
    tf.registerKernel({
      kernelName: FUSED_KERNELS.attendOne,
      backendName: 'wasm',
      kernelFunc: makeAttendOne(native),
    });
    tf.registerKernel({
      kernelName: FUSED_KERNELS.splitHeads,
      backendName: 'wasm',
      kernelFunc: makeSplitHeads(native),
    });
    registerSplitHeadsGradient();
    // Llama's: older builds of the addon lack them, and then the Llama forward keeps tfjs ops.
    if (typeof native.rmsNorm === 'function') {
      for (const [kernelName, make] of [
        [FUSED_KERNELS.rmsNorm, makeRmsNorm],
        [FUSED_KERNELS.ropeSplit, makeRopeSplit],
        [FUSED_KERNELS.ropeMerge, makeRopeMerge],
        [FUSED_KERNELS.swiglu, makeSwiglu],
      ] as const)
        tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: make(native) });
      registerRopeSplitGradient();
    }
    originalBatchMatMul = original;
  }
  const threads = native.threads();
  const lib = native.library;
  let name = lib.name;
  if (!name) {
    // An older build of the package without `name`: "OpenBLAS 0.3.21 NO_LAPACKE … Haswell MAX_THREADS=64" → "OpenBLAS 0.3.21 Haswell".
    name = lib.config
      ? lib.config
          .split(/\s+/)
          .filter((w) => !/^(NO_|USE_|DYNAMIC_|MAX_|SMP|OPENMP)/.test(w))
          .join(' ')
      : (lib.path.split('/').pop() ?? lib.path);
  }
  const kind = lib.kind ?? 'blas';
  const threadNote =
    kind === 'builtin'
      ? '1 thread'
      : `${threads === -1 ? 'library-chosen' : threads} BLAS thread${threads === 1 ? '' : 's'}`;
  info = {
    library: lib.path,
    config: lib.config,
    kind,
    gemmPath: lib.gemmPath ?? null,
    threads,
    describe: `native kernels (${name}, ${threadNote})`,
  };
  return info;
}

/**
 * What `stepcoder doctor` shows about the native kernels: `@stepcoder/native-kernels`'s
 * `nativeDiagnostics()` (the addon, the CPU's SIMD paths for the built-in SGEMM, the GEMM in use
 * and every library tried with its loader error), or why the package cannot be imported.
 */
export async function nativeKernelsDiagnostics(
  options: NativeKernelOptions = {},
): Promise<{ installed: true; diagnostics: NativeDiagnostics } | { installed: false; error: string }> {
  try {
    const mod = await importNativeModule();
    if (!mod.nativeDiagnostics)
      return { installed: false, error: 'this @stepcoder/native-kernels has no nativeDiagnostics()' };
    return { installed: true, diagnostics: mod.nativeDiagnostics(options) };
  } catch (err) {
    return { installed: false, error: (err as Error).message };
  }
}

/** Put wasm's own BatchMatMul back (benchmarks compare both in one process). */
export function disableNativeKernels(): void {
  if (!originalBatchMatMul) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(originalBatchMatMul);
  originalBatchMatMul = undefined;
  for (const name of Object.values(FUSED_KERNELS))
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  if (originalTranspose) {
    tf.unregisterKernel('Transpose', 'wasm');
    tf.registerKernel(originalTranspose);
    originalTranspose = undefined;
  }
  info = undefined;
}
