/*
 * gpt_lab_blas: single-precision GEMM from the machine's own BLAS, run directly on tfjs-backend-wasm's heap.
 *
 * The wasm backend keeps every tensor in one WebAssembly memory; its Float32Array view (HEAPF32) is an ordinary
 * ArrayBuffer to Node, so C code can read and write tensors in place, with no copy in or out. This addon only
 * forwards one call, C[m×n] = A·B (+ bias per row, or + C), to `cblas_sgemm` of a BLAS found at load time with dlopen
 * (OpenBLAS on Linux and Windows, Accelerate on macOS): no headers or libraries are needed to build it, and a machine
 * without a BLAS loads it and reports `available: false`, so the caller keeps tfjs's XNNPACK kernels.
 *
 * Every offset and extent is checked against the heap before a pointer is formed: a wrong call throws a JS error and
 * never reads or writes outside the typed array it was given.
 *
 * Threads: GPT Lab parallelises training by running one replica per core (worker threads), so the BLAS must run each
 * call on the calling thread. The library is opened with OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 in the
 * environment (read by OpenBLAS and libgomp while they load) and the process's own values are put back right after,
 * so processes started later (the PyTorch reference of the bench) inherit the environment they were given. The
 * library is opened once per process, by the first thread that loads the addon: the trainer's, before it starts any
 * helper thread (ThreadHelpers.start asks for the kernels first), so no other JS thread reads the environment then.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#define OPEN_LIBRARY(path) ((void *)LoadLibraryA(path))
#define FIND_SYMBOL(lib, name) ((void *)GetProcAddress((HMODULE)(lib), name))
#define CLOSE_LIBRARY(lib) FreeLibrary((HMODULE)(lib))
#else
#include <dlfcn.h>
#include <pthread.h>
#define OPEN_LIBRARY(path) dlopen(path, RTLD_NOW | RTLD_LOCAL)
#define FIND_SYMBOL(lib, name) dlsym(lib, name)
#define CLOSE_LIBRARY(lib) dlclose(lib)
#endif

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int);
typedef char *(*get_config_fn)(void);

static sgemm_fn sgemm = NULL;
static char library[512] = "";
static char config[256] = "";
static char failure[512] = "";

/* The libraries tried in order. A generic libblas is only taken when it is OpenBLAS underneath (it exports
 * openblas_get_config): the reference BLAS would be slower than the XNNPACK kernels it replaces. */
static const char *const CANDIDATES[] = {
#if defined(__APPLE__)
    "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    "libopenblas.dylib",
#elif defined(_WIN32)
    "libopenblas.dll",
    "openblas.dll",
#else
    "libopenblas.so.0",
    "libopenblas.so",
    "libblas.so.3",
#endif
    NULL};

static void set_env(const char *name, const char *value) {
#ifdef _WIN32
  _putenv_s(name, value ? value : "");
#else
  if (value) setenv(name, value, 1);
  else unsetenv(name);
#endif
}

static char *saved_env(const char *name) {
  const char *value = getenv(name);
  return value ? strdup(value) : NULL;
}

static int is_accelerate(const char *path) { return strstr(path, "Accelerate") != NULL; }

enum { OPENED = 1, NOT_FOUND = 0, NOT_A_BLAS = -1 };

static int try_library(const char *path) {
  void *lib = OPEN_LIBRARY(path);
  if (!lib) return NOT_FOUND;
  sgemm_fn found = (sgemm_fn)FIND_SYMBOL(lib, "cblas_sgemm");
  get_config_fn get_config = (get_config_fn)FIND_SYMBOL(lib, "openblas_get_config");
  if (!found || (!get_config && !is_accelerate(path))) {
    CLOSE_LIBRARY(lib);
    return NOT_A_BLAS;
  }
  set_threads_fn set_threads = (set_threads_fn)FIND_SYMBOL(lib, "openblas_set_num_threads");
  if (set_threads) set_threads(1);
  snprintf(library, sizeof library, "%s", path);
  snprintf(config, sizeof config, "%s", get_config ? get_config() : "Accelerate");
  sgemm = found;
  return OPENED;
}

static void open_blas(void) {
  const char *forced = getenv("GPT_LAB_BLAS_LIBRARY");
  char *openblas_threads = saved_env("OPENBLAS_NUM_THREADS");
  char *omp_threads = saved_env("OMP_NUM_THREADS");
  set_env("OPENBLAS_NUM_THREADS", "1");
  set_env("OMP_NUM_THREADS", "1");
  if (forced && *forced) {
    int result = try_library(forced);
    if (result == NOT_FOUND) snprintf(failure, sizeof failure, "GPT_LAB_BLAS_LIBRARY=%s could not be opened", forced);
    if (result == NOT_A_BLAS) snprintf(failure, sizeof failure, "GPT_LAB_BLAS_LIBRARY=%s is not OpenBLAS or Accelerate (no cblas_sgemm, or no openblas_get_config)", forced);
  } else {
    for (int i = 0; CANDIDATES[i] && !sgemm; i++) try_library(CANDIDATES[i]);
    if (!sgemm) snprintf(failure, sizeof failure, "no OpenBLAS or Accelerate library found");
  }
  set_env("OPENBLAS_NUM_THREADS", openblas_threads);
  set_env("OMP_NUM_THREADS", omp_threads);
  free(openblas_threads);
  free(omp_threads);
}

#ifdef _WIN32
static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
static BOOL CALLBACK open_blas_once(PINIT_ONCE o, PVOID p, PVOID *c) { open_blas(); return TRUE; }
static void ensure_blas(void) { InitOnceExecuteOnce(&once, open_blas_once, NULL, NULL); }
#else
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void ensure_blas(void) { pthread_once(&once, open_blas); }
#endif

#define ARGS 15

/* A row-major matrix of rows × cols read with leading dimension ld from offset: does it lie inside [0, length)? */
static int inside(int64_t offset, int64_t rows, int64_t cols, int64_t ld, int64_t length) {
  if (offset < 0 || rows < 0 || cols < 0 || ld < cols || ld < 1) return 0;
  if (rows == 0 || cols == 0) return offset <= length;
  return offset + (rows - 1) * ld + cols <= length;
}

/*
 * gemm(heap: Float32Array, transA, transB, m, n, k, aOffset, lda, bOffset, ldb, cOffset, ldc, accumulate, biasOffset, alpha)
 *   C = alpha·op(A)·op(B) + (accumulate ? C : bias row broadcast, or 0 when biasOffset < 0).
 * Offsets are in floats from the start of `heap`; op(A) is m×k, op(B) k×n, C m×n, all row-major.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = ARGS;
  napi_value argv[ARGS];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != ARGS) {
    napi_throw_type_error(env, NULL, "gemm: expects 15 arguments");
    return NULL;
  }
  if (!sgemm) {
    napi_throw_error(env, NULL, failure);
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "gemm: the heap must be a Float32Array");
    return NULL;
  }
  int64_t v[ARGS - 2];
  for (int i = 0; i < ARGS - 2; i++) {
    if (napi_get_value_int64(env, argv[i + 1], &v[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "gemm: every size and offset must be a number");
      return NULL;
    }
  }
  double alpha;
  if (napi_get_value_double(env, argv[ARGS - 1], &alpha) != napi_ok) {
    napi_throw_type_error(env, NULL, "gemm: alpha must be a number");
    return NULL;
  }
  const int64_t trans_a = v[0], trans_b = v[1], m = v[2], n = v[3], k = v[4];
  const int64_t a_off = v[5], lda = v[6], b_off = v[7], ldb = v[8], c_off = v[9], ldc = v[10], accumulate = v[11], bias_off = v[12];
  const int64_t len = (int64_t)length;
  if (m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX ||
      !inside(a_off, trans_a ? k : m, trans_a ? m : k, lda, len) || !inside(b_off, trans_b ? n : k, trans_b ? k : n, ldb, len) ||
      !inside(c_off, m, n, ldc, len) || (bias_off >= 0 && !accumulate && !inside(bias_off, 1, n, n, len))) {
    napi_throw_range_error(env, NULL, "gemm: a matrix lies outside the heap (or a size or leading dimension is invalid)");
    return NULL;
  }
  float *heap = (float *)data;
  float *c = heap + c_off;
  float beta = accumulate ? 1.0f : 0.0f;
  if (!accumulate && bias_off >= 0) {
    for (int64_t row = 0; row < m; row++) memcpy(c + row * ldc, heap + bias_off, (size_t)n * sizeof(float));
    beta = 1.0f;
  }
  if (m == 0 || n == 0) return NULL;
  if (k == 0) {
    if (beta == 0.0f)
      for (int64_t row = 0; row < m; row++) memset(c + row * ldc, 0, (size_t)n * sizeof(float));
    return NULL;
  }
  sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS, trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k,
        (float)alpha, heap + a_off, (int)lda, heap + b_off, (int)ldb, beta, c, (int)ldc);
  return NULL;
}

static napi_value string_value(napi_env env, const char *text) {
  napi_value value;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value);
  return value;
}

NAPI_MODULE_INIT() {
  ensure_blas();
  napi_value fn, available;
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, gemm, NULL, &fn);
  napi_set_named_property(env, exports, "gemm", fn);
  napi_get_boolean(env, sgemm != NULL, &available);
  napi_set_named_property(env, exports, "available", available);
  napi_set_named_property(env, exports, "library", string_value(env, library));
  napi_set_named_property(env, exports, "config", string_value(env, config));
  napi_set_named_property(env, exports, "failure", string_value(env, failure));
  return exports;
}
