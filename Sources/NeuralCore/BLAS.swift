import CBLAS
import Foundation

/// The thread count NeuralCore runs with: 0 until `setBLASThreads` is called, then its argument. Written only by
/// `setBLASThreads`, which is meant for start-up, before any compute (a plain Int store).
nonisolated(unsafe) private var configuredBLASThreads = 0

/// OpenBLAS's own default (OPENBLAS_NUM_THREADS or the cores), read once; OpenBLAS is then pinned to ONE thread for
/// good and its worker threads are stopped: NeuralCore splits work across its own workers (`gemm` below, the LSTM's
/// batch shares), so no idle BLAS thread spins on a core those workers need. (OpenBLAS starts its workers when the
/// library loads and they poll for about 0.1 s before they sleep: on a 2-core machine, one of the two cores for the
/// first tenth of a second of every run.)
private let initialBLASThreads: Int = {
    let n = Int(openblas_get_num_threads())
    openblas_set_num_threads(1)
    _ = blas_thread_shutdown_()
    return n
}()

/// Sets the number of threads NeuralCore computes with (pin it for bit-identical runs and for benchmarks).
public func setBLASThreads(_ n: Int) {
    precondition(n >= 1, "need at least one thread")
    _ = initialBLASThreads
    configuredBLASThreads = n
}

/// The number of threads NeuralCore uses: the last `setBLASThreads`, else OpenBLAS's own default (OPENBLAS_NUM_THREADS
/// or the cores).
public func blasThreads() -> Int {
    let n = configuredBLASThreads
    return n > 0 ? n : initialBLASThreads
}

/// Row-major single-precision GEMM through OpenBLAS:
/// `c (M,N) = alpha · op(a) · op(b) + beta · c`, with `op(a)` (M,K) and `op(b)` (K,N);
/// `a` is stored (M,K), or (K,M) when `transA`; `b` is stored (K,N), or (N,K) when `transB`.
/// The leading dimensions (`lda`, `ldb`, `ldc`: distance between consecutive stored rows) default to packed rows;
/// a larger one addresses every T-th row of a (B,T,·) buffer, i.e. one time step of a batch-major sequence.
/// Products of at least `gemmSplitWork` multiply-adds are split across `blasThreads()` workers, by rows of c (or by
/// columns when c has fewer rows than columns), each part one single-threaded OpenBLAS call; the split depends only on
/// the shape and the thread count, so the bits do too.
public func gemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
    let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
    let threads = blasThreads()  // (also pins OpenBLAS to one thread on first use)
    if m == 1 {
        // one row: c (1,N) = alpha · op(b)ᵀ-times-vector, as a gemv (no packing of b; the batch-1 fast path)
        cblas_sgemv(
            CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
            alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
        return
    }
    let part = { (rows: Range<Int>, columns: Range<Int>) in
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(rows.count), Int32(columns.count), Int32(k), alpha,
            a + rows.lowerBound * (transA ? 1 : lda), Int32(lda),
            b + columns.lowerBound * (transB ? ldb : 1), Int32(ldb),
            beta, c + rows.lowerBound * ldc + columns.lowerBound, Int32(ldc))
    }
    let parts = m * n * k >= gemmSplitWork ? min(threads, max(m, n) / 16, WorkerPool.maxShares) : 1
    if parts <= 1 { return part(0..<m, 0..<n) }
    // Safe to share: each part writes its own block of c and only reads a and b.
    WorkerPool.shared.run(shares: parts) { s in
        // parts of whole 16-wide blocks (OpenBLAS's kernels work in blocks of 16 or fewer)
        if m >= n {
            let blocks = (m + 15) / 16
            part(min(m, s * blocks / parts * 16)..<min(m, (s + 1) * blocks / parts * 16), 0..<n)
        } else {
            let blocks = (n + 15) / 16
            part(0..<m, min(n, s * blocks / parts * 16)..<min(n, (s + 1) * blocks / parts * 16))
        }
    }
}

/// Multiply-adds from which `gemm` splits a product across threads (below it, waking a worker costs more than it
/// saves).
let gemmSplitWork = 1 << 22

/// The plain triple loop that `gemm` must agree with; tests only, never the fast path. Same arguments and shapes as
/// `gemm`.
public func referenceGemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
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

/// Serialises NeuralCore's compute across threads: `EncoderNetwork.forward`/`backward` hold it for their whole run,
/// so two callers never interleave their workers on the same cores. Recursive, so nested calls may take it again.
/// Uncontended (one thread driving the networks) it costs nothing.
let computeLock = NSRecursiveLock()
