import Foundation
import RLCore
import Testing

@testable import NeuralCore

func temporaryURL(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("neuralcore-\(UUID().uuidString)-\(name)")
}

func smallNetwork(seed: UInt64, hidden: Int = 4) -> EncoderNetwork {
    var rng = Xoshiro256(seed: seed)
    return EncoderNetwork(
        .init(
            features: 5, embedding: 4, hidden: hidden, layers: 2,
            heads: [HeadSpec("policy", .linear(outputs: 3)), HeadSpec("value", .linear(outputs: 1))]),
        using: &rng)
}

/// A few Adam steps on a fixed batch so the optimizer state is non-trivial.
func train(_ net: EncoderNetwork, _ adam: inout Adam, steps: Int, seed: UInt64 = 3) {
    var rng = Xoshiro256(seed: seed)
    let ws = net.makeWorkspace(batch: 4, time: 6)
    ws.input.set(randomFloats(ws.input.count, using: &rng))
    let targets = randomFloats(4, using: &rng), actions = [0, 2, 1, 1], advantages: [Float] = [1, -0.5, 0.3, 2]
    for _ in 0..<steps {
        net.forward(ws)
        _ = softmaxCrossEntropy(
            logits: ws.outputs[0].pointer, targets: actions, batch: 4, classes: 3, weights: advantages,
            dLogits: ws.dOutputs[0].pointer)
        _ = mseLoss(
            prediction: ws.outputs[1].pointer, target: targets, count: 4, dPrediction: ws.dOutputs[1].pointer,
            scale: 0.5)
        net.zeroGradients()
        net.backward(ws)
        net.clipGradients(maxNorm: 1)
        adam.update(&net.parameters, gradients: net.gradients)
    }
}

@Test func saveLoadRoundTripIsBitExact() throws {
    let net = smallNetwork(seed: 1)
    var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
    train(net, &adam, steps: 3)
    let url = temporaryURL("roundtrip.safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try net.save(to: url, optimizer: adam)

    let loaded = smallNetwork(seed: 2)
    var loadedAdam = Adam(parameterCount: loaded.parameters.count, .init(learningRate: 1e-2))
    #expect(loaded.parameters != net.parameters)
    try loaded.load(from: url, optimizer: &loadedAdam)
    #expect(loaded.parameters.map(\.bitPattern) == net.parameters.map(\.bitPattern))
    #expect(loadedAdam.m.map(\.bitPattern) == adam.m.map(\.bitPattern))
    #expect(loadedAdam.v.map(\.bitPattern) == adam.v.map(\.bitPattern))
    #expect(loadedAdam.step == 3)

    // resuming from the checkpoint continues exactly as the original run
    train(net, &adam, steps: 2, seed: 9)
    train(loaded, &loadedAdam, steps: 2, seed: 9)
    #expect(loaded.parameters.map(\.bitPattern) == net.parameters.map(\.bitPattern))

    // the file is what safetensors readers expect: names, shapes, metadata
    let file = try SafeTensors.File(contentsOf: url)
    #expect(file.entries["lstm.weight_ih_l1"]?.shape == [16, 4])
    #expect(file.entries["policy.weight"]?.shape == [3, 4])
    #expect(file.entries["adam.m.embed.weight"]?.shape == [4, 5])
    #expect(file.metadata["adam.step"] == "3")
    let bytes = try [UInt8](Data(contentsOf: url))
    let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    #expect(headerLength % 8 == 0)
    #expect(bytes.count == 8 + headerLength + 4 * 3 * net.parameters.count)
}

func expectLoadError(
    _ url: URL, into net: EncoderNetwork, mentions words: [String], sourceLocation: SourceLocation = #_sourceLocation
) {
    let before = net.parameters
    do {
        try net.load(from: url)
        Issue.record("load succeeded", sourceLocation: sourceLocation)
    } catch let error as SafeTensorsError {
        let text = error.description
        #expect(!text.contains("\n"), "one line: \(text)", sourceLocation: sourceLocation)
        #expect(text.hasPrefix(url.path), "names the file: \(text)", sourceLocation: sourceLocation)
        for w in words { #expect(text.contains(w), "mentions \(w): \(text)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    #expect(net.parameters == before, "a failed load changes nothing", sourceLocation: sourceLocation)
}

@Test func loadErrorsNameFileAndTensor() throws {
    let net = smallNetwork(seed: 1)
    let url = temporaryURL("good.safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try net.save(to: url)
    let bytes = try Data(contentsOf: url)

    let truncated = temporaryURL("truncated.safetensors")
    defer { try? FileManager.default.removeItem(at: truncated) }
    try bytes.prefix(bytes.count - 2).write(to: truncated)
    expectLoadError(truncated, into: smallNetwork(seed: 2), mentions: ["truncated", "value.bias"])
    try bytes.prefix(5).write(to: truncated)
    expectLoadError(truncated, into: smallNetwork(seed: 2), mentions: ["truncated"])
    try bytes.prefix(40).write(to: truncated)
    expectLoadError(truncated, into: smallNetwork(seed: 2), mentions: ["truncated"])

    expectLoadError(url, into: smallNetwork(seed: 2, hidden: 5), mentions: ["lstm.weight_ih_l0", "[16, 4]", "[20, 4]"])

    let missing = temporaryURL("missing.safetensors")
    defer { try? FileManager.default.removeItem(at: missing) }
    try SafeTensors.write(
        net.tensors.filter { $0.name != "lstm.bias_hh_l1" }.map {
            SafeTensors.Tensor(name: $0.name, shape: $0.shape, values: net.parameters[$0.range])
        }, to: missing)
    expectLoadError(missing, into: smallNetwork(seed: 2), mentions: ["missing tensor 'lstm.bias_hh_l1'"])

    let garbage = temporaryURL("garbage.safetensors")
    defer { try? FileManager.default.removeItem(at: garbage) }
    var bad = Data([16, 0, 0, 0, 0, 0, 0, 0])
    bad.append(contentsOf: Array("{not json at all".utf8))
    try bad.write(to: garbage)
    expectLoadError(garbage, into: smallNetwork(seed: 2), mentions: ["bad header"])

    var adam = Adam(parameterCount: net.parameters.count)
    #expect(throws: SafeTensorsError.self) { try smallNetwork(seed: 2).load(from: url, optimizer: &adam) }
}

@Test func sameSeedSameBits() {
    setBLASThreads(2)
    func run(seed: UInt64) -> [UInt32] {
        let net = smallNetwork(seed: seed, hidden: 8)
        var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
        train(net, &adam, steps: 5)
        return net.parameters.map(\.bitPattern)
    }
    #expect(run(seed: 42) == run(seed: 42))
    #expect(run(seed: 42) != run(seed: 43))
}

/// Stacked LSTM layers and a packed embedding (the agents' default sizes) give the same bits on one thread and on two:
/// the batch shares, the weight gradients' column shares and the embedding's products never change a sum's order.
@Test func sameBitsOnOneAndTwoThreads() {
    func run(threads: Int) -> [UInt32] {
        setBLASThreads(threads)
        let net = smallNetwork(seed: 42, hidden: 8)
        var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
        train(net, &adam, steps: 5)
        return net.parameters.map(\.bitPattern)
    }
    let one = run(threads: 1), two = run(threads: 2)
    setBLASThreads(2)
    #expect(one == two)
}

/// Large layers too: an embedding whose depth (F = 300) is cut into blocks and an LSTM layer too large to stack its
/// weights (H = 96 over H inputs) train to the same bits on one thread and two, on either micro-kernels.
@Test(arguments: MicroKernels.allCases)
func largeLayersGiveTheSameBitsOnEveryThreadCountAndKernel(kernels: MicroKernels) throws {
    var rng = Xoshiro256(seed: 8)
    let template = EncoderNetwork(
        .init(
            features: 300, embedding: 8, hidden: 96, layers: 2,
            heads: [HeadSpec("policy", .linear(outputs: 3)), HeadSpec("value", .linear(outputs: 1))]),
        using: &rng)
    #expect(template.parameters.count > 300 * 8)
    func run(_ kernels: MicroKernels, threads: Int) throws -> [UInt32] {
        setBLASThreads(threads)
        defer { setBLASThreads(2) }
        return try withMicroKernels(kernels) {
            var throwaway = Xoshiro256(seed: 1)
            let net = EncoderNetwork(template.configuration, using: &throwaway)
            net.copyParameters(from: template)
            var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
            train(net, &adam, steps: 3)
            return net.parameters.map(\.bitPattern)
        }
    }
    let reference = try run(.avx2, threads: 1)
    #expect(try run(kernels, threads: 1) == reference)
    #expect(try run(kernels, threads: 2) == reference)
    #expect(reference != template.parameters.map(\.bitPattern))
}

/// The temporal CNN and the window MLP, whose products (`gemm`) are large enough here to split by rows across the
/// threads (their weight gradients too), train to the same bits on one thread and on two, on either micro-kernels.
@Test(arguments: [EncoderKind.cnn, .mlp], MicroKernels.allCases)
func convolutionAndWindowBodiesGiveTheSameBitsOnEveryThreadCount(kind: EncoderKind, kernels: MicroKernels) throws {
    let B = 64, T = 16
    var rng = Xoshiro256(seed: 12)
    let config = EncoderNetwork.Configuration(
        features: 10, embedding: 48, hidden: 128, heads: [HeadSpec("value", .linear(outputs: 1))], kind: kind,
        window: T)
    let template = EncoderNetwork(config, using: &rng)
    let input = randomFloats(B * T * 10, using: &rng), targets = randomFloats(B, using: &rng)
    // the product each body splits: the mlp's first layer (B, T·E)·(T·E, H), the cnn's convolution (B·T, 3E)·(3E, H)
    #expect(B * T * 48 * 128 >= gemmSplitWork && B * T * 3 * 48 * 128 >= gemmSplitWork)
    func run(threads: Int) throws -> [UInt32] {
        setBLASThreads(threads)
        defer { setBLASThreads(2) }
        return try withMicroKernels(kernels) {
            var throwaway = Xoshiro256(seed: 1)
            let net = EncoderNetwork(config, using: &throwaway)
            net.copyParameters(from: template)
            var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
            let ws = net.makeWorkspace(batch: B, time: T)
            ws.input.set(input)
            for _ in 0..<2 {
                net.forward(ws)
                _ = mseLoss(
                    prediction: ws.outputs[0].pointer, target: targets, count: B, dPrediction: ws.dOutputs[0].pointer)
                net.zeroGradients()
                net.backward(ws)
                adam.update(&net.parameters, gradients: net.gradients)
            }
            return net.parameters.map(\.bitPattern)
        }
    }
    let one = try run(threads: 1)
    #expect(try run(threads: 2) == one)
    #expect(one != template.parameters.map(\.bitPattern))
}

/// An embedding over enough bars to split its rows across the threads (bias, product and ReLU share by share, and the
/// ReLU's backward), E = 12 so that the second share's elements do not start on a vector boundary: the same
/// embedding, dPre and gradients, bit for bit, on one thread and on two.
@Test func embeddingRowSharesGiveTheSameBitsAsOneThread() {
    var rng = Xoshiro256(seed: 31)
    let net = EncoderNetwork(
        .init(features: 30, embedding: 12, hidden: 8, heads: [HeadSpec("value", .linear(outputs: 1))]), using: &rng)
    let B = 45, T = 62  // the second share starts at bar 1,395: element 16,740, mid-vector
    #expect(B * T * 12 * 30 >= rowSplitWork && B * T * 12 >= elementwiseSplitCount && B * T / 2 * 12 % 8 != 0)
    let input = randomFloats(B * T * 30, using: &rng)
    func run(threads: Int) -> [[UInt32]] {
        setBLASThreads(threads)
        defer { setBLASThreads(2) }
        let ws = net.makeWorkspace(batch: B, time: T)
        ws.input.set(input)
        for _ in 0..<2 {  // twice: the second pass finds the first one's scratch
            net.forward(ws)
            for b in 0..<B { ws.dOutputs[0].pointer[b] = Float(b % 7) - 3 }
            net.zeroGradients()
            net.backward(ws)
        }
        return [ws.embedded.array, ws.dPre.array, net.gradients].map { $0.map(\.bitPattern) }
    }
    let one = run(threads: 1), two = run(threads: 2)
    #expect(one == two)
    let embedded = one[0].map(Float.init(bitPattern:))
    #expect(embedded.contains(0) && embedded.contains { $0 > 0 }, "the ReLU clips some bars and passes others")
}

/// ReLU gives each element the same bits at any position: in the 8-lane body or in the scalar tail (−0 and NaN kept,
/// as the vector lanes keep them), forward and backward.
@Test func reluIsTheSameInTheVectorBodyAndTheTail() {
    let values: [Float] = [-0.0, .nan, -1.5, 2.25, 0, -.infinity, .infinity, 3]
    var x = values + values.prefix(3)  // 11 elements: the first 8 in the body, the last 3 in the tail
    Activation.relu.forward(&x, count: x.count)
    for i in 0..<3 { #expect(x[8 + i].bitPattern == x[i].bitPattern, "element \(i)") }
    #expect(x[0].bitPattern == Float(-0.0).bitPattern && x[1].isNaN && x[2] == 0 && x[3] == 2.25)
    let y: [Float] = [-0.0, .nan, -1, 2, 0, -1, 1, 3] + [-0.0, .nan, -1]
    var dx = [Float](repeating: 0, count: 11)
    Activation.relu.backward(output: y, dOutput: [Float](repeating: 1.5, count: 11), dInput: &dx, count: 11)
    #expect(Array(dx[8...]) == [0, 1.5, 0])
    #expect(Array(dx[..<3]) == [0, 1.5, 0])
}

@Test func targetSyncCopiesEveryParameter() {
    let online = smallNetwork(seed: 1), target = smallNetwork(seed: 2)
    #expect(online.parameters != target.parameters)
    target.copyParameters(from: online)
    #expect(online.parameters == target.parameters)
}

@Test func initialisationBoundsFollowPyTorch() {
    let net = smallNetwork(seed: 7, hidden: 16)
    for slot in net.tensors {
        let fanIn: Int =
            slot.name.hasPrefix("lstm")
            ? 16
            : (net.tensors.first { $0.name == slot.name.replacingOccurrences(of: ".bias", with: ".weight") }!.shape[1])
        let bound = 1 / Float(fanIn).squareRoot()
        let values = net.parameters[slot.range]
        #expect(values.allSatisfy { abs($0) <= bound }, "\(slot.name) within ±\(bound)")
        #expect(values.map { abs($0) }.max()! > 0.5 * bound, "\(slot.name) spreads over its range")
    }
}

@Test func batchOneMatchesRowsOfABatchAndChunksCarryState() {
    var rng = Xoshiro256(seed: 21)
    let net = smallNetwork(seed: 5, hidden: 6)
    let T = 6, F = 5
    let big = net.makeWorkspace(batch: 3, time: T)
    big.input.set(randomFloats(big.input.count, using: &rng))
    net.forward(big)
    let one = net.makeWorkspace(batch: 1, time: T)
    for b in 0..<3 {
        one.input.set(Array(big.input.array[(b * T * F)..<((b + 1) * T * F)]))
        net.forward(one)
        expectClose(
            one.outputs[0].array, Array(big.outputs[0].array[(3 * b)..<(3 * b + 3)]), rel: 1e-5, "batch-1 row \(b)")
    }
    // two chunks of 3 steps, carrying (h, c), equal one run of 6 steps
    let chunk = net.makeWorkspace(batch: 3, time: 3)
    for (part, carry) in [(0, false), (1, true)] {
        var x: [Float] = []
        let all = big.input.array
        for b in 0..<3 {
            let start: Int = (b * T + 3 * part) * F
            x += all[start..<(start + 3 * F)]
        }
        chunk.input.set(x)
        if carry { chunk.h0.set(chunk.hN.array); chunk.c0.set(chunk.cN.array) }
        net.forward(chunk)
    }
    expectClose(chunk.outputs[0].array, big.outputs[0].array, rel: 1e-5, "stateful chunks")
    expectClose(chunk.hN.array, big.hN.array, rel: 1e-5, "final hidden")
}

@Test func fileSystemErrorsGiveTheirReasonNotTheErrorsDump() throws {
    let missing = URL(fileURLWithPath: "/proc/nope/network.safetensors")
    do {
        try SafeTensors.write([], to: missing)
        Issue.record("expected an error")
    } catch {
        #expect("\(error)" == "/proc/nope/network.safetensors: cannot write: The file doesn’t exist.")
    }
    do {
        try FileManager.default.createDirectory(atPath: "/proc/nope/step-30", withIntermediateDirectories: true)
        Issue.record("expected an error")
    } catch {
        #expect(!"\(error)".isEmpty && !fileSystemReason(error).contains("Domain"), "\(fileSystemReason(error))")
        #expect(fileSystemReason(error) == "The file doesn’t exist.")
    }
    #expect(
        fileSystemReason(
            NSError(
                domain: NSCocoaErrorDomain, code: CocoaError.fileReadNoSuchFile.rawValue,
                userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOENT))]))
            == "No such file or directory")
}
