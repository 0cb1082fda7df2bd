/*
 * Built-in SGEMM for @stepcoder/native-kernels, for machines without an optimised BLAS.
 *
 * The usual Goto/BLIS structure: C is cut into NC-column blocks, K into KC-deep slices and M
 * into MC-row blocks; each KC×NC slice of op(B) is packed once into NR-wide panels (contiguous,
 * zero-padded), each MC×KC block of op(A) into MR-tall panels, and a register-blocked
 * micro-kernel computes one MR×NR tile of C from one A panel and one B panel with the
 * accumulators held in vector registers the whole KC loop. Edge tiles go through a small
 * buffer, so the micro-kernels only ever see full tiles.
 *
 * Code paths, picked at run time from cpuid (__builtin_cpu_supports) and compiled with
 * function-level target attributes, so the addon builds with the compiler's default flags and
 * loads on any x86-64 (and on other architectures, where only the portable path exists):
 *   avx512   8×32 tile (16 zmm accumulators), AVX-512F FMA
 *   avx2     6×16 tile (12 ymm accumulators), AVX2 + FMA
 *   portable 4×8 tile in plain C (the compiler's auto-vectorisation: SSE2 on x86-64, NEON on arm64)
 * Single-threaded: the trainer runs its executors on the other cores.
 */
#include "gemm.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* -DGEMM_NO_X86 builds what a non-x86 machine gets (the portable path only), for testing. */
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(GEMM_NO_X86)
#define GEMM_X86 1
#include <immintrin.h>
#else
#define GEMM_X86 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define GEMM_RESTRICT __restrict__
#define GEMM_INLINE static inline __attribute__((always_inline))
#define GEMM_TARGET(t) __attribute__((target(t)))
#else
#define GEMM_RESTRICT
#define GEMM_INLINE static inline
#define GEMM_TARGET(t)
#endif

typedef void (*ukernel_fn)(int64_t k, const float *a, const float *b, float *c, int64_t ldc, float alpha,
                           float beta);

typedef struct {
  const char *name;
  const char *label;
  int mr, nr, mc, kc, nc;
  ukernel_fn kern;
} gemm_path_t;

/* ---------------------------------------------------------------------------------------------
 * Micro-kernels: C[0..MR)[0..NR) = alpha·Σ_p a[p·MR + i]·b[p·NR + j] + beta·C (beta = 0: C is
 * not read). a and b are packed panels, 64-byte aligned; C is strided by ldc floats, any
 * alignment.
 * ------------------------------------------------------------------------------------------- */

#if GEMM_X86
#define PORTABLE_MR 4
#define PORTABLE_NR 8
#else
#define PORTABLE_MR 8
#define PORTABLE_NR 8
#endif

#if defined(__GNUC__) || defined(__clang__)
/* GCC/clang vector extensions: 128-bit vectors on any target (SSE2 on x86-64, NEON on arm64). */
typedef float v4f __attribute__((vector_size(16)));

static void kern_portable(int64_t k, const float *GEMM_RESTRICT a, const float *GEMM_RESTRICT b,
                          float *GEMM_RESTRICT c, int64_t ldc, float alpha, float beta) {
  v4f acc[PORTABLE_MR][PORTABLE_NR / 4];
  for (int i = 0; i < PORTABLE_MR; i++)
    for (int j = 0; j < PORTABLE_NR / 4; j++) acc[i][j] = (v4f){0.0f, 0.0f, 0.0f, 0.0f};
  for (int64_t p = 0; p < k; p++) {
    v4f bv[PORTABLE_NR / 4];
    for (int j = 0; j < PORTABLE_NR / 4; j++) bv[j] = *(const v4f *)(b + 4 * j); /* packed: 64-byte aligned */
    for (int i = 0; i < PORTABLE_MR; i++) {
      const float x = a[i];
      const v4f ai = (v4f){x, x, x, x};
      for (int j = 0; j < PORTABLE_NR / 4; j++) acc[i][j] += ai * bv[j];
    }
    a += PORTABLE_MR;
    b += PORTABLE_NR;
  }
  for (int i = 0; i < PORTABLE_MR; i++) {
    float *ci = c + i * ldc;
    for (int j = 0; j < PORTABLE_NR / 4; j++) {
      v4f v = acc[i][j] * alpha;
      if (beta != 0.0f) {
        v4f old;
        memcpy(&old, ci + 4 * j, 16);
        v += old * beta;
      }
      memcpy(ci + 4 * j, &v, 16);
    }
  }
}
#else
static void kern_portable(int64_t k, const float *GEMM_RESTRICT a, const float *GEMM_RESTRICT b,
                          float *GEMM_RESTRICT c, int64_t ldc, float alpha, float beta) {
  float acc[PORTABLE_MR][PORTABLE_NR];
  for (int i = 0; i < PORTABLE_MR; i++)
    for (int j = 0; j < PORTABLE_NR; j++) acc[i][j] = 0.0f;
  for (int64_t p = 0; p < k; p++) {
    for (int i = 0; i < PORTABLE_MR; i++) {
      const float ai = a[i];
      for (int j = 0; j < PORTABLE_NR; j++) acc[i][j] += ai * b[j];
    }
    a += PORTABLE_MR;
    b += PORTABLE_NR;
  }
  for (int i = 0; i < PORTABLE_MR; i++) {
    float *ci = c + i * ldc;
    if (beta == 0.0f)
      for (int j = 0; j < PORTABLE_NR; j++) ci[j] = alpha * acc[i][j];
    else
      for (int j = 0; j < PORTABLE_NR; j++) ci[j] = alpha * acc[i][j] + beta * ci[j];
  }
}
#endif

#if GEMM_X86
GEMM_TARGET("avx2,fma")
static void kern_avx2_6x16(int64_t k, const float *GEMM_RESTRICT a, const float *GEMM_RESTRICT b,
                           float *GEMM_RESTRICT c, int64_t ldc, float alpha, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#define AVX2_STEP(P)                                                     \
  do {                                                                   \
    const __m256 b0 = _mm256_load_ps(b + (P) * 16);                      \
    const __m256 b1 = _mm256_load_ps(b + (P) * 16 + 8);                  \
    __m256 t = _mm256_broadcast_ss(a + (P) * 6 + 0);                     \
    c00 = _mm256_fmadd_ps(t, b0, c00);                                   \
    c01 = _mm256_fmadd_ps(t, b1, c01);                                   \
    t = _mm256_broadcast_ss(a + (P) * 6 + 1);                            \
    c10 = _mm256_fmadd_ps(t, b0, c10);                                   \
    c11 = _mm256_fmadd_ps(t, b1, c11);                                   \
    t = _mm256_broadcast_ss(a + (P) * 6 + 2);                            \
    c20 = _mm256_fmadd_ps(t, b0, c20);                                   \
    c21 = _mm256_fmadd_ps(t, b1, c21);                                   \
    t = _mm256_broadcast_ss(a + (P) * 6 + 3);                            \
    c30 = _mm256_fmadd_ps(t, b0, c30);                                   \
    c31 = _mm256_fmadd_ps(t, b1, c31);                                   \
    t = _mm256_broadcast_ss(a + (P) * 6 + 4);                            \
    c40 = _mm256_fmadd_ps(t, b0, c40);                                   \
    c41 = _mm256_fmadd_ps(t, b1, c41);                                   \
    t = _mm256_broadcast_ss(a + (P) * 6 + 5);                            \
    c50 = _mm256_fmadd_ps(t, b0, c50);                                   \
    c51 = _mm256_fmadd_ps(t, b1, c51);                                   \
  } while (0)
  int64_t p = 0;
  for (; p + 4 <= k; p += 4) {
    AVX2_STEP(0);
    AVX2_STEP(1);
    AVX2_STEP(2);
    AVX2_STEP(3);
    a += 24;
    b += 64;
  }
  for (; p < k; p++) {
    AVX2_STEP(0);
    a += 6;
    b += 16;
  }
#undef AVX2_STEP
  const __m256 va = _mm256_set1_ps(alpha);
#define AVX2_ROW(R, X0, X1)                                                              \
  do {                                                                                   \
    float *cr = c + (R) * ldc;                                                           \
    __m256 v0 = _mm256_mul_ps(X0, va), v1 = _mm256_mul_ps(X1, va);                       \
    if (beta != 0.0f) {                                                                  \
      const __m256 vb = _mm256_set1_ps(beta);                                            \
      v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), v0);                                 \
      v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), v1);                             \
    }                                                                                    \
    _mm256_storeu_ps(cr, v0);                                                            \
    _mm256_storeu_ps(cr + 8, v1);                                                        \
  } while (0)
  AVX2_ROW(0, c00, c01);
  AVX2_ROW(1, c10, c11);
  AVX2_ROW(2, c20, c21);
  AVX2_ROW(3, c30, c31);
  AVX2_ROW(4, c40, c41);
  AVX2_ROW(5, c50, c51);
#undef AVX2_ROW
}

/*
 * 8×32 for AVX-512: 16 accumulators, 2 B loads and 8 broadcasts per 16 FMAs. A 14×32 tile (28
 * accumulators) ran the same on the large products and 3–6% slower over a training step's
 * GEMMs: the model's M (64, 96, 128, 192, 384, 1536, …) are multiples of 8, not of 14.
 */
GEMM_TARGET("avx512f")
static void kern_avx512_8x32(int64_t k, const float *GEMM_RESTRICT a, const float *GEMM_RESTRICT b,
                             float *GEMM_RESTRICT c, int64_t ldc, float alpha, float beta) {
  __m512 acc[8][2];
#pragma GCC unroll 8
  for (int r = 0; r < 8; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; p++) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) {
      const __m512 t = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(t, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(t, b1, acc[r][1]);
    }
    a += 8;
    b += 32;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const int read = beta != 0.0f;
#pragma GCC unroll 8
  for (int r = 0; r < 8; r++) {
    float *cr = c + r * ldc;
    __m512 v0 = _mm512_mul_ps(acc[r][0], va), v1 = _mm512_mul_ps(acc[r][1], va);
    if (read) {
      v0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr), v0);
      v1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16), v1);
    }
    _mm512_storeu_ps(cr, v0);
    _mm512_storeu_ps(cr + 16, v1);
  }
}
#endif

static const gemm_path_t PATHS[GEMM_PATH_COUNT] = {
    {"portable", "portable C", PORTABLE_MR, PORTABLE_NR, 128, 256, 2048, kern_portable},
#if GEMM_X86
    {"avx2", "AVX2/FMA", 6, 16, 144, 256, 4096, kern_avx2_6x16},
    {"avx512", "AVX-512F", 8, 32, 160, 256, 4096, kern_avx512_8x32},
#else
    {"avx2", "AVX2/FMA", 0, 0, 0, 0, 0, NULL},
    {"avx512", "AVX-512F", 0, 0, 0, 0, 0, NULL},
#endif
};

/* ---------------------------------------------------------------------------------------------
 * CPU features and path names.
 * ------------------------------------------------------------------------------------------- */

void gemm_cpu_features(int *avx2, int *fma, int *avx512f) {
  *avx2 = *fma = *avx512f = 0;
#if GEMM_X86 && (defined(__GNUC__) || defined(__clang__))
  /* libgcc's and compiler-rt's checks include the OS's XSAVE state (xgetbv), not only cpuid. */
  __builtin_cpu_init();
  *avx2 = __builtin_cpu_supports("avx2") != 0;
  *fma = __builtin_cpu_supports("fma") != 0;
  *avx512f = __builtin_cpu_supports("avx512f") != 0;
#endif
}

const char *gemm_path_name(int path) {
  return path >= 0 && path < GEMM_PATH_COUNT ? PATHS[path].name : "?";
}

const char *gemm_path_label(int path) {
  return path >= 0 && path < GEMM_PATH_COUNT ? PATHS[path].label : "?";
}

int gemm_path_from_name(const char *name) {
  for (int i = 0; i < GEMM_PATH_COUNT; i++)
    if (strcmp(name, PATHS[i].name) == 0) return i;
  return -1;
}

int gemm_path_supported(int path) {
  if (path == GEMM_PATH_PORTABLE) return 1;
  if (path < 0 || path >= GEMM_PATH_COUNT || !PATHS[path].kern) return 0;
  int avx2, fma, avx512f;
  gemm_cpu_features(&avx2, &fma, &avx512f);
  if (path == GEMM_PATH_AVX2) return avx2 && fma;
  if (path == GEMM_PATH_AVX512) return avx512f && avx2 && fma; /* its packing uses AVX2 */
  return 0;
}

int gemm_best_path(void) {
  for (int p = GEMM_PATH_COUNT - 1; p > 0; p--)
    if (gemm_path_supported(p)) return p;
  return GEMM_PATH_PORTABLE;
}

void gemm_path_blocking(int path, int out[5]) {
  const gemm_path_t *P = &PATHS[path >= 0 && path < GEMM_PATH_COUNT ? path : 0];
  out[0] = P->mr;
  out[1] = P->nr;
  out[2] = P->mc;
  out[3] = P->kc;
  out[4] = P->nc;
}

/* ---------------------------------------------------------------------------------------------
 * Packing. op(A)(i, p) = A[i·ars + p·acs], op(B)(p, j) = B[p·brs + j·bcs]: one of each pair is 1.
 * Both operands pack the same way, one w-wide panel at a time: dst[p·w + r] for r < w (w = MR for
 * A, NR for B), rows r ≥ valid zero. Either the panel's w elements are contiguous for each p
 * (A transposed, B not: a copy per p) or each of its rows is contiguous in p (A not
 * transposed, B transposed: a gather, done as 8×8 transposes on AVX2 machines).
 * ------------------------------------------------------------------------------------------- */

/* dst[p·w + r] = src[p·ldk + r] for r < valid, 0 for valid ≤ r < w. */
static void pack_copy(float *GEMM_RESTRICT dst, int w, int64_t valid, int64_t kc, const float *GEMM_RESTRICT src,
                      int64_t ldk) {
  if (valid == w) {
    /* Constant widths so the copies inline (the paths' MR and NR). */
    switch (w) {
#define COPY_W(W)                                                                      \
  case W:                                                                              \
    for (int64_t p = 0; p < kc; p++) memcpy(dst + p * (W), src + p * ldk, (W) * 4);    \
    return;
      COPY_W(4)
      COPY_W(6)
      COPY_W(8)
      COPY_W(14)
      COPY_W(16)
      COPY_W(32)
#undef COPY_W
      default:
        break;
    }
  }
  for (int64_t p = 0; p < kc; p++) {
    float *d = dst + p * w;
    const float *s = src + p * ldk;
    int64_t r = 0;
    for (; r < valid; r++) d[r] = s[r];
    for (; r < w; r++) d[r] = 0.0f;
  }
}

/* dst[p·w + r] = src[r·ld + p] for r < valid, 0 for valid ≤ r < w: the portable gather. */
static void pack_gather(float *GEMM_RESTRICT dst, int w, int64_t valid, int64_t kc, const float *GEMM_RESTRICT src,
                        int64_t ld) {
  int64_t r = 0;
  for (; r + 4 <= valid; r += 4) {
    const float *s0 = src + r * ld, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
    float *d = dst + r;
    for (int64_t p = 0; p < kc; p++) {
      d[p * w + 0] = s0[p];
      d[p * w + 1] = s1[p];
      d[p * w + 2] = s2[p];
      d[p * w + 3] = s3[p];
    }
  }
  for (; r < valid; r++) {
    const float *s = src + r * ld;
    for (int64_t p = 0; p < kc; p++) dst[p * w + r] = s[p];
  }
  for (; r < w; r++)
    for (int64_t p = 0; p < kc; p++) dst[p * w + r] = 0.0f;
}

#if GEMM_X86
/* Zeros standing in for the padding rows of a gather (kc never exceeds a path's KC, 256). */
static const float ZEROS[512] __attribute__((aligned(64)));

/* pack_gather with 8×8 transposes: eight rows loaded 8 floats at a time, stored as 8 columns. */
GEMM_TARGET("avx2,fma")
static void pack_gather_avx2(float *GEMM_RESTRICT dst, int w, int64_t valid, int64_t kc,
                             const float *GEMM_RESTRICT src, int64_t ld) {
  if (kc > 504) {
    pack_gather(dst, w, valid, kc, src, ld);
    return;
  }
  const int64_t kc8 = kc & ~(int64_t)7;
  for (int r0 = 0; r0 < w; r0 += 8) {
    const int lanes = w - r0 < 8 ? w - r0 : 8;
    const float *row[8];
    for (int i = 0; i < 8; i++) row[i] = r0 + i < valid ? src + (r0 + i) * ld : ZEROS;
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int64_t p0 = 0; p0 < kc8; p0 += 8) {
      const __m256 x0 = _mm256_loadu_ps(row[0] + p0), x1 = _mm256_loadu_ps(row[1] + p0);
      const __m256 x2 = _mm256_loadu_ps(row[2] + p0), x3 = _mm256_loadu_ps(row[3] + p0);
      const __m256 x4 = _mm256_loadu_ps(row[4] + p0), x5 = _mm256_loadu_ps(row[5] + p0);
      const __m256 x6 = _mm256_loadu_ps(row[6] + p0), x7 = _mm256_loadu_ps(row[7] + p0);
      const __m256 t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1);
      const __m256 t2 = _mm256_unpacklo_ps(x2, x3), t3 = _mm256_unpackhi_ps(x2, x3);
      const __m256 t4 = _mm256_unpacklo_ps(x4, x5), t5 = _mm256_unpackhi_ps(x4, x5);
      const __m256 t6 = _mm256_unpacklo_ps(x6, x7), t7 = _mm256_unpackhi_ps(x6, x7);
      const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      __m256 c[8];
      c[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
      c[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
      c[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
      c[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
      c[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
      c[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
      c[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
      c[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
      float *d = dst + p0 * w + r0;
      if (lanes == 8) {
        for (int q = 0; q < 8; q++) _mm256_storeu_ps(d + q * w, c[q]);
      } else {
        for (int q = 0; q < 8; q++) _mm256_maskstore_ps(d + q * w, mask, c[q]);
      }
    }
    for (int64_t p = kc8; p < kc; p++)
      for (int i = 0; i < lanes; i++) dst[p * w + r0 + i] = row[i][p];
  }
}
#endif

typedef void (*gather_fn)(float *dst, int w, int64_t valid, int64_t kc, const float *src, int64_t ld);

/* mc×kc block of op(A) into ceil(mc/mr) panels of mr×kc. */
static void pack_a(int64_t mc, int64_t kc, const float *A, int64_t ars, int64_t acs, int mr, float *dst,
                   gather_fn gather) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr, dst += (int64_t)mr * kc) {
    const int64_t rows = mc - i0 < mr ? mc - i0 : mr;
    if (ars == 1)
      pack_copy(dst, mr, rows, kc, A + i0, acs);
    else
      gather(dst, mr, rows, kc, A + i0 * ars, ars);
  }
}

/* kc×nc slice of op(B) into ceil(nc/nr) panels of kc×nr. */
static void pack_b(int64_t kc, int64_t nc, const float *B, int64_t brs, int64_t bcs, int nr, float *dst,
                   gather_fn gather) {
  for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += (int64_t)nr * kc) {
    const int64_t cols = nc - j0 < nr ? nc - j0 : nr;
    if (bcs == 1)
      pack_copy(dst, nr, cols, kc, B + j0, brs);
    else
      gather(dst, nr, cols, kc, B + j0 * bcs, bcs);
  }
}

/* ---------------------------------------------------------------------------------------------
 * Driver.
 * ------------------------------------------------------------------------------------------- */

/*
 * Per-thread packing buffers (Node worker threads load the same addon), grown on demand and
 * freed when the thread exits.
 */
typedef struct {
  float *a, *b;
  size_t a_cap, b_cap;
} pack_buffers;

static pthread_key_t buffers_key;
static pthread_once_t buffers_once = PTHREAD_ONCE_INIT;

static void free_buffers(void *p) {
  pack_buffers *bufs = (pack_buffers *)p;
  free(bufs->a);
  free(bufs->b);
  free(bufs);
}

static void make_key(void) { (void)pthread_key_create(&buffers_key, free_buffers); }

static pack_buffers *thread_buffers(void) {
  pthread_once(&buffers_once, make_key);
  pack_buffers *bufs = (pack_buffers *)pthread_getspecific(buffers_key);
  if (!bufs) {
    bufs = (pack_buffers *)calloc(1, sizeof *bufs);
    if (!bufs || pthread_setspecific(buffers_key, bufs) != 0) {
      free(bufs);
      return NULL;
    }
  }
  return bufs;
}

static float *grow(float **buf, size_t *cap, size_t floats) {
  if (floats <= *cap) return *buf;
  size_t bytes = (floats * 4 + 63) & ~(size_t)63;
  float *p = (float *)aligned_alloc(64, bytes);
  if (!p) return NULL;
  free(*buf);
  *buf = p;
  *cap = bytes / 4;
  return p;
}

/* C = beta·C over an M×N block (beta = 0 writes zeros, never reads). */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
  for (int64_t i = 0; i < M; i++) {
    float *c = C + i * ldc;
    if (beta == 0.0f)
      memset(c, 0, (size_t)N * 4);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < N; j++) c[j] *= beta;
  }
}

/* The reference loop, for when the packing buffers cannot be allocated. */
static void gemm_naive(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t ars,
                       int64_t acs, const float *B, int64_t brs, int64_t bcs, float beta, float *C,
                       int64_t ldc) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      float s = 0.0f;
      for (int64_t p = 0; p < K; p++) s += A[i * ars + p * acs] * B[p * brs + j * bcs];
      C[i * ldc + j] = beta == 0.0f ? alpha * s : alpha * s + beta * C[i * ldc + j];
    }
}

/* Split n into ceil(n/block) near-equal parts, each rounded up to a multiple of unit. */
static int64_t balanced(int64_t n, int64_t block, int64_t unit) {
  const int64_t parts = (n + block - 1) / block;
  int64_t b = (n + parts - 1) / parts;
  b = (b + unit - 1) / unit * unit;
  return b < block ? b : block;
}

void gemm_sgemm(int path, int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  if (path < 0 || path >= GEMM_PATH_COUNT || !PATHS[path].kern) path = GEMM_PATH_PORTABLE;
  const gemm_path_t *P = &PATHS[path];
  const int64_t ars = transA ? 1 : lda, acs = transA ? lda : 1;
  const int64_t brs = transB ? 1 : ldb, bcs = transB ? ldb : 1;
  const int mr = P->mr, nr = P->nr;
  const int64_t KC = balanced(K, P->kc, 1);
  const int64_t MC = balanced(M, P->mc, mr);
  const int64_t NC = balanced(N, P->nc, nr);
  const int64_t mc_pad = (MC + mr - 1) / mr * mr, nc_pad = (NC + nr - 1) / nr * nr;
  pack_buffers *bufs = thread_buffers();
  float *ap = bufs ? grow(&bufs->a, &bufs->a_cap, (size_t)(mc_pad * KC)) : NULL;
  float *bp = bufs ? grow(&bufs->b, &bufs->b_cap, (size_t)(nc_pad * KC)) : NULL;
  if (!ap || !bp) {
    gemm_naive(M, N, K, alpha, A, ars, acs, B, brs, bcs, beta, C, ldc);
    return;
  }
  float tile[16 * 64] __attribute__((aligned(64)));
#if GEMM_X86
  const gather_fn gather = path == GEMM_PATH_PORTABLE ? pack_gather : pack_gather_avx2;
#else
  const gather_fn gather = pack_gather;
#endif
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = N - jc < NC ? N - jc : NC;
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = K - pc < KC ? K - pc : KC;
      const float beta_k = pc == 0 ? beta : 1.0f;
      pack_b(kc, nc, B + pc * brs + jc * bcs, brs, bcs, nr, bp, gather);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = M - ic < MC ? M - ic : MC;
        pack_a(mc, kc, A + ic * ars + pc * acs, ars, acs, mr, ap, gather);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int64_t nw = nc - jr < nr ? nc - jr : nr;
          const float *bpanel = bp + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int64_t mh = mc - ir < mr ? mc - ir : mr;
            const float *apanel = ap + ir * kc;
            float *c = C + (ic + ir) * ldc + jc + jr;
            if (mh == mr && nw == nr) {
              P->kern(kc, apanel, bpanel, c, ldc, alpha, beta_k);
            } else {
              P->kern(kc, apanel, bpanel, tile, nr, 1.0f, 0.0f);
              for (int64_t i = 0; i < mh; i++) {
                float *ci = c + i * ldc;
                const float *ti = tile + i * nr;
                if (beta_k == 0.0f)
                  for (int64_t j = 0; j < nw; j++) ci[j] = alpha * ti[j];
                else
                  for (int64_t j = 0; j < nw; j++) ci[j] = alpha * ti[j] + beta_k * ci[j];
              }
            }
          }
        }
      }
    }
  }
}

/* ---------------------------------------------------------------------------------------------
 * One-row products (M = 1): no packing, B streamed once from memory. A decode step's GEMVs read
 * tens of MB of weights once each, so they run at memory speed when enough loads are in flight:
 *
 *   transB (dots, y[j] = x·B[j,:]): 4 rows of B at a time, each row with two vector
 *     accumulators (8 independent FMA chains, enough to hide the FMA latency), every chunk of x
 *     loaded once for the 4 rows, the K tail through masked loads (AVX-512 mask registers, AVX2
 *     maskload), one horizontal reduction per 4 rows (the 4 sums land in one 128-bit vector).
 *     Four neighbouring rows are one contiguous 4·K-float stretch when ldb = K; the rows of the
 *     next group are prefetched in software (GEMV_AHEAD_*), which the hardware prefetcher alone
 *     did not keep up with.
 *   no trans (rows, y = Σ_p x[p]·B[p,:]): 4 rows of B accumulated per pass into a column block
 *     of partial sums that stays in L1 (GEMV_COLS wide), so B is read row after row,
 *     sequentially; alpha and beta are applied once at the end.
 *
 * The portable path is the same loop structure on GCC/clang 128-bit vector extensions (SSE2 on
 * x86-64, NEON on arm64; plain C loops for other compilers). The AVX2 and AVX-512 paths are
 * intrinsics under the path's target attribute. On the DRAM-bound decode step the three run
 * within ~10% of each other (memory speed; the 128-bit portable loop was even a little ahead on
 * Zen 4); on L3-resident weights (a 13 MB model) AVX-512 was ~15% ahead of portable.
 * ------------------------------------------------------------------------------------------- */

#define GEMV_COLS 1024

/*
 * Software prefetch: rows of B this many rows ahead (the next group of 4, or the one after) are
 * prefetched into L1 while the current group is multiplied, so the loads of a new group do not
 * wait on DRAM. Measured on a decode step's 43 distinct weight matrices (38 MB, more than L3;
 * bench/gemm.ts) and on 13 MB (L3-resident): without it the AVX-512 dots ran at 0.84 ms per
 * step instead of 0.70; nearer or farther distances were slower in one of the two regimes.
 * Prefetches past the end of B are harmless (they never fault).
 */
#define GEMV_AHEAD_PORTABLE 8
#define GEMV_AHEAD_AVX2 4
#define GEMV_AHEAD_AVX512 4

/* y[j·incy] = alpha·s (+ beta·y[j·incy]); beta = 0 never reads y. */
GEMM_INLINE void gemv_store(float *y, float alpha, float beta, float s) {
  *y = beta == 0.0f ? alpha * s : alpha * s + beta * *y;
}

#if defined(__GNUC__) || defined(__clang__)
/* An unaligned 4-float load and store (the wasm heap guarantees 4-byte alignment only). */
GEMM_INLINE v4f ld4(const float *p) {
  v4f v;
  memcpy(&v, p, 16);
  return v;
}

GEMM_INLINE float sum4(v4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }

/* y[j] = alpha·dot(B[j·ldb ..], x) + beta·y[j]: 4 rows at a time, 2 × 4 partial sums per row. */
static void gemv_dots_portable(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                               const float *GEMM_RESTRICT B, int64_t ldb, float beta, float *GEMM_RESTRICT y,
                               int64_t incy) {
  const v4f zero = {0.0f, 0.0f, 0.0f, 0.0f};
  int64_t j = 0;
  for (; j + 4 <= N; j += 4) {
    const float *r0 = B + j * ldb, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
    v4f a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
    int64_t p = 0;
    for (; p + 8 <= K; p += 8) {
      {
        const float *q = r0 + GEMV_AHEAD_PORTABLE * ldb + p;
        __builtin_prefetch(q);
        __builtin_prefetch(q + ldb);
        __builtin_prefetch(q + 2 * ldb);
        __builtin_prefetch(q + 3 * ldb);
      }
      const v4f x0 = ld4(x + p), x1 = ld4(x + p + 4);
      a0 += ld4(r0 + p) * x0;
      b0 += ld4(r0 + p + 4) * x1;
      a1 += ld4(r1 + p) * x0;
      b1 += ld4(r1 + p + 4) * x1;
      a2 += ld4(r2 + p) * x0;
      b2 += ld4(r2 + p + 4) * x1;
      a3 += ld4(r3 + p) * x0;
      b3 += ld4(r3 + p + 4) * x1;
    }
    float s0 = sum4(a0 + b0), s1 = sum4(a1 + b1), s2 = sum4(a2 + b2), s3 = sum4(a3 + b3);
    for (; p < K; p++) {
      s0 += r0[p] * x[p];
      s1 += r1[p] * x[p];
      s2 += r2[p] * x[p];
      s3 += r3[p] * x[p];
    }
    gemv_store(y + j * incy, alpha, beta, s0);
    gemv_store(y + (j + 1) * incy, alpha, beta, s1);
    gemv_store(y + (j + 2) * incy, alpha, beta, s2);
    gemv_store(y + (j + 3) * incy, alpha, beta, s3);
  }
  for (; j < N; j++) {
    const float *r = B + j * ldb;
    v4f a = zero, b = zero;
    int64_t p = 0;
    for (; p + 8 <= K; p += 8) {
      a += ld4(r + p) * ld4(x + p);
      b += ld4(r + p + 4) * ld4(x + p + 4);
    }
    float s = sum4(a + b);
    for (; p < K; p++) s += r[p] * x[p];
    gemv_store(y + j * incy, alpha, beta, s);
  }
}

/* y[j] = alpha·Σ_p x[p]·B[p·ldb + j] + beta·y[j]: 4 rows of B per pass over a column block. */
static void gemv_rows_portable(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                               const float *GEMM_RESTRICT B, int64_t ldb, float beta, float *GEMM_RESTRICT y,
                               int64_t incy) {
  v4f acc[GEMV_COLS / 4];
  for (int64_t j0 = 0; j0 < N; j0 += GEMV_COLS) {
    const int64_t w = N - j0 < GEMV_COLS ? N - j0 : GEMV_COLS;
    const int64_t w4 = w & ~(int64_t)3;
    float *accf = (float *)acc;
    for (int64_t j = 0; j < (w + 3) / 4; j++) acc[j] = (v4f){0.0f, 0.0f, 0.0f, 0.0f};
    int64_t p = 0;
    for (; p + 4 <= K; p += 4) {
      const float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
      const v4f v0 = {x0, x0, x0, x0}, v1 = {x1, x1, x1, x1}, v2 = {x2, x2, x2, x2}, v3 = {x3, x3, x3, x3};
      const float *r0 = B + p * ldb + j0, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
      int64_t j = 0;
      for (; j < w4; j += 4) {
        if (!(j & 12)) { /* once per 64-byte line */
          __builtin_prefetch(r0 + GEMV_AHEAD_PORTABLE * ldb + j);
          __builtin_prefetch(r1 + GEMV_AHEAD_PORTABLE * ldb + j);
          __builtin_prefetch(r2 + GEMV_AHEAD_PORTABLE * ldb + j);
          __builtin_prefetch(r3 + GEMV_AHEAD_PORTABLE * ldb + j);
        }
        v4f a = acc[j / 4];
        a += v0 * ld4(r0 + j);
        a += v1 * ld4(r1 + j);
        a += v2 * ld4(r2 + j);
        a += v3 * ld4(r3 + j);
        acc[j / 4] = a;
      }
      for (; j < w; j++) {
        float a = accf[j];
        a += x0 * r0[j];
        a += x1 * r1[j];
        a += x2 * r2[j];
        a += x3 * r3[j];
        accf[j] = a;
      }
    }
    for (; p < K; p++) {
      const float xp = x[p];
      const v4f vp = {xp, xp, xp, xp};
      const float *r = B + p * ldb + j0;
      int64_t j = 0;
      for (; j < w4; j += 4) acc[j / 4] += vp * ld4(r + j);
      for (; j < w; j++) accf[j] += xp * r[j];
    }
    for (int64_t j = 0; j < w; j++) gemv_store(y + (j0 + j) * incy, alpha, beta, accf[j]);
  }
}
#else
/* Plain C for compilers without vector extensions. */
static void gemv_dots_portable(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                               const float *GEMM_RESTRICT B, int64_t ldb, float beta, float *GEMM_RESTRICT y,
                               int64_t incy) {
  for (int64_t j = 0; j < N; j++) {
    const float *r = B + j * ldb;
    float a[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    int64_t p = 0;
    for (; p + 8 <= K; p += 8)
      for (int l = 0; l < 8; l++) a[l] += r[p + l] * x[p + l];
    float s = 0.0f;
    for (; p < K; p++) s += r[p] * x[p];
    for (int l = 0; l < 8; l++) s += a[l];
    gemv_store(y + j * incy, alpha, beta, s);
  }
}

static void gemv_rows_portable(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                               const float *GEMM_RESTRICT B, int64_t ldb, float beta, float *GEMM_RESTRICT y,
                               int64_t incy) {
  float acc[GEMV_COLS];
  for (int64_t j0 = 0; j0 < N; j0 += GEMV_COLS) {
    const int64_t w = N - j0 < GEMV_COLS ? N - j0 : GEMV_COLS;
    for (int64_t j = 0; j < w; j++) acc[j] = 0.0f;
    for (int64_t p = 0; p < K; p++) {
      const float xp = x[p];
      const float *r = B + p * ldb + j0;
      for (int64_t j = 0; j < w; j++) acc[j] += xp * r[j];
    }
    for (int64_t j = 0; j < w; j++) gemv_store(y + (j0 + j) * incy, alpha, beta, acc[j]);
  }
}
#endif

#if GEMM_X86
/* Four sums → one vector: hadd(hadd(a, b), hadd(c, d)) gives [a b c d] per 128-bit half. */
GEMM_TARGET("avx2")
static inline __m128 hsum4_avx2(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

GEMM_TARGET("avx2")
static inline float hsum_avx2(__m256 a) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

/* Four results at y, y + incy, …: alpha·s (+ beta·y). */
GEMM_TARGET("avx2")
static inline void gemv_store4(float *y, int64_t incy, float alpha, float beta, __m128 s) {
  s = _mm_mul_ps(s, _mm_set1_ps(alpha));
  if (incy == 1) {
    if (beta != 0.0f) s = _mm_add_ps(s, _mm_mul_ps(_mm_set1_ps(beta), _mm_loadu_ps(y)));
    _mm_storeu_ps(y, s);
    return;
  }
  float t[4];
  _mm_storeu_ps(t, s);
  for (int i = 0; i < 4; i++) y[i * incy] = beta == 0.0f ? t[i] : t[i] + beta * y[i * incy];
}

/* -1 in the first n of 8 lanes (0 ≤ n ≤ 8), for maskload. */
static const int32_t MASK8[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

GEMM_TARGET("avx2,fma")
static void gemv_dots_avx2(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                           const float *GEMM_RESTRICT B, int64_t ldb, float beta, float *GEMM_RESTRICT y,
                           int64_t incy) {
  const int64_t K8 = K & ~(int64_t)7;
  const __m256i tail = _mm256_loadu_si256((const __m256i *)(MASK8 + 8 - (K - K8)));
  const __m256 xt = _mm256_maskload_ps(x + K8, tail);
  int64_t j = 0;
  for (; j + 4 <= N; j += 4) {
    const float *r0 = B + j * ldb, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int64_t p = 0;
    for (; p + 16 <= K; p += 16) {
      {
        const float *q = r0 + GEMV_AHEAD_AVX2 * ldb + p;
        _mm_prefetch((const char *)q, _MM_HINT_T0);
        _mm_prefetch((const char *)(q + ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(q + 2 * ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(q + 3 * ldb), _MM_HINT_T0);
      }
      const __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), x0, a0);
      b0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p + 8), x1, b0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p), x0, a1);
      b1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p + 8), x1, b1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p), x0, a2);
      b2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p + 8), x1, b2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p), x0, a3);
      b3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p + 8), x1, b3);
    }
    if (p < K8) {
      const __m256 x0 = _mm256_loadu_ps(x + p);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), x0, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p), x0, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p), x0, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p), x0, a3);
    }
    if (K8 < K) {
      b0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + K8, tail), xt, b0);
      b1 = _mm256_fmadd_ps(_mm256_maskload_ps(r1 + K8, tail), xt, b1);
      b2 = _mm256_fmadd_ps(_mm256_maskload_ps(r2 + K8, tail), xt, b2);
      b3 = _mm256_fmadd_ps(_mm256_maskload_ps(r3 + K8, tail), xt, b3);
    }
    const __m128 s = hsum4_avx2(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2),
                                _mm256_add_ps(a3, b3));
    gemv_store4(y + j * incy, incy, alpha, beta, s);
  }
  for (; j < N; j++) {
    const float *r = B + j * ldb;
    __m256 a = _mm256_setzero_ps(), b = a;
    int64_t p = 0;
    for (; p + 16 <= K; p += 16) {
      a = _mm256_fmadd_ps(_mm256_loadu_ps(r + p), _mm256_loadu_ps(x + p), a);
      b = _mm256_fmadd_ps(_mm256_loadu_ps(r + p + 8), _mm256_loadu_ps(x + p + 8), b);
    }
    if (p < K8) a = _mm256_fmadd_ps(_mm256_loadu_ps(r + p), _mm256_loadu_ps(x + p), a);
    if (K8 < K) b = _mm256_fmadd_ps(_mm256_maskload_ps(r + K8, tail), xt, b);
    gemv_store(y + j * incy, alpha, beta, hsum_avx2(_mm256_add_ps(a, b)));
  }
}

GEMM_TARGET("avx2,fma")
static void gemv_rows_avx2(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                           const float *GEMM_RESTRICT B, int64_t ldb, float beta, float *GEMM_RESTRICT y,
                           int64_t incy) {
  float acc[GEMV_COLS] __attribute__((aligned(64)));
  for (int64_t j0 = 0; j0 < N; j0 += GEMV_COLS) {
    const int64_t w = N - j0 < GEMV_COLS ? N - j0 : GEMV_COLS;
    const int64_t w8 = w & ~(int64_t)7;
    const __m256i tail = _mm256_loadu_si256((const __m256i *)(MASK8 + 8 - (w - w8)));
    for (int64_t j = 0; j < w; j += 8) _mm256_store_ps(acc + j, _mm256_setzero_ps());
    int64_t p = 0;
    for (; p + 4 <= K; p += 4) {
      const __m256 x0 = _mm256_broadcast_ss(x + p), x1 = _mm256_broadcast_ss(x + p + 1);
      const __m256 x2 = _mm256_broadcast_ss(x + p + 2), x3 = _mm256_broadcast_ss(x + p + 3);
      const float *r0 = B + p * ldb + j0, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
      int64_t j = 0;
      for (; j < w8; j += 8) {
        if (!(j & 8)) { /* once per 64-byte line */
          _mm_prefetch((const char *)(r0 + GEMV_AHEAD_AVX2 * ldb + j), _MM_HINT_T0);
          _mm_prefetch((const char *)(r1 + GEMV_AHEAD_AVX2 * ldb + j), _MM_HINT_T0);
          _mm_prefetch((const char *)(r2 + GEMV_AHEAD_AVX2 * ldb + j), _MM_HINT_T0);
          _mm_prefetch((const char *)(r3 + GEMV_AHEAD_AVX2 * ldb + j), _MM_HINT_T0);
        }
        __m256 a = _mm256_load_ps(acc + j);
        a = _mm256_fmadd_ps(x0, _mm256_loadu_ps(r0 + j), a);
        a = _mm256_fmadd_ps(x1, _mm256_loadu_ps(r1 + j), a);
        a = _mm256_fmadd_ps(x2, _mm256_loadu_ps(r2 + j), a);
        a = _mm256_fmadd_ps(x3, _mm256_loadu_ps(r3 + j), a);
        _mm256_store_ps(acc + j, a);
      }
      if (j < w) {
        __m256 a = _mm256_load_ps(acc + j);
        a = _mm256_fmadd_ps(x0, _mm256_maskload_ps(r0 + j, tail), a);
        a = _mm256_fmadd_ps(x1, _mm256_maskload_ps(r1 + j, tail), a);
        a = _mm256_fmadd_ps(x2, _mm256_maskload_ps(r2 + j, tail), a);
        a = _mm256_fmadd_ps(x3, _mm256_maskload_ps(r3 + j, tail), a);
        _mm256_store_ps(acc + j, a);
      }
    }
    for (; p < K; p++) {
      const __m256 xp = _mm256_broadcast_ss(x + p);
      const float *r = B + p * ldb + j0;
      int64_t j = 0;
      for (; j < w8; j += 8)
        _mm256_store_ps(acc + j, _mm256_fmadd_ps(xp, _mm256_loadu_ps(r + j), _mm256_load_ps(acc + j)));
      if (j < w)
        _mm256_store_ps(acc + j, _mm256_fmadd_ps(xp, _mm256_maskload_ps(r + j, tail), _mm256_load_ps(acc + j)));
    }
    if (incy == 1) {
      const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
      float *yj = y + j0;
      int64_t j = 0;
      for (; j < w8; j += 8) {
        __m256 v = _mm256_mul_ps(va, _mm256_load_ps(acc + j));
        if (beta != 0.0f) v = _mm256_add_ps(v, _mm256_mul_ps(vb, _mm256_loadu_ps(yj + j)));
        _mm256_storeu_ps(yj + j, v);
      }
      for (; j < w; j++) gemv_store(yj + j, alpha, beta, acc[j]);
    } else {
      for (int64_t j = 0; j < w; j++) gemv_store(y + (j0 + j) * incy, alpha, beta, acc[j]);
    }
  }
}

GEMM_TARGET("avx512f")
static inline __m256 fold512(__m512 a) {
  return _mm256_add_ps(_mm512_castps512_ps256(a), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
}

GEMM_TARGET("avx512f")
static void gemv_dots_avx512(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                             const float *GEMM_RESTRICT B, int64_t ldb, float beta, float *GEMM_RESTRICT y,
                             int64_t incy) {
  const int64_t K16 = K & ~(int64_t)15;
  const __mmask16 tail = (__mmask16)((1u << (K - K16)) - 1u);
  const __m512 xt = _mm512_maskz_loadu_ps(tail, x + K16);
  int64_t j = 0;
  for (; j + 4 <= N; j += 4) {
    const float *r0 = B + j * ldb, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int64_t p = 0;
    for (; p + 32 <= K; p += 32) {
      {
        const float *q = r0 + GEMV_AHEAD_AVX512 * ldb + p;
        _mm_prefetch((const char *)q, _MM_HINT_T0);
        _mm_prefetch((const char *)(q + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(q + ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(q + ldb + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(q + 2 * ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(q + 2 * ldb + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(q + 3 * ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(q + 3 * ldb + 16), _MM_HINT_T0);
      }
      const __m512 x0 = _mm512_loadu_ps(x + p), x1 = _mm512_loadu_ps(x + p + 16);
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + p), x0, a0);
      b0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + p + 16), x1, b0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + p), x0, a1);
      b1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + p + 16), x1, b1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + p), x0, a2);
      b2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + p + 16), x1, b2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + p), x0, a3);
      b3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + p + 16), x1, b3);
    }
    if (p < K16) {
      const __m512 x0 = _mm512_loadu_ps(x + p);
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + p), x0, a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + p), x0, a1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + p), x0, a2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + p), x0, a3);
    }
    if (tail) {
      b0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, r0 + K16), xt, b0);
      b1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, r1 + K16), xt, b1);
      b2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, r2 + K16), xt, b2);
      b3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, r3 + K16), xt, b3);
    }
    const __m128 s = hsum4_avx2(fold512(_mm512_add_ps(a0, b0)), fold512(_mm512_add_ps(a1, b1)),
                                fold512(_mm512_add_ps(a2, b2)), fold512(_mm512_add_ps(a3, b3)));
    gemv_store4(y + j * incy, incy, alpha, beta, s);
  }
  for (; j < N; j++) {
    const float *r = B + j * ldb;
    __m512 a = _mm512_setzero_ps(), b = a;
    int64_t p = 0;
    for (; p + 32 <= K; p += 32) {
      a = _mm512_fmadd_ps(_mm512_loadu_ps(r + p), _mm512_loadu_ps(x + p), a);
      b = _mm512_fmadd_ps(_mm512_loadu_ps(r + p + 16), _mm512_loadu_ps(x + p + 16), b);
    }
    if (p < K16) a = _mm512_fmadd_ps(_mm512_loadu_ps(r + p), _mm512_loadu_ps(x + p), a);
    if (tail) b = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, r + K16), xt, b);
    gemv_store(y + j * incy, alpha, beta, hsum_avx2(fold512(_mm512_add_ps(a, b))));
  }
}

GEMM_TARGET("avx512f")
static void gemv_rows_avx512(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                             const float *GEMM_RESTRICT B, int64_t ldb, float beta, float *GEMM_RESTRICT y,
                             int64_t incy) {
  float acc[GEMV_COLS] __attribute__((aligned(64)));
  for (int64_t j0 = 0; j0 < N; j0 += GEMV_COLS) {
    const int64_t w = N - j0 < GEMV_COLS ? N - j0 : GEMV_COLS;
    const int64_t w16 = w & ~(int64_t)15;
    const __mmask16 tail = (__mmask16)((1u << (w - w16)) - 1u);
    for (int64_t j = 0; j < w; j += 16) _mm512_store_ps(acc + j, _mm512_setzero_ps());
    int64_t p = 0;
    for (; p + 4 <= K; p += 4) {
      const __m512 x0 = _mm512_set1_ps(x[p]), x1 = _mm512_set1_ps(x[p + 1]);
      const __m512 x2 = _mm512_set1_ps(x[p + 2]), x3 = _mm512_set1_ps(x[p + 3]);
      const float *r0 = B + p * ldb + j0, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
      int64_t j = 0;
      for (; j < w16; j += 16) {
        _mm_prefetch((const char *)(r0 + GEMV_AHEAD_AVX512 * ldb + j), _MM_HINT_T0);
        _mm_prefetch((const char *)(r1 + GEMV_AHEAD_AVX512 * ldb + j), _MM_HINT_T0);
        _mm_prefetch((const char *)(r2 + GEMV_AHEAD_AVX512 * ldb + j), _MM_HINT_T0);
        _mm_prefetch((const char *)(r3 + GEMV_AHEAD_AVX512 * ldb + j), _MM_HINT_T0);
        __m512 a = _mm512_load_ps(acc + j);
        a = _mm512_fmadd_ps(x0, _mm512_loadu_ps(r0 + j), a);
        a = _mm512_fmadd_ps(x1, _mm512_loadu_ps(r1 + j), a);
        a = _mm512_fmadd_ps(x2, _mm512_loadu_ps(r2 + j), a);
        a = _mm512_fmadd_ps(x3, _mm512_loadu_ps(r3 + j), a);
        _mm512_store_ps(acc + j, a);
      }
      if (tail) {
        __m512 a = _mm512_load_ps(acc + j);
        a = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(tail, r0 + j), a);
        a = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(tail, r1 + j), a);
        a = _mm512_fmadd_ps(x2, _mm512_maskz_loadu_ps(tail, r2 + j), a);
        a = _mm512_fmadd_ps(x3, _mm512_maskz_loadu_ps(tail, r3 + j), a);
        _mm512_store_ps(acc + j, a);
      }
    }
    for (; p < K; p++) {
      const __m512 xp = _mm512_set1_ps(x[p]);
      const float *r = B + p * ldb + j0;
      int64_t j = 0;
      for (; j < w16; j += 16)
        _mm512_store_ps(acc + j, _mm512_fmadd_ps(xp, _mm512_loadu_ps(r + j), _mm512_load_ps(acc + j)));
      if (tail)
        _mm512_store_ps(acc + j, _mm512_fmadd_ps(xp, _mm512_maskz_loadu_ps(tail, r + j), _mm512_load_ps(acc + j)));
    }
    if (incy == 1) {
      const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
      float *yj = y + j0;
      int64_t j = 0;
      for (; j < w16; j += 16) {
        __m512 v = _mm512_mul_ps(va, _mm512_load_ps(acc + j));
        if (beta != 0.0f) v = _mm512_add_ps(v, _mm512_mul_ps(vb, _mm512_loadu_ps(yj + j)));
        _mm512_storeu_ps(yj + j, v);
      }
      for (; j < w; j++) gemv_store(yj + j, alpha, beta, acc[j]);
    } else {
      for (int64_t j = 0; j < w; j++) gemv_store(y + (j0 + j) * incy, alpha, beta, acc[j]);
    }
  }
}
#endif

void gemm_sgemv(int path, int transB, int64_t N, int64_t K, float alpha, const float *x, const float *B,
                int64_t ldb, float beta, float *y, int64_t incy) {
  if (N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    for (int64_t j = 0; j < N; j++) y[j * incy] = beta == 0.0f ? 0.0f : beta * y[j * incy];
    return;
  }
#if GEMM_X86
  if (path == GEMM_PATH_AVX512) {
    (transB ? gemv_dots_avx512 : gemv_rows_avx512)(N, K, alpha, x, B, ldb, beta, y, incy);
    return;
  }
  if (path == GEMM_PATH_AVX2) {
    (transB ? gemv_dots_avx2 : gemv_rows_avx2)(N, K, alpha, x, B, ldb, beta, y, incy);
    return;
  }
#endif
  (void)path;
  (transB ? gemv_dots_portable : gemv_rows_portable)(N, K, alpha, x, B, ldb, beta, y, incy);
}

/* ---------------------------------------------------------------------------------------------
 * Adam. The scalar loop does not vectorise (sqrtf sets errno for negative inputs under the
 * default -fmath-errno), so the SIMD paths are intrinsics: the same operations in the same order
 * on 4 (SSE2) or 8 (AVX) elements. No FMA may appear: SSE2 has none and the AVX2 loop is compiled
 * for "avx2" without "fma", so the compiler cannot contract a multiply and an add whatever
 * -ffp-contract the addon is built with, and the results stay bit-identical. Tails go through
 * the scalar loop.
 * ------------------------------------------------------------------------------------------- */

static void adam_scalar(int64_t n, float *GEMM_RESTRICT x, const float *GEMM_RESTRICT g, float *GEMM_RESTRICT m,
                        float *GEMM_RESTRICT v, const gemm_adam_params *c) {
  const float b1 = c->b1, b2 = c->b2, c1 = c->c1, c2 = c->c2, d1 = c->d1, d2 = c->d2, eps = c->eps;
  const float neg_lr = c->neg_lr;
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i];
    float mi = m[i] * b1 + gi * c1;
    float vi = v[i] * b2 + (gi * gi) * c2;
    m[i] = mi;
    v[i] = vi;
    /* Same operation order as tfjs: ((m̂ / (√v̂ + ε)) · −lr) + x, each step rounded to float32. */
    x[i] = ((mi / d1) / (sqrtf(vi / d2) + eps)) * neg_lr + x[i];
  }
}

#if GEMM_X86
/* SSE2 is the x86-64 baseline: the portable path on x86. */
static void adam_sse2(int64_t n, float *GEMM_RESTRICT x, const float *GEMM_RESTRICT g, float *GEMM_RESTRICT m,
                      float *GEMM_RESTRICT v, const gemm_adam_params *c) {
  const __m128 b1 = _mm_set1_ps(c->b1), b2 = _mm_set1_ps(c->b2), c1 = _mm_set1_ps(c->c1), c2 = _mm_set1_ps(c->c2);
  const __m128 d1 = _mm_set1_ps(c->d1), d2 = _mm_set1_ps(c->d2), eps = _mm_set1_ps(c->eps);
  const __m128 neg_lr = _mm_set1_ps(c->neg_lr);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 gi = _mm_loadu_ps(g + i);
    const __m128 mi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + i), b1), _mm_mul_ps(gi, c1));
    const __m128 vi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + i), b2), _mm_mul_ps(_mm_mul_ps(gi, gi), c2));
    _mm_storeu_ps(m + i, mi);
    _mm_storeu_ps(v + i, vi);
    const __m128 den = _mm_add_ps(_mm_sqrt_ps(_mm_div_ps(vi, d2)), eps);
    const __m128 upd = _mm_mul_ps(_mm_div_ps(_mm_div_ps(mi, d1), den), neg_lr);
    _mm_storeu_ps(x + i, _mm_add_ps(upd, _mm_loadu_ps(x + i)));
  }
  adam_scalar(n - i, x + i, g + i, m + i, v + i, c);
}

GEMM_TARGET("avx2")
static void adam_avx2(int64_t n, float *GEMM_RESTRICT x, const float *GEMM_RESTRICT g, float *GEMM_RESTRICT m,
                      float *GEMM_RESTRICT v, const gemm_adam_params *c) {
  const __m256 b1 = _mm256_set1_ps(c->b1), b2 = _mm256_set1_ps(c->b2), c1 = _mm256_set1_ps(c->c1);
  const __m256 c2 = _mm256_set1_ps(c->c2), d1 = _mm256_set1_ps(c->d1), d2 = _mm256_set1_ps(c->d2);
  const __m256 eps = _mm256_set1_ps(c->eps), neg_lr = _mm256_set1_ps(c->neg_lr);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gi = _mm256_loadu_ps(g + i);
    const __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), b1), _mm256_mul_ps(gi, c1));
    const __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), b2), _mm256_mul_ps(_mm256_mul_ps(gi, gi), c2));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    const __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(vi, d2)), eps);
    const __m256 upd = _mm256_mul_ps(_mm256_div_ps(_mm256_div_ps(mi, d1), den), neg_lr);
    _mm256_storeu_ps(x + i, _mm256_add_ps(upd, _mm256_loadu_ps(x + i)));
  }
  adam_scalar(n - i, x + i, g + i, m + i, v + i, c);
}

#endif

void gemm_adam(int path, int64_t n, float *x, const float *g, float *m, float *v, const gemm_adam_params *c) {
  if (n <= 0) return;
#if GEMM_X86
  /* The AVX-512 path runs the 8-lane loop: Adam is memory-bound, and 16 lanes (masked tail or
   * not) measured slower (5.3 vs 4.2 ms over 9.64M parameters on Zen 4, whose 512-bit divide and
   * square root take two passes). */
  if (path == GEMM_PATH_AVX512 || path == GEMM_PATH_AVX2) {
    adam_avx2(n, x, g, m, v, c);
    return;
  }
  if (path == GEMM_PATH_PORTABLE) {
    adam_sse2(n, x, g, m, v, c);
    return;
  }
#endif
  (void)path;
  adam_scalar(n, x, g, m, v, c);
}
