import { StepcoderError } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  builtinGemm,
  cpuGemmSupport,
  type GemmPath,
  loadNativeKernels,
  nativeDiagnostics,
} from '../src/index.js';
import { type Case, checkGemm as check, fill } from './gemm-check.js';

/*
 * The built-in SGEMM (native/gemm.c) on every code path this CPU allows, against a naive GEMM
 * accumulated in float64: odd shapes, K = 0, M or N = 1 (the GEMV path), leading dimensions
 * wider than the operands, offsets that are not multiples of the vector width, all four
 * transpose combinations and alpha/beta. Then the batched `sgemm` the model calls, with the
 * built-in selected, and the selection rules.
 */

const support = cpuGemmSupport();
const paths: readonly GemmPath[] = support.gemmPaths;

afterAll(() => {
  // Leave the process on the default GEMM for any file that runs after this one.
  loadNativeKernels();
});

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [7, 13, 5],
  [17, 33, 129],
  [1, 40, 70], // M = 1: the GEMV path
  [1, 37, 300],
  [40, 1, 70], // N = 1
  [5, 6, 0], // K = 0: C = beta·C
  [3, 64, 1],
  [29, 31, 33],
  [200, 70, 300], // more than one MC block and more than one KC slice
  [64, 96, 64],
];

describe('built-in SGEMM', () => {
  it('reports the paths this CPU allows', () => {
    expect(paths[0]).toBe('portable');
    expect(paths.includes('avx2')).toBe(support.avx2 && support.fma);
    expect(paths.includes('avx512')).toBe(support.avx512f);
    expect(paths).toContain(support.bestPath);
    expect(paths[paths.length - 1]).toBe(support.bestPath);
    for (const p of paths) expect(support.blocking[p]).toHaveLength(5);
    expect(support.compiler).toMatch(/gcc|clang/);
  });

  for (const path of paths) {
    it(`${path}: odd shapes, strides, offsets, all transposes, alpha and beta`, () => {
      let count = 0;
      for (const [m, n, k] of SHAPES)
        for (const ta of [false, true])
          for (const tb of [false, true])
            for (const [alpha, beta] of [
              [1, 0],
              [0.5, -2],
              [-1.25, 1],
            ] as const) {
              const c: Case = {
                m,
                n,
                k,
                ta,
                tb,
                alpha,
                beta,
                pad: [count % 3, (count + 1) % 5, (count + 2) % 4],
                shift: 4 + 4 * (count % 15), // never 64-byte aligned in a run of 16
              };
              check(
                c,
                (heap, aOff, lda, bOff, ldb, cOff, ldc) =>
                  builtinGemm(heap, path, ta, tb, m, n, k, alpha, aOff, lda, bOff, ldb, beta, cOff, ldc),
                `${path} ${m}×${n}×${k} ${ta ? 't' : 'n'}${tb ? 't' : 'n'} α=${alpha} β=${beta}`,
              );
              count++;
            }
      // A zero alpha only scales C.
      check(
        { m: 9, n: 10, k: 11, ta: false, tb: false, alpha: 0, beta: 0.5, pad: [1, 2, 3], shift: 8 },
        (heap, aOff, lda, bOff, ldb, cOff, ldc) =>
          builtinGemm(heap, path, false, false, 9, 10, 11, 0, aOff, lda, bOff, ldb, 0.5, cOff, ldc),
        `${path} alpha 0`,
      );
    });

    it(`${path}: the batched sgemm the model calls (strides, broadcast B, bias, residual, M = 1)`, () => {
      const k = loadNativeKernels({ library: 'builtin', gemmPath: path });
      expect(k.library.kind).toBe('builtin');
      expect(k.library.gemmPath).toBe(path);
      expect(k.threads()).toBe(1);
      for (const [m, n, kk, batch] of [
        [5, 4, 3, 3],
        [1, 6, 5, 2],
        [33, 17, 65, 2],
      ] as const)
        for (const ta of [false, true])
          for (const tb of [false, true]) {
            const sizes = [batch * m * kk, kk * n, batch * m * n, n, batch * m * n];
            const offsets: number[] = [];
            let at = 68;
            for (const s of sizes) {
              offsets.push(at);
              at += s * 4 + 20;
            }
            const heap = new ArrayBuffer(at);
            const [A, B, C, bias, R] = sizes.map((s, i) => {
              const v = new Float32Array(heap, offsets[i]!, s);
              fill(v, 10 + i);
              return v;
            }) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
            k.sgemm(
              heap,
              batch,
              m,
              n,
              kk,
              ta,
              tb,
              offsets[0]!,
              m * kk * 4,
              offsets[1]!,
              0,
              offsets[2]!,
              m * n * 4,
              offsets[3],
              offsets[4],
            );
            for (let b = 0; b < batch; b++)
              for (let i = 0; i < m; i++)
                for (let j = 0; j < n; j++) {
                  let s = 0;
                  for (let p = 0; p < kk; p++) {
                    const a = ta ? A[b * m * kk + p * m + i]! : A[b * m * kk + i * kk + p]!;
                    s += a * (tb ? B[j * kk + p]! : B[p * n + j]!);
                  }
                  const ref = s + bias[j]! + R[b * m * n + i * n + j]!;
                  const got = C[b * m * n + i * n + j]!;
                  expect(Math.abs(got - ref), `${path} ${m}×${n}×${kk} b${b} [${i},${j}]`).toBeLessThan(
                    1e-5 * (1 + Math.abs(ref)) * Math.sqrt(kk + 1),
                  );
                }
          }
      // The strided API runs the built-in too while it is loaded.
      check(
        { m: 7, n: 13, k: 5, ta: true, tb: true, alpha: 2, beta: 0.25, pad: [2, 1, 3], shift: 12 },
        (heap, aOff, lda, bOff, ldb, cOff, ldc) =>
          k.gemm(heap, true, true, 7, 13, 5, 2, aOff, lda, bOff, ldb, 0.25, cOff, ldc),
        `${path} k.gemm`,
      );
    });
  }

  it('the strided gemm on the system BLAS agrees too (the benchmark compares the two)', () => {
    const k = loadNativeKernels();
    if (k.library.kind !== 'blas') return; // no system BLAS here: the built-in is covered above
    for (const [m, n, kk] of [
      [7, 13, 5],
      [1, 40, 70],
      [40, 1, 70],
      [5, 6, 0],
    ] as const)
      for (const ta of [false, true])
        for (const tb of [false, true])
          check(
            { m, n, k: kk, ta, tb, alpha: 0.5, beta: -2, pad: [1, 2, 3], shift: 20 },
            (heap, aOff, lda, bOff, ldb, cOff, ldc) =>
              k.gemm(heap, ta, tb, m, n, kk, 0.5, aOff, lda, bOff, ldb, -2, cOff, ldc),
            `${k.library.name} ${m}×${n}×${kk}`,
          );
  });

  it('refuses bad leading dimensions, out-of-bounds operands and unknown paths', () => {
    const heap = new ArrayBuffer(256);
    expect(() => builtinGemm(heap, 'auto', false, false, 2, 2, 3, 1, 0, 2, 64, 2, 0, 128, 2)).toThrow(
      /leading dimension/,
    );
    expect(() => builtinGemm(heap, 'auto', false, false, 8, 8, 8, 1, 0, 8, 64, 8, 0, 128, 8)).toThrow(
      /outside the buffer/,
    );
    expect(() => builtinGemm(heap, 'auto', false, false, 2, 2, 2, 1, 2, 2, 64, 2, 0, 128, 2)).toThrow(
      /misaligned/,
    );
    expect(() =>
      builtinGemm(heap, 'sse9' as GemmPath, false, false, 1, 1, 1, 1, 0, 1, 4, 1, 0, 8, 1),
    ).toThrow(/unknown GEMM path/);
    for (const p of ['avx2', 'avx512'] as const)
      if (!paths.includes(p))
        expect(() => builtinGemm(heap, p, false, false, 1, 1, 1, 1, 0, 1, 4, 1, 0, 8, 1)).toThrow(
          /not supported/,
        );
  });
});

describe('GEMM selection', () => {
  const saved = { blas: process.env.STEPCODER_BLAS, path: process.env.STEPCODER_GEMM_PATH };
  afterAll(() => {
    for (const [key, value] of [
      ['STEPCODER_BLAS', saved.blas],
      ['STEPCODER_GEMM_PATH', saved.path],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('STEPCODER_BLAS=builtin and STEPCODER_GEMM_PATH force the built-in and its path', () => {
    process.env.STEPCODER_BLAS = 'builtin';
    process.env.STEPCODER_GEMM_PATH = 'portable';
    const k = loadNativeKernels();
    expect(k.library).toMatchObject({ kind: 'builtin', path: 'builtin', gemmPath: 'portable' });
    expect(k.library.name).toBe('built-in SGEMM, portable C');
    const d = nativeDiagnostics();
    expect(d.summary).toBe('built-in SGEMM, portable C, 1 thread');
    expect(d.gemm).toMatchObject({ kind: 'builtin', reason: 'STEPCODER_BLAS=builtin', threads: 1 });
    process.env.STEPCODER_GEMM_PATH = 'mmx';
    expect(() => loadNativeKernels()).toThrow(StepcoderError);
    delete process.env.STEPCODER_GEMM_PATH;
    expect(loadNativeKernels().library.gemmPath).toBe(support.bestPath);
    delete process.env.STEPCODER_BLAS;
  });

  it('falls back to the built-in, kernels on, when no BLAS of the search list loads; diagnostics keep every failure', () => {
    const k = loadNativeKernels({ search: ['/nonexistent/libopenblas.so.0', 'libm.so.6'] });
    expect(k.library.kind).toBe('builtin');
    const d = nativeDiagnostics();
    expect(d.addon.loaded).toBe(true);
    expect(d.cpu?.gemmPaths).toEqual(paths);
    expect(d.gemm?.reason).toBe('no optimised BLAS found');
    expect(d.tried.map((t) => [t.library, t.ok])).toEqual([
      ['/nonexistent/libopenblas.so.0', false],
      ['libm.so.6', false],
      ['builtin', true],
    ]);
    expect(d.tried[0]!.error).toMatch(/dlopen failed/);
    expect(d.tried[1]!.error).toMatch(/no cblas_sgemm symbol/);
    expect(d.summary).toMatch(/^built-in SGEMM, .+, 1 thread$/);
    // setThreads is accepted and ignored: the built-in runs one thread.
    k.setThreads(2);
    expect(k.threads()).toBe(1);
  });

  it('a library named explicitly that fails still throws, with one short summary', () => {
    let error: unknown;
    try {
      loadNativeKernels({ library: '/nonexistent/libblas.so' });
    } catch (e) {
      error = e;
    }
    expect(StepcoderError.is(error, 'BACKEND_UNAVAILABLE')).toBe(true);
    const summary = (error as StepcoderError).details.summary as string;
    expect(summary).toMatch(/^dlopen failed: \/nonexistent\/libblas\.so/);
    expect(summary.length).toBeLessThan(200);
    expect(nativeDiagnostics().tried).toEqual([
      { library: '/nonexistent/libblas.so', ok: false, error: expect.stringMatching(/dlopen failed/) },
    ]);
  });
});
