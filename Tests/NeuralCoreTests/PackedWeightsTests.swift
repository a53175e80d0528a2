import RLCore
import Testing

@testable import NeuralCore

/// The network keeps its packed forward weights between forward passes and packs them again after every write of its
/// parameters, whichever way the write is made; the outputs always equal those of a network that never packed before.
/// With H = 300 the LSTM's layers are too large to stack their weights on any L2 (two packings each, `LSTM.forward`),
/// with H = 24 they stack them (one each); the embedding adds one.
@Test(arguments: [(hidden: 300, packedPerPass: 5), (hidden: 24, packedPerPass: 3)])
func packedWeightsFollowEveryWriteOfTheParameters(_ shape: (hidden: Int, packedPerPass: Int)) {
    var rng = Xoshiro256(seed: 41)
    let configuration = EncoderNetwork.Configuration(
        features: 5, embedding: 64, hidden: shape.hidden, layers: 2, heads: [HeadSpec("q", .linear(outputs: 3))])
    let net = EncoderNetwork(configuration, using: &rng)
    #expect(stacksWeights(inputSize: 64, hidden: shape.hidden) == (shape.hidden == 24))
    let input = randomFloats(2 * 3 * 5, using: &rng)
    /// The outputs of `network` on `input` (B = 2, T = 3), and of a network that starts with its parameters.
    func outputs(_ network: EncoderNetwork) -> (cached: [Float], fresh: [Float]) {
        var other = Xoshiro256(seed: 0)
        let fresh = EncoderNetwork(configuration, using: &other)
        fresh.parameters = network.parameters
        func run(_ net: EncoderNetwork) -> [Float] {
            let ws = net.makeWorkspace(batch: 2, time: 3)
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
