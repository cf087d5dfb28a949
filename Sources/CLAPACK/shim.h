/* LAPACK and the few BLAS-3 routines the transfer module calls, from Debian's *serial* OpenBLAS
 * (package libopenblas0-serial, /usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0;
 * linked with that directory as the run path, see Package.swift).
 *
 * Why serial: the pthread build starts a worker thread per core when the library is loaded and
 * those threads spin for a while — measured inside a host process running EfficientNet-Lite0,
 * they took the second core and doubled the per-image time (7.7 → 15 ms median). A library
 * loaded into other people's processes must not start threads it does not need; the transfer
 * module's matrices (≤ a few thousand rows) do not need them.
 *
 * The prototypes are declared here (LP64 OpenBLAS: 32-bit `int` indices; the standard CBLAS
 * enum values) so no development package is needed. LAPACK routines are the Fortran ones:
 * column-major, every argument by pointer, the hidden lengths of single-character arguments
 * omitted as LAPACK's C callers conventionally do. */
#ifndef STALWART_CLAPACK_SHIM_H
#define STALWART_CLAPACK_SHIM_H

typedef enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 } CBLAS_ORDER;
typedef enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 } CBLAS_TRANSPOSE;
typedef enum CBLAS_UPLO { CblasUpper = 121, CblasLower = 122 } CBLAS_UPLO;

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB, int m, int n,
                 int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB, int m, int n,
                 int k, double alpha, const double *a, int lda, const double *b, int ldb, double beta, double *c,
                 int ldc);
void cblas_ssyrk(enum CBLAS_ORDER order, enum CBLAS_UPLO uplo, enum CBLAS_TRANSPOSE trans, int n, int k, float alpha,
                 const float *a, int lda, float beta, float *c, int ldc);
void cblas_dsyrk(enum CBLAS_ORDER order, enum CBLAS_UPLO uplo, enum CBLAS_TRANSPOSE trans, int n, int k,
                 double alpha, const double *a, int lda, double beta, double *c, int ldc);

void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
