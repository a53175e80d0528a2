import Foundation

/// Adam with torch.optim.Adam / AdamW semantics over one flat parameter buffer. At step t (starting at 1):
///   g ← g + λ·p                                   (L2 weight decay, only when `decoupled == false`,
///                                                  as torch.optim.Adam)
///   p ← p − lr·λ·p                                (decoupled weight decay, only when `decoupled == true`,
///                                                  as torch.optim.AdamW)
///   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
///   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)      (bias correction; ε outside the square root)
/// The gradient buffer is read, never changed. `m`, `v` and `step` are the state saved in checkpoints.
public struct Adam: Sendable {
    public struct Configuration: Sendable, Codable, Equatable {
        /// Learning rate.
        public var learningRate: Float = 1e-3
        /// First-moment decay β1.
        public var beta1: Float = 0.9
        /// Second-moment decay β2.
        public var beta2: Float = 0.999
        /// ε added to the bias-corrected √v.
        public var epsilon: Float = 1e-8
        /// Weight decay λ (0 = none).
        public var weightDecay: Float = 0
        /// true: AdamW's decoupled decay; false: L2 added to the gradient like torch.optim.Adam.
        public var decoupled: Bool = false

        public init(
            learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
            weightDecay: Float = 0, decoupled: Bool = false
        ) {
            self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
            self.epsilon = epsilon; self.weightDecay = weightDecay; self.decoupled = decoupled
        }
    }

    public var configuration: Configuration
    public var m: [Float]
    public var v: [Float]
    public var step: Int = 0

    public init(parameterCount: Int, _ configuration: Configuration = .init()) {
        self.configuration = configuration
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
    }

    /// One update of `parameters` (N) from `gradients` (N).
    public mutating func update(_ parameters: inout [Float], gradients: [Float]) {
        precondition(
            parameters.count == m.count && gradients.count == m.count, "Adam was made for \(m.count) parameters")
        step += 1
        let c = configuration
        let biasCorrection1 = 1 - Foundation.pow(c.beta1, Float(step))
        let biasCorrection2Sqrt = (1 - Foundation.pow(c.beta2, Float(step))).squareRoot()
        let stepSize = c.learningRate / biasCorrection1
        let l2: Float = c.decoupled ? 0 : c.weightDecay
        let decay: Float = c.decoupled ? 1 - c.learningRate * c.weightDecay : 1
        let b1 = c.beta1, b2 = c.beta2, eps = c.epsilon
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        // 8 lanes at a time, then the tail: the same IEEE operations in the same order, so the same
                        // bits, however the elements are shared out between the threads
                        let (pp, gp, mp, vp) = (p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!)
                        splitElementwise(p.count) { elements in
                            var i = elements.lowerBound
                            while i + 8 <= elements.upperBound {
                                let grad = load8(gp + i) + l2 * load8(pp + i)
                                let decayed = load8(pp + i) * decay
                                let mi = b1 * load8(mp + i) + (1 - b1) * grad
                                let vi = b2 * load8(vp + i) + (1 - b2) * grad * grad
                                store8(mi, mp + i); store8(vi, vp + i)
                                store8(decayed - stepSize * mi / (vi.squareRoot() / biasCorrection2Sqrt + eps), pp + i)
                                i += 8
                            }
                            while i < elements.upperBound {
                                let grad = gp[i] + l2 * pp[i]
                                pp[i] *= decay
                                mp[i] = b1 * mp[i] + (1 - b1) * grad
                                vp[i] = b2 * vp[i] + (1 - b2) * grad * grad
                                pp[i] -= stepSize * mp[i] / (vp[i].squareRoot() / biasCorrection2Sqrt + eps)
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }
}
