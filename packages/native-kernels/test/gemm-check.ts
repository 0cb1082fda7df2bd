/*
 * The float64 reference check shared by the built-in GEMM and GEMV tests (not a test file).
 */

/** A seeded LCG in [-1, 1). */
export function fill(v: Float32Array, seed: number): void {
  let s = seed >>> 0;
  for (let j = 0; j < v.length; j++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[j] = s / 2 ** 31 - 1;
  }
}

export interface Case {
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
  alpha: number;
  beta: number;
  /** Extra floats per row beyond the operand's width. */
  pad: [number, number, number];
  /** Byte offset of A within the heap (any multiple of 4). */
  shift: number;
}

/** Where a case's operands go and how its inputs are seeded (each test file keeps its own data). */
export interface CheckLayout {
  /** Seeds of A, B and C's fills. Default [1 + m, 2 + n, 3 + k]. */
  seeds?: (m: number, n: number, k: number) => [number, number, number];
  /** Bytes between the end of B and C. Default 12. */
  cGap?: number;
}

/**
 * Run one case through `run` and check every element of C against a float64 reference (the
 * tolerance scales with Σ|a·b|), that beta = 0 never reads C and that row padding is untouched.
 */
export function checkGemm(
  c: Case,
  run: (
    heap: ArrayBuffer,
    aOff: number,
    lda: number,
    bOff: number,
    ldb: number,
    cOff: number,
    ldc: number,
  ) => void,
  label: string,
  layout: CheckLayout = {},
): void {
  const { m, n, k, ta, tb, alpha, beta, pad, shift } = c;
  const [seedA, seedB, seedC] = (layout.seeds ?? ((mm, nn, kk) => [1 + mm, 2 + nn, 3 + kk]))(m, n, k);
  const rowsA = ta ? k : m;
  const colsA = ta ? m : k;
  const rowsB = tb ? n : k;
  const colsB = tb ? k : n;
  const lda = Math.max(1, colsA) + pad[0];
  const ldb = Math.max(1, colsB) + pad[1];
  const ldc = Math.max(1, n) + pad[2];
  const aOff = shift;
  const bOff = aOff + rowsA * lda * 4 + 4;
  const cOff = bOff + rowsB * ldb * 4 + (layout.cGap ?? 12);
  const heap = new ArrayBuffer(cOff + m * ldc * 4 + 64);
  const A = new Float32Array(heap, aOff, rowsA * lda);
  const B = new Float32Array(heap, bOff, rowsB * ldb);
  const C = new Float32Array(heap, cOff, m * ldc);
  fill(A, seedA);
  fill(B, seedB);
  fill(C, seedC);
  if (beta === 0) C.fill(Number.NaN); // beta = 0 must not read C
  const C0 = C.slice();
  run(heap, aOff, lda, bOff, ldb, cOff, ldc);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < ldc; j++) {
      const got = C[i * ldc + j]!;
      if (j >= n) {
        // Padding between rows is never written.
        if (!Object.is(got, C0[i * ldc + j]!)) throw new Error(`${label}: wrote padding C[${i}][${j}]`);
        continue;
      }
      let sum = 0;
      let mag = 0;
      for (let p = 0; p < k; p++) {
        const x = (ta ? A[p * lda + i]! : A[i * lda + p]!) * (tb ? B[j * ldb + p]! : B[p * ldb + j]!);
        sum += x;
        mag += Math.abs(x);
      }
      const c0 = beta === 0 ? 0 : C0[i * ldc + j]!;
      const ref = alpha * sum + beta * c0;
      const scale = Math.abs(alpha) * mag + Math.abs(beta * c0) + 1e-30;
      if (!(Math.abs(got - ref) <= 1e-5 * scale)) {
        throw new Error(`${label}: C[${i}][${j}] = ${got}, reference ${ref} (scale ${scale})`);
      }
    }
  }
}
