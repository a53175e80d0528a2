import Foundation
import RLCore
import Testing

@testable import NeuralCore

// The cnn and mlp bodies: finite-difference gradients through the whole network, the convolution against a direct
// sum, causality, and safetensors round trips under PyTorch-style names.

func network(_ kind: EncoderKind, layers: Int, seed: UInt64, features: Int = 3, time: Int = 4) -> EncoderNetwork {
    var rng = Xoshiro256(seed: seed)
    return EncoderNetwork(
        .init(
            features: features, embedding: 3, hidden: 4, layers: layers, embeddingActivation: .tanh,
            heads: [HeadSpec("q", .dueling(actions: 3)), HeadSpec("value", .linear(outputs: 1))],
            kind: kind, kernel: 2, window: time), using: &rng)
}

/// loss = Σ r0·q + Σ r1·value + Σ rs·hiddenSequence + Σ rh·hN over B = 2, T = 4; analytic vs central differences for
/// every parameter. (The embedding's gradient is only right if the body's input gradient is.)
@Test(arguments: [(EncoderKind.cnn, 1), (.cnn, 2), (.mlp, 1), (.mlp, 2)])
func encoderBodyGradients(_ kind: EncoderKind, layers: Int) {
    let net = network(kind, layers: layers, seed: 21)
    var rng = Xoshiro256(seed: 22)
    // biases of the body nudged positive so that few ReLUs sit at their kink
    for slot in net.tensors where slot.name.hasSuffix(".bias") && !slot.name.hasPrefix("q") {
        for i in slot.range { net.parameters[i] = abs(net.parameters[i]) + 0.2 }
    }
    let ws = net.makeWorkspace(batch: 2, time: 4)
    ws.input.set(randomFloats(ws.input.count, using: &rng))
    let r0 = randomFloats(2 * 3, using: &rng), r1 = randomFloats(2, using: &rng)
    let rs = randomFloats(ws.dHiddenSequence.count, using: &rng), rh = randomFloats(ws.dhN.count, using: &rng)
    let sequence = kind != .mlp  // the mlp body has no per-step states
    let params = net.parameters
    func loss(_ p: [Float]) -> Double {
        net.parameters = p
        net.forward(ws)
        return dot(ws.outputs[0].array, r0) + dot(ws.outputs[1].array, r1) + dot(ws.hN.array, rh)
            + (sequence ? dot(ws.hiddenSequence.array, rs) : 0)
    }
    let numeric = numericalGradient(params, loss)
    net.parameters = params
    net.forward(ws)
    ws.dOutputs[0].set(r0); ws.dOutputs[1].set(r1)
    for i in 0..<rh.count { ws.dhN[i] += rh[i] }
    if sequence { ws.dHiddenSequence.set(rs) }
    net.zeroGradients()
    net.backward(ws)
    expectGradient(net.gradients, numeric, "\(kind) L\(layers) gradients")
    let embed = net.tensor(named: "embed.weight")!
    #expect(net.gradients[embed.range].contains { $0 != 0 }, "the gradient reaches the embedding")
}

/// One causal layer, K = 2: out[b,t,h] = ReLU(bias[h] + Σ_i w[h,i,1]·x[b,t,i] + w[h,i,0]·x[b,t−1,i]), x[b,−1] = 0;
/// a second layer has dilation 2 (it reads t and t−2).
@Test func convolutionIsACausalDilatedSum() {
    let net = network(.cnn, layers: 2, seed: 23)
    var rng = Xoshiro256(seed: 24)
    let (B, T, E, H) = (2, 4, 3, 4)
    let ws = net.makeWorkspace(batch: B, time: T)
    ws.input.set(randomFloats(ws.input.count, using: &rng))
    net.forward(ws)
    let x = ws.embedded.array, p = net.parameters
    func layer(_ k: Int, _ input: [Float], width I: Int, dilation d: Int) -> [Float] {
        let w = net.tensor(named: "conv.\(k).weight")!, bias = net.tensor(named: "conv.\(k).bias")!
        #expect(w.shape == [H, I, 2])
        var out = [Float](repeating: 0, count: B * T * H)
        for b in 0..<B {
            for t in 0..<T {
                for h in 0..<H {
                    var s = p[bias.offset + h]
                    for i in 0..<I {
                        s += p[w.offset + (h * I + i) * 2 + 1] * input[(b * T + t) * I + i]
                        if t - d >= 0 { s += p[w.offset + (h * I + i) * 2] * input[(b * T + t - d) * I + i] }
                    }
                    out[(b * T + t) * H + h] = max(s, 0)
                }
            }
        }
        return out
    }
    let first = layer(0, x, width: E, dilation: 1), second = layer(1, first, width: H, dilation: 2)
    expectClose(ws.hiddenSequence.array, second, rel: 1e-5, abs: 1e-6, "top layer")
    var top: [Float] = []
    for b in 0..<B { let last = (b * T + T - 1) * H; top += second[last..<(last + H)] }
    expectClose(Array(ws.hN.array[(B * H)...]), top, rel: 1e-5, abs: 1e-6, "hN = the last step")
    #expect(second.contains { $0 > 0 }, "some units are active")

    // causality: changing the last bar changes only the last step
    let before = ws.hiddenSequence.array
    for f in 0..<3 { ws.input[(0 * T + T - 1) * 3 + f] += 1 }
    net.forward(ws)
    let after = ws.hiddenSequence.array
    #expect(Array(after[0..<((T - 1) * H)]) == Array(before[0..<((T - 1) * H)]))
    #expect(after != before)
}

@Test func mlpReadsTheWholeWindowFlat() {
    let net = network(.mlp, layers: 1, seed: 25)
    let ws = net.makeWorkspace(batch: 1, time: 4)
    var rng = Xoshiro256(seed: 26)
    ws.input.set(randomFloats(ws.input.count, using: &rng))
    net.forward(ws)
    let w = net.tensor(named: "mlp.0.weight")!, bias = net.tensor(named: "mlp.0.bias")!
    #expect(w.shape == [4, 12])
    let x = ws.embedded.array, p = net.parameters
    var expected = [Float](repeating: 0, count: 4)
    for h in 0..<4 {
        var s = p[bias.offset + h]
        for j in 0..<12 { s += p[w.offset + h * 12 + j] * x[j] }
        expected[h] = max(0, s)
    }
    expectClose(ws.hN.array, expected, rel: 1e-5, abs: 1e-6, "ReLU(W·flatten(x) + b)")
    // the first bar of the window matters (unlike a one-step rule)
    let before = ws.outputs[1].array
    for f in 0..<3 { ws.input[f] += 1 }
    net.forward(ws)
    #expect(ws.outputs[1].array != before)
}

@Test(arguments: [EncoderKind.cnn, .mlp])
func encoderBodiesSaveAndLoad(_ kind: EncoderKind) throws {
    let net = network(kind, layers: 2, seed: 27)
    var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "tradesim-\(kind)-\(ProcessInfo.processInfo.processIdentifier).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    adam.update(&net.parameters, gradients: net.parameters.map { $0 * 0.5 })
    try net.save(to: url, optimizer: adam)
    let file = try SafeTensors.File(contentsOf: url)
    let names =
        kind == .cnn
        ? ["conv.0.weight": [4, 3, 2], "conv.1.weight": [4, 4, 2], "conv.1.bias": [4]]
        : ["mlp.0.weight": [4, 12], "mlp.1.weight": [4, 4], "mlp.1.bias": [4]]
    for (name, shape) in names { #expect(file.entries[name]?.shape == shape, "\(name)") }
    #expect(!file.entries.keys.contains { $0.hasPrefix("lstm") })
    #expect(file.metadata["tradesim.architecture"]?.contains("\"kind\":\"\(kind.rawValue)\"") == true)

    let loaded = network(kind, layers: 2, seed: 28)
    var loadedAdam = Adam(parameterCount: loaded.parameters.count, .init(learningRate: 1e-2))
    #expect(loaded.parameters != net.parameters)
    try loaded.load(from: url, optimizer: &loadedAdam)
    #expect(loaded.parameters.map(\.bitPattern) == net.parameters.map(\.bitPattern))
    #expect(loadedAdam.m.map(\.bitPattern) == adam.m.map(\.bitPattern))
    // an lstm network cannot load a cnn/mlp file: the missing tensor is named
    let lstm = network(.lstm, layers: 2, seed: 29)
    #expect(throws: SafeTensorsError.self) { try lstm.load(from: url) }
}
