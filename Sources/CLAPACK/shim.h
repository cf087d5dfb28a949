/* LAPACK through OpenBLAS (Debian libopenblas-dev): the symmetric eigensolvers and the few
 * BLAS-3 routines the transfer module calls. OpenBLAS ships no lapack.h here, so the Fortran
 * prototypes are declared (column-major, every argument by pointer, hidden string lengths
 * omitted as the LAPACK C callers conventionally do for single-character arguments). */
#ifndef STALWART_CLAPACK_SHIM_H
#define STALWART_CLAPACK_SHIM_H
#include <cblas.h>

void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
