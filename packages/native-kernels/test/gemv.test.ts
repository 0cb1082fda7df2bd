import { afterAll, describe, expect, it } from 'vitest';
import { builtinGemm, cpuGemmSupport, type GemmPath, loadNativeKernels } from '../src/index.js';
import { type Case, checkGemm } from './gemm-check.js';

/*
 * The one-row products (M = 1: KV-cache decoding; N = 1: the value head) of native/gemm.c on
 * every code path this CPU allows, against a float64 reference: a decode step's shapes
 * (LLAMA_MINI: hidden 384, 2 KV heads × 64, MLP 1024, vocabulary 258), odd sizes around the
 * vector widths and the 4-row groups, the 1024-column block of the no-trans kernel, leading
 * dimensions wider than the rows, unaligned offsets, alpha/beta. Then the same products through
 * the GEMM in use (a system BLAS when one loads: M = 1 takes the built-in GEMV there too).
 */

const support = cpuGemmSupport();
const paths: readonly GemmPath[] = support.gemmPaths;

afterAll(() => {
  loadNativeKernels();
});

type Gemm = (
  heap: ArrayBuffer,
  ta: boolean,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  aOff: number,
  lda: number,
  bOff: number,
  ldb: number,
  beta: number,
  cOff: number,
  ldc: number,
) => void;

/** Runs one case through `gemm` and checks every element of C (and that row padding is untouched). */
function check(c: Case, gemm: Gemm, label: string): void {
  checkGemm(
    c,
    (heap, aOff, lda, bOff, ldb, cOff, ldc) =>
      gemm(heap, c.ta, c.tb, c.m, c.n, c.k, c.alpha, aOff, lda, bOff, ldb, c.beta, cOff, ldc),
    label,
    { seeds: (m, n, k) => [11 + m + k, 12 + n, 13 + k], cGap: 8 },
  );
}

/** [N, K]: the decode step's products, then sizes around the kernels' edges. */
const DECODE: Array<[number, number]> = [
  [384, 384], // q, o
  [128, 384], // k, v (2 KV heads × 64)
  [1024, 384], // gate, up
  [384, 1024], // down
  [258, 384], // lm head
];
const ODD: Array<[number, number]> = [
  [1, 1],
  [5, 1], // K = 1
  [7, 17], // K = 17: one vector and a masked tail
  [5, 33],
  [3, 40],
  [9, 31],
  [4, 15],
  [6, 47],
  [13, 64],
  [1, 100],
  [2, 257],
  [1500, 9], // more than one 1024-column block of the no-trans kernel
  [1025, 4],
  [1024, 5],
];
const ALPHA_BETA: ReadonlyArray<readonly [number, number]> = [
  [1, 0],
  [0.5, -2],
  [-1.25, 1],
];

function builtinOn(path: GemmPath): Gemm {
  return (heap, ta, tb, m, n, k, alpha, aOff, lda, bOff, ldb, beta, cOff, ldc) =>
    builtinGemm(heap, path, ta, tb, m, n, k, alpha, aOff, lda, bOff, ldb, beta, cOff, ldc);
}

/** M = 1 over the decode and odd shapes, both op(B), all alpha/beta; padding and offsets vary. */
function sweepM1(gemm: Gemm, label: string, shapes: Array<[number, number]>): number {
  let count = 0;
  for (const [n, k] of shapes)
    for (const tb of [true, false])
      for (const [alpha, beta] of ALPHA_BETA) {
        check(
          {
            m: 1,
            n,
            k,
            ta: false,
            tb,
            alpha,
            beta,
            // ldb > K (or > N) on two cases of three; C padding on one.
            pad: [count % 2, count % 3 === 0 ? 0 : 1 + (count % 7), count % 3 === 1 ? 2 : 0],
            shift: 4 + 4 * (count % 15),
          },
          gemm,
          `${label} 1×${n}×${k} ${tb ? 'x·Bᵀ' : 'x·B'} α=${alpha} β=${beta}`,
        );
        count++;
      }
  return count;
}

describe('built-in GEMV (M = 1, N = 1)', () => {
  for (const path of paths) {
    it(`${path}: the decode step's shapes, both op(B), alpha/beta, ldb > K`, () => {
      expect(sweepM1(builtinOn(path), path, DECODE)).toBe(DECODE.length * 6);
    });

    it(`${path}: K = 1, K = 17, N = 5, row-group and vector tails, two column blocks`, () => {
      expect(sweepM1(builtinOn(path), path, ODD)).toBe(ODD.length * 6);
      // transA with lda = 1 is the same contiguous row; alpha = 0 only scales y.
      const gemm = builtinOn(path);
      check(
        { m: 1, n: 37, k: 29, ta: true, tb: true, alpha: 2, beta: 0.5, pad: [0, 3, 0], shift: 8 },
        gemm,
        `${path} ta`,
      );
      check(
        { m: 1, n: 37, k: 29, ta: false, tb: false, alpha: 0, beta: 0.5, pad: [0, 3, 0], shift: 8 },
        gemm,
        `${path} α=0`,
      );
    });

    it(`${path}: N = 1 (the value head): one dot per row of op(A), C strided by ldc`, () => {
      const gemm = builtinOn(path);
      for (const [m, k] of [
        [128, 384],
        [37, 17],
        [5, 1],
        [9, 1030],
      ] as const)
        for (const ta of [false, true])
          for (const [alpha, beta] of ALPHA_BETA)
            check(
              { m, n: 1, k, ta, tb: true, alpha, beta, pad: [2, 0, 3], shift: 12 },
              gemm,
              `${path} ${m}×1×${k}`,
            );
    });
  }

  it('the GEMM in use (a system BLAS when one loads) gives the same products at M = 1', () => {
    const k = loadNativeKernels();
    const gemm: Gemm = (heap, ta, tb, m, n, kk, alpha, aOff, lda, bOff, ldb, beta, cOff, ldc) =>
      k.gemm(heap, ta, tb, m, n, kk, alpha, aOff, lda, bOff, ldb, beta, cOff, ldc);
    sweepM1(gemm, k.library.name, [...DECODE, [7, 17], [5, 1], [1500, 9]]);
    // A strided row of op(A) (transA, lda > 1): the BLAS's sgemv with an increment, or the GEMM.
    for (const tb of [false, true])
      check(
        { m: 1, n: 40, k: 70, ta: true, tb, alpha: 0.5, beta: -2, pad: [3, 1, 0], shift: 20 },
        gemm,
        'ta lda>1',
      );
  });
});
