import NeuralKernels
import Synchronization

/// The instruction set the packed products (`packedGemm`, `transposedGemm`: the LSTM's per-step products and weight
/// gradients, the small Linears) run on. Both give the same bits: every output element is the same left-to-right chain
/// of fused multiply-adds, only the tiles differ (AVX2: up to 6 rows × 16 columns in twelve 8-lane registers, in Swift;
/// AVX-512: up to 24 rows × 16 columns, 12 × 32 or 3 × 128 in 24 16-lane registers, C in the NeuralKernels target).
/// The LSTM cell (gate activations and cell, forward and backward) follows the same choice: 8 or 16 lanes, one C source
/// (NeuralKernels' LSTMCell.h) with the Swift cell's operations (`lstmCellForward`, `lstmCellBackward`, the path on
/// other architectures) in the same order, so the same bits.
public enum MicroKernels: String, Sendable, CaseIterable {
    case avx2, avx512

    /// Whether this CPU runs AVX-512F (checked once).
    public static let avx512Available = nk_avx512_available()

    /// AVX-512 where the CPU has it, else AVX2: the kernels in use until `select` says otherwise.
    public static var fastest: MicroKernels { avx512Available ? .avx512 : .avx2 }

    /// The kernels in use.
    public static var current: MicroKernels { useAVX512.load(ordering: .relaxed) ? .avx512 : .avx2 }

    /// Runs the packed products on `kernels` from now on (benchmarks and tests compare the two); `.avx512` needs
    /// `avx512Available`.
    public static func select(_ kernels: MicroKernels) {
        precondition(kernels == .avx2 || avx512Available, "this CPU lacks AVX-512F")
        useAVX512.store(kernels == .avx512, ordering: .relaxed)
    }

    static let useAVX512 = Atomic<Bool>(avx512Available)
}
