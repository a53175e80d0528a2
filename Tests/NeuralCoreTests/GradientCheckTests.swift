import Foundation
import RLCore
import Testing

@testable import NeuralCore

// Finite-difference checks: each kernel's backward against central differences of its forward, in Float on tiny shapes,
// with the scalar loss Σ r ⊙ out for a fixed random r (so dOut = r), accumulated in Double.

/// Central differences of `loss` w.r.t. every element of `values`.
func numericalGradient(_ values: [Float], step: Float = 3e-3, _ loss: ([Float]) -> Double) -> [Float] {
    var probe = values
    return values.indices.map { i in
        probe[i] = values[i] + step
        let up = loss(probe)
        probe[i] = values[i] - step
        let down = loss(probe)
        probe[i] = values[i]
        return Float((up - down) / Double(2 * step))
    }
}

func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

func expectGradient(
    _ analytic: [Float], _ numeric: [Float], _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(analytic.contains { $0 != 0 }, "\(label): all-zero gradient checks nothing", sourceLocation: sourceLocation)
    expectClose(analytic, numeric, rel: 1e-2, abs: 5e-4, label, sourceLocation: sourceLocation)
}

@Test func linearGradients() {
    var rng = Xoshiro256(seed: 11)
    var layout = ParameterLayout()
    let linear = Linear("fc", inFeatures: 4, outFeatures: 3, layout: &layout)
    let rows = 5
    let params = randomFloats(layout.count, using: &rng), x = randomFloats(rows * 4, using: &rng)
    let r = randomFloats(rows * 3, using: &rng)
    func loss(_ p: [Float], _ x: [Float]) -> Double {
        var out = [Float](repeating: 0, count: rows * 3)
        linear.forward(p, input: x, rows: rows, output: &out)
        return dot(out, r)
    }
    var grads = [Float](repeating: 0, count: layout.count), dx = [Float](repeating: 0, count: rows * 4)
    linear.backward(params, &grads, input: x, rows: rows, dOutput: r, dInput: &dx)
    expectGradient(grads, numericalGradient(params) { loss($0, x) }, "dWeight, dBias")
    expectGradient(dx, numericalGradient(x) { loss(params, $0) }, "dInput")
    // backward adds: a second call doubles the gradients
    linear.backward(params, &grads, input: x, rows: rows, dOutput: r, dInput: &dx)
    expectGradient(grads, numericalGradient(params) { 2 * loss($0, x) }, "accumulated dWeight, dBias")
}

@Test(arguments: [Activation.identity, .relu, .leakyReLU(slope: 0.1), .tanh, .sigmoid])
func activationGradient(_ activation: Activation) {
    var rng = Xoshiro256(seed: 12)
    // keep inputs away from ReLU's kink at 0
    let x = randomFloats(12, using: &rng).map { $0 < 0 ? $0 - 0.1 : $0 + 0.1 }
    let r = randomFloats(12, using: &rng)
    func loss(_ x: [Float]) -> Double {
        var y = x
        activation.forward(&y, count: y.count)
        return dot(y, r)
    }
    var y = x
    activation.forward(&y, count: y.count)
    var dx = [Float](repeating: .nan, count: 12)  // written, not added into
    activation.backward(output: y, dOutput: r, dInput: &dx, count: 12)
    expectGradient(dx, numericalGradient(x, loss), "d\(activation)")
}

/// Through OpenBLAS (no scratch) and through the packed kernels (with one), on both micro-kernels.
@Test(arguments: [(Activation.relu, false), (.tanh, false), (.relu, true), (.tanh, true)], MicroKernels.allCases)
func market2VecGradients(_ form: (activation: Activation, packed: Bool), kernels: MicroKernels) throws {
    try withMicroKernels(kernels) { market2VecGradients(form.activation, packed: form.packed) }
}

func market2VecGradients(_ activation: Activation, packed: Bool) {
    var rng = Xoshiro256(seed: 13)
    var layout = ParameterLayout()
    let embed = Market2Vec(features: 4, embedding: 3, activation: activation, layout: &layout)
    let rows = 6  // B·T = 2·3
    let params = randomFloats(layout.count, using: &rng), x = randomFloats(rows * 4, using: &rng)
    let r = randomFloats(rows * 3, using: &rng)
    let scratch = packed ? ScratchBuffer() : nil
    func loss(_ p: [Float], _ x: [Float]) -> Double {
        var out = [Float](repeating: 0, count: rows * 3)
        embed.forward(p, input: x, rows: rows, output: &out, packs: packed ? PackedWeights() : nil)
        return dot(out, r)
    }
    var out = [Float](repeating: 0, count: rows * 3)
    embed.forward(params, input: x, rows: rows, output: &out, packs: packed ? PackedWeights() : nil)
    var grads = [Float](repeating: 0, count: layout.count), dPre = out, dx = [Float](repeating: 0, count: rows * 4)
    embed.backward(
        params, &grads, input: x, rows: rows, output: out, dOutput: r, dPre: &dPre, dInput: &dx, scratch: scratch)
    expectGradient(grads, numericalGradient(params) { loss($0, x) }, "dWeight, dBias")
    expectGradient(dx, numericalGradient(x) { loss(params, $0) }, "dInput")
}

/// A 2-layer LSTM on B=2, T=3, I=3, H=2 (or H=10: 8 vector lanes + a scalar tail) with non-zero initial states;
/// loss = Σ r·hiddenSeq + Σ rh·hN + Σ rc·cN. `stacked`: forward's per-step product over both weights, or the input
/// projected for all steps first (the path large layers take).
struct LSTMProblem {
    let T = 3, I = 3, L = 2
    let B, H: Int
    let lstm: LSTM
    let params, x, h0, c0, r, rh, rc: [Float]

    init(seed: UInt64, batch: Int = 2, hidden: Int = 2, stacked: Bool = true) {
        B = batch; H = hidden
        var rng = Xoshiro256(seed: seed)
        var layout = ParameterLayout()
        lstm = LSTM(inputSize: I, hidden: H, layers: L, layout: &layout, stackWeights: stacked)
        params = randomFloats(layout.count, using: &rng)
        x = randomFloats(B * T * I, using: &rng)
        h0 = randomFloats(L * B * H, scale: 0.5, using: &rng)
        c0 = randomFloats(L * B * H, scale: 0.5, using: &rng)
        r = randomFloats(B * T * H, using: &rng)
        rh = randomFloats(L * B * H, using: &rng)
        rc = randomFloats(L * B * H, using: &rng)
    }

    func loss(params: [Float]? = nil, x: [Float]? = nil, h0: [Float]? = nil, c0: [Float]? = nil) -> Double {
        let cache = LSTMCache(lstm, batch: B, time: T)
        var hN = [Float](repeating: 0, count: L * B * H), cN = hN
        lstm.forward(
            params ?? self.params, input: x ?? self.x, batch: B, time: T, h0: h0 ?? self.h0, c0: c0 ?? self.c0,
            cache: cache, hN: &hN, cN: &cN, packs: PackedWeights())
        return dot(cache.hiddenSequence(batch: B).array, r) + dot(hN, rh) + dot(cN, rc)
    }

    /// (dParams, dInput, dh0, dc0) from backward.
    func analytic(truncate: Int? = nil) -> ([Float], [Float], [Float], [Float]) {
        let cache = LSTMCache(lstm, batch: B, time: T)
        var hN = [Float](repeating: 0, count: L * B * H), cN = hN
        lstm.forward(
            params, input: x, batch: B, time: T, h0: h0, c0: c0, cache: cache, hN: &hN, cN: &cN,
            packs: PackedWeights())
        // dx, dh0 and dc0 start as NaN: backward writes every element of them (adding into them would keep the NaN)
        var g = [Float](repeating: 0, count: params.count), dx = [Float](repeating: .nan, count: x.count)
        var dh0 = [Float](repeating: .nan, count: h0.count), dc0 = dh0
        lstm.backward(
            params, &g, input: x, batch: B, time: T, c0: c0, cache: cache, dOutput: r, dhN: rh, dcN: rc,
            dInput: &dx, dh0: &dh0, dc0: &dc0, truncate: truncate)
        return (g, dx, dh0, dc0)
    }
}

/// Backward's gradients w.r.t. the weights, the input and both initial states against finite differences.
func expectLSTMGradients(_ p: LSTMProblem) {
    let (g, dx, dh0, dc0) = p.analytic()
    expectGradient(g, numericalGradient(p.params) { p.loss(params: $0) }, "dWeights")
    expectGradient(dx, numericalGradient(p.x) { p.loss(x: $0) }, "dInput")
    expectGradient(dh0, numericalGradient(p.h0) { p.loss(h0: $0) }, "dh0")
    expectGradient(dc0, numericalGradient(p.c0) { p.loss(c0: $0) }, "dc0")
}

@Test(arguments: [(2, true), (10, true), (2, false), (10, false)], MicroKernels.allCases)
func lstmGradientsIncludingInitialState(_ form: (hidden: Int, stacked: Bool), kernels: MicroKernels) throws {
    try withMicroKernels(kernels) {
        expectLSTMGradients(LSTMProblem(seed: 14, hidden: form.hidden, stacked: form.stacked))
    }
}

/// Two threads: the batch splits into uneven shares (5 rows), and the weight gradients' 40 gate columns (three panels,
/// the last one partial) between the two workers.
@Test(arguments: [true, false], MicroKernels.allCases)
func lstmGradientsAcrossThreads(stacked: Bool, kernels: MicroKernels) throws {
    setBLASThreads(2)
    try withMicroKernels(kernels) { expectLSTMGradients(LSTMProblem(seed: 17, batch: 5, hidden: 10, stacked: stacked)) }
}

/// The stacked per-step product and the input projection first run the same chains of multiply-adds: the same bits,
/// forward and backward.
@Test func stackedAndUnstackedLayersGiveTheSameBits() {
    let one = LSTMProblem(seed: 18, batch: 3, hidden: 10, stacked: true)
    let other = LSTMProblem(seed: 18, batch: 3, hidden: 10, stacked: false)
    #expect(one.loss() == other.loss())
    let stacked = one.analytic(), unstacked = other.analytic()
    #expect(
        stacked.0 == unstacked.0 && stacked.1 == unstacked.1 && stacked.2 == unstacked.2 && stacked.3 == unstacked.3)
}

/// The stacking choice reads the core's L2 (Linux reports it in sysfs too): the agents' small layers (I = 32, H = 64:
/// 96 KB packed) stack anywhere, the paper's (I = H = 300: 2.9 MB) nowhere, and I = H = 128 (512 KB) where the L2 has
/// 1 MB or more.
@Test func layersStackWhenTheirWeightsFitInHalfOfTheL2() {
    #if os(Linux)
        let index2 = "/sys/devices/system/cpu/cpu0/cache/index2/"
        if let level = try? String(contentsOfFile: index2 + "level", encoding: .utf8),
            level.trimmingCharacters(in: .whitespacesAndNewlines) == "2",
            let size = try? String(contentsOfFile: index2 + "size", encoding: .utf8),
            let kilobytes = Int(size.trimmingCharacters(in: .whitespacesAndNewlines).dropLast())
        {
            #expect(l2CacheBytes == kilobytes << 10)
        }
    #endif
    #expect(l2CacheBytes >= 256 << 10)
    #expect(stacksWeights(inputSize: 32, hidden: 64))
    #expect(!stacksWeights(inputSize: 300, hidden: 300))
    #expect(stacksWeights(inputSize: 128, hidden: 128) == (l2CacheBytes >= 1 << 20))
}

@Test(arguments: [true, false])
func truncatedBPTT(stacked: Bool) {
    let p = LSTMProblem(seed: 15, stacked: stacked)
    let full = p.analytic()
    let long = p.analytic(truncate: p.T)
    #expect(full.0 == long.0 && full.1 == long.1 && full.2 == long.2, "truncating to T steps is full BPTT")
    let (g, dx, dh0, dc0) = p.analytic(truncate: 1)
    #expect(dh0.allSatisfy { $0 == 0 } && dc0.allSatisfy { $0 == 0 }, "no gradient reaches the initial state")
    for b in 0..<p.B {
        for t in 0..<(p.T - 1) {
            #expect((0..<p.I).allSatisfy { dx[(b * p.T + t) * p.I + $0] == 0 }, "step \(t) is outside the window")
        }
        #expect((0..<p.I).contains { dx[(b * p.T + p.T - 1) * p.I + $0] != 0 }, "the last step gets gradient")
    }
    #expect(g != full.0)
}

@Test(arguments: [HeadKind.linear(outputs: 3), .dueling(actions: 3)])
func networkGradientsThroughHeadsAndHiddenSequence(_ kind: HeadKind) {
    var rng = Xoshiro256(seed: 16)
    let config = EncoderNetwork.Configuration(
        features: 3, embedding: 3, hidden: 2, layers: 2, embeddingActivation: .tanh,
        heads: [HeadSpec("q", kind), HeadSpec("value", .linear(outputs: 1))])
    let net = EncoderNetwork(config, using: &rng)
    let ws = net.makeWorkspace(batch: 2, time: 3)
    ws.input.set(randomFloats(ws.input.count, using: &rng))
    let r0 = randomFloats(2 * 3, using: &rng), r1 = randomFloats(2, using: &rng),
        rs = randomFloats(2 * 3 * 2, using: &rng)
    let params = net.parameters
    func loss(_ p: [Float]) -> Double {
        net.parameters = p
        net.forward(ws)
        return dot(ws.outputs[0].array, r0) + dot(ws.outputs[1].array, r1) + dot(ws.hiddenSequence.array, rs)
    }
    let numeric = numericalGradient(params, loss)
    net.parameters = params
    net.forward(ws)
    ws.dOutputs[0].set(r0); ws.dOutputs[1].set(r1); ws.dHiddenSequence.set(rs)
    net.zeroGradients()
    net.backward(ws)
    expectGradient(net.gradients, numeric, "network gradients with \(kind) head")
}

/// The sequence gradient is zero after every forward: a backward whose caller did not take `dHiddenSequence` since
/// the last forward gets exactly the gradient of a workspace that never had one, whatever an earlier backward used.
@Test(arguments: [EncoderKind.lstm, .cnn])
func sequenceGradientIsZeroAfterEveryForward(_ kind: EncoderKind) {
    var rng = Xoshiro256(seed: 19)
    let net = EncoderNetwork(.init(features: 3, embedding: 4, hidden: 5, layers: 2, kind: kind), using: &rng)
    let used = net.makeWorkspace(batch: 3, time: 4), fresh = net.makeWorkspace(batch: 3, time: 4)
    let x = randomFloats(used.input.count, using: &rng), r = randomFloats(3, using: &rng)
    let rs = randomFloats(used.dHiddenSequence.count, using: &rng)
    used.input.set(x); fresh.input.set(x)
    func gradients(_ ws: Workspace, sequence: Bool) -> [Float] {
        net.forward(ws)
        ws.dOutputs[0].set(r)
        if sequence { ws.dHiddenSequence.set(rs) }
        net.zeroGradients()
        net.backward(ws)
        return net.gradients
    }
    let withSequence = gradients(used, sequence: true)
    let after = gradients(used, sequence: false), never = gradients(fresh, sequence: false)
    #expect(after == never)
    #expect(withSequence != never, "the sequence gradient was read while it was given")
    #expect(used.dHiddenSequence.array.allSatisfy { $0 == 0 })
}

@Test func duelingHeadCombinesValueAndAdvantage() {
    var rng = Xoshiro256(seed: 17)
    let net = EncoderNetwork(
        .init(features: 2, embedding: 2, hidden: 2, heads: [HeadSpec("q", .dueling(actions: 3))]), using: &rng)
    let ws = net.makeWorkspace(batch: 1, time: 2)
    ws.input.set(randomFloats(4, using: &rng))
    net.forward(ws)
    let h = ws.hN.array, p = net.parameters
    let vw = net.tensor(named: "q.value.weight")!, vb = net.tensor(named: "q.value.bias")!
    let aw = net.tensor(named: "q.advantage.weight")!, ab = net.tensor(named: "q.advantage.bias")!
    let v = p[vw.offset] * h[0] + p[vw.offset + 1] * h[1] + p[vb.offset]
    let adv = (0..<3).map { a in p[aw.offset + 2 * a] * h[0] + p[aw.offset + 2 * a + 1] * h[1] + p[ab.offset + a] }
    let mean = adv.reduce(0, +) / 3
    expectClose(ws.outputs[0].array, adv.map { v + $0 - mean }, rel: 1e-5, "Q = V + A − mean A")
}

@Test func lossGradients() {
    var rng = Xoshiro256(seed: 18)
    let n = 6, batch = 2, classes = 3
    let prediction = randomFloats(n, scale: 2, using: &rng), target = randomFloats(n, using: &rng)
    let probabilities = (0..<n).map { _ in Float.random(in: 0...1, using: &rng) }
    let targets = [2, 0], weights: [Float] = [0.7, -1.3]
    typealias Loss = (_ x: [Float], _ d: UnsafeMutablePointer<Float>?) -> Float
    let losses: [(String, Loss)] = [
        ("mse", { mseLoss(prediction: $0, target: target, count: n, dPrediction: $1, scale: 1.5) }),
        ("huber", { huberLoss(prediction: $0, target: target, count: n, delta: 0.7, dPrediction: $1) }),
        (
            "cross-entropy",
            {
                softmaxCrossEntropy(
                    logits: $0, targets: targets, batch: batch, classes: classes, weights: weights, dLogits: $1)
            }
        ),
        ("entropy", { categoricalEntropy(logits: $0, batch: batch, classes: classes, dLogits: $1, scale: -0.5) }),
        ("bce", { binaryCrossEntropyWithLogits(logits: $0, targets: probabilities, count: n, dLogits: $1) }),
    ]
    for (name, loss) in losses {
        var d = [Float](repeating: 0, count: n)
        _ = loss(prediction, &d)
        let scale: Float = name == "mse" ? 1.5 : name == "entropy" ? -0.5 : 1
        let numeric = numericalGradient(prediction, step: 1e-3) { Double(scale * loss($0, nil)) }
        expectGradient(d, numeric, name)
    }
}

@Test func vectorisedActivationsMatchLibm() {
    var worstExp: Float = 0, worstSigmoid: Float = 0, worstTanh: Float = 0
    var x: Float = -30
    while x <= 30 {
        let v = Float8(repeating: x)
        if x < 80 { worstExp = max(worstExp, abs(exp8(v)[0] - Foundation.exp(x)) / Foundation.exp(x)) }
        worstSigmoid = max(worstSigmoid, abs(sigmoid8(v)[0] - sigmoidScalar(x)) / sigmoidScalar(x))
        let t = Foundation.tanh(x)
        worstTanh = max(worstTanh, abs(tanh8(v)[0] - t) / max(abs(t), 1e-30))
        x += x.magnitude < 1 ? 0.0007 : 0.013
    }
    #expect(worstExp < 1e-6); #expect(worstSigmoid < 1e-6); #expect(worstTanh < 1e-6)
    #expect(tanh8(Float8(repeating: 1e-5))[0] == Foundation.tanh(Float(1e-5)))
    #expect(sigmoid8(Float8(repeating: -200))[0] >= 0 && sigmoid8(Float8(repeating: 200))[0] == 1)
}
