import RLCore
import Testing

@testable import NeuralCore

/// The network keeps its packed forward weights between forward passes and packs them again after every write of its
/// parameters, whichever way the write is made; the outputs always equal those of a network that never packed before.
/// With H = 300 the LSTM's layers are too large to stack their weights on any L2 (two packings each, `LSTM.forward`),
/// with H = 24 they stack them (one each); the embedding and the head add one each.
@Test(arguments: [(hidden: 300, packedPerPass: 6), (hidden: 24, packedPerPass: 4)])
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

    // from this module (not NeuralCore), `updateParameters` writes the parameters where they are: no copy
    let buffer = { net.parameters.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
    let (before, version) = (buffer(), net.parametersVersion)
    net.updateParameters { adam.update(&$0, gradients: net.gradients) }
    let afterUpdate = outputs(net)
    #expect(buffer() == before && net.parametersVersion != version)
    #expect(afterUpdate.cached == afterUpdate.fresh && afterUpdate.cached != afterAdam.cached)

    var other = Xoshiro256(seed: 99)
    let source = EncoderNetwork(configuration, using: &other)
    net.copyParameters(from: source)
    let afterCopy = outputs(net)
    #expect(afterCopy.cached == afterCopy.fresh && afterCopy.cached != afterUpdate.cached)
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
    #expect(net.packs.packings == 6, "the embedding, weight_ih and weight_hh of each layer, and the head")
    let all = run(batch: batch)
    #expect(batch / shareCount(batch) >= stackedRowsPerShare)
    #expect(net.packs.packings == 8, "and the stacked weights of each layer")
    for k in 0..<L {
        #expect(Array(all.hN[(k * batch * H)..<(k * batch * H + H)]) == Array(one.hN[(k * H)..<(k * H + H)]))
    }
    #expect(run(batch: 1).outputs == one.outputs && run(batch: batch).outputs == all.outputs)
    #expect(net.packs.packings == 8, "both forms kept")
}

/// A batch row's outputs, final states and hidden sequence do not depend on the other rows nor on the batch size: rows
/// picked from a batch of 16 and run as a batch of their own in a workspace of 16 (`use(rows:)`) give the full batch's
/// bits, with shares of 4 rows or more (stacked weights) and fewer (x projected first), one thread and two, a linear
/// and a dueling head, on both kernels (DQN's target values rely on this).
@Test(arguments: [1, 2], MicroKernels.allCases)
func aRowsOutputsDoNotDependOnItsBatch(threads: Int, kernels: MicroKernels) throws {
    setBLASThreads(threads)
    var rng = Xoshiro256(seed: 43)
    let (F, T, H, L, B, A) = (5, 6, 24, 2, 16, 3)
    let net = EncoderNetwork(
        .init(
            features: F, embedding: 8, hidden: H, layers: L,
            heads: [HeadSpec("q", .dueling(actions: A)), HeadSpec("v", .linear(outputs: 1))]),
        using: &rng)
    let sequences = randomFloats(B * T * F, using: &rng)
    try withMicroKernels(kernels) {
        let full = net.makeWorkspace(batch: B, time: T)
        full.input.pointer.update(from: sequences, count: B * T * F)
        net.forward(full)
        let (q, v, hN) = (full.outputs[0].array, full.outputs[1].array, full.hN.array)
        let sequence = full.hiddenSequence.array
        let part = net.makeWorkspace(batch: B, time: T)
        for picked in [[5], [15, 0, 7], [1, 2, 3, 4, 5, 6, 8], [14, 12, 10, 8, 6, 4, 2, 0, 1], (0..<B).reversed()] {
            let n = picked.count
            part.use(rows: n)
            #expect(part.batch == n && part.capacity == B)
            for (i, b) in picked.enumerated() {
                for j in 0..<(T * F) { part.input.pointer[i * T * F + j] = sequences[b * T * F + j] }
            }
            net.forward(part)
            let (out, value, states, seq) = (
                part.outputs[0].pointer, part.outputs[1].pointer, part.hN.pointer, part.hiddenSequence.pointer
            )
            for (i, b) in picked.enumerated() {
                #expect((0..<A).allSatisfy { out[i * A + $0] == q[b * A + $0] }, "row \(b) of \(picked)")
                #expect(value[i] == v[b])
                for k in 0..<L {
                    #expect((0..<H).allSatisfy { states[(k * n + i) * H + $0] == hN[(k * B + b) * H + $0] })
                }
                #expect((0..<(T * H)).allSatisfy { seq[i * T * H + $0] == sequence[b * T * H + $0] })
            }
        }
    }
}

/// A network runs on its own weights on a workspace that another network of its architecture made and ran just before
/// (DQN's target network on the next states after the online network picked their actions): the same outputs as on a
/// workspace of its own.
@Test(arguments: [24, 300])
func aNetworkRunsOnItsOwnWeightsOnAnotherNetworksWorkspace(hidden: Int) {
    setBLASThreads(2)
    var rng = Xoshiro256(seed: 44)
    let configuration = EncoderNetwork.Configuration(
        features: 5, embedding: 8, hidden: hidden, layers: 2, heads: [HeadSpec("q", .dueling(actions: 3))])
    let online = EncoderNetwork(configuration, using: &rng), target = EncoderNetwork(configuration, using: &rng)
    let input = randomFloats(8 * 4 * 5, using: &rng)
    func outputs(_ net: EncoderNetwork, on ws: Workspace) -> [Float] {
        ws.input.pointer.update(from: input, count: input.count)
        net.forward(ws)
        return ws.outputs[0].array
    }
    let shared = online.makeWorkspace(batch: 8, time: 4)
    let onlineOutputs = outputs(online, on: shared), targetOutputs = outputs(target, on: shared)
    #expect(targetOutputs == outputs(target, on: target.makeWorkspace(batch: 8, time: 4)))
    #expect(targetOutputs != onlineOutputs)
    #expect(outputs(online, on: shared) == onlineOutputs)
}
