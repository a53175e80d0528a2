#include <cblas.h>

/// Stops OpenBLAS's worker threads (an export of libopenblas, not in cblas.h); OpenBLAS starts them again by itself
/// if a product ever runs on more than one of its threads.
int blas_thread_shutdown_(void);
