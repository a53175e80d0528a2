/// Clips gradients by their global L2 norm like torch.nn.utils.clip_grad_norm_ over every parameter: total =
/// ‖(gradients, extra)‖₂ (over both flat buffers, accumulated in Double by `sumOfSquares`; `extra` holds the gradients
/// of parameters trained beside a network, such as a Gaussian policy's log-std); if total > maxNorm, every gradient of
/// both is multiplied by maxNorm / (total + 1e-6). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout [Float], _ extra: inout [Float], maxNorm: Float) -> Float {
    let squares =
        gradients.withUnsafeBufferPointer { sumOfSquares($0) } + extra.withUnsafeBufferPointer { sumOfSquares($0) }
    let total = Float(squares.squareRoot())
    let coefficient = maxNorm / (total + 1e-6)
    if coefficient < 1 {
        gradients.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] *= coefficient } }
        for i in extra.indices { extra[i] *= coefficient }
    }
    return total
}

/// `clipGradientNorm(_:_:maxNorm:)` of `gradients` alone.
@discardableResult
public func clipGradientNorm(_ gradients: inout [Float], maxNorm: Float) -> Float {
    var none: [Float] = []
    return clipGradientNorm(&gradients, &none, maxNorm: maxNorm)
}

/// Σ x² over `values`, in Double: eight running sums, element i in sum i mod 8, added pairwise at the end (one running
/// sum is a chain of dependent additions, 4 cycles each: 25 µs for a 25k-parameter network, serial between the
/// threads' jobs).
func sumOfSquares(_ values: UnsafeBufferPointer<Float>) -> Double {
    var s = SIMD8<Double>()
    let n = values.count, body = n - n % 8
    var i = 0
    while i < body {
        for lane in 0..<8 {
            let x = Double(values[i + lane])
            s[lane] += x * x
        }
        i += 8
    }
    for j in body..<n { s[j - body] += Double(values[j]) * Double(values[j]) }
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}
