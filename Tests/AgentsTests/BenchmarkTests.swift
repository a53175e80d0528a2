import Foundation
import NeuralCore
import RLCore
import Testing

@testable import Agents

/// The encoder alone (E32 H64 L1, T32, F+P = 3): forward and forward+backward per batch size, to show how much of an
/// agent's update is the network.
@Test(.enabled(if: ProcessInfo.processInfo.environment["TRADESIM_BENCH"] != nil)) func benchmarkEncoder() {
    setBLASThreads(1)
    var rng = Xoshiro256(seed: 1)
    let net = EncoderConfig(embedding: 32, hidden: 64, layers: 1)
        .network(inputWidth: 3, window: 32, heads: [HeadSpec("q", .linear(outputs: 3))], using: &rng)
    for B in [1, 64, 256] {
        let ws = net.makeWorkspace(batch: B, time: 32)
        for i in 0..<ws.input.count { ws.input[i] = Float(i % 7) * 0.1 }
        let n = B == 1 ? 2_000 : 40
        var t = now()
        for _ in 0..<n { net.forward(ws) }
        let forward = (now() - t) / Double(n)
        t = now()
        for _ in 0..<n { net.forward(ws); net.backward(ws) }
        let both = (now() - t) / Double(n)
        print(
            "bench encoder B\(B) T32: forward \(forward * 1e3) ms, forward+backward \(both * 1e3) ms, "
                + "\(Double(B) / both) samples/s"
        )
    }
}
