import Foundation
import NeuralCore
import NeuralKernels
import RLCore
import Synchronization

/// A benchmark workload: x (B,T,F) → Linear(F→E) + ReLU → LSTM(E→H, L layers) → final hidden → Linear(H→3);
/// MSE against fixed random targets; Adam lr 1e-3.
public struct NNBenchShape: Codable, Sendable, Equatable {
    public var name: String
    public var features, embedding, hidden, layers, time, batch: Int

    public init(name: String, features: Int, embedding: Int, hidden: Int, layers: Int, time: Int, batch: Int) {
        self.name = name; self.features = features; self.embedding = embedding; self.hidden = hidden
        self.layers = layers; self.time = time; self.batch = batch
    }

    public static let small = NNBenchShape(
        name: "small", features: 20, embedding: 32, hidden: 64, layers: 1, time: 32, batch: 64)
    public static let medium = NNBenchShape(
        name: "medium", features: 400, embedding: 128, hidden: 128, layers: 2, time: 64, batch: 64)
    public static let paper = NNBenchShape(
        name: "paper", features: 4000, embedding: 300, hidden: 300, layers: 2, time: 64, batch: 32)
    public static let all = [small, medium, paper]
    public static func named(_ name: String) -> NNBenchShape? { all.first { $0.name == name } }

    /// Outputs of the head.
    public static let outputs = 3

    /// Gemm FLOPs (2 per multiply-add) of one training step on batch B; elementwise work is not counted.
    /// forward  = 2·B·T·F·E + Σ_k 2·B·T·4H·(I_k + H) + 2·B·H·A           (I_0 = E, I_k = H above)
    /// backward = 2·B·T·F·E (dW only, the input needs no gradient)
    ///          + Σ_k 2 · 2·B·T·4H·(I_k + H)   (dW_ih, dW_hh; and dx, dh_{t−1})
    ///          + 2 · 2·B·H·A                   (dW and dh of the head)
    public var trainingFlops: Double {
        let (B, T, F, E, H, A) = (
            Double(batch), Double(time), Double(features), Double(embedding), Double(hidden), Double(Self.outputs)
        )
        var lstm = 0.0
        for k in 0..<layers { lstm += 2 * B * T * 4 * H * ((k == 0 ? E : H) + H) }
        let embed = 2 * B * T * F * E, head = 2 * B * H * A
        return (embed + lstm + head) + (embed + 2 * lstm + 2 * head)
    }
}

public struct NNBenchResult: Codable, Sendable {
    public var shape: NNBenchShape
    /// Training sequences per second (forward + backward + Adam step; one sample = one sequence): the median of
    /// `samplesPerSecondRepeats`.
    public var samplesPerSecond: Double
    /// `shape.trainingFlops` × training steps per second / 1e9.
    public var gflops: Double
    /// Forward only, batch 1, T = 64, milliseconds per call (median of `benchRepeats` repeats).
    public var inferenceMsBatch1: Double
    /// Samples per second in each of the `benchRepeats` timed repeats of training.
    public var samplesPerSecondRepeats: [Double]
    public var blasThreads: Int
    /// Calibration taken in the same run: GFLOP/s of `gemm` (1024,1024)·(1024,1024) (the packed kernels, B packed on
    /// each call) with the same threads, so a figure measured on a busy machine can be read against what the machine
    /// reaches idle.
    public var sgemmGflops: Double
    /// The ceiling, measured in the same run: GFLOP/s of independent fused multiply-add chains on the selected kernels'
    /// vectors (`MicroKernels`), on `blasThreads` threads at once (`fmaPeakGflops`).
    public var fmaPeakGflops: Double
    /// `gflops` / `fmaPeakGflops`.
    public var fractionOfFMAPeak: Double
}

/// Timed repeats per figure. Like the PyTorch peer (`lstm_train.py`: median of 5), the figures are medians, so a
/// slow second of a noisy machine does not move them.
let benchRepeats = 5

/// The middle value (the upper one of the two middle values for an even count).
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Trains the `shape` workload for about `seconds` in `benchRepeats` repeats (after a warm-up), then times batch-1
/// inference at T = 64 for about a quarter as long (at least 0.5 s) in as many repeats.
/// Pin the BLAS threads first (`setBLASThreads(2)` or OPENBLAS_NUM_THREADS=2) for figures comparable with the peers.
public func benchmarkTraining(shape: NNBenchShape, seconds: Double) -> NNBenchResult {
    var rng = SplitMix64(state: 0x5EED)
    let net = EncoderNetwork(
        .init(
            features: shape.features, embedding: shape.embedding, hidden: shape.hidden,
            layers: shape.layers, embeddingActivation: .relu,
            heads: [HeadSpec("head", .linear(outputs: NNBenchShape.outputs))]), using: &rng)
    var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-3))
    let ws = net.makeWorkspace(batch: shape.batch, time: shape.time)
    for i in 0..<ws.input.count { ws.input[i] = Float.random(in: -1...1, using: &rng) }
    let target = (0..<(shape.batch * NNBenchShape.outputs)).map { _ in Float.random(in: -1...1, using: &rng) }

    func trainStep() {
        net.forward(ws)
        _ = mseLoss(
            prediction: ws.outputs[0].pointer, target: target, count: target.count, dPrediction: ws.dOutputs[0].pointer)
        net.zeroGradients()
        net.backward(ws)
        net.updateParameters { adam.update(&$0, gradients: net.gradients) }
    }
    trainStep(); trainStep()
    /// `benchRepeats` timed repeats of `total`/`benchRepeats` seconds each (and at least `minimum` calls of `body`);
    /// the calls per second of each.
    func rates(total: Double, minimum: Int, _ body: () -> Void) -> [Double] {
        (0..<benchRepeats).map { _ in
            var calls = 0, elapsed = 0.0
            let start = DispatchTime.now().uptimeNanoseconds
            while calls < minimum || elapsed < total / Double(benchRepeats) {
                body()
                calls += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            return Double(calls) / elapsed
        }
    }
    let stepRates = rates(total: seconds, minimum: 3, trainStep)
    let stepsPerSecond = median(stepRates)

    let act = net.makeWorkspace(batch: 1, time: 64)
    for i in 0..<act.input.count { act.input[i] = Float.random(in: -1...1, using: &rng) }
    net.forward(act); net.forward(act)
    let callsPerSecond = median(rates(total: max(0.5, seconds / 4), minimum: 10) { net.forward(act) })
    let gflops = shape.trainingFlops * stepsPerSecond / 1e9, peak = fmaPeakGflops(threads: blasThreads())
    return NNBenchResult(
        shape: shape, samplesPerSecond: stepsPerSecond * Double(shape.batch), gflops: gflops,
        inferenceMsBatch1: 1e3 / callsPerSecond,
        samplesPerSecondRepeats: stepRates.map { $0 * Double(shape.batch) }, blasThreads: blasThreads(),
        sgemmGflops: sgemmCalibration(), fmaPeakGflops: peak, fractionOfFMAPeak: gflops / peak)
}

/// GFLOP/s of `threads` threads running independent fused multiply-add chains at once on the vectors of the selected
/// `MicroKernels` (16 lanes with AVX-512, else 8), the best of 3 rounds of about 0.1 s: no product on these kernels
/// can run faster.
public func fmaPeakGflops(threads: Int) -> Double {
    let avx512 = MicroKernels.current == .avx512, rounds = avx512 ? 50_000_000 : 100_000_000
    return (0..<3).map { _ in
        let flops = Atomic<Int>(0)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            flops.add(avx512 ? nk_avx512_fma_chains(rounds) : nk_avx2_fma_chains(rounds), ordering: .relaxed)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(flops.load(ordering: .relaxed)) / seconds / 1e9
    }.max()!
}

/// GFLOP/s of repeated (1024,1024)·(1024,1024) `gemm`s over about half a second.
func sgemmCalibration() -> Double {
    let n = 1024
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    gemm(m: n, n: n, k: n, a: a, b: b, c: &c)
    var calls = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    while calls < 3 || elapsed < 0.5 {
        gemm(m: n, n: n, k: n, a: a, b: b, c: &c)
        calls += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    return 2 * Double(n * n * n) * Double(calls) / elapsed / 1e9
}
