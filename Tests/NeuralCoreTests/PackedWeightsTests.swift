import RLCore
import Testing

@testable import NeuralCore

/// The network keeps its packed forward weights between forward passes and packs them again after every write of its
/// parameters, whichever way the write is made; the outputs always equal those of a network that never packed before.
/// With H = 300 the LSTM's layers are too large to stack their weights on any L2 (two packings each, `LSTM.forward`),
/// with H = 24 they stack them (one each); the embedding adds one.
@Test(arguments: [(hidden: 300, packedPerPass: 5), (hidden: 24, packedPerPass: 3)])
func packedWeightsFollowEveryWriteOfTheParameters(_ shape: (hidden: Int, packedPerPass: Int)) {
    setBLASThreads(2)  // shares of 4 rows or more (`stackedRowsPerShare`) on 1 or 2 threads
    var rng = Xoshiro256(seed: 41)
    let configuration = EncoderNetwork.Configuration(
        features: 5, embedding: 64, hidden: shape.hidden, layers: 2, heads: [HeadSpec("q", .linear(outputs: 3))])
    let net = EncoderNetwork(configuration, using: &rng)
    #expect(stacksWeights(inputSize: 64, hidden: shape.hidden) == (shape.hidden == 24))
    let input = randomFloats(8 * 3 * 5, using: &rng)
    /// The outputs of `network` on `input` (B = 8, T = 3), and of a network that starts with its parameters.
    func outputs(_ network: EncoderNetwork) -> (cached: [Float], fresh: [Float]) {
        var other = Xoshiro256(seed: 0)
        let fresh = EncoderNetwork(configuration, using: &other)
        fresh.parameters = network.parameters
        func run(_ net: EncoderNetwork) -> [Float] {
            let ws = net.makeWorkspace(batch: 8, time: 3)
            ws.input.pointer.update(from: input, count: input.count)
            net.forward(ws)
            return ws.outputs[0].array
        }
        return (run(network), run(fresh))
    }
    let first = outputs(net)
    #expect(first.cached == first.fresh)
    #expect(net.packs.packings == shape.packedPerPass)
    #expect(outputs(net).cached == first.cached)
    #expect(net.packs.packings == shape.packedPerPass, "a second pass packs nothing")

    let embed = net.tensor(named: "embed.weight")!, hh = net.tensor(named: "lstm.weight_hh_l1")!
    net.parameters[embed.offset] += 0.5
    let afterSubscript = outputs(net)
    #expect(afterSubscript.cached == afterSubscript.fresh && afterSubscript.cached != first.cached)
    #expect(net.packs.packings == 2 * shape.packedPerPass)

    net.parameters.withUnsafeMutableBufferPointer { $0[hh.offset + 1] -= 0.25 }
    let afterPointer = outputs(net)
    #expect(afterPointer.cached == afterPointer.fresh && afterPointer.cached != afterSubscript.cached)

    var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
    for i in net.gradients.indices { net.gradients[i] = Float(i % 7) - 3 }
    adam.update(&net.parameters, gradients: net.gradients)
    let afterAdam = outputs(net)
    #expect(afterAdam.cached == afterAdam.fresh && afterAdam.cached != afterPointer.cached)

    var other = Xoshiro256(seed: 99)
    let source = EncoderNetwork(configuration, using: &other)
    net.copyParameters(from: source)
    let afterCopy = outputs(net)
    #expect(afterCopy.cached == afterCopy.fresh && afterCopy.cached != afterAdam.cached)
}

/// A layer that stacks its weights steps on them only with a few rows a share: batch-1 acting projects x first, with
/// weight_ih's own panels, kept beside the stacked ones, so that acting and training batches in turn pack nothing
/// again. Both forms give a sequence's LSTM states the same bits.
@Test func aBatchOfOneProjectsXFirstAndKeepsBothForms() {
    setBLASThreads(2)
    var rng = Xoshiro256(seed: 42)
    let net = EncoderNetwork(
        .init(features: 5, embedding: 8, hidden: 24, layers: 2, heads: [HeadSpec("q", .linear(outputs: 3))]),
        using: &rng)
    #expect(stacksWeights(inputSize: 8, hidden: 24) && stacksWeights(inputSize: 24, hidden: 24))
    let T = 7, batch = 16, L = 2, H = 24
    let sequences = randomFloats(batch * T * 5, using: &rng)
    /// Both layers' final hidden states (L,B,H) and the outputs.
    func run(batch B: Int) -> (hN: [Float], outputs: [Float]) {
        let ws = net.makeWorkspace(batch: B, time: T)
        ws.input.pointer.update(from: sequences, count: B * T * 5)
        net.forward(ws)
        return (ws.hN.array, ws.outputs[0].array)
    }
    let one = run(batch: 1)
    #expect(net.packs.packings == 5, "the embedding, and weight_ih and weight_hh of each layer")
    let all = run(batch: batch)
    #expect(batch / shareCount(batch) >= stackedRowsPerShare)
    #expect(net.packs.packings == 7, "and the stacked weights of each layer")
    for k in 0..<L {
        #expect(Array(all.hN[(k * batch * H)..<(k * batch * H + H)]) == Array(one.hN[(k * H)..<(k * H + H)]))
    }
    #expect(run(batch: 1).outputs == one.outputs && run(batch: batch).outputs == all.outputs)
    #expect(net.packs.packings == 7, "both forms kept")
}
