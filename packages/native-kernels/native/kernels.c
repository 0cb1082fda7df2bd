/*
 * Optional native CPU kernels for @stepcoder/model's wasm backend.
 *
 * GEMM: an optimised BLAS (OpenBLAS, MKL, BLIS) is opened with dlopen at run time, so this addon
 * builds without BLAS headers or libraries and a machine without one simply reports why it has
 * none. The kernels read and write float32 data in place inside an ArrayBuffer (the wasm heap),
 * at byte offsets the JS side takes from the tfjs backend: no copies in or out.
 *
 * Adam: one fused pass per variable (moments, bias correction, update) in the same float32
 * arithmetic as tfjs's AdamOptimizer, instead of ~10 elementwise kernels each reading and
 * writing the whole tensor.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

enum { CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 };

typedef void (*sgemm_fn)(int order, int transA, int transB, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C,
                         int ldc);
typedef void (*sgemv_fn)(int order, int trans, int M, int N, float alpha, const float *A, int lda,
                         const float *X, int incX, float beta, float *Y, int incY);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_config_fn)(void);

typedef struct {
  void *handle;
  sgemm_fn sgemm;
  sgemv_fn sgemv;
  set_threads_fn set_threads;
  get_threads_fn get_threads;
  get_config_fn get_config;
  char path[1024];
  /* 1 while the built-in SGEMM (gemm.c) serves every GEMM instead of a dlopen'd BLAS. */
  int builtin;
  int builtin_path;
} blas_lib;

/* One BLAS per process: dlopen handles are process-wide and the library's thread pool is too. */
static blas_lib lib;

#define THROW(env, msg)                        \
  do {                                         \
    napi_throw_error((env), NULL, (msg));      \
    return NULL;                               \
  } while (0)

#define CHECK(env, call)                                           \
  do {                                                             \
    if ((call) != napi_ok) THROW((env), "N-API call failed: " #call); \
  } while (0)

static int get_int(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static int get_f32(napi_env env, napi_value v, float *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  *out = (float)d;
  return 1;
}

/* load(path): dlopen a BLAS and resolve its symbols; returns {path, config} or throws. */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[1024];
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok)
    THROW(env, "load(path): path must be a string");
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    char msg[1400];
    snprintf(msg, sizeof msg, "dlopen failed: %s", dlerror());
    THROW(env, msg);
  }
  sgemm_fn sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
  if (!sgemm) {
    dlclose(handle);
    THROW(env, "the library has no cblas_sgemm symbol");
  }
  if (lib.handle && lib.handle != handle) dlclose(lib.handle);
  lib.handle = handle;
  lib.sgemm = sgemm;
  lib.builtin = 0;
  lib.sgemv = (sgemv_fn)dlsym(handle, "cblas_sgemv");
  lib.set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
  if (!lib.set_threads) lib.set_threads = (set_threads_fn)dlsym(handle, "MKL_Set_Num_Threads");
  if (!lib.set_threads) lib.set_threads = (set_threads_fn)dlsym(handle, "bli_thread_set_num_threads");
  lib.get_threads = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
  if (!lib.get_threads) lib.get_threads = (get_threads_fn)dlsym(handle, "MKL_Get_Max_Threads");
  lib.get_config = (get_config_fn)dlsym(handle, "openblas_get_config");
  /* Where the loader actually found it (a soname resolves through the search path). */
  Dl_info where;
  if (dladdr((void *)sgemm, &where) && where.dli_fname)
    snprintf(lib.path, sizeof lib.path, "%s", where.dli_fname);
  else
    snprintf(lib.path, sizeof lib.path, "%s", path);

  napi_value result, v;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_create_string_utf8(env, lib.path, NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, result, "path", v));
  if (lib.get_config) {
    CHECK(env, napi_create_string_utf8(env, lib.get_config(), NAPI_AUTO_LENGTH, &v));
  } else {
    CHECK(env, napi_get_null(env, &v));
  }
  CHECK(env, napi_set_named_property(env, result, "config", v));
  CHECK(env, napi_get_boolean(env, lib.set_threads != NULL, &v));
  CHECK(env, napi_set_named_property(env, result, "canSetThreads", v));
  return result;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t n;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_int(env, argv[0], &n) || n < 1) THROW(env, "setThreads(n): n must be >= 1");
  if (lib.builtin) return NULL; /* the built-in SGEMM is single-threaded */
  if (!lib.handle) THROW(env, "no BLAS loaded");
  if (!lib.set_threads) THROW(env, "this BLAS has no thread-count setter");
  lib.set_threads((int)n);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  int n = lib.builtin ? 1 : (lib.handle && lib.get_threads) ? lib.get_threads() : -1;
  CHECK(env, napi_create_int32(env, n, &v));
  return v;
}

/* Resolve an ArrayBuffer argument to its data pointer and length. */
static int buffer_of(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_ab = false;
  if (napi_is_arraybuffer(env, v, &is_ab) != napi_ok || !is_ab) return 0;
  void *p;
  if (napi_get_arraybuffer_info(env, v, &p, len) != napi_ok) return 0;
  *data = (uint8_t *)p;
  return 1;
}

static int in_bounds(size_t len, int64_t offset, int64_t count) {
  return offset >= 0 && count >= 0 && (offset & 3) == 0 && (uint64_t)offset + (uint64_t)count * 4 <= len;
}

/*
 * One row-major GEMM, C = alpha·op(A)·op(B) + beta·C, through the built-in SGEMM (builtin = 1,
 * on `path`) or the loaded BLAS. M = 1 with a contiguous row of op(A) is a GEMV (KV-cache
 * decoding, bias gradients): C = op(B)ᵀ·a streams B once, where a GEMM would pack it first; for
 * the built-in, so is N = 1 with a contiguous column of op(B) (the value head).
 *
 * M = 1 always takes the built-in GEMV (gemm.c), with a BLAS loaded too, on the best path this
 * CPU allows: it streams op(B) once, 4 rows at a time with the next rows prefetched, and a
 * decode step is DRAM-bound (LLAMA_MINI: 43 products over 38 MB of weights per token). On that
 * step (bench/gemv.ts, 1 thread, Zen 4 with AVX-512, shared machine) the built-in AVX-512 GEMV
 * took 0.73 ms for x·Wᵀ and 0.75–0.77 ms for x·W (AVX2 path: 0.76–0.81 / 0.74–0.76 ms), while
 * OpenBLAS 0.3.21 took, for x·Wᵀ / x·W: sgemv 1.2–1.4 / 0.88–1.2 ms with either core type;
 * sgemm at M = 1 0.84–0.87 / 1.1–1.2 ms with its own Cooperlake kernels and 2.6–2.8 /
 * 2.7–2.9 ms with the Haswell kernels this image pins (OPENBLAS_CORETYPE=Haswell). No OpenBLAS
 * entry point wins on either setting, so there is no rule to switch on. A strided row of op(A)
 * (transA with lda > 1) stays on the BLAS's sgemv, which takes an increment.
 * STEPCODER_GEMV=sgemv or sgemm (read once per process) sends M = 1 to the BLAS's sgemv or sgemm
 * instead, for the benchmark's comparison; STEPCODER_GEMM_PATH applies to the built-in only.
 */
static void run_gemm(int builtin, int path, int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                     int64_t ldc) {
  if (builtin) {
    if (M == 1 && (!ta || lda == 1)) {
      /* C row = op(A) row · op(B). */
      gemm_sgemv(path, tb, N, K, alpha, A, B, ldb, beta, C, 1);
    } else if (N == 1 && (tb || ldb == 1)) {
      /* C column = op(A) · op(B) column: op(A) is A (rows, dots) or Aᵀ (rows of A accumulated). */
      gemm_sgemv(path, !ta, M, K, alpha, B, A, lda, beta, C, ldc);
    } else {
      gemm_sgemm(path, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
    return;
  }
  /* (STEPCODER_GEMV mode << 4) | best built-in path, decided once (one int: no torn reads). */
  static int m1_config = -1;
  int cfg = __atomic_load_n(&m1_config, __ATOMIC_RELAXED);
  if (cfg < 0) {
    const char *e = getenv("STEPCODER_GEMV");
    const int mode = e && strcmp(e, "sgemv") == 0 ? 1 : e && strcmp(e, "sgemm") == 0 ? 2 : 0;
    cfg = mode << 4 | gemm_best_path();
    __atomic_store_n(&m1_config, cfg, __ATOMIC_RELAXED);
  }
  const int mode = cfg >> 4;
  if (M == 1 && mode == 0 && (!ta || lda == 1)) {
    gemm_sgemv(cfg & 15, tb, N, K, alpha, A, B, ldb, beta, C, 1);
    return;
  }
  if (M == 1 && mode != 2 && lib.sgemv && K > 0) {
    /* op(B) is K×N: row-major B is K×N (no trans) or N×K (trans). */
    const int incx = ta ? (int)lda : 1;
    if (tb)
      lib.sgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)K, alpha, B, (int)ldb, A, incx, beta, C, 1);
    else
      lib.sgemv(CblasRowMajor, CblasTrans, (int)K, (int)N, alpha, B, (int)ldb, A, incx, beta, C, 1);
    return;
  }
  lib.sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
            (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

static int gemm_available(void) { return lib.builtin || lib.sgemm != NULL; }

/* A JS string argument naming a built-in path ("" or "auto": the best this CPU allows). */
static int path_arg(napi_env env, napi_value v, int *path, char *err, size_t errlen) {
  char name[32];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, name, sizeof name, &len) != napi_ok) {
    snprintf(err, errlen, "the GEMM path must be a string");
    return 0;
  }
  if (len == 0 || strcmp(name, "auto") == 0) {
    *path = gemm_best_path();
    return 1;
  }
  int p = gemm_path_from_name(name);
  if (p < 0) {
    snprintf(err, errlen, "unknown GEMM path '%s' (portable, avx2, avx512 or auto)", name);
    return 0;
  }
  if (!gemm_path_supported(p)) {
    snprintf(err, errlen, "GEMM path '%s' (%s) is not supported by this CPU", name, gemm_path_label(p));
    return 0;
  }
  *path = p;
  return 1;
}

/* useBuiltin(path): serve every GEMM with the built-in SGEMM on `path`; returns what load() does. */
static napi_value use_builtin(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) THROW(env, "useBuiltin(path): path expected");
  int path;
  char err[160];
  if (!path_arg(env, argv[0], &path, err, sizeof err)) THROW(env, err);
  lib.builtin = 1;
  lib.builtin_path = path;
  int blk[5];
  gemm_path_blocking(path, blk);
  char config[200];
  snprintf(config, sizeof config, "built-in SGEMM %s, %d×%d tile, MC %d KC %d NC %d", gemm_path_label(path),
           blk[0], blk[1], blk[2], blk[3], blk[4]);
  napi_value result, v;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_create_string_utf8(env, "builtin", NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, result, "path", v));
  CHECK(env, napi_create_string_utf8(env, config, NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, result, "config", v));
  CHECK(env, napi_get_boolean(env, false, &v));
  CHECK(env, napi_set_named_property(env, result, "canSetThreads", v));
  CHECK(env, napi_create_string_utf8(env, gemm_path_name(path), NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, result, "gemmPath", v));
  return result;
}

static napi_value set_bool(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  if (napi_get_boolean(env, value != 0, &v) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, key, v) != napi_ok) return NULL;
  return obj;
}

/*
 * gemmInfo(): {arch, avx2, fma, avx512f, paths: [names this CPU allows], best, compiler,
 * blocking: {path: [mr, nr, mc, kc, nc]}, active: 'builtin' | 'blas' | null, activePath}.
 */
static napi_value gemm_info(napi_env env, napi_callback_info info) {
  (void)info;
  int avx2, fma, avx512f;
  gemm_cpu_features(&avx2, &fma, &avx512f);
  napi_value result, v, paths, blocking;
  CHECK(env, napi_create_object(env, &result));
#if defined(__x86_64__) || defined(_M_X64)
  const char *arch = "x64";
#elif defined(__aarch64__)
  const char *arch = "arm64";
#else
  const char *arch = "other";
#endif
  CHECK(env, napi_create_string_utf8(env, arch, NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, result, "arch", v));
  if (!set_bool(env, result, "avx2", avx2) || !set_bool(env, result, "fma", fma) ||
      !set_bool(env, result, "avx512f", avx512f))
    THROW(env, "gemmInfo: N-API call failed");
  CHECK(env, napi_create_array(env, &paths));
  CHECK(env, napi_create_object(env, &blocking));
  uint32_t n = 0;
  for (int p = 0; p < GEMM_PATH_COUNT; p++) {
    if (!gemm_path_supported(p)) continue;
    CHECK(env, napi_create_string_utf8(env, gemm_path_name(p), NAPI_AUTO_LENGTH, &v));
    CHECK(env, napi_set_element(env, paths, n++, v));
    int blk[5];
    gemm_path_blocking(p, blk);
    napi_value arr;
    CHECK(env, napi_create_array_with_length(env, 5, &arr));
    for (uint32_t i = 0; i < 5; i++) {
      CHECK(env, napi_create_int32(env, blk[i], &v));
      CHECK(env, napi_set_element(env, arr, i, v));
    }
    CHECK(env, napi_set_named_property(env, blocking, gemm_path_name(p), arr));
  }
  CHECK(env, napi_set_named_property(env, result, "paths", paths));
  CHECK(env, napi_set_named_property(env, result, "blocking", blocking));
  CHECK(env, napi_create_string_utf8(env, gemm_path_name(gemm_best_path()), NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, result, "best", v));
#if defined(__clang__)
  const char *compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  const char *compiler = "gcc " __VERSION__;
#else
  const char *compiler = "unknown compiler";
#endif
  CHECK(env, napi_create_string_utf8(env, compiler, NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, result, "compiler", v));
  if (lib.builtin) {
    CHECK(env, napi_create_string_utf8(env, "builtin", NAPI_AUTO_LENGTH, &v));
  } else if (lib.sgemm) {
    CHECK(env, napi_create_string_utf8(env, "blas", NAPI_AUTO_LENGTH, &v));
  } else {
    CHECK(env, napi_get_null(env, &v));
  }
  CHECK(env, napi_set_named_property(env, result, "active", v));
  if (lib.builtin) {
    CHECK(env, napi_create_string_utf8(env, gemm_path_name(lib.builtin_path), NAPI_AUTO_LENGTH, &v));
  } else {
    CHECK(env, napi_get_null(env, &v));
  }
  CHECK(env, napi_set_named_property(env, result, "activePath", v));
  return result;
}

/* Elements spanned by a rows×cols row-major operand with row stride ld (0 when empty). */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0; }

/*
 * gemm(heap, impl, path, transA, transB, M, N, K, alpha, aOff, lda, bOff, ldb, beta, cOff, ldc):
 * one cblas-style row-major GEMM with explicit leading dimensions (in floats) and alpha/beta.
 * impl 0: the GEMM in use (the loaded BLAS or the built-in); impl 1: the built-in SGEMM on
 * `path` ("auto", "portable", "avx2", "avx512"), whatever is loaded. Tests and benchmarks.
 */
static napi_value gemm_call(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 16) THROW(env, "gemm: expected 16 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "gemm: heap must be an ArrayBuffer");
  int64_t impl;
  if (!get_int(env, argv[1], &impl) || (impl != 0 && impl != 1)) THROW(env, "gemm: impl must be 0 or 1");
  int path = lib.builtin_path;
  char err[160];
  if (impl == 1 && !path_arg(env, argv[2], &path, err, sizeof err)) THROW(env, err);
  if (impl == 0 && !gemm_available()) THROW(env, "gemm: no GEMM loaded");
  int64_t ta, tb, M, N, K, aOff, lda, bOff, ldb, cOff, ldc;
  float alpha, beta;
  if (!get_int(env, argv[3], &ta) || !get_int(env, argv[4], &tb) || !get_int(env, argv[5], &M) ||
      !get_int(env, argv[6], &N) || !get_int(env, argv[7], &K) || !get_f32(env, argv[8], &alpha) ||
      !get_int(env, argv[9], &aOff) || !get_int(env, argv[10], &lda) || !get_int(env, argv[11], &bOff) ||
      !get_int(env, argv[12], &ldb) || !get_f32(env, argv[13], &beta) || !get_int(env, argv[14], &cOff) ||
      !get_int(env, argv[15], &ldc))
    THROW(env, "gemm: number arguments expected");
  if (M < 0 || N < 0 || K < 0 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX) THROW(env, "gemm: bad dimensions");
  const int64_t rowsA = ta ? K : M, colsA = ta ? M : K, rowsB = tb ? N : K, colsB = tb ? K : N;
  if (lda < (colsA > 1 ? colsA : 1) || ldb < (colsB > 1 ? colsB : 1) || ldc < (N > 1 ? N : 1) ||
      lda > INT32_MAX || ldb > INT32_MAX || ldc > INT32_MAX)
    THROW(env, "gemm: a leading dimension is smaller than its operand's width");
  if (M == 0 || N == 0) return NULL;
  if (!in_bounds(len, aOff, span(rowsA, colsA, lda)) || !in_bounds(len, bOff, span(rowsB, colsB, ldb)) ||
      !in_bounds(len, cOff, span(M, N, ldc)))
    THROW(env, "gemm: operand outside the buffer or misaligned");
  const float *A = (const float *)(heap + aOff);
  const float *B = (const float *)(heap + bOff);
  float *C = (float *)(heap + cOff);
  if (impl == 0 && !lib.builtin && K == 0) {
    /* Some BLAS builds return early on K = 0 without applying beta. */
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return NULL;
  }
  run_gemm(impl == 1 || lib.builtin, path, ta != 0, tb != 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  return NULL;
}

/*
 * sgemm(heap, batch, M, N, K, transA, transB, aOff, aStride, bOff, bStride, cOff, cStride, biasOff,
 *       resOff):
 * C[i] = op(A[i]) · op(B[i]) (+ R[i], an M×N residual at resOff + i·cStride when resOff ≥ 0)
 * (+ bias, a length-N row added to every row when biasOff ≥ 0) for
 * i < batch, row-major, offsets and strides in bytes (stride 0 broadcasts an operand). op(A) is
 * M×K, op(B) is K×N, C is M×N.
 */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 15) THROW(env, "sgemm: expected 15 arguments");
  if (!gemm_available()) THROW(env, "sgemm: no GEMM loaded");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "sgemm: heap must be an ArrayBuffer");
  int64_t a[14];
  for (int i = 0; i < 14; i++)
    if (!get_int(env, argv[i + 1], &a[i])) THROW(env, "sgemm: integer arguments expected");
  int64_t biasOff = a[12], resOff = a[13];
  if (biasOff >= 0 && !in_bounds(len, biasOff, a[2])) THROW(env, "sgemm: bias outside the buffer or misaligned");
  int64_t batch = a[0], M = a[1], N = a[2], K = a[3];
  int ta = a[4] != 0, tb = a[5] != 0;
  int64_t aOff = a[6], aStride = a[7], bOff = a[8], bStride = a[9], cOff = a[10], cStride = a[11];
  if (batch < 0 || M < 0 || N < 0 || K < 0 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
    THROW(env, "sgemm: bad dimensions");
  if (batch == 0 || M == 0 || N == 0) return NULL;
  int64_t last = batch - 1;
  if (resOff >= 0 && (!in_bounds(len, resOff, M * N) || !in_bounds(len, resOff + last * a[11], M * N)))
    THROW(env, "sgemm: residual outside the buffer or misaligned");
  if (!in_bounds(len, aOff + last * aStride, M * K) || !in_bounds(len, bOff + last * bStride, K * N) ||
      !in_bounds(len, cOff + last * cStride, M * N) || !in_bounds(len, aOff, M * K) ||
      !in_bounds(len, bOff, K * N) || !in_bounds(len, cOff, M * N) || (aStride & 3) || (bStride & 3) ||
      (cStride & 3))
    THROW(env, "sgemm: operand outside the buffer or misaligned");
  int lda = ta ? (int)M : (int)K;
  int ldb = tb ? (int)K : (int)N;
  for (int64_t i = 0; i < batch; i++) {
    const float *A = (const float *)(heap + aOff + i * aStride);
    const float *B = (const float *)(heap + bOff + i * bStride);
    float *C = (float *)(heap + cOff + i * cStride);
    float beta = 0.0f;
    if (resOff >= 0) {
      /* memmove: the residual may be C itself (an in-place accumulate). */
      memmove(C, heap + resOff + i * cStride, (size_t)(M * N) * 4);
      beta = 1.0f;
    }
    if (biasOff >= 0) {
      const float *bias = (const float *)(heap + biasOff);
      if (beta == 0.0f) {
        for (int64_t r = 0; r < M; r++) memcpy(C + r * N, bias, (size_t)N * 4);
      } else {
        for (int64_t r = 0; r < M; r++)
          for (int64_t j = 0; j < N; j++) C[r * N + j] += bias[j];
      }
      beta = 1.0f;
    }
    if (beta == 0.0f && K == 0) memset(C, 0, (size_t)(M * N) * 4);
    if (K == 0) continue;
    run_gemm(lib.builtin, lib.builtin_path, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, N);
  }
  return NULL;
}

/*
 * adam(heap, n, valueOff, gradOff, mOff, vOff, lr, beta1, beta2, eps, accBeta1, accBeta2[, path]):
 * tfjs AdamOptimizer.applyGradients for one variable, in place, in float32:
 *   m = b1·m + (1−b1)·g;  v = b2·v + (1−b2)·g²
 *   x = ((m / (1 − accB1)) / (sqrt(v / (1 − accB2)) + eps)) · (−lr) + x
 * vectorised (gemm.c's gemm_adam) with results bit-identical to the scalar loop on every path.
 * path: "scalar" (the element-at-a-time reference loop), "portable", "avx2", "avx512" or "auto"
 * (tests and benchmarks); without it, the built-in's path while the built-in serves GEMM
 * (STEPCODER_GEMM_PATH), else the best this CPU allows.
 */
static napi_value adam(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12 && argc != 13) THROW(env, "adam: expected 12 or 13 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "adam: heap must be an ArrayBuffer");
  int64_t ints[5];
  for (int i = 0; i < 5; i++)
    if (!get_int(env, argv[i + 1], &ints[i])) THROW(env, "adam: integer arguments expected");
  double lr_d, b1_d, b2_d;
  float eps, acc1, acc2;
  if (napi_get_value_double(env, argv[6], &lr_d) != napi_ok ||
      napi_get_value_double(env, argv[7], &b1_d) != napi_ok ||
      napi_get_value_double(env, argv[8], &b2_d) != napi_ok || !get_f32(env, argv[9], &eps) ||
      !get_f32(env, argv[10], &acc1) || !get_f32(env, argv[11], &acc2))
    THROW(env, "adam: number arguments expected");
  int path = lib.builtin ? lib.builtin_path : gemm_best_path();
  if (argc == 13) {
    char name[16];
    size_t nlen = 0;
    char err[160];
    if (napi_get_value_string_utf8(env, argv[12], name, sizeof name, &nlen) == napi_ok &&
        strcmp(name, "scalar") == 0)
      path = GEMM_ADAM_SCALAR;
    else if (!path_arg(env, argv[12], &path, err, sizeof err))
      THROW(env, err);
  }
  int64_t n = ints[0];
  for (int i = 1; i < 5; i++)
    if (!in_bounds(len, ints[i], n)) THROW(env, "adam: operand outside the buffer or misaligned");
  float *x = (float *)(heap + ints[1]);
  const float *g = (const float *)(heap + ints[2]);
  float *m = (float *)(heap + ints[3]);
  float *v = (float *)(heap + ints[4]);
  /* Constants rounded as tfjs rounds them: JS numbers (doubles) become float32 scalars, while
   * 1 − accBeta is a float32 tensor subtraction. */
  gemm_adam_params c;
  c.b1 = (float)b1_d;
  c.b2 = (float)b2_d;
  c.c1 = (float)(1.0 - b1_d);
  c.c2 = (float)(1.0 - b2_d);
  c.d1 = 1.0f - acc1;
  c.d2 = 1.0f - acc2;
  c.eps = eps;
  c.neg_lr = (float)(-lr_d);
  gemm_adam(path, n, x, g, m, v, &c);
  return NULL;
}

/*
 * transpose(heap, shape[], perm[], inOff, outOff): out = x.transpose(perm) for 4-byte elements;
 * out.shape[d] = shape[perm[d]]. The innermost output axis is copied with memcpy when it is
 * contiguous in the input (the common attention head split/merge), else with a strided loop.
 */
#define MAX_RANK 8
static napi_value transpose(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 5) THROW(env, "transpose: expected 5 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "transpose: heap must be an ArrayBuffer");
  uint32_t rank, prank;
  if (napi_get_array_length(env, argv[1], &rank) != napi_ok ||
      napi_get_array_length(env, argv[2], &prank) != napi_ok || rank != prank || rank < 1 || rank > MAX_RANK)
    THROW(env, "transpose: shape and perm must be arrays of equal length 1..8");
  int64_t shape[MAX_RANK], perm[MAX_RANK], in_stride[MAX_RANK], oshape[MAX_RANK], ist[MAX_RANK];
  int seen[MAX_RANK] = {0};
  int64_t total = 1;
  for (uint32_t d = 0; d < rank; d++) {
    napi_value v;
    if (napi_get_element(env, argv[1], d, &v) != napi_ok || !get_int(env, v, &shape[d]) || shape[d] < 0)
      THROW(env, "transpose: bad shape");
    if (napi_get_element(env, argv[2], d, &v) != napi_ok || !get_int(env, v, &perm[d]) || perm[d] < 0 ||
        perm[d] >= (int64_t)rank || seen[perm[d]]++)
      THROW(env, "transpose: perm must be a permutation of 0..rank-1");
    total *= shape[d];
  }
  int64_t inOff, outOff;
  if (!get_int(env, argv[3], &inOff) || !get_int(env, argv[4], &outOff)) THROW(env, "transpose: bad offsets");
  if (!in_bounds(len, inOff, total) || !in_bounds(len, outOff, total))
    THROW(env, "transpose: operand outside the buffer or misaligned");
  if (total == 0) return NULL;
  in_stride[rank - 1] = 1;
  for (int d = (int)rank - 2; d >= 0; d--) in_stride[d] = in_stride[d + 1] * shape[d + 1];
  for (uint32_t d = 0; d < rank; d++) {
    oshape[d] = shape[perm[d]];
    ist[d] = in_stride[perm[d]];
  }
  const uint32_t *in = (const uint32_t *)(heap + inOff);
  uint32_t *out = (uint32_t *)(heap + outOff);
  const int64_t inner = oshape[rank - 1], s = ist[rank - 1];
  const int64_t outer = total / inner;
  int64_t idx[MAX_RANK] = {0};
  int64_t base = 0;
  for (int64_t o = 0; o < outer; o++) {
    const uint32_t *src = in + base;
    if (s == 1) {
      memcpy(out, src, (size_t)inner * 4);
    } else {
      for (int64_t j = 0; j < inner; j++) out[j] = src[j * s];
    }
    out += inner;
    for (int d = (int)rank - 2; d >= 0; d--) {
      idx[d]++;
      base += ist[d];
      if (idx[d] < oshape[d]) break;
      base -= ist[d] * oshape[d];
      idx[d] = 0;
    }
  }
  return NULL;
}

/*
 * layer_norm(heap, rows, d, eps, xOff, gOff, bOff, yOff, xhatOff, rstdOff): LayerNorm over the
 * last axis, y = x̂·g + b with x̂ = (x − mean)·rstd, rstd = 1/√(var + eps) (biased variance).
 * Mean and variance accumulate in double. xhatOff/rstdOff < 0 skip those outputs (inference).
 */
static napi_value layer_norm(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 10) THROW(env, "layerNorm: expected 10 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "layerNorm: heap must be an ArrayBuffer");
  int64_t rows, d, off[6];
  double eps;
  if (!get_int(env, argv[1], &rows) || !get_int(env, argv[2], &d) ||
      napi_get_value_double(env, argv[3], &eps) != napi_ok || rows < 0 || d < 1)
    THROW(env, "layerNorm: bad sizes");
  for (int i = 0; i < 6; i++)
    if (!get_int(env, argv[4 + i], &off[i])) THROW(env, "layerNorm: integer offsets expected");
  const int64_t counts[6] = {rows * d, d, d, rows * d, rows * d, rows};
  for (int i = 0; i < 6; i++)
    if ((i < 4 || off[i] >= 0) && !in_bounds(len, off[i], counts[i]))
      THROW(env, "layerNorm: operand outside the buffer or misaligned");
  const float *x = (const float *)(heap + off[0]);
  const float *g = (const float *)(heap + off[1]);
  const float *b = (const float *)(heap + off[2]);
  float *y = (float *)(heap + off[3]);
  float *xhat = off[4] >= 0 ? (float *)(heap + off[4]) : NULL;
  float *rstd_out = off[5] >= 0 ? (float *)(heap + off[5]) : NULL;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * d;
    double sum = 0;
    for (int64_t j = 0; j < d; j++) sum += xr[j];
    const float mean = (float)(sum / (double)d);
    double sq = 0;
    for (int64_t j = 0; j < d; j++) {
      const double c = (double)(xr[j] - mean);
      sq += c * c;
    }
    const float rstd = (float)(1.0 / sqrt(sq / (double)d + eps));
    if (rstd_out) rstd_out[r] = rstd;
    float *yr = y + r * d;
    float *hr = xhat ? xhat + r * d : NULL;
    for (int64_t j = 0; j < d; j++) {
      const float h = (xr[j] - mean) * rstd;
      if (hr) hr[j] = h;
      yr[j] = h * g[j] + b[j];
    }
  }
  return NULL;
}

/*
 * gelu(heap, n, xOff, yOff, sOff): gelu_new as x·σ(2u), u = c·(x + a·x³); s = σ(2u) is written
 * at sOff when ≥ 0 (the backward pass needs it).
 */
static napi_value gelu(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 5) THROW(env, "gelu: expected 5 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "gelu: heap must be an ArrayBuffer");
  int64_t n, xo, yo, so;
  if (!get_int(env, argv[1], &n) || !get_int(env, argv[2], &xo) || !get_int(env, argv[3], &yo) ||
      !get_int(env, argv[4], &so))
    THROW(env, "gelu: integer arguments expected");
  if (!in_bounds(len, xo, n) || !in_bounds(len, yo, n) || (so >= 0 && !in_bounds(len, so, n)))
    THROW(env, "gelu: operand outside the buffer or misaligned");
  const float *x = (const float *)(heap + xo);
  float *y = (float *)(heap + yo);
  float *s = so >= 0 ? (float *)(heap + so) : NULL;
  const float k1 = (float)(2.0 * 0.7978845608028654 * 0.044715), k0 = (float)(2.0 * 0.7978845608028654);
  for (int64_t i = 0; i < n; i++) {
    const float xi = x[i];
    const float z = xi * (xi * xi * k1 + k0);
    const float si = 1.0f / (1.0f + expf(-z));
    if (s) s[i] = si;
    y[i] = xi * si;
  }
  return NULL;
}

/*
 * attendOne(heap, B, H, S, hd, scale, qOff, kOff, vOff, biasOff, biasBatch, outOff[, KV]): attention
 * of one new query per (batch, head) over S cached keys (KV-cache decoding):
 * out[b,h] = softmax(q[b,h]·K[b,g]ᵀ·scale + bias[b]) · V[b,g], g = h / (H / KV) (grouped-query
 * attention; KV defaults to H); q [B,H,hd], K/V [B,KV,S,hd],
 * bias [biasBatch,S] additive (biasBatch 1 broadcasts), out [B,H,hd]. Softmax in float32 with
 * the max subtracted, as tfjs computes it.
 */
static napi_value attend_one(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12 && argc != 13) THROW(env, "attendOne: expected 12 or 13 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "attendOne: heap must be an ArrayBuffer");
  int64_t B, H, S, hd, qo, ko, vo, bo, bb, oo;
  double scale_d;
  if (!get_int(env, argv[1], &B) || !get_int(env, argv[2], &H) || !get_int(env, argv[3], &S) ||
      !get_int(env, argv[4], &hd) || napi_get_value_double(env, argv[5], &scale_d) != napi_ok ||
      !get_int(env, argv[6], &qo) || !get_int(env, argv[7], &ko) || !get_int(env, argv[8], &vo) ||
      !get_int(env, argv[9], &bo) || !get_int(env, argv[10], &bb) || !get_int(env, argv[11], &oo))
    THROW(env, "attendOne: number arguments expected");
  /* Grouped-query attention: KV heads (default H); query head h reads KV head h / (H / KV). */
  int64_t KV = H;
  if (argc == 13 && !get_int(env, argv[12], &KV)) THROW(env, "attendOne: kvHeads must be an integer");
  if (B < 0 || H < 0 || S < 1 || hd < 1 || (bb != 1 && bb != B) || KV < 1 || (H > 0 && H % KV != 0))
    THROW(env, "attendOne: bad sizes");
  const int64_t rep = H > 0 ? H / KV : 1;
  if (!in_bounds(len, qo, B * H * hd) || !in_bounds(len, ko, B * KV * S * hd) ||
      !in_bounds(len, vo, B * KV * S * hd) || !in_bounds(len, bo, bb * S) || !in_bounds(len, oo, B * H * hd))
    THROW(env, "attendOne: operand outside the buffer or misaligned");
  const float scale = (float)scale_d;
  float scores_stack[4096];
  float *scores = S <= 4096 ? scores_stack : (float *)malloc((size_t)S * 4);
  if (!scores) THROW(env, "attendOne: out of memory");
  for (int64_t b = 0; b < B; b++) {
    const float *bias = (const float *)(heap + bo) + (bb == 1 ? 0 : b * S);
    for (int64_t h = 0; h < H; h++) {
      const float *q = (const float *)(heap + qo) + (b * H + h) * hd;
      const float *K = (const float *)(heap + ko) + (b * KV + h / rep) * S * hd;
      const float *V = (const float *)(heap + vo) + (b * KV + h / rep) * S * hd;
      float *out = (float *)(heap + oo) + (b * H + h) * hd;
      float max = -INFINITY;
      for (int64_t s = 0; s < S; s++) {
        float dot = 0.0f;
        const float *k = K + s * hd;
        for (int64_t j = 0; j < hd; j++) dot += q[j] * k[j];
        const float z = dot * scale + bias[s];
        scores[s] = z;
        if (z > max) max = z;
      }
      float total = 0.0f;
      for (int64_t s = 0; s < S; s++) {
        scores[s] = expf(scores[s] - max);
        total += scores[s];
      }
      for (int64_t j = 0; j < hd; j++) out[j] = 0.0f;
      for (int64_t s = 0; s < S; s++) {
        const float p = scores[s] / total;
        const float *v = V + s * hd;
        for (int64_t j = 0; j < hd; j++) out[j] += p * v[j];
      }
    }
  }
  if (scores != scores_stack) free(scores);
  return NULL;
}

/*
 * splitHeads(heap, B, T, H, hd, P, qkvOff, pastKOff, pastVOff, qOff, kOff, vOff): GPT-2's c_attn
 * output qkv [B·T, 3·H·hd] → q [B,H,T,hd], and k, v [B,H,P+T,hd] with the P cached positions
 * (pastK/pastV [B,H,P,hd]; P = 0 ignores them) before the T new ones: the head split, the
 * transposes and the KV-cache concatenation in one pass.
 */
static napi_value split_heads(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) THROW(env, "splitHeads: expected 12 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "splitHeads: heap must be an ArrayBuffer");
  int64_t v[11];
  for (int i = 0; i < 11; i++)
    if (!get_int(env, argv[i + 1], &v[i])) THROW(env, "splitHeads: integer arguments expected");
  const int64_t B = v[0], T = v[1], H = v[2], hd = v[3], P = v[4];
  const int64_t qkvOff = v[5], pkOff = v[6], pvOff = v[7], qOff = v[8], kOff = v[9], vOff = v[10];
  if (B < 0 || T < 0 || H < 1 || hd < 1 || P < 0) THROW(env, "splitHeads: bad sizes");
  const int64_t D = H * hd, S = P + T;
  if (!in_bounds(len, qkvOff, B * T * 3 * D) || !in_bounds(len, qOff, B * H * T * hd) ||
      !in_bounds(len, kOff, B * H * S * hd) || !in_bounds(len, vOff, B * H * S * hd) ||
      (P > 0 && (!in_bounds(len, pkOff, B * H * P * hd) || !in_bounds(len, pvOff, B * H * P * hd))))
    THROW(env, "splitHeads: operand outside the buffer or misaligned");
  const float *qkv = (const float *)(heap + qkvOff);
  float *q = (float *)(heap + qOff), *k = (float *)(heap + kOff), *vv = (float *)(heap + vOff);
  const size_t row = (size_t)hd * 4;
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++) {
      float *kbh = k + (b * H + h) * S * hd, *vbh = vv + (b * H + h) * S * hd;
      if (P > 0) {
        memcpy(kbh, (const float *)(heap + pkOff) + (b * H + h) * P * hd, (size_t)P * row);
        memcpy(vbh, (const float *)(heap + pvOff) + (b * H + h) * P * hd, (size_t)P * row);
      }
      for (int64_t t = 0; t < T; t++) {
        const float *src = qkv + (b * T + t) * 3 * D + h * hd;
        memcpy(q + ((b * H + h) * T + t) * hd, src, row);
        memcpy(kbh + (P + t) * hd, src + D, row);
        memcpy(vbh + (P + t) * hd, src + 2 * D, row);
      }
    }
  return NULL;
}

/*
 * rmsNorm(heap, rows, d, eps, xOff, gOff, yOff, xhatOff, rstdOff): LlamaRMSNorm over the last
 * axis, y = g·x̂ with x̂ = x·r, r = 1/√(mean(x²) + eps); the mean accumulates in double.
 * xhatOff/rstdOff < 0 skip those outputs (inference); the backward pass needs them.
 */
static napi_value rms_norm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 9) THROW(env, "rmsNorm: expected 9 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "rmsNorm: heap must be an ArrayBuffer");
  int64_t rows, d, off[5];
  double eps;
  if (!get_int(env, argv[1], &rows) || !get_int(env, argv[2], &d) ||
      napi_get_value_double(env, argv[3], &eps) != napi_ok || rows < 0 || d < 1)
    THROW(env, "rmsNorm: bad sizes");
  for (int i = 0; i < 5; i++)
    if (!get_int(env, argv[4 + i], &off[i])) THROW(env, "rmsNorm: integer offsets expected");
  const int64_t counts[5] = {rows * d, d, rows * d, rows * d, rows};
  for (int i = 0; i < 5; i++)
    if ((i < 3 || off[i] >= 0) && !in_bounds(len, off[i], counts[i]))
      THROW(env, "rmsNorm: operand outside the buffer or misaligned");
  const float *x = (const float *)(heap + off[0]);
  const float *g = (const float *)(heap + off[1]);
  float *y = (float *)(heap + off[2]);
  float *xhat = off[3] >= 0 ? (float *)(heap + off[3]) : NULL;
  float *rstd_out = off[4] >= 0 ? (float *)(heap + off[4]) : NULL;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * d;
    double sq = 0;
    for (int64_t j = 0; j < d; j++) sq += (double)xr[j] * (double)xr[j];
    const float rstd = (float)(1.0 / sqrt(sq / (double)d + eps));
    if (rstd_out) rstd_out[r] = rstd;
    float *yr = y + r * d;
    float *hr = xhat ? xhat + r * d : NULL;
    for (int64_t j = 0; j < d; j++) {
      const float h = xr[j] * rstd;
      if (hr) hr[j] = h;
      yr[j] = g[j] * h;
    }
  }
  return NULL;
}

/*
 * ropeSplit(heap, B, T, H, hd, P, yOff, cosOff, sinOff, pastOff, outOff): a projection's output
 * y [B·T, H·hd] → out [B,H,P+T,hd], rotated (HF apply_rotary_pos_emb: o = x·cos + rotate_half(x)·sin,
 * rotate_half(x) = cat(−x₂, x₁)) with cos/sin [B,T,hd] when cosOff ≥ 0, copied when < 0 (values);
 * the P cached positions past [B,H,P,hd] come first (P = 0 ignores pastOff). Replaces the reshape,
 * split, negation, concat, two products, sum, head transpose and cache concat of each of q, k, v.
 */
static napi_value rope_split(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) THROW(env, "ropeSplit: expected 11 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "ropeSplit: heap must be an ArrayBuffer");
  int64_t v[10];
  for (int i = 0; i < 10; i++)
    if (!get_int(env, argv[i + 1], &v[i])) THROW(env, "ropeSplit: integer arguments expected");
  const int64_t B = v[0], T = v[1], H = v[2], hd = v[3], P = v[4];
  const int64_t yOff = v[5], cosOff = v[6], sinOff = v[7], pastOff = v[8], outOff = v[9];
  const int rotate = cosOff >= 0;
  if (B < 0 || T < 0 || H < 1 || hd < 1 || P < 0 || (rotate && hd % 2 != 0)) THROW(env, "ropeSplit: bad sizes");
  const int64_t S = P + T;
  if (!in_bounds(len, yOff, B * T * H * hd) || !in_bounds(len, outOff, B * H * S * hd) ||
      (rotate && (!in_bounds(len, cosOff, B * T * hd) || !in_bounds(len, sinOff, B * T * hd))) ||
      (P > 0 && !in_bounds(len, pastOff, B * H * P * hd)))
    THROW(env, "ropeSplit: operand outside the buffer or misaligned");
  const float *y = (const float *)(heap + yOff);
  float *out = (float *)(heap + outOff);
  const int64_t half = hd / 2;
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++) {
      float *obh = out + (b * H + h) * S * hd;
      if (P > 0) memcpy(obh, (const float *)(heap + pastOff) + (b * H + h) * P * hd, (size_t)(P * hd) * 4);
      for (int64_t t = 0; t < T; t++) {
        const float *x = y + ((b * T + t) * H + h) * hd;
        float *o = obh + (P + t) * hd;
        if (!rotate) {
          memcpy(o, x, (size_t)hd * 4);
          continue;
        }
        const float *c = (const float *)(heap + cosOff) + (b * T + t) * hd;
        const float *s = (const float *)(heap + sinOff) + (b * T + t) * hd;
        for (int64_t j = 0; j < half; j++) {
          o[j] = x[j] * c[j] + (-x[j + half]) * s[j];
          o[j + half] = x[j + half] * c[j + half] + x[j] * s[j + half];
        }
      }
    }
  return NULL;
}

/*
 * ropeMerge(heap, B, T, H, hd, dOff, cosOff, sinOff, outOff): the gradient of ropeSplit without a
 * cache: d [B,H,T,hd] → out [B·T, H·hd], rotated back (dx₁ = d₁·cos₁ + d₂·sin₂,
 * dx₂ = d₂·cos₂ − d₁·sin₁) when cosOff ≥ 0, else only the head merge.
 */
static napi_value rope_merge(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 9) THROW(env, "ropeMerge: expected 9 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "ropeMerge: heap must be an ArrayBuffer");
  int64_t v[8];
  for (int i = 0; i < 8; i++)
    if (!get_int(env, argv[i + 1], &v[i])) THROW(env, "ropeMerge: integer arguments expected");
  const int64_t B = v[0], T = v[1], H = v[2], hd = v[3];
  const int64_t dOff = v[4], cosOff = v[5], sinOff = v[6], outOff = v[7];
  const int rotate = cosOff >= 0;
  if (B < 0 || T < 0 || H < 1 || hd < 1 || (rotate && hd % 2 != 0)) THROW(env, "ropeMerge: bad sizes");
  if (!in_bounds(len, dOff, B * H * T * hd) || !in_bounds(len, outOff, B * T * H * hd) ||
      (rotate && (!in_bounds(len, cosOff, B * T * hd) || !in_bounds(len, sinOff, B * T * hd))))
    THROW(env, "ropeMerge: operand outside the buffer or misaligned");
  const float *d = (const float *)(heap + dOff);
  float *out = (float *)(heap + outOff);
  const int64_t half = hd / 2;
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t t = 0; t < T; t++) {
        const float *g = d + ((b * H + h) * T + t) * hd;
        float *o = out + ((b * T + t) * H + h) * hd;
        if (!rotate) {
          memcpy(o, g, (size_t)hd * 4);
          continue;
        }
        const float *c = (const float *)(heap + cosOff) + (b * T + t) * hd;
        const float *s = (const float *)(heap + sinOff) + (b * T + t) * hd;
        for (int64_t j = 0; j < half; j++) {
          o[j] = g[j] * c[j] + g[j + half] * s[j + half];
          o[j + half] = g[j + half] * c[j + half] - g[j] * s[j];
        }
      }
  return NULL;
}

/*
 * swiglu(heap, n, gOff, uOff, yOff, sOff, siluOff): Llama's MLP gate y = silu(g)·u = g·σ(g)·u;
 * σ(g) and silu(g) are written at sOff/siluOff when ≥ 0 (the backward pass needs them).
 */
static napi_value swiglu(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 7) THROW(env, "swiglu: expected 7 arguments");
  uint8_t *heap;
  size_t len;
  if (!buffer_of(env, argv[0], &heap, &len)) THROW(env, "swiglu: heap must be an ArrayBuffer");
  int64_t n, off[5];
  if (!get_int(env, argv[1], &n) || n < 0) THROW(env, "swiglu: bad size");
  for (int i = 0; i < 5; i++)
    if (!get_int(env, argv[i + 2], &off[i])) THROW(env, "swiglu: integer arguments expected");
  for (int i = 0; i < 5; i++)
    if ((i < 3 || off[i] >= 0) && !in_bounds(len, off[i], n))
      THROW(env, "swiglu: operand outside the buffer or misaligned");
  const float *g = (const float *)(heap + off[0]);
  const float *u = (const float *)(heap + off[1]);
  float *y = (float *)(heap + off[2]);
  float *s_out = off[3] >= 0 ? (float *)(heap + off[3]) : NULL;
  float *silu_out = off[4] >= 0 ? (float *)(heap + off[4]) : NULL;
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float s = 1.0f / (1.0f + expf(-gi));
    const float silu = gi * s;
    if (s_out) s_out[i] = s;
    if (silu_out) silu_out[i] = silu;
    y[i] = silu * u[i];
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"getThreads", NULL, get_threads, NULL, NULL, NULL, napi_default, NULL},
      {"useBuiltin", NULL, use_builtin, NULL, NULL, NULL, napi_default, NULL},
      {"gemmInfo", NULL, gemm_info, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, gemm_call, NULL, NULL, NULL, napi_default, NULL},
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"adam", NULL, adam, NULL, NULL, NULL, napi_default, NULL},
      {"transpose", NULL, transpose, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, layer_norm, NULL, NULL, NULL, napi_default, NULL},
      {"gelu", NULL, gelu, NULL, NULL, NULL, napi_default, NULL},
      {"attendOne", NULL, attend_one, NULL, NULL, NULL, napi_default, NULL},
      {"splitHeads", NULL, split_heads, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNorm", NULL, rms_norm, NULL, NULL, NULL, napi_default, NULL},
      {"ropeSplit", NULL, rope_split, NULL, NULL, NULL, napi_default, NULL},
      {"ropeMerge", NULL, rope_merge, NULL, NULL, NULL, napi_default, NULL},
      {"swiglu", NULL, swiglu, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
