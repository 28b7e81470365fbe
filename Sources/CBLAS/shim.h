#ifndef ATOLL_CBLAS_SHIM_H
#define ATOLL_CBLAS_SHIM_H

// OpenBLAS's CBLAS interface (cblas_sgemm, …) and its runtime queries
// (openblas_get_num_threads, openblas_get_corename, …).
#include <cblas.h>

#endif
