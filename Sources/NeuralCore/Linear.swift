/// A fully connected layer in PyTorch layout: `weight` (O,I), `bias` (O). Holds only slots into the network's flat
/// buffers.
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

    /// A layer on slots reserved elsewhere (e.g. a convolution's weight (O, I/K, K), the same floats as (O,I)).
    init(inFeatures: Int, outFeatures: Int, weight: TensorSlot, bias: TensorSlot) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = weight
        self.bias = bias
    }

    /// PyTorch's default: weight kaiming-uniform(a=√5) = U(−1/√I, 1/√I), bias U(−1/√I, 1/√I).
    public func initialise(_ parameters: inout [Float], using rng: inout some RandomNumberGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        initialiseUniform(&parameters, weight, bound: bound, using: &rng)
        initialiseUniform(&parameters, bias, bound: bound, using: &rng)
    }

    /// out (R,O) = input (R,I) · weightᵀ (O,I) + bias (O); R rows (R = B, or B·T for a per-bar layer), then
    /// `finish(rows)` on each range of rows computed (e.g. an activation in place). With `packs` (where the packed
    /// weights are kept), on the packed kernels, the rows split across threads (bias, product and `finish` share by
    /// share) for `rowSplitWork` multiply-adds or more; without, through `gemm`.
    func forward(
        _ p: UnsafePointer<Float>, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>,
        packs: PackedWeights? = nil, finish: (Range<Int>) -> Void = { _ in }
    ) {
        let I = inFeatures, O = outFeatures, b = p + bias.offset
        guard let packs else {
            for r in 0..<rows { (output + r * O).update(from: b, count: O) }
            gemm(transB: true, m: rows, n: O, k: I, a: input, b: p + weight.offset, accumulate: true, c: output)
            finish(0..<rows)
            return
        }
        let packed = packs.panels(weight.offset, count: packedPanelsCount(k: I, n: O)) {
            packPanels(p + weight.offset, transposed: true, k: I, n: O, into: $0)  // weightᵀ (I,O)
        }
        func share(_ rows: Range<Int>) {
            for r in rows { (output + r * O).update(from: b, count: O) }
            packedGemm(
                m: rows.count, n: O, k: I, a: input + rows.lowerBound * I, lda: I, packed: packed,
                c: output + rows.lowerBound * O, ldc: O, accumulate: true)
            finish(rows)
        }
        if rows * O * I >= rowSplitWork { forEachShare(rows, share) } else { share(0..<rows) }
    }

    /// dWeight (O,I) += dOutputᵀ (O,R) · input (R,I); dBias (O) += Σ_rows dOutput (R,O);
    /// dInput (R,I) += dOutput (R,O) · weight (O,I) when `dInput` is given. With a `scratch`, on the packed kernels
    /// (`weightGradients`, `splitPackedGemm`); else through `gemm`.
    func backward(
        _ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int,
        dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?, scratch: ScratchBuffer? = nil
    ) {
        let I = inFeatures, O = outFeatures
        guard let scratch else {
            gemm(transA: true, m: O, n: I, k: rows, a: dOutput, b: input, accumulate: true, c: g + weight.offset)
            addColumnSums(dOutput, rows: rows, columns: O, into: g + bias.offset)
            if let dInput { gemm(m: rows, n: I, k: O, a: dOutput, b: p + weight.offset, accumulate: true, c: dInput) }
            return
        }
        // scratch: dWeightᵀ (I,O) | dBias (O) | weight packed (O,I)
        let dWT = scratch.reserve(I * O + O + packedPanelsCount(k: O, n: I))
        let dBias = dWT + I * O, packed = dBias + O
        let gw = g + weight.offset, gb = g + bias.offset
        weightGradients(
            x: input, ldx: I, width: I, dY: dOutput, ldy: O, columns: O, rows: rows,
            dW: dWT, dBias: dBias
        ) { columns in
            for o in columns {
                for i in 0..<I { gw[o * I + i] += dWT[i * O + o] }
                gb[o] += dBias[o]
            }
        }
        guard let dInput else { return }
        packPanels(p + weight.offset, transposed: false, k: O, n: I, into: packed)  // weight (O,I)
        splitPackedGemm(m: rows, n: I, k: O, a: dOutput, lda: O, packed: packed, c: dInput, ldc: I, accumulate: true)
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
