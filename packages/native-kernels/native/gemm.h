/*
 * The built-in SGEMM of @stepcoder/native-kernels: used when no optimised BLAS loads (or when
 * STEPCODER_BLAS=builtin asks for it). See gemm.c.
 */
#ifndef STEPCODER_GEMM_H
#define STEPCODER_GEMM_H

#include <stdint.h>

/* Code paths, in order of preference. */
enum { GEMM_PATH_PORTABLE = 0, GEMM_PATH_AVX2 = 1, GEMM_PATH_AVX512 = 2, GEMM_PATH_COUNT = 3 };

/* "portable", "avx2", "avx512". */
const char *gemm_path_name(int path);
/* Human-readable label: "portable C", "AVX2/FMA", "AVX-512F". */
const char *gemm_path_label(int path);
/* -1 for an unknown name. */
int gemm_path_from_name(const char *name);
/* Whether this CPU (and OS) can run the path; portable always can. */
int gemm_path_supported(int path);
/* The best path this CPU allows. */
int gemm_best_path(void);
/* Register blocking and cache blocking of a path: mr, nr, mc, kc, nc. */
void gemm_path_blocking(int path, int out[5]);
/* CPU features the dispatcher looks at. */
void gemm_cpu_features(int *avx2, int *fma, int *avx512f);

/*
 * Row-major C = alpha·op(A)·op(B) + beta·C (cblas_sgemm with CblasRowMajor): op(A) is M×K,
 * op(B) is K×N, lda/ldb/ldc the row strides (in floats) of A, B, C as stored. beta = 0 never
 * reads C. Single-threaded.
 */
void gemm_sgemm(int path, int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                int64_t ldc);

/*
 * One vector product without packing: y[j·incy] = alpha·Σ_p x[p]·op(B)(p, j) + beta·y[j·incy]
 * for j < N, where op(B) is K×N and B is stored K×N (transB = 0: rows of B accumulated) or N×K
 * (transB = 1: one dot product per row of B), row stride ldb; x is contiguous. The M = 1 and
 * N = 1 cases of a GEMM (KV-cache decoding, bias gradients, the value head).
 */
void gemm_sgemv(int path, int transB, int64_t N, int64_t K, float alpha, const float *x, const float *B,
                int64_t ldb, float beta, float *y, int64_t incy);

/*
 * One Adam step over n floats, in place: m = b1·m + c1·g; v = b2·v + c2·g·g;
 * x = ((m / d1) / (√(v / d2) + eps))·neg_lr + x, every operation rounded to float32 in that
 * order (tfjs's AdamOptimizer; kernels.c's adam derives the constants). Each SIMD path gives
 * bit-identical results to the scalar loop: division and square root are correctly rounded
 * per element and no multiply-add is fused. path GEMM_ADAM_SCALAR is the one-element-at-a-time
 * reference loop (what the addon ran before the SIMD paths; for tests and benchmarks).
 */
enum { GEMM_ADAM_SCALAR = -1 };
typedef struct {
  float b1, b2, c1, c2, d1, d2, eps, neg_lr;
} gemm_adam_params;
void gemm_adam(int path, int64_t n, float *x, const float *g, float *m, float *v, const gemm_adam_params *c);

#endif
