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
 * One-row products (M = 1): no packing, B streamed once. The bodies are compiled once per
 * path through always-inline helpers called from functions with the path's target attribute.
 * ------------------------------------------------------------------------------------------- */

#define GEMV_BLOCK 64

/* y[j] = alpha·Σ_p x[p]·B[p·ldb + j] + beta·y[j]: rows of B, accumulated 64 columns at a time. */
GEMM_INLINE void gemv_rows_body(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                                const float *GEMM_RESTRICT B, int64_t ldb, float beta,
                                float *GEMM_RESTRICT y, int64_t incy) {
  for (int64_t j0 = 0; j0 < N; j0 += GEMV_BLOCK) {
    float acc[GEMV_BLOCK] __attribute__((aligned(64)));
    const int64_t w = N - j0 < GEMV_BLOCK ? N - j0 : GEMV_BLOCK;
    for (int j = 0; j < GEMV_BLOCK; j++) acc[j] = 0.0f;
    if (w == GEMV_BLOCK) {
      for (int64_t p = 0; p < K; p++) {
        const float xp = x[p];
        const float *row = B + p * ldb + j0;
        for (int j = 0; j < GEMV_BLOCK; j++) acc[j] += xp * row[j];
      }
    } else {
      for (int64_t p = 0; p < K; p++) {
        const float xp = x[p];
        const float *row = B + p * ldb + j0;
        for (int64_t j = 0; j < w; j++) acc[j] += xp * row[j];
      }
    }
    for (int64_t j = 0; j < w; j++) {
      float *yj = y + (j0 + j) * incy;
      *yj = beta == 0.0f ? alpha * acc[j] : alpha * acc[j] + beta * *yj;
    }
  }
}

/* y[j] = alpha·dot(B[j·ldb ..], x) + beta·y[j]: 16 partial sums per dot product. */
GEMM_INLINE void gemv_dots_body(int64_t N, int64_t K, float alpha, const float *GEMM_RESTRICT x,
                                const float *GEMM_RESTRICT B, int64_t ldb, float beta,
                                float *GEMM_RESTRICT y, int64_t incy) {
  for (int64_t j = 0; j < N; j++) {
    const float *row = B + j * ldb;
    float acc[16];
    for (int l = 0; l < 16; l++) acc[l] = 0.0f;
    int64_t p = 0;
    for (; p + 16 <= K; p += 16)
      for (int l = 0; l < 16; l++) acc[l] += row[p + l] * x[p + l];
    float s = 0.0f;
    for (; p < K; p++) s += row[p] * x[p];
    for (int l = 0; l < 16; l++) s += acc[l];
    y[j * incy] = beta == 0.0f ? alpha * s : alpha * s + beta * y[j * incy];
  }
}

static void gemv_portable(int transB, int64_t N, int64_t K, float alpha, const float *x, const float *B,
                          int64_t ldb, float beta, float *y, int64_t incy) {
  if (transB)
    gemv_dots_body(N, K, alpha, x, B, ldb, beta, y, incy);
  else
    gemv_rows_body(N, K, alpha, x, B, ldb, beta, y, incy);
}

#if GEMM_X86
GEMM_TARGET("avx2,fma")
static void gemv_avx2(int transB, int64_t N, int64_t K, float alpha, const float *x, const float *B,
                      int64_t ldb, float beta, float *y, int64_t incy) {
  if (transB)
    gemv_dots_body(N, K, alpha, x, B, ldb, beta, y, incy);
  else
    gemv_rows_body(N, K, alpha, x, B, ldb, beta, y, incy);
}

GEMM_TARGET("avx512f")
static void gemv_avx512(int transB, int64_t N, int64_t K, float alpha, const float *x, const float *B,
                        int64_t ldb, float beta, float *y, int64_t incy) {
  if (transB)
    gemv_dots_body(N, K, alpha, x, B, ldb, beta, y, incy);
  else
    gemv_rows_body(N, K, alpha, x, B, ldb, beta, y, incy);
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
    gemv_avx512(transB, N, K, alpha, x, B, ldb, beta, y, incy);
    return;
  }
  if (path == GEMM_PATH_AVX2) {
    gemv_avx2(transB, N, K, alpha, x, B, ldb, beta, y, incy);
    return;
  }
#endif
  (void)path;
  gemv_portable(transB, N, K, alpha, x, B, ldb, beta, y, incy);
}
