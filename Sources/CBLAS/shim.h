#ifndef ATOLL_CBLAS_SHIM_H
#define ATOLL_CBLAS_SHIM_H

// OpenBLAS's CBLAS interface (cblas_sgemm, …) and its runtime queries
// (openblas_get_num_threads, openblas_get_corename, …).
#include <cblas.h>
#include <stddef.h>

// LAPACK's divide-and-conquer symmetric eigensolver. OpenBLAS is built here without LAPACKE but
// exports the Fortran symbol; arguments are pointers, matrices column-major, and the two trailing
// hidden arguments are the lengths of the character arguments `jobz` and `uplo` (both 1).
// With jobz = 'V', `a` is overwritten by the orthonormal eigenvectors (columns) and `w` holds the
// eigenvalues in ascending order; info = 0 on success.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);

#endif
