/// What a head computes from the last LSTM layer's final hidden state h (B,H).
public enum HeadKind: Sendable, Codable, Equatable {
    /// out (B,A) = h · weightᵀ + bias; tensors `name.weight` (A,H), `name.bias` (A). Q-values, policy logits, a value
    /// (A = 1).
    case linear(outputs: Int)
    /// Dueling Q-head: Q (B,A) = V (B,1) + Adv (B,A) − mean_a Adv; tensors `name.value.{weight,bias}` (1,H),(1) and
    /// `name.advantage.{weight,bias}` (A,H),(A).
    case dueling(actions: Int)
}

/// A named head; its tensors are prefixed with `name`.
public struct HeadSpec: Sendable, Codable, Equatable {
    public var name: String
    public var kind: HeadKind
    public init(_ name: String, _ kind: HeadKind) { self.name = name; self.kind = kind }

    public var outputs: Int {
        switch kind {
        case .linear(let a), .dueling(let a): a
        }
    }
}

/// A head's layers: one Linear, or value + advantage Linears for a dueling head.
struct Head: Sendable {
    let spec: HeadSpec
    let linears: [Linear]

    init(_ spec: HeadSpec, hidden: Int, layout: inout ParameterLayout) {
        self.spec = spec
        switch spec.kind {
        case .linear(let a):
            linears = [Linear(spec.name, inFeatures: hidden, outFeatures: a, layout: &layout)]
        case .dueling(let a):
            linears = [
                Linear("\(spec.name).value", inFeatures: hidden, outFeatures: 1, layout: &layout),
                Linear("\(spec.name).advantage", inFeatures: hidden, outFeatures: a, layout: &layout),
            ]
        }
    }

    /// Floats of scratch a dueling head needs for batch B: V (B,1), Adv (B,A), dV (B,1), dAdv (B,A).
    func scratchCount(batch: Int) -> Int {
        if case .dueling(let a) = spec.kind { return 2 * batch * (1 + a) }
        return 0
    }

    /// out (B,A) from hidden (B,H), see `HeadKind`, on the packed kernels (`packs`: the network's packed weights), so
    /// that a row's outputs do not depend on B.
    func forward(
        _ p: UnsafePointer<Float>, hidden: UnsafePointer<Float>, batch B: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, packs: PackedWeights
    ) {
        switch spec.kind {
        case .linear:
            linears[0].forward(p, input: hidden, rows: B, output: output, packs: packs)
        case .dueling(let A):
            let value = scratch, advantage = scratch + B
            linears[0].forward(p, input: hidden, rows: B, output: value, packs: packs)
            linears[1].forward(p, input: hidden, rows: B, output: advantage, packs: packs)
            for b in 0..<B {
                let adv = advantage + b * A
                var mean: Float = 0
                for a in 0..<A { mean += adv[a] }
                mean /= Float(A)
                for a in 0..<A { output[b * A + a] = value[b] + adv[a] - mean }
            }
        }
    }

    /// Mirrors `forward`: parameter gradients += …; dHidden (B,H) += ∂/∂hidden. For dueling:
    /// dV (B) = Σ_a dQ (B,A); dAdv (B,A) = dQ − mean_a dQ.
    func backward(
        _ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, hidden: UnsafePointer<Float>, batch B: Int,
        dOutput: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, dHidden: UnsafeMutablePointer<Float>
    ) {
        switch spec.kind {
        case .linear:
            linears[0].backward(p, g, input: hidden, rows: B, dOutput: dOutput, dInput: dHidden)
        case .dueling(let A):
            let dValue = scratch + B * (1 + A), dAdvantage = dValue + B
            for b in 0..<B {
                var sum: Float = 0
                for a in 0..<A { sum += dOutput[b * A + a] }
                dValue[b] = sum
                for a in 0..<A { dAdvantage[b * A + a] = dOutput[b * A + a] - sum / Float(A) }
            }
            linears[0].backward(p, g, input: hidden, rows: B, dOutput: dValue, dInput: dHidden)
            linears[1].backward(p, g, input: hidden, rows: B, dOutput: dAdvantage, dInput: dHidden)
        }
    }
}
