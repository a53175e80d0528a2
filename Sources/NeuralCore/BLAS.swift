import CBLAS
import Foundation

/// The thread count NeuralCore runs with: 0 until `setBLASThreads` is called, then its argument. Kept here, not read
/// back from OpenBLAS, because `withSingleThreadedBLAS` lowers OpenBLAS's count for a while (possibly on another thread).
/// Written only by `setBLASThreads`, which is meant for start-up (an Int store; `Atomic` needs macOS 15).
nonisolated(unsafe) private var configuredBLASThreads = 0
private let initialBLASThreads = Int(openblas_get_num_threads())

/// Sets the number of threads for NeuralCore: OpenBLAS's threads and the LSTM's batch shares (pin it for bit-identical
/// runs and for benchmarks).
public func setBLASThreads(_ n: Int) {
    precondition(n >= 1, "need at least one thread")
    configuredBLASThreads = n
    openblas_set_num_threads(Int32(n))
}

/// The number of threads NeuralCore uses: the last `setBLASThreads`, else OpenBLAS's own default (OPENBLAS_NUM_THREADS or the cores).
public func blasThreads() -> Int {
    let n = configuredBLASThreads
    return n > 0 ? n : initialBLASThreads
}

/// Row-major single-precision GEMM through OpenBLAS:
/// `c (M,N) = alpha · op(a) · op(b) + beta · c`, with `op(a)` (M,K) and `op(b)` (K,N);
/// `a` is stored (M,K), or (K,M) when `transA`; `b` is stored (K,N), or (N,K) when `transB`.
/// The leading dimensions (`lda`, `ldb`, `ldc`: distance between consecutive stored rows) default to packed rows;
/// a larger one addresses every T-th row of a (B,T,·) buffer, i.e. one time step of a batch-major sequence.
@inlinable
public func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
    if m == 1 {
        // one row: c (1,N) = alpha · op(b)ᵀ-times-vector, as a gemv (no packing of b; the batch-1 fast path)
        let incA = transA ? (lda ?? m) : 1
        cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                    alpha, b, Int32(ldb ?? (transB ? k : n)), a, Int32(incA), beta, c, 1)
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda ?? (transA ? m : k)), b, Int32(ldb ?? (transB ? k : n)),
                beta, c, Int32(ldc ?? n))
}

/// The plain triple loop that `gemm` must agree with; tests only, never the fast path. Same arguments and shapes as `gemm`.
public func referenceGemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                          alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
                          beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
    let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                sum += av * bv
            }
            c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
        }
    }
}

/// Serialises NeuralCore's compute across threads. OpenBLAS's thread count is process-global, and a gemm's bits depend
/// on it (and on how rows are split), so while `withSingleThreadedBLAS` has lowered it, no other thread may run a
/// NeuralCore gemm; `RecurrentNetwork.forward`/`backward` hold this lock for their whole run. Recursive, because they
/// call `withSingleThreadedBLAS`, which takes it too. Uncontended (one thread driving the networks) it costs nothing.
let computeLock = NSRecursiveLock()

/// Runs `body(threads)` with OpenBLAS on one thread, passing the thread count configured before, then restores it.
/// The LSTM's per-step gemms ((B,H)·(H,4H), a few MFLOP each, T of them in sequence) run like this, on batch shares in
/// parallel (`forEachBatchShare`): handing each small gemm to a second BLAS thread costs more in wake-ups and waiting
/// than it saves (measured with `benchmarkTraining` on 2 cores). The large all-steps gemms keep every thread.
func withSingleThreadedBLAS<R>(_ body: (Int) -> R) -> R {
    computeLock.lock()
    defer { computeLock.unlock() }
    let threads = blasThreads()
    if threads == 1 { return body(1) }
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(Int32(threads)) }
    return body(threads)
}
