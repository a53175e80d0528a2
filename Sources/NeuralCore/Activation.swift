import Foundation

/// An elementwise activation. Backward uses the activation's OUTPUT y, so no pre-activation copy is kept:
/// ReLU' = [y > 0], leaky ReLU' = y > 0 ? 1 : slope (slope > 0), tanh' = 1 − y², sigmoid' = y (1 − y).
public enum Activation: Sendable, Codable, Equatable {
    case identity
    case relu
    case leakyReLU(slope: Float)
    case tanh
    case sigmoid

    /// x (N) ← f(x (N)), in place.
    func forward(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity: break
        case .relu:
            var i = 0
            while i + 8 <= count { let v = load8(x + i); store8(v.replacing(with: 0, where: v .< 0), x + i); i += 8 }
            while i < count { x[i] = x[i] < 0 ? 0 : x[i]; i += 1 }  // as the vector lanes (NaN and −0 kept)
        case .leakyReLU(let slope): for i in 0..<count { x[i] = x[i] > 0 ? x[i] : slope * x[i] }
        case .tanh: for i in 0..<count { x[i] = Foundation.tanh(x[i]) }
        case .sigmoid: for i in 0..<count { x[i] = sigmoidScalar(x[i]) }
        }
    }

    /// dInput (N) = dOutput (N) ⊙ f'(output (N)) (written: no buffer to zero first).
    func backward(
        output y: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, count: Int
    ) {
        switch self {
        case .identity: dInput.update(from: dOutput, count: count)
        case .relu:
            var i = 0
            while i + 8 <= count {
                let d = load8(dOutput + i)
                store8(d.replacing(with: 0, where: load8(y + i) .<= 0), dInput + i)
                i += 8
            }
            while i < count { dInput[i] = y[i] <= 0 ? 0 : dOutput[i]; i += 1 }  // as the vector lanes
        case .leakyReLU(let slope):
            precondition(slope > 0, "leaky ReLU backward reads the output and needs a positive slope")
            for i in 0..<count { dInput[i] = y[i] > 0 ? dOutput[i] : slope * dOutput[i] }
        case .tanh: for i in 0..<count { dInput[i] = dOutput[i] * (1 - y[i] * y[i]) }
        case .sigmoid: for i in 0..<count { dInput[i] = dOutput[i] * y[i] * (1 - y[i]) }
        }
    }
}

/// σ(x) = 1 / (1 + e^−x), computed without overflow for large |x|.
@inline(__always) func sigmoidScalar(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
    let e = Foundation.exp(x)
    return e / (1 + e)
}
