import Foundation
import RLCore
import Testing

@testable import NeuralCore

/// Tests/NeuralCoreTests/Fixtures/tiny_network.json, from scripts/make_nn_fixtures.py.
struct TinyNetworkFixture: Decodable {
    struct Header: Decodable { let torch: String }
    struct Weight: Decodable { let shape: [Int]; let values: [Float] }
    let header: Header
    let F, E, H, L, A, B, T: Int
    let weights: [String: Weight]
    let input, h0, c0, target, output: [Float]
    let loss: Float
    let gradients: [String: [Float]]
    let adamLosses, adamL2Losses, adamWLosses: [Float]

    /// The same architecture as the PyTorch module, with the fixture's weights and inputs loaded.
    func makeNetwork() throws -> (EncoderNetwork, Workspace) {
        var rng = Xoshiro256(seed: 99)
        let net = EncoderNetwork(
            .init(
                features: F, embedding: E, hidden: H, layers: L, embeddingActivation: .relu,
                heads: [HeadSpec("head", .linear(outputs: A))]), using: &rng)
        #expect(Set(net.tensors.map(\.name)) == Set(weights.keys))
        for slot in net.tensors {
            let w = try #require(weights[slot.name], "fixture lacks \(slot.name)")
            #expect(w.shape == slot.shape, "\(slot.name)")
            net.parameters.replaceSubrange(slot.range, with: w.values)
        }
        let ws = net.makeWorkspace(batch: B, time: T)
        ws.input.set(input); ws.h0.set(h0); ws.c0.set(c0)
        return (net, ws)
    }
}

/// forward + MSE + backward; returns the loss.
@discardableResult
func mseStep(_ net: EncoderNetwork, _ ws: Workspace, target: [Float]) -> Float {
    net.forward(ws)
    let loss = mseLoss(
        prediction: ws.outputs[0].pointer, target: target, count: target.count, dPrediction: ws.dOutputs[0].pointer)
    net.zeroGradients()
    net.backward(ws)
    return loss
}

@Test func fixtureHeaderNamesTorchVersion() throws {
    let f = try loadFixture("tiny_network.json", as: TinyNetworkFixture.self)
    #expect(f.header.torch.hasPrefix("2."))
}

/// H = 4 runs the gate loops' scalar tail only; H = 12 runs 8 vector lanes and a 4-wide tail.
let networkFixtures = ["tiny_network.json", "tiny_network_h12.json"]

@Test(arguments: networkFixtures, MicroKernels.allCases)
func forwardLossAndEveryGradientMatchPyTorch(_ name: String, kernels: MicroKernels) throws {
    try withMicroKernels(kernels) { try forwardLossAndEveryGradientMatchPyTorch(name) }
}

func forwardLossAndEveryGradientMatchPyTorch(_ name: String) throws {
    let f = try loadFixture(name, as: TinyNetworkFixture.self)
    let (net, ws) = try f.makeNetwork()
    let loss = mseStep(net, ws, target: f.target)
    expectClose(ws.outputs[0].array, f.output, "output")
    expectClose(loss, f.loss, "loss")
    for slot in net.tensors {
        let expected = try #require(f.gradients[slot.name])
        expectClose(Array(net.gradients[slot.range]), expected, abs: 1e-6, "d\(slot.name)")
    }
    expectClose(ws.dh0.array, try #require(f.gradients["h0"]), "dh0")
    expectClose(ws.dc0.array, try #require(f.gradients["c0"]), "dc0")
}

@Test(arguments: networkFixtures, MicroKernels.allCases)
func tenAdamStepsMatchPyTorch(_ name: String, kernels: MicroKernels) throws {
    try withMicroKernels(kernels) { try tenAdamStepsMatchPyTorch(name) }
}

func tenAdamStepsMatchPyTorch(_ name: String) throws {
    let f = try loadFixture(name, as: TinyNetworkFixture.self)
    for (config, expected) in [
        (Adam.Configuration(learningRate: 1e-2), f.adamLosses),
        (Adam.Configuration(learningRate: 1e-2, weightDecay: 0.1, decoupled: false), f.adamL2Losses),
        (Adam.Configuration(learningRate: 1e-2, weightDecay: 0.1, decoupled: true), f.adamWLosses),
    ] {
        let (net, ws) = try f.makeNetwork()
        var adam = Adam(parameterCount: net.parameters.count, config)
        var losses: [Float] = []
        for _ in expected.indices {
            losses.append(mseStep(net, ws, target: f.target))
            adam.update(&net.parameters, gradients: net.gradients)
        }
        expectClose(losses, expected, "losses with \(config)")
    }
}

struct ClipFixture: Decodable {
    let maxNorm: Float
    let norm: Float
    let gradients: [String: [Float]]
    let adamLosses: [Float]
}

@Test(arguments: MicroKernels.allCases)
func gradientClippingMatchesPyTorch(kernels: MicroKernels) throws {
    try withMicroKernels(kernels) { try gradientClippingMatchesPyTorch() }
}

func gradientClippingMatchesPyTorch() throws {
    let f = try loadFixture("tiny_network.json", as: TinyNetworkFixture.self)
    let clip = try loadFixture("tiny_clip.json", as: ClipFixture.self)
    var (net, ws) = try f.makeNetwork()
    mseStep(net, ws, target: f.target)
    let norm = net.clipGradients(maxNorm: clip.maxNorm)
    expectClose(norm, clip.norm, "norm")
    for slot in net.tensors {
        expectClose(Array(net.gradients[slot.range]), try #require(clip.gradients[slot.name]), "clipped d\(slot.name)")
    }
    (net, ws) = try f.makeNetwork()
    var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
    var losses: [Float] = []
    for _ in clip.adamLosses.indices {
        losses.append(mseStep(net, ws, target: f.target))
        net.clipGradients(maxNorm: clip.maxNorm)
        adam.update(&net.parameters, gradients: net.gradients)
    }
    expectClose(losses, clip.adamLosses, "clipped Adam losses")
}

@Test func loadsAFileWrittenByPythonSafetensors() throws {
    let f = try loadFixture("tiny_network.json", as: TinyNetworkFixture.self)
    let (reference, _) = try f.makeNetwork()
    var rng = Xoshiro256(seed: 5)
    let net = EncoderNetwork(reference.configuration, using: &rng)
    #expect(net.parameters != reference.parameters)
    try net.load(from: fixtureURL("tiny_network.safetensors"))
    #expect(net.parameters == reference.parameters)
}

struct LossesFixture: Decodable {
    struct Huber: Decodable {
        let delta: Float; let prediction, target: [Float]; let loss: Float; let gradient: [Float]
    }
    struct CrossEntropy: Decodable {
        let logits: [Float]; let targets: [Int]; let batch, classes: Int; let loss: Float; let gradient: [Float]
    }
    struct Weighted: Decodable { let weights: [Float]; let loss: Float; let gradient: [Float] }
    struct Value: Decodable { let loss: Float; let gradient: [Float] }
    struct BCE: Decodable { let logits, targets: [Float]; let loss: Float; let gradient: [Float] }
    let huber: Huber
    let crossEntropy: CrossEntropy
    let weightedCrossEntropy: Weighted
    let entropy: Value
    let bce: BCE
}

@Test func lossesMatchPyTorch() throws {
    let f = try loadFixture("losses.json", as: LossesFixture.self)
    let h = f.huber
    var d = [Float](repeating: 0, count: h.prediction.count)
    var loss = huberLoss(prediction: h.prediction, target: h.target, count: d.count, delta: h.delta, dPrediction: &d)
    expectClose(loss, h.loss, "huber"); expectClose(d, h.gradient, "dHuber")

    let ce = f.crossEntropy
    d = [Float](repeating: 0, count: ce.logits.count)
    loss = softmaxCrossEntropy(
        logits: ce.logits, targets: ce.targets, batch: ce.batch, classes: ce.classes, dLogits: &d)
    expectClose(loss, ce.loss, "cross-entropy"); expectClose(d, ce.gradient, "dCrossEntropy")

    let w = f.weightedCrossEntropy
    d = [Float](repeating: 0, count: ce.logits.count)
    loss = softmaxCrossEntropy(
        logits: ce.logits, targets: ce.targets, batch: ce.batch, classes: ce.classes,
        weights: w.weights, dLogits: &d)
    expectClose(loss, w.loss, "weighted cross-entropy"); expectClose(d, w.gradient, "dWeightedCrossEntropy")

    d = [Float](repeating: 0, count: ce.logits.count)
    loss = categoricalEntropy(logits: ce.logits, batch: ce.batch, classes: ce.classes, dLogits: &d)
    expectClose(loss, f.entropy.loss, "entropy"); expectClose(d, f.entropy.gradient, "dEntropy")

    let b = f.bce
    d = [Float](repeating: 0, count: b.logits.count)
    loss = binaryCrossEntropyWithLogits(logits: b.logits, targets: b.targets, count: d.count, dLogits: &d)
    expectClose(loss, b.loss, "bce"); expectClose(d, b.gradient, "dBCE")
}
