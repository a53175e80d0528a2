import Foundation

/// A stacked LSTM in PyTorch layout (`batch_first=True`, gate order i, f, g, o), L layers of H units.
/// Tensors per layer k: `prefix.weight_ih_l{k}` (4H,I_k), `prefix.weight_hh_l{k}` (4H,H), `prefix.bias_ih_l{k}` (4H),
/// `prefix.bias_hh_l{k}` (4H), with I_0 = I and I_k = H above. All sequences are batch-major (B,T,·); one time step of
/// such a buffer is a strided (B,·) matrix (row stride T·width), which is how the per-step gemms address it.
public struct LSTM: Sendable {
    public struct Layer: Sendable {
        public let inputSize: Int
        public let weightIH: TensorSlot
        public let weightHH: TensorSlot
        public let biasIH: TensorSlot
        public let biasHH: TensorSlot
    }

    public let inputSize: Int
    public let hidden: Int
    public let layers: [Layer]

    public init(_ prefix: String = "lstm", inputSize: Int, hidden: Int, layers: Int, layout: inout ParameterLayout) {
        precondition(layers >= 1, "an LSTM needs at least one layer")
        self.inputSize = inputSize
        self.hidden = hidden
        self.layers = (0..<layers).map { k in
            let i = k == 0 ? inputSize : hidden
            return Layer(inputSize: i,
                         weightIH: layout.add("\(prefix).weight_ih_l\(k)", [4 * hidden, i]),
                         weightHH: layout.add("\(prefix).weight_hh_l\(k)", [4 * hidden, hidden]),
                         biasIH: layout.add("\(prefix).bias_ih_l\(k)", [4 * hidden]),
                         biasHH: layout.add("\(prefix).bias_hh_l\(k)", [4 * hidden]))
        }
    }

    /// PyTorch's default: every tensor U(−1/√H, 1/√H).
    public func initialise(_ parameters: inout [Float], using rng: inout some RandomNumberGenerator) {
        let bound = 1 / Float(hidden).squareRoot()
        for layer in layers {
            for slot in [layer.weightIH, layer.weightHH, layer.biasIH, layer.biasHH] {
                initialiseUniform(&parameters, slot, bound: bound, using: &rng)
            }
        }
    }

    /// For each layer k, with x = input (B,T,I) for k = 0 and layer k−1's hidden sequence above:
    ///   gates (B,T,4H) = x (B·T,I_k) · weight_ihᵀ (4H,I_k) + bias_ih + bias_hh      (one gemm for all steps)
    ///   for t in 0..<T: gates[:,t] (B,4H) += h_{t−1} (B,H) · weight_hhᵀ (4H,H)         (one gemm per step)
    ///     i, f, g, o = σ, σ, tanh, σ of the gates; c_t = f ⊙ c_{t−1} + i ⊙ g; h_t = o ⊙ tanh(c_t)
    /// with h_{−1} = h0[k], c_{−1} = c0[k] (L,B,H). Writes the final states hN, cN (L,B,H) and caches what backward needs.
    func forward(_ p: UnsafePointer<Float>, input: UnsafePointer<Float>, batch B: Int, time T: Int,
                 h0: UnsafePointer<Float>, c0: UnsafePointer<Float>, cache: LSTMCache,
                 hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>) {
        let H = hidden, G = 4 * hidden
        for (k, layer) in layers.enumerated() {
            let x = k == 0 ? input : UnsafePointer(cache.hidden[k - 1].pointer)
            let gates = cache.gates[k].pointer, cell = cache.cell[k].pointer, tanhCell = cache.tanhCell[k].pointer
            let hid = cache.hidden[k].pointer, hPrev = cache.hiddenPrev[k].pointer
            let bih = p + layer.biasIH.offset, bhh = p + layer.biasHH.offset
            for r in 0..<(B * T) {
                let row = gates + r * G
                for j in 0..<G { row[j] = bih[j] + bhh[j] }
            }
            gemm(transB: true, m: B * T, n: G, k: layer.inputSize, a: x, b: p + layer.weightIH.offset, beta: 1, c: gates)
            for b in 0..<B { (hPrev + b * T * H).update(from: h0 + (k * B + b) * H, count: H) }
            let packed = cache.packed.pointer
            packPanels(p + layer.weightHH.offset, transposed: true, k: H, n: G, into: packed)   // weight_hhᵀ (H,4H)
            // The recurrence couples steps, never sequences: each worker runs all T steps for its share of the batch,
            // four sequences at a time so their gates stay in L1 between the product and the cell update.
            forEachBatchShare(B) { rows in
                for t in 0..<T {
                    for b0 in stride(from: rows.lowerBound, to: rows.upperBound, by: 4) {
                        let n = min(4, rows.upperBound - b0)
                        // gates[b0..<b0+n, t] (n,4H) += hPrev[b0..<b0+n, t] (n,H) · weight_hhᵀ (H,4H)
                        packedGemm(m: n, n: G, k: H, a: hPrev + (b0 * T + t) * H, lda: T * H, packed: packed,
                                   c: gates + (b0 * T + t) * G, ldc: T * G, accumulate: true)
                        for b in b0..<(b0 + n) {
                            let r = b * T + t
                            let cPrev = t > 0 ? UnsafePointer(cell + (r - 1) * H) : c0 + (k * B + b) * H
                            lstmCellForward(gates: gates + r * G, cPrev: cPrev, cell: cell + r * H, tanhCell: tanhCell + r * H,
                                            hidden: hid + r * H, H: H)
                            if t + 1 < T { (hPrev + (r + 1) * H).update(from: hid + r * H, count: H) }
                        }
                    }
                }
            }
            for b in 0..<B {
                let r = b * T + T - 1
                (hN + (k * B + b) * H).update(from: hid + r * H, count: H)
                (cN + (k * B + b) * H).update(from: cell + r * H, count: H)
            }
        }
    }

    /// Backpropagation through time, mirroring `forward`. Inputs: dOutput (B,T,H), the gradient w.r.t. the top layer's
    /// hidden sequence; dhN, dcN (L,B,H), gradients w.r.t. the final states (nil = zero). Per layer, from the top down and
    /// from t = T−1 down to the first step kept (all, or the last `truncate` steps; earlier steps get no gradient):
    ///   dh = dOutput[:,t] + (dh_{t+1} path); dc = dc_{t+1}·f_{t+1} + dh ⊙ o ⊙ (1 − tanh²c_t)
    ///   dGates[:,t] (B,4H) = (dc⊙g⊙i(1−i), dc⊙c_{t−1}⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tanh(c_t)⊙o(1−o))
    ///   dh_{t−1} (B,H) = dGates[:,t] (B,4H) · weight_hh (4H,H)
    /// then, once over all steps: dWeight_hh (4H,H) += dGatesᵀ (4H,B·T) · h_{t−1} (B·T,H);
    /// dWeight_ih (4H,I) += dGatesᵀ · x (B·T,I); dBias_ih, dBias_hh (4H) += Σ dGates; dx (B·T,I) = dGates · weight_ih (4H,I).
    /// dInput (B,T,I) += layer 0's dx when given. dh0, dc0 (L,B,H) are WRITTEN with the initial-state gradients
    /// (zero when truncated, since no gradient reaches the first step).
    func backward(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                  batch B: Int, time T: Int, c0: UnsafePointer<Float>, cache: LSTMCache, dOutput: UnsafePointer<Float>,
                  dhN: UnsafePointer<Float>?, dcN: UnsafePointer<Float>?, dInput: UnsafeMutablePointer<Float>?,
                  dh0: UnsafeMutablePointer<Float>, dc0: UnsafeMutablePointer<Float>, truncate: Int? = nil) {
        let H = hidden, G = 4 * hidden
        let first = truncate.map { max(0, T - $0) } ?? 0
        let dGates = cache.dGates.pointer, dh = cache.dh.pointer, dc = cache.dc.pointer, dBelow = cache.dBelow.pointer
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[k]
            let x = k == 0 ? input : UnsafePointer(cache.hidden[k - 1].pointer)
            let dHseq = k == layers.count - 1 ? dOutput : UnsafePointer(dBelow)
            let gates = cache.gates[k].pointer, cell = cache.cell[k].pointer, tanhCell = cache.tanhCell[k].pointer
            if let dhN { dh.update(from: dhN + k * B * H, count: B * H) } else { dh.update(repeating: 0, count: B * H) }
            if let dcN { dc.update(from: dcN + k * B * H, count: B * H) } else { dc.update(repeating: 0, count: B * H) }
            if first > 0 { dGates.update(repeating: 0, count: B * T * G) }
            let packed = cache.packed.pointer
            packPanels(p + layer.weightHH.offset, transposed: false, k: G, n: H, into: packed)   // weight_hh (4H,H)
            forEachBatchShare(B) { rows in
                for t in stride(from: T - 1, through: first, by: -1) {
                    for b0 in stride(from: rows.lowerBound, to: rows.upperBound, by: 4) {
                        let n = min(4, rows.upperBound - b0)
                        for b in b0..<(b0 + n) {
                            let r = b * T + t
                            let cPrev = t > 0 ? UnsafePointer(cell + (r - 1) * H) : c0 + (k * B + b) * H
                            lstmCellBackward(gates: gates + r * G, cPrev: cPrev, tanhCell: tanhCell + r * H,
                                             dHidden: dHseq + r * H, dh: dh + b * H, dc: dc + b * H, dGates: dGates + r * G, H: H)
                        }
                        // dh_{t−1}[b0..<b0+n] (n,H) = dGates[b0..<b0+n, t] (n,4H) · weight_hh (4H,H)
                        packedGemm(m: n, n: H, k: G, a: dGates + (b0 * T + t) * G, lda: T * G, packed: packed,
                                   c: dh + b0 * H, ldc: H, accumulate: false)
                    }
                }
            }
            if first == 0 {
                (dh0 + k * B * H).update(from: dh, count: B * H)
                (dc0 + k * B * H).update(from: dc, count: B * H)
            } else {
                (dh0 + k * B * H).update(repeating: 0, count: B * H)
                (dc0 + k * B * H).update(repeating: 0, count: B * H)
            }
            gemm(transA: true, m: G, n: H, k: B * T, a: dGates, b: cache.hiddenPrev[k].pointer, beta: 1, c: g + layer.weightHH.offset)
            gemm(transA: true, m: G, n: layer.inputSize, k: B * T, a: dGates, b: x, beta: 1, c: g + layer.weightIH.offset)
            addColumnSums(dGates, rows: B * T, columns: G, into: g + layer.biasIH.offset)
            addColumnSums(dGates, rows: B * T, columns: G, into: g + layer.biasHH.offset)
            if k > 0 {
                gemm(m: B * T, n: H, k: G, a: dGates, b: p + layer.weightIH.offset, c: dBelow)
            } else if let dInput {
                gemm(m: B * T, n: layer.inputSize, k: G, a: dGates, b: p + layer.weightIH.offset, beta: 1, c: dInput)
            }
        }
    }
}

/// One step of one sequence: gates (4H) pre-activations in → activated i, f, g, o out (in place);
/// cell (H) = f ⊙ cPrev + i ⊙ g; tanhCell (H) = tanh(cell); hidden (H) = o ⊙ tanhCell. 8 lanes at a time, then the tail.
@inline(__always)
func lstmCellForward(gates: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>, cell: UnsafeMutablePointer<Float>,
                     tanhCell: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>, H: Int) {
    var j = 0
    while j + 8 <= H {
        let i = sigmoid8(load8(gates + j)), f = sigmoid8(load8(gates + H + j))
        let g = tanh8(load8(gates + 2 * H + j)), o = sigmoid8(load8(gates + 3 * H + j))
        store8(i, gates + j); store8(f, gates + H + j); store8(g, gates + 2 * H + j); store8(o, gates + 3 * H + j)
        let c = f * load8(cPrev + j) + i * g
        let tc = tanh8(c)
        store8(c, cell + j); store8(tc, tanhCell + j); store8(o * tc, hidden + j)
        j += 8
    }
    while j < H {
        let i = sigmoid8(Float8(repeating: gates[j]))[0], f = sigmoid8(Float8(repeating: gates[H + j]))[0]
        let g = tanh8(Float8(repeating: gates[2 * H + j]))[0], o = sigmoid8(Float8(repeating: gates[3 * H + j]))[0]
        gates[j] = i; gates[H + j] = f; gates[2 * H + j] = g; gates[3 * H + j] = o
        let c = f * cPrev[j] + i * g
        let tc = tanh8(Float8(repeating: c))[0]
        cell[j] = c; tanhCell[j] = tc; hidden[j] = o * tc
        j += 1
    }
}

/// One step of one sequence, backward: dh (H) += dHidden (H) in; dc (H) carries dc_t in and dc_{t−1} out;
/// dGates (4H) = pre-activation gradients of i, f, g, o (written). 8 lanes at a time, then the tail.
@inline(__always)
func lstmCellBackward(gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, tanhCell: UnsafePointer<Float>,
                      dHidden: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>,
                      dGates: UnsafeMutablePointer<Float>, H: Int) {
    var j = 0
    while j + 8 <= H {
        let i = load8(gates + j), f = load8(gates + H + j), g = load8(gates + 2 * H + j), o = load8(gates + 3 * H + j)
        let tc = load8(tanhCell + j)
        let dhj = load8(dh + j) + load8(dHidden + j)
        let dcj = load8(dc + j) + dhj * o * (1 - tc * tc)
        store8(dcj * g * i * (1 - i), dGates + j)
        store8(dcj * load8(cPrev + j) * f * (1 - f), dGates + H + j)
        store8(dcj * i * (1 - g * g), dGates + 2 * H + j)
        store8(dhj * tc * o * (1 - o), dGates + 3 * H + j)
        store8(dcj * f, dc + j)
        j += 8
    }
    while j < H {
        let i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j]
        let tc = tanhCell[j]
        let dhj = dh[j] + dHidden[j]
        let dcj = dc[j] + dhj * o * (1 - tc * tc)
        dGates[j] = dcj * g * i * (1 - i)
        dGates[H + j] = dcj * cPrev[j] * f * (1 - f)
        dGates[2 * H + j] = dcj * i * (1 - g * g)
        dGates[3 * H + j] = dhj * tc * o * (1 - o)
        dc[j] = dcj * f
        j += 1
    }
}

/// Everything an LSTM forward keeps for backward, sized for one (B,T): per layer gates (B,T,4H) (activated),
/// cell, tanhCell, hidden, hiddenPrev (B,T,H) (hiddenPrev[:,t] = h_{t−1}); scratch dGates (B,T,4H), dBelow (B,T,H),
/// dh, dc (B,H), and `packed`, weight_hh of the layer in progress packed for `packedGemm` (as weight_hhᵀ (H,4H) in
/// forward, as weight_hh (4H,H) in backward).
final class LSTMCache {
    let gates, cell, tanhCell, hidden, hiddenPrev: [FloatBuffer]
    let dGates, dBelow, dh, dc, packed: FloatBuffer

    init(layers L: Int, hidden H: Int, batch B: Int, time T: Int) {
        gates = (0..<L).map { _ in FloatBuffer(B * T * 4 * H) }
        cell = (0..<L).map { _ in FloatBuffer(B * T * H) }
        tanhCell = (0..<L).map { _ in FloatBuffer(B * T * H) }
        hidden = (0..<L).map { _ in FloatBuffer(B * T * H) }
        hiddenPrev = (0..<L).map { _ in FloatBuffer(B * T * H) }
        dGates = FloatBuffer(B * T * 4 * H)
        dBelow = FloatBuffer(B * T * H)
        dh = FloatBuffer(B * H)
        dc = FloatBuffer(B * H)
        packed = FloatBuffer(max(packedPanelsCount(k: H, n: 4 * H), packedPanelsCount(k: 4 * H, n: H)))
    }
}

/// Runs `body` over disjoint shares of the batch rows 0..<B, one share per BLAS thread (so the configured thread count
/// governs all parallelism), each share's gemms single-threaded on its own worker. LSTM sequences are independent,
/// so a share runs all its time steps with no synchronisation; the result does not depend on scheduling.
func forEachBatchShare(_ B: Int, _ body: (Range<Int>) -> Void) {
    withSingleThreadedBLAS { parts in
        let shares = min(parts, B)
        if shares <= 1 { return body(0..<B) }
        // Safe to share: every call writes only its own batch rows of the caller's buffers and reads shared weights.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: shares) { s in
            body((s * B / shares)..<((s + 1) * B / shares))
        }
    }
}
