/// The Market2Vec embedding: every bar's features (all assets) → a dense vector, the same Linear + activation at each
/// bar. All B·T bars go through one gemm. Tensors `prefix.weight` (E,F), `prefix.bias` (E).
public struct Market2Vec: Sendable {
    public let linear: Linear
    public let activation: Activation
    public var features: Int { linear.inFeatures }
    public var embedding: Int { linear.outFeatures }

    public init(
        _ prefix: String = "embed", features: Int, embedding: Int, activation: Activation = .relu,
        layout: inout ParameterLayout
    ) {
        linear = Linear(prefix, inFeatures: features, outFeatures: embedding, layout: &layout)
        self.activation = activation
    }

    public func initialise(_ parameters: inout [Float], using rng: inout some RandomNumberGenerator) {
        linear.initialise(&parameters, using: &rng)
    }

    /// out (B·T,E) = f(input (B·T,F) · weightᵀ (E,F) + bias (E)). With `packs`, on the packed kernels (`Linear`).
    func forward(
        _ p: UnsafePointer<Float>, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>,
        packs: PackedWeights? = nil
    ) {
        let E = embedding
        linear.forward(p, input: input, rows: rows, output: output, packs: packs) { rows in
            activation.forward(output + rows.lowerBound * E, count: rows.count * E)
        }
    }

    /// dPre (B·T,E) = dOutput ⊙ f'(output) (scratch, overwritten); dWeight (E,F) += dPreᵀ · input; dBias (E) += Σ dPre;
    /// dInput (B·T,F) += dPre · weight when given (the network's input needs no gradient, so it passes nil); `scratch`
    /// as in `forward`.
    func backward(
        _ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int,
        output: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, dPre: UnsafeMutablePointer<Float>,
        dInput: UnsafeMutablePointer<Float>?, scratch: ScratchBuffer? = nil
    ) {
        splitElementwise(rows * embedding) { elements in
            let at = elements.lowerBound, count = elements.count
            activation.backward(output: output + at, dOutput: dOutput + at, dInput: dPre + at, count: count)
        }
        linear.backward(p, g, input: input, rows: rows, dOutput: dPre, dInput: dInput, scratch: scratch)
    }
}
