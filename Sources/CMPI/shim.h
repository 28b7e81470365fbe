#ifndef ATOLL_CMPI_SHIM_H
#define ATOLL_CMPI_SHIM_H

// Swift imports MPI's functions but not its predefined handles, which Open MPI defines as macros
// taking the address of global objects. Each handle Atoll uses is wrapped here as a function.
#include <mpi.h>

static inline MPI_Comm atoll_mpi_comm_world(void) { return MPI_COMM_WORLD; }

static inline MPI_Datatype atoll_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype atoll_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype atoll_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype atoll_mpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype atoll_mpi_byte(void) { return MPI_BYTE; }

static inline MPI_Op atoll_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op atoll_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op atoll_mpi_min(void) { return MPI_MIN; }

static inline void *atoll_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *atoll_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Status *atoll_mpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
static inline MPI_Request atoll_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Errhandler atoll_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }

static inline int atoll_mpi_success(void) { return MPI_SUCCESS; }
static inline int atoll_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int atoll_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int atoll_mpi_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
static inline int atoll_mpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }

#endif
