#include <cblas.h>

/// Stops OpenBLAS's worker threads (exported by both its pthread and OpenMP builds; it starts them again by itself
/// if a product ever runs on more than one of its threads).
int blas_thread_shutdown_(void);
