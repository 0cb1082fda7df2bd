import { StepcoderError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BLAS_LIBRARIES, loadNativeKernels } from '../src/index.js';

/*
 * The addon on plain ArrayBuffers against straightforward JavaScript references (float64 sums,
 * float32 rounding with Math.fround where the kernel promises tfjs's float32 arithmetic).
 * CI installs OpenBLAS (libopenblas0-pthread).
 */

const native = loadNativeKernels();

/** A heap with float32 views at byte offsets, filled from a seeded LCG. */
function heapWith(
  sizes: number[],
  seed = 1,
): { heap: ArrayBuffer; offsets: number[]; views: Float32Array[] } {
  const offsets: number[] = [];
  let at = 64; // not 0: offsets are real offsets
  for (const n of sizes) {
    offsets.push(at);
    at += n * 4 + 16;
  }
  const heap = new ArrayBuffer(at);
  let s = seed >>> 0;
  const views = sizes.map((n, i) => {
    const v = new Float32Array(heap, offsets[i]!, n);
    for (let j = 0; j < n; j++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      v[j] = s / 2 ** 31 - 1;
    }
    return v;
  });
  return { heap, offsets, views };
}

function refGemm(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s += (ta ? a[p * m + i]! : a[i * k + p]!) * (tb ? b[j * k + p]! : b[p * n + j]!);
      out.push(s);
    }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > tol * (1 + Math.abs(expected[i]!))) {
      throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]}`);
    }
  }
}

describe('@stepcoder/native-kernels', () => {
  it('loads an optimised BLAS and sets its thread count', () => {
    expect(native.library.path).toMatch(/openblas|mkl|blis|Accelerate/i);
    expect(native.threads()).toBe(1);
    native.setThreads(2);
    expect(native.threads()).toBe(2);
    native.setThreads(1);
    expect(() => native.setThreads(0)).toThrow(StepcoderError);
    expect(DEFAULT_BLAS_LIBRARIES).not.toContain('libblas.so.3');
  });

  it('sgemm: all transpose flags, batches with strides, broadcast operands and a fused bias (m = 1 is a GEMV)', () => {
    for (const [m, n, k, batch] of [
      [5, 4, 3, 3],
      [1, 6, 5, 2],
    ] as const)
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const { heap, offsets, views } = heapWith([batch * m * k, k * n, batch * m * n, n], 7);
          const [A, B, C, bias] = views as [Float32Array, Float32Array, Float32Array, Float32Array];
          // B broadcast (stride 0), bias added to every row.
          native.sgemm(
            heap,
            batch,
            m,
            n,
            k,
            ta,
            tb,
            offsets[0]!,
            m * k * 4,
            offsets[1]!,
            0,
            offsets[2]!,
            m * n * 4,
            offsets[3],
          );
          for (let i = 0; i < batch; i++) {
            const ref = refGemm(A.subarray(i * m * k, (i + 1) * m * k), B, m, n, k, ta, tb).map(
              (x, j) => x + bias[j % n]!,
            );
            expectClose(C.subarray(i * m * n, (i + 1) * m * n), ref, 1e-5);
          }
        }
  });

  it('sgemm adds a residual (which may be C itself) and the bias', () => {
    const [m, n, k] = [3, 4, 2];
    const { heap, offsets, views } = heapWith([m * k, k * n, m * n, n, m * n], 5);
    const [A, B, C, bias, R] = views as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const product = refGemm(A, B, m, n, k, false, false);
    native.sgemm(
      heap,
      1,
      m,
      n,
      k,
      false,
      false,
      offsets[0]!,
      0,
      offsets[1]!,
      0,
      offsets[2]!,
      0,
      offsets[3],
      offsets[4],
    );
    expectClose(
      C,
      product.map((x, i) => x + R[i]! + bias[i % n]!),
      1e-5,
    );
    // In place: C ← A·B + C (no bias).
    const before = Array.from(C);
    native.sgemm(
      heap,
      1,
      m,
      n,
      k,
      false,
      false,
      offsets[0]!,
      0,
      offsets[1]!,
      0,
      offsets[2]!,
      0,
      -1,
      offsets[2],
    );
    expectClose(
      C,
      product.map((x, i) => x + before[i]!),
      1e-5,
    );
  });

  it('splitHeads splits qkv into heads and appends k, v to the cache', () => {
    const [B, T, H, hd, P] = [2, 3, 2, 4, 2];
    const D = H * hd;
    for (const past of [0, P]) {
      const S = past + T;
      const { heap, offsets, views } = heapWith(
        [B * T * 3 * D, B * H * P * hd, B * H * P * hd, B * H * T * hd, B * H * S * hd, B * H * S * hd],
        9,
      );
      const [qkv, pk, pv, q, k, v] = views as Float32Array[] as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      native.splitHeads(
        heap,
        B,
        T,
        H,
        hd,
        past,
        offsets[0]!,
        offsets[1]!,
        offsets[2]!,
        offsets[3]!,
        offsets[4]!,
        offsets[5]!,
      );
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          for (let j = 0; j < hd; j++) {
            for (let t = 0; t < T; t++) {
              const src = (b * T + t) * 3 * D + h * hd + j;
              expect(q[((b * H + h) * T + t) * hd + j]).toBe(qkv[src]);
              expect(k[((b * H + h) * S + past + t) * hd + j]).toBe(qkv[src + D]);
              expect(v[((b * H + h) * S + past + t) * hd + j]).toBe(qkv[src + 2 * D]);
            }
            for (let s = 0; s < past; s++) {
              expect(k[((b * H + h) * S + s) * hd + j]).toBe(pk[((b * H + h) * P + s) * hd + j]);
              expect(v[((b * H + h) * S + s) * hd + j]).toBe(pv[((b * H + h) * P + s) * hd + j]);
            }
          }
    }
  });

  it('sgemm with k = 0 writes zeros (or the bias)', () => {
    const { heap, offsets, views } = heapWith([1, 1, 6, 3]);
    native.sgemm(heap, 1, 2, 3, 0, false, false, offsets[0]!, 0, offsets[1]!, 0, offsets[2]!, 0);
    expect(Array.from(views[2]!)).toEqual([0, 0, 0, 0, 0, 0]);
    native.sgemm(heap, 1, 2, 3, 0, false, false, offsets[0]!, 0, offsets[1]!, 0, offsets[2]!, 0, offsets[3]);
    expect(Array.from(views[2]!)).toEqual([...views[3]!, ...views[3]!]);
  });

  it('refuses operands outside the buffer or misaligned, before touching memory', () => {
    const { heap, offsets, views } = heapWith([6, 6, 4]);
    const before = views[2]!.slice();
    expect(() =>
      native.sgemm(heap, 1, 2, 2, 3, false, false, offsets[0]!, 0, offsets[1]!, 0, heap.byteLength - 4, 0),
    ).toThrow(/outside the buffer/);
    expect(() =>
      native.sgemm(heap, 2, 2, 2, 3, false, false, offsets[0]!, 4096, offsets[1]!, 0, offsets[2]!, 0),
    ).toThrow(/outside the buffer/);
    expect(() =>
      native.sgemm(heap, 1, 2, 2, 3, false, false, offsets[0]! + 2, 0, offsets[1]!, 0, offsets[2]!, 0),
    ).toThrow(/misaligned/);
    expect(() => native.transpose(heap, [2, 3], [0, 0], offsets[0]!, offsets[1]!)).toThrow(/permutation/);
    expect(() =>
      native.adam(
        heap,
        1e6,
        offsets[0]!,
        offsets[1]!,
        offsets[2]!,
        offsets[0]!,
        0.1,
        0.9,
        0.999,
        1e-8,
        0.9,
        0.999,
      ),
    ).toThrow(/outside the buffer/);
    expect(Array.from(views[2]!)).toEqual(Array.from(before));
  });

  it('transpose equals an index-by-index permutation (ranks 1–5)', () => {
    const cases: Array<[number[], number[]]> = [
      [[7], [0]],
      [
        [3, 4],
        [1, 0],
      ],
      [
        [2, 3, 4],
        [1, 2, 0],
      ],
      [
        [2, 4, 3, 2, 5],
        [2, 0, 3, 1, 4],
      ],
      [
        [2, 3, 4, 5],
        [3, 1, 0, 2],
      ],
    ];
    for (const [shape, perm] of cases) {
      const size = shape.reduce((a, b) => a * b, 1);
      const { heap, offsets, views } = heapWith([size, size]);
      native.transpose(heap, shape, perm, offsets[0]!, offsets[1]!);
      const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const outShape = perm.map((p) => shape[p]!);
      const expected: number[] = [];
      const idx = outShape.map(() => 0);
      for (let o = 0; o < size; o++) {
        expected.push(views[0]![idx.reduce((s, v, d) => s + v * strides[perm[d]!]!, 0)]!);
        for (let d = outShape.length - 1; d >= 0; d--) {
          if (++idx[d]! < outShape[d]!) break;
          idx[d] = 0;
        }
      }
      expect(Array.from(views[1]!), `${shape} / ${perm}`).toEqual(expected);
    }
  });

  it('layerNorm and gelu match their definitions; optional outputs are skipped', () => {
    const [rows, d] = [3, 10];
    const { heap, offsets, views } = heapWith([rows * d, d, d, rows * d, rows * d, rows, rows * d, rows * d]);
    const [x, g, b, y, xhat, rstd, gy, gs] = views as Float32Array[] as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    native.layerNorm(
      heap,
      rows,
      d,
      1e-5,
      offsets[0]!,
      offsets[1]!,
      offsets[2]!,
      offsets[3]!,
      offsets[4]!,
      offsets[5]!,
    );
    for (let r = 0; r < rows; r++) {
      const xr = Array.from(x.subarray(r * d, (r + 1) * d));
      const mean = xr.reduce((s, v) => s + v, 0) / d;
      const variance = xr.reduce((s, v) => s + (v - mean) ** 2, 0) / d;
      const rs = 1 / Math.sqrt(variance + 1e-5);
      expect(rstd[r]).toBeCloseTo(rs, 4);
      expectClose(
        xhat.subarray(r * d, (r + 1) * d),
        xr.map((v) => (v - mean) * rs),
        1e-5,
      );
      expectClose(
        y.subarray(r * d, (r + 1) * d),
        xr.map((v, j) => (v - mean) * rs * g[j]! + b[j]!),
        1e-5,
      );
    }
    const rstdBefore = rstd.slice();
    native.layerNorm(heap, rows, d, 1e-5, offsets[0]!, offsets[1]!, offsets[2]!, offsets[3]!, -1, -1);
    expect(Array.from(rstd)).toEqual(Array.from(rstdBefore));
    const sBefore = gs.slice();
    native.gelu(heap, rows * d, offsets[0]!, offsets[6]!, -1);
    expect(Array.from(gs)).toEqual(Array.from(sBefore));
    native.gelu(heap, rows * d, offsets[0]!, offsets[6]!, offsets[7]!);
    const c = Math.sqrt(2 / Math.PI);
    const ref = Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3))));
    expectClose(gy, ref, 1e-6);
    expectClose(
      gs,
      Array.from(x, (v) => 1 / (1 + Math.exp(-2 * c * (v + 0.044715 * v ** 3)))),
      1e-6,
    );
  });

  it('attendOne is softmax(q·Kᵀ·scale + bias)·V per batch and head, with a broadcast or per-row bias', () => {
    const [B, H, S, hd] = [2, 3, 5, 4];
    for (const biasBatch of [1, B]) {
      const { heap, offsets, views } = heapWith(
        [B * H * hd, B * H * S * hd, B * H * S * hd, biasBatch * S, B * H * hd],
        11,
      );
      const [q, K, V, bias] = views as [Float32Array, Float32Array, Float32Array, Float32Array];
      bias[1] = -1e9; // a masked key
      native.attendOne(
        heap,
        B,
        H,
        S,
        hd,
        0.5,
        offsets[0]!,
        offsets[1]!,
        offsets[2]!,
        offsets[3]!,
        biasBatch,
        offsets[4]!,
      );
      const expected: number[] = [];
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++) {
          const base = (b * H + h) * S * hd;
          const z = Array.from({ length: S }, (_, s) => {
            let dot = 0;
            for (let j = 0; j < hd; j++) dot += q[(b * H + h) * hd + j]! * K[base + s * hd + j]!;
            return dot * 0.5 + bias[(biasBatch === 1 ? 0 : b) * S + s]!;
          });
          const max = Math.max(...z);
          const e = z.map((x) => Math.exp(x - max));
          const total = e.reduce((x, y) => x + y, 0);
          for (let j = 0; j < hd; j++)
            expected.push(e.reduce((acc, p, s) => acc + (p / total) * V[base + s * hd + j]!, 0));
        }
      expectClose(views[4]!, expected, 1e-5);
    }
  });

  it('adam follows tfjs float32 arithmetic exactly', () => {
    const n = 50;
    const { heap, offsets, views } = heapWith([n, n, n, n], 3);
    const [x, g, m, v] = views as [Float32Array, Float32Array, Float32Array, Float32Array];
    m.fill(0);
    v.fill(0);
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
    const f = Math.fround;
    const ref = { x: Array.from(x), m: new Array(n).fill(0), v: new Array(n).fill(0) };
    let acc1 = f(b1);
    let acc2 = f(b2);
    for (let step = 0; step < 3; step++) {
      native.adam(heap, n, offsets[0]!, offsets[1]!, offsets[2]!, offsets[3]!, lr, b1, b2, eps, acc1, acc2);
      const d1 = f(1 - acc1);
      const d2 = f(1 - acc2);
      for (let i = 0; i < n; i++) {
        const gi = g[i]!;
        ref.m[i] = f(f(ref.m[i]! * f(b1)) + f(gi * f(1 - b1)));
        ref.v[i] = f(f(ref.v[i]! * f(b2)) + f(f(gi * gi) * f(1 - b2)));
        const upd = f(f(f(ref.m[i]! / d1) / f(f(Math.sqrt(f(ref.v[i]! / d2))) + f(eps))) * f(-lr));
        ref.x[i] = f(upd + ref.x[i]!);
      }
      acc1 = f(acc1 * f(b1));
      acc2 = f(acc2 * f(b2));
    }
    expect(Array.from(x)).toEqual(ref.x);
    expect(Array.from(m)).toEqual(ref.m);
    expect(Array.from(v)).toEqual(ref.v);
  });

  it('names every library it tried when none loads', () => {
    let error: unknown;
    try {
      loadNativeKernels({ library: '/nonexistent/libopenblas.so.0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StepcoderError);
    expect((error as StepcoderError).code).toBe('BACKEND_UNAVAILABLE');
    expect((error as Error).message).toMatch(/\/nonexistent\/libopenblas\.so\.0: dlopen failed/);
    // A real library without cblas_sgemm is refused by name.
    expect(() => loadNativeKernels({ library: 'libm.so.6' })).toThrow(
      /libm\.so\.6: the library has no cblas_sgemm symbol/,
    );
    // The process keeps the BLAS it had.
    expect(loadNativeKernels().library.path).toBe(native.library.path);
  });
});
