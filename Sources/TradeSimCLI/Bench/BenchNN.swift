import ArgumentParser
import Benchmarks
import Foundation
import NeuralCore

struct BenchNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract:
            "Market2Vec + LSTM training and batch-1 inference speed: x (B,T,F) → Linear(F→E)+ReLU → LSTM(E→H, L) → "
            + "Linear(H→3), MSE, Adam."
    )

    @Option(
        help: "small (20,32,64,1,32,64), medium (400,128,128,2,64,64) or paper (4000,300,300,2,64,32) as (F,E,H,L,T,B)."
    )
    var shape: String = "small"
    @Option(
        help: """
            Seconds of timed training, in 5 repeats; the figures are the medians of the repeats, \
            as the PyTorch peer reports them.
            """
    )
    var seconds: Double = 5
    @Option(parsing: .unconditional, help: "Compute threads (default: OPENBLAS_NUM_THREADS, else 2).")
    var threads: Int?
    @OptionGroup var kernels: KernelOption

    func validate() throws {
        guard NNBenchShape.named(shape) != nil else {
            throw ValidationError("--shape must be small, medium or paper, not '\(shape)'")
        }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        setBLASThreads(try threads ?? pinnedThreadCount() ?? 2)
        kernels.apply()
        let result = benchmarkTraining(shape: NNBenchShape.named(shape)!, seconds: seconds)
        try printJSONLine(result, adding: ["shape": shape, "kernels": MicroKernels.current.rawValue])
    }
}

extension MicroKernels: ExpressibleByArgument {}

/// `--kernels`, the micro-kernels of NeuralCore's packed products, for the benchmarks that train networks.
struct KernelOption: ParsableArguments {
    @Option(
        name: .customLong("kernels"),
        help: "Micro-kernels of the packed products: avx512 (the default where the CPU has AVX-512F) or avx2.")
    var value: MicroKernels?

    func validate() throws {
        if value == .avx512 && !MicroKernels.avx512Available {
            throw ValidationError("--kernels avx512: this CPU lacks AVX-512F")
        }
    }

    func apply() { if let value { MicroKernels.select(value) } }
}
