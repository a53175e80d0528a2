/// A fully connected layer in PyTorch layout: `weight` (O,I), `bias` (O). Holds only slots into the network's flat buffers.
public struct Linear: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: TensorSlot
    public let bias: TensorSlot

    /// Reserves `prefix.weight` (O,I) and `prefix.bias` (O) in `layout`.
    public init(_ prefix: String, inFeatures: Int, outFeatures: Int, layout: inout ParameterLayout) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = layout.add("\(prefix).weight", [outFeatures, inFeatures])
        bias = layout.add("\(prefix).bias", [outFeatures])
    }

    /// PyTorch's default: weight kaiming-uniform(a=√5) = U(−1/√I, 1/√I), bias U(−1/√I, 1/√I).
    public func initialise(_ parameters: inout [Float], using rng: inout some RandomNumberGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        initialiseUniform(&parameters, weight, bound: bound, using: &rng)
        initialiseUniform(&parameters, bias, bound: bound, using: &rng)
    }

    /// out (R,O) = input (R,I) · weightᵀ (O,I) + bias (O); R rows (R = B, or B·T for a per-bar layer).
    func forward(_ p: UnsafePointer<Float>, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>) {
        let b = p + bias.offset
        for r in 0..<rows { (output + r * outFeatures).update(from: b, count: outFeatures) }
        gemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: input, b: p + weight.offset, beta: 1, c: output)
    }

    /// dWeight (O,I) += dOutputᵀ (O,R) · input (R,I); dBias (O) += Σ_rows dOutput (R,O);
    /// dInput (R,I) += dOutput (R,O) · weight (O,I) when `dInput` is given.
    func backward(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int,
                  dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?) {
        gemm(transA: true, m: outFeatures, n: inFeatures, k: rows, a: dOutput, b: input, beta: 1, c: g + weight.offset)
        addColumnSums(dOutput, rows: rows, columns: outFeatures, into: g + bias.offset)
        if let dInput {
            gemm(m: rows, n: inFeatures, k: outFeatures, a: dOutput, b: p + weight.offset, beta: 1, c: dInput)
        }
    }
}

/// sums (C) += Σ_r matrix (R,C). 8 lanes at a time, then the tail.
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let row = matrix + r * columns
        var c = 0
        while c + 8 <= columns { store8(load8(sums + c) + load8(row + c), sums + c); c += 8 }
        while c < columns { sums[c] += row[c]; c += 1 }
    }
}
