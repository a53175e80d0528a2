import Foundation

/// The thread count NeuralCore runs with: 0 until `setBLASThreads` is called, then its argument. Written only by
/// `setBLASThreads`, which is meant for start-up, before any compute (a plain Int store).
nonisolated(unsafe) private var configuredBLASThreads = 0

/// The environment variable that pins NeuralCore's thread count. It keeps OpenBLAS's name: it is the variable the
/// benchmark protocol pins for tradesim and for the Python peers' numpy alike, and the one NeuralCore read when its
/// products ran on OpenBLAS.
public let threadCountVariable = "OPENBLAS_NUM_THREADS"

/// `threadCountVariable` set to something other than a positive integer.
public struct ThreadCountError: Error, CustomStringConvertible, Equatable {
    /// The variable's text.
    public let value: String
    public var description: String { "\(threadCountVariable) must be a positive integer, not '\(value)'" }
}

/// The thread count `threadCountVariable` pins in `environment`: nil when the variable is unset.
public func pinnedThreadCount(
    in environment: [String: String] = ProcessInfo.processInfo.environment
) throws(ThreadCountError) -> Int? {
    guard let text = environment[threadCountVariable] else { return nil }
    guard let n = Int(text), n > 0 else { throw ThreadCountError(value: text) }
    return n
}

/// The thread count when none is set: the pinned count if the variable holds one, else the cores this process may run
/// on. (A library cannot report a malformed value; `tradesim` stops on one before any compute.)
private let initialBLASThreads: Int = (try? pinnedThreadCount()) ?? ProcessInfo.processInfo.activeProcessorCount

/// Sets the number of threads NeuralCore computes with (pin it for bit-identical runs and for benchmarks).
public func setBLASThreads(_ n: Int) {
    precondition(n >= 1, "need at least one thread")
    configuredBLASThreads = n
}

/// The number of threads NeuralCore uses: the last `setBLASThreads`, else the pinned count or the cores.
public func blasThreads() -> Int {
    let n = configuredBLASThreads
    return n > 0 ? n : initialBLASThreads
}

/// Row-major single-precision GEMM on NeuralCore's packed kernels: `c (M,N) = op(a) · op(b)`, or `c += …` when
/// `accumulate`, with `op(a)` (M,K) and `op(b)` (K,N); `a` is stored (M,K), or (K,M) when `transA`; `b` is stored
/// (K,N), or (N,K) when `transB`; every operand in packed rows. op(b) is packed into panels on each call, then the
/// product runs as `splitPackedGemm` (or `transposedGemm` when `transA`, split the same way), by rows of c across
/// `blasThreads()` workers from `gemmSplitWork` multiply-adds; each element is one chain of multiply-adds, so the bits
/// do not depend on the split. (Not OpenBLAS's sgemm: which kernels that picks depends on whether its build knows the
/// CPU, and Debian 12's 0.3.21 falls back to SSE3 on an Emerald Rapids Xeon, where this ran the mlp and cnn bodies' PPO
/// 2.2–2.4× slower.)
public func gemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>,
    b: UnsafePointer<Float>, accumulate: Bool = false, c: UnsafeMutablePointer<Float>
) {
    withFloatScratch(packedPanelsCount(k: k, n: n)) { packed in
        packPanels(b, transposed: transB, k: k, n: n, into: packed)
        guard transA else {
            return splitPackedGemm(m: m, n: n, k: k, a: a, lda: k, packed: packed, c: c, ldc: n, accumulate: accumulate)
        }
        func product(_ rows: Range<Int>) {
            transposedGemm(
                m: rows.count, n: n, k: k, a: a + rows.lowerBound, lda: m, packed: packed, panelStride: k * panelWidth,
                c: c + rows.lowerBound * n, ldc: n, accumulate: accumulate)
        }
        if m * n * k >= gemmSplitWork { forEachShare(m, product) } else { product(0..<m) }
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
