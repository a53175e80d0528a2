/// Clips gradients by their global L2 norm like torch.nn.utils.clip_grad_norm_: total = ‖gradients‖₂ (over the whole
/// flat buffer, accumulated in Double); if total > maxNorm, every gradient is multiplied by maxNorm / (total + 1e-6).
/// Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout [Float], maxNorm: Float) -> Float {
    gradients.withUnsafeMutableBufferPointer { g in
        var sum: Double = 0
        for x in g { sum += Double(x) * Double(x) }
        let total = Float(sum.squareRoot())
        let coefficient = maxNorm / (total + 1e-6)
        if coefficient < 1 { for i in 0..<g.count { g[i] *= coefficient } }
        return total
    }
}
