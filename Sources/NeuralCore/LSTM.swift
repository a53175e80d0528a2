import Foundation

/// A stacked LSTM in PyTorch layout (`batch_first=True`, gate order i, f, g, o), L layers of H units.
/// Tensors per layer k: `prefix.weight_ih_l{k}` (4H,I_k), `prefix.weight_hh_l{k}` (4H,H), `prefix.bias_ih_l{k}` (4H),
/// `prefix.bias_hh_l{k}` (4H), with I_0 = I and I_k = H above. Sequences in and out are batch-major (B,T,·) like
/// PyTorch's; inside, everything is kept time-major (T,B,·), so one step of a batch share is a block of consecutive
/// rows for the per-step products.
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

    /// For each layer k, with x = input (B,T,I) for k = 0 and layer k−1's hidden sequence above, for t in 0..<T:
    ///   gates[t] (B,4H) = x[:,t] (B,I_k) · weight_ihᵀ (I_k,4H) + h_{t−1} (B,H) · weight_hhᵀ (H,4H)
    ///   i, f, g, o = σ, σ, tanh, σ of gates + bias_ih + bias_hh; c_t = f ⊙ c_{t−1} + i ⊙ g; h_t = o ⊙ tanh(c_t)
    /// with h_{−1} = h0[k], c_{−1} = c0[k] (L,B,H). Writes the final states hN, cN (L,B,H), the top layer's hidden
    /// sequence `cache.output` (B,T,H), and caches what backward needs. Both products run per step on packed weights
    /// (`packedGemm`), so a batch row's result does not depend on the batch size or on the thread count.
    func forward(_ p: UnsafePointer<Float>, input: UnsafePointer<Float>, batch B: Int, time T: Int,
                 h0: UnsafePointer<Float>, c0: UnsafePointer<Float>, cache: LSTMCache,
                 hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>) {
        let H = hidden, G = 4 * hidden, L = layers.count
        let inputTM = cache.input.reserve(T * B * inputSize)
        for (k, layer) in layers.enumerated() {
            let I = layer.inputSize
            // x (T,B,I): the input reordered below, or layer k−1's h_0…h_{T−1}
            let x = k == 0 ? UnsafePointer(inputTM) : UnsafePointer(cache.states[k - 1].pointer + B * H)
            let gates = cache.gates[k].pointer, cell = cache.cell[k].pointer, tanhCell = cache.tanhCell[k].pointer
            let states = cache.states[k].pointer
            let bias = cache.bias.pointer, bih = p + layer.biasIH.offset, bhh = p + layer.biasHH.offset
            for j in 0..<G { bias[j] = bih[j] + bhh[j] }
            let ihCount = packedPanelsCount(k: I, n: G)
            let packedIH = cache.packed.reserve(ihCount + packedPanelsCount(k: H, n: G)), packedHH = packedIH + ihCount
            packPanels(p + layer.weightIH.offset, transposed: true, k: I, n: G, into: packedIH)   // weight_ihᵀ (I,4H)
            packPanels(p + layer.weightHH.offset, transposed: true, k: H, n: G, into: packedHH)   // weight_hhᵀ (H,4H)
            // The recurrence couples steps, never sequences: each worker runs all T steps for its share of the batch.
            forEachBatchShare(B) { rows in
                let b0 = rows.lowerBound, n = rows.count
                if k == 0 { reorder(input, rows: rows, T, B, I, toTimeMajor: inputTM) }
                (states + b0 * H).update(from: h0 + (k * B + b0) * H, count: n * H)   // slot 0 = h_{−1}
                for t in 0..<T {
                    let at = t * B + b0   // row (t, b0)
                    packedGemm(m: n, n: G, k: I, a: x + at * I, lda: I, packed: packedIH, c: gates + at * G, ldc: G,
                               accumulate: false)
                    packedGemm(m: n, n: G, k: H, a: states + at * H, lda: H, packed: packedHH, c: gates + at * G, ldc: G,
                               accumulate: true)
                    for r in at..<(at + n) {
                        let cPrev = t > 0 ? UnsafePointer(cell + (r - B) * H) : c0 + (k * B + r) * H
                        lstmCellForward(gates: gates + r * G, bias: bias, cPrev: cPrev, cell: cell + r * H,
                                        tanhCell: tanhCell + r * H, hidden: states + (r + B) * H, H: H)
                    }
                }
                (hN + (k * B + b0) * H).update(from: states + (T * B + b0) * H, count: n * H)
                (cN + (k * B + b0) * H).update(from: cell + ((T - 1) * B + b0) * H, count: n * H)
                if k == L - 1 { reorder(states + B * H, rows: rows, T, B, H, toBatchMajor: cache.output.pointer) }
            }
        }
    }

    /// Backpropagation through time, mirroring `forward`. Inputs: dOutput (B,T,H), the gradient w.r.t. the top layer's
    /// hidden sequence; dhN, dcN (L,B,H), gradients w.r.t. the final states (nil = zero). Per layer, from the top down and
    /// from t = T−1 down to the first step kept (all, or the last `truncate` steps; earlier steps get no gradient):
    ///   dh = dOutput[:,t] + (dh_{t+1} path); dc = dc_{t+1}·f_{t+1} + dh ⊙ o ⊙ (1 − tanh²c_t)
    ///   dGates (B,4H) = (dc⊙g⊙i(1−i), dc⊙c_{t−1}⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tanh(c_t)⊙o(1−o))
    ///   dh_{t−1} (B,H) = dGates (B,4H) · weight_hh (4H,H);  dx[:,t] (B,I) = dGates · weight_ih (4H,I)
    ///   [dWeight_ihᵀ; dWeight_hhᵀ] (I+H,4H) += [x[:,t], h_{t−1}]ᵀ (I+H,B) · dGates (B,4H);  dBias (4H) += Σ_b dGates
    /// Each batch share accumulates its own weight gradients, S steps per product (`cache.ring` keeps the last S steps'
    /// [x, h_{t−1}] and dGates rows, so each product sums over S·n rows); they are added into `g` in share order at the end.
    /// dInput (B,T,I) += layer 0's dx when given (layers above pass theirs down). dh0, dc0 (L,B,H) are WRITTEN with the
    /// initial-state gradients (zero when truncated, since no gradient reaches the first step).
    func backward(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                  batch B: Int, time T: Int, c0: UnsafePointer<Float>, cache: LSTMCache, dOutput: UnsafePointer<Float>,
                  dhN: UnsafePointer<Float>?, dcN: UnsafePointer<Float>?, dInput: UnsafeMutablePointer<Float>?,
                  dh0: UnsafeMutablePointer<Float>, dc0: UnsafeMutablePointer<Float>, truncate: Int? = nil) {
        let H = hidden, G = 4 * hidden, L = layers.count, Gp = LSTMCache.paddedGates(H)
        let first = truncate.map { max(0, T - $0) } ?? 0
        let dh = cache.dh.pointer, dc = cache.dc.pointer
        // dSeq (T,B,H): ∂/∂ the hidden sequence of the layer in progress (dOutput for the top layer, then what each
        // layer passes down; row (t,b) is read by the cell step before the layer's dx overwrites it)
        let dSeq = cache.dSeq.pointer
        let inputTM = UnsafePointer(cache.input.pointer), dInputTM = cache.dInput.reserve(T * B * inputSize)
        let shares = batchShares(B), S = gradientSteps(shareRows: (B + shares - 1) / shares, time: T)
        for k in stride(from: L - 1, through: 0, by: -1) {
            let layer = layers[k], I = layer.inputSize
            let x = k == 0 ? inputTM : UnsafePointer(cache.states[k - 1].pointer + B * H)   // (T,B,I)
            let dx = k == 0 ? dInputTM : dSeq                                                 // (T,B,I)
            let gates = cache.gates[k].pointer, cell = cache.cell[k].pointer, tanhCell = cache.tanhCell[k].pointer
            let states = cache.states[k].pointer
            let hhCount = packedPanelsCount(k: G, n: H)
            let packedHH = cache.packed.reserve(hhCount + packedPanelsCount(k: G, n: I)), packedIH = packedHH + hhCount
            packPanels(p + layer.weightHH.offset, transposed: false, k: G, n: H, into: packedHH)   // weight_hh (4H,H)
            packPanels(p + layer.weightIH.offset, transposed: false, k: G, n: I, into: packedIH)   // weight_ih (4H,I)
            // per share: dWeight_ihᵀ (I,4H), dWeight_hhᵀ (H,4H), dBias (4H)
            let partialCount = (I + H + 1) * G
            let partials = cache.partials.reserve(shares * partialCount)
            partials.update(repeating: 0, count: shares * partialCount)
            // ring: S·B rows of dGates (Gp floats), then S·B rows of [x, h_{t−1}] (I+H floats); a share owns S·n of each
            let X = I + H
            let ringGates = cache.ring.reserve(S * B * (Gp + X)), ringInputs = ringGates + S * B * Gp
            forEachIndexedBatchShare(B) { share, rows in
                let b0 = rows.lowerBound, n = rows.count
                let dWih = partials + share * partialCount, dWhh = dWih + I * G, dBias = dWhh + H * G
                if k == L - 1 { reorder(dOutput, rows: rows, T, B, H, toTimeMajor: dSeq) }
                if let dhN { (dh + b0 * H).update(from: dhN + (k * B + b0) * H, count: n * H) } else { (dh + b0 * H).update(repeating: 0, count: n * H) }
                if let dcN { (dc + b0 * H).update(from: dcN + (k * B + b0) * H, count: n * H) } else { (dc + b0 * H).update(repeating: 0, count: n * H) }
                let shareGates = ringGates + S * b0 * Gp, shareInputs = ringInputs + S * b0 * X
                var filled = 0   // steps in the ring
                for t in stride(from: T - 1, through: first, by: -1) {
                    let at = t * B + b0   // row (t, b0)
                    let dG = shareGates + filled * n * Gp, xh = shareInputs + filled * n * X   // this step's rows
                    for i in 0..<n {
                        let r = at + i, b = b0 + i
                        let cPrev = t > 0 ? UnsafePointer(cell + (r - B) * H) : c0 + (k * B + b) * H
                        lstmCellBackward(gates: gates + r * G, cPrev: cPrev, tanhCell: tanhCell + r * H, dHidden: dSeq + r * H,
                                         dh: dh + b * H, dc: dc + b * H, dGates: dG + i * Gp, H: H)
                        (xh + i * X).update(from: x + r * I, count: I)
                        (xh + i * X + I).update(from: states + r * H, count: H)
                    }
                    packedGemm(m: n, n: H, k: G, a: dG, lda: Gp, packed: packedHH, c: dh + b0 * H, ldc: H, accumulate: false)
                    packedGemm(m: n, n: I, k: G, a: dG, lda: Gp, packed: packedIH, c: dx + at * I, ldc: I, accumulate: false)
                    filled += 1
                    if filled == S || t == first {
                        addTransposedProduct(m: X, n: G, k: filled * n, a: shareInputs, lda: X, b: shareGates, ldb: Gp, c: dWih, ldc: G)
                        addColumnSums(shareGates, rows: filled * n, columns: G, rowStride: Gp, into: dBias)
                        filled = 0
                    }
                }
                // steps before the kept ones pass no gradient down
                for t in 0..<first { (dx + (t * B + b0) * I).update(repeating: 0, count: n * I) }
                if k == 0, let dInput { reorder(dInputTM, rows: rows, T, B, I, addingToBatchMajor: dInput) }
                let kept = first == 0
                (dh0 + (k * B + b0) * H).update(from: dh + b0 * H, count: kept ? n * H : 0)
                (dc0 + (k * B + b0) * H).update(from: dc + b0 * H, count: kept ? n * H : 0)
                if !kept {
                    (dh0 + (k * B + b0) * H).update(repeating: 0, count: n * H)
                    (dc0 + (k * B + b0) * H).update(repeating: 0, count: n * H)
                }
            }
            for s in 0..<shares {
                let dWih = partials + s * partialCount, dWhh = dWih + I * G, dBias = dWhh + H * G
                addTransposed(dWih, rows: I, columns: G, into: g + layer.weightIH.offset)
                addTransposed(dWhh, rows: H, columns: G, into: g + layer.weightHH.offset)
                for r in 0..<G { g[layer.biasIH.offset + r] += dBias[r]; g[layer.biasHH.offset + r] += dBias[r] }
            }
        }
    }
}

/// Steps of weight gradients summed per product in `LSTM.backward`: enough for about 128 rows (shares of n rows), at
/// most T. Longer products amortise loading and storing the (I+H,4H) gradient tiles; ~10% faster for n = 32, ~1.5×
/// for n = 16 at H = 300, where the tiles no longer fit in L2.
func gradientSteps(shareRows n: Int, time T: Int) -> Int { max(1, min(T, 128 / max(n, 1))) }

/// target (C,R) += source (R,C)ᵀ, in 16×16 blocks so both sides stay in cache.
func addTransposed(_ source: UnsafePointer<Float>, rows R: Int, columns C: Int, into target: UnsafeMutablePointer<Float>) {
    for r0 in stride(from: 0, to: R, by: 16) {
        for c0 in stride(from: 0, to: C, by: 16) {
            for c in c0..<min(c0 + 16, C) {
                for r in r0..<min(r0 + 16, R) { target[c * R + r] += source[r * C + c] }
            }
        }
    }
}

/// Copies rows `rows` of a batch-major (B,T,W) sequence into a time-major (T,B,W) one.
@inline(__always)
func reorder(_ source: UnsafePointer<Float>, rows: Range<Int>, _ T: Int, _ B: Int, _ W: Int,
             toTimeMajor target: UnsafeMutablePointer<Float>) {
    for b in rows { for t in 0..<T { (target + (t * B + b) * W).update(from: source + (b * T + t) * W, count: W) } }
}

/// Copies rows `rows` of a time-major (T,B,W) sequence into a batch-major (B,T,W) one.
@inline(__always)
func reorder(_ source: UnsafePointer<Float>, rows: Range<Int>, _ T: Int, _ B: Int, _ W: Int,
             toBatchMajor target: UnsafeMutablePointer<Float>) {
    for b in rows { for t in 0..<T { (target + (b * T + t) * W).update(from: source + (t * B + b) * W, count: W) } }
}

/// Adds rows `rows` of a time-major (T,B,W) sequence into a batch-major (B,T,W) one.
@inline(__always)
func reorder(_ source: UnsafePointer<Float>, rows: Range<Int>, _ T: Int, _ B: Int, _ W: Int,
             addingToBatchMajor target: UnsafeMutablePointer<Float>) {
    for b in rows {
        for t in 0..<T {
            let from = source + (t * B + b) * W, to = target + (b * T + t) * W
            for i in 0..<W { to[i] += from[i] }
        }
    }
}

/// One step of one sequence: gates (4H) pre-activations without the bias in, bias (4H) added → activated i, f, g, o out
/// (in place); cell (H) = f ⊙ cPrev + i ⊙ g; tanhCell (H) = tanh(cell); hidden (H) = o ⊙ tanhCell. Two passes (all
/// 4H activations, then the cell), each a loop of independent 8-lane iterations that overlap well; ~1.3× faster than
/// one fused loop whose iterations are long dependency chains.
@inline(__always)
func lstmCellForward(gates: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                     cell: UnsafeMutablePointer<Float>, tanhCell: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                     H: Int) {
    /// gates[range] ← σ or tanh of gates + bias, 8 lanes at a time, then the tail
    @inline(__always) func activate(_ range: Range<Int>, tanh: Bool) {
        var j = range.lowerBound
        while j + 8 <= range.upperBound {
            let x = load8(gates + j) + load8(bias + j)
            store8(tanh ? tanh8(x) : sigmoid8(x), gates + j)
            j += 8
        }
        while j < range.upperBound {
            let x = Float8(repeating: gates[j] + bias[j])
            gates[j] = (tanh ? tanh8(x) : sigmoid8(x))[0]
            j += 1
        }
    }
    activate(0..<(2 * H), tanh: false)           // i, f
    activate((2 * H)..<(3 * H), tanh: true)      // g
    activate((3 * H)..<(4 * H), tanh: false)     // o
    let i = gates, f = gates + H, g = gates + 2 * H, o = gates + 3 * H
    var j = 0
    while j + 8 <= H {
        let c = fma8(load8(f + j), load8(cPrev + j), load8(i + j) * load8(g + j))
        let tc = tanh8(c)
        store8(c, cell + j); store8(tc, tanhCell + j); store8(load8(o + j) * tc, hidden + j)
        j += 8
    }
    while j < H {
        let c = f[j] * cPrev[j] + i[j] * g[j]
        let tc = tanh8(Float8(repeating: c))[0]
        cell[j] = c; tanhCell[j] = tc; hidden[j] = o[j] * tc
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

/// Everything an LSTM forward keeps for backward, sized for one (B,T), time-major: per layer gates (T,B,4H) (activated),
/// cell, tanhCell (T,B,H) and states (T+1,B,H) (slot 0 = h_{−1}, slot t+1 = h_t); `output` (B,T,H), the top layer's
/// hidden sequence batch-major; scratch dSeq (T,B,H), dh, dc (B,H), bias (4H) (bias_ih + bias_hh of the layer in
/// progress). Sized by the input width I or the thread count, which the cache is not told, so they grow on first use:
/// input, dInput (T,B,I) (layer 0's input and its gradient, time-major), `packed` (the layer's weights packed for
/// `packedGemm`), `partials` (per-share weight gradients), `ring` (backward's last S steps of dGates, rows padded to a
/// multiple of 16 floats for `addTransposedProduct`, and of [x, h_{t−1}]).
final class LSTMCache {
    let gates, cell, tanhCell, states: [FloatBuffer]
    let output, dSeq, dh, dc, bias: FloatBuffer
    let input = ScratchBuffer(), dInput = ScratchBuffer(), packed = ScratchBuffer(), partials = ScratchBuffer()
    let ring = ScratchBuffer()

    /// The row stride of dGates in `ring`: 4H rounded up to whole panels.
    static func paddedGates(_ H: Int) -> Int { (4 * H + panelWidth - 1) / panelWidth * panelWidth }

    init(layers L: Int, hidden H: Int, batch B: Int, time T: Int) {
        gates = (0..<L).map { _ in FloatBuffer(T * B * 4 * H) }
        cell = (0..<L).map { _ in FloatBuffer(T * B * H) }
        tanhCell = (0..<L).map { _ in FloatBuffer(T * B * H) }
        states = (0..<L).map { _ in FloatBuffer((T + 1) * B * H) }
        output = FloatBuffer(B * T * H)
        dSeq = FloatBuffer(T * B * H)
        dh = FloatBuffer(B * H)
        dc = FloatBuffer(B * H)
        bias = FloatBuffer(4 * H)
    }
}

/// Float scratch that grows to the largest size asked for and keeps it (no allocation once warmed up).
final class ScratchBuffer {
    private(set) var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var capacity = 1

    /// The buffer, with room for at least `count` floats (contents undefined after growing).
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: count)
            capacity = count
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}

/// How many shares `forEachBatchShare` splits B batch rows into: one per BLAS thread, at most B.
func batchShares(_ B: Int) -> Int { max(1, min(blasThreads(), B)) }

/// Runs `body` over disjoint shares of the batch rows 0..<B, one share per NeuralCore thread (`blasThreads()`), in
/// parallel. LSTM sequences are independent, so a share runs all its time steps with no synchronisation; the result
/// does not depend on scheduling.
func forEachBatchShare(_ B: Int, _ body: (Range<Int>) -> Void) {
    forEachIndexedBatchShare(B) { _, rows in body(rows) }
}

/// `forEachBatchShare` that also passes the share's index s in 0..<batchShares(B); share s is rows
/// s·B/S ..< (s+1)·B/S.
func forEachIndexedBatchShare(_ B: Int, _ body: (_ share: Int, _ rows: Range<Int>) -> Void) {
    let shares = batchShares(B)
    if shares <= 1 { return body(0, 0..<B) }
    // Safe to share: every call writes only its own batch rows of the caller's buffers and reads shared weights.
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: shares) { s in
        body(s, (s * B / shares)..<((s + 1) * B / shares))
    }
}
