import Foundation
import NeuralKernels

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
        /// Whether forward runs each step as one product over [weight_ihᵀ; weight_hhᵀ] when the batch is not too small
        /// (see `forward`), and backward's as one product giving [dx_t, dh_{t−1}].
        public let stacked: Bool
    }

    public let inputSize: Int
    public let hidden: Int
    public let layers: [Layer]

    /// `stackWeights` forces forward's per-step product for every layer (tests); nil chooses by size (`stacksWeights`).
    public init(
        _ prefix: String = "lstm", inputSize: Int, hidden: Int, layers: Int, layout: inout ParameterLayout,
        stackWeights: Bool? = nil
    ) {
        precondition(layers >= 1, "an LSTM needs at least one layer")
        self.inputSize = inputSize
        self.hidden = hidden
        self.layers = (0..<layers).map { k in
            let i = k == 0 ? inputSize : hidden
            return Layer(
                inputSize: i,
                weightIH: layout.add("\(prefix).weight_ih_l\(k)", [4 * hidden, i]),
                weightHH: layout.add("\(prefix).weight_hh_l\(k)", [4 * hidden, hidden]),
                biasIH: layout.add("\(prefix).bias_ih_l\(k)", [4 * hidden]),
                biasHH: layout.add("\(prefix).bias_hh_l\(k)", [4 * hidden]),
                stacked: stackWeights ?? stacksWeights(inputSize: i, hidden: hidden))
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
    ///   gates[t] (B,4H) = [x[:,t], h_{t−1}] (B,I_k+H) · [weight_ihᵀ; weight_hhᵀ] (I_k+H,4H)
    ///   i, f, g, o = σ, σ, tanh, σ of gates + bias_ih + bias_hh; c_t = f ⊙ c_{t−1} + i ⊙ g; h_t = o ⊙ tanh(c_t)
    /// with h_{−1} = h0[k], c_{−1} = c0[k] (L,B,H). Writes the final states hN, cN (L,B,H) and caches what backward
    /// needs, every layer's hidden sequence included (`cache.hiddenSequence(batch:)` copies out the top one). Each step
    /// is one product over the stacked weights (`packedGemm`, K = I_k+H) when they fit in L2 (`Layer.stacked`) and each
    /// thread's share has `stackedRowsPerShare` rows or more; otherwise x · weight_ihᵀ is one product over all T·B rows
    /// first (`splitPackedGemm`) and each step adds h_{t−1} · weight_hhᵀ: the same chains of multiply-adds, so the same
    /// bits. A batch row's result depends neither on the batch size nor on the thread count. The packed weights are
    /// kept in `packs`, the network's (of `p`).
    func forward(
        _ p: UnsafePointer<Float>, input: UnsafePointer<Float>, batch B: Int, time T: Int,
        h0: UnsafePointer<Float>, c0: UnsafePointer<Float>, cache: LSTMCache,
        hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>, packs: PackedWeights
    ) {
        let H = hidden, G = 4 * hidden, avx512 = MicroKernels.useAVX512.load(ordering: .relaxed)
        for (k, layer) in layers.enumerated() {
            let I = layer.inputSize, X = I + H
            let xh = cache.inputs[k].pointer  // (T+1,B,X): row (t,b) = [x_t, h_{t−1}]
            let gates = cache.gates[k].pointer, cell = cache.cell[k].pointer, tanhCell = cache.tanhCell[k].pointer
            let bias = cache.bias.pointer, bih = p + layer.biasIH.offset, bhh = p + layer.biasHH.offset
            for j in 0..<G { bias[j] = bih[j] + bhh[j] }
            // A per-step product over the stacked weights needs a few rows a share to pay for reading them every step:
            // a batch of one (acting) projects x first, as an unstacked layer does.
            let stacked = layer.stacked && B / shareCount(B) >= stackedRowsPerShare
            let ih = p + layer.weightIH.offset, hh = p + layer.weightHH.offset
            // each step's weights: [weight_ihᵀ; weight_hhᵀ] (I+H,4H) when stacked, else weight_hhᵀ (H,4H)
            let packed =
                stacked
                ? packs.panels(layer.weightIH.offset, stacked: true, count: packedPanelsCount(k: X, n: G)) {
                    packPanels(ih, transposed: true, k: I, n: G, into: $0, panelRows: X)
                    packPanels(hh, transposed: true, k: H, n: G, into: $0 + I * panelWidth, panelRows: X)
                }
                : packs.panels(layer.weightHH.offset, count: packedPanelsCount(k: H, n: G)) {
                    packPanels(hh, transposed: true, k: H, n: G, into: $0)
                }
            // fills rows `rows` of xh: x_t for every t, and h_{−1}
            let prepare = { (rows: Range<Int>) in
                if k == 0 {
                    reorder(input, rows: rows, T, B, I, toTimeMajor: xh, rowStride: X)
                } else {  // layer k−1's h_0…h_{T−1}: its rows 1…T, after its inputs
                    let below = cache.inputs[k - 1].pointer, W = layers[k - 1].inputSize + H
                    for t in 0..<T {
                        for b in rows {
                            (xh + (t * B + b) * X).update(from: below + ((t + 1) * B + b) * W + (W - H), count: H)
                        }
                    }
                }
                for b in rows { (xh + b * X + I).update(from: h0 + (k * B + b) * H, count: H) }
            }
            if !stacked {  // gates (T·B,4H) = x (T·B,I) · weight_ihᵀ, which needs every row of x first
                forEachShare(B, prepare)
                let input = packs.panels(layer.weightIH.offset, count: packedPanelsCount(k: I, n: G)) {
                    packPanels(ih, transposed: true, k: I, n: G, into: $0)  // weight_ihᵀ (I,4H)
                }
                splitPackedGemm(
                    m: T * B, n: G, k: I, a: xh, lda: X, packed: input, c: gates, ldc: G, accumulate: false)
            }
            // The recurrence couples steps, never sequences: each worker runs all T steps for its share of the batch.
            forEachShare(B) { rows in
                if stacked { prepare(rows) }
                let b0 = rows.lowerBound, n = rows.count
                for t in 0..<T {
                    let at = t * B + b0  // row (t, b0)
                    packedGemm(
                        m: n, n: G, k: stacked ? X : H, a: xh + at * X + (stacked ? 0 : I), lda: X, packed: packed,
                        c: gates + at * G, ldc: G, accumulate: !stacked)
                    // c_{t−1} of row r: the cell's row r − B, or c0 (rows H apart either way)
                    let cPrev = t > 0 ? UnsafePointer(cell + (at - B) * H) : c0 + (k * B + at) * H
                    cellForward(
                        avx512: avx512, gates + at * G, bias, cPrev, cell + at * H, tanhCell + at * H,
                        xh + (at + B) * X + I, X, H, n)
                }
                for b in rows {
                    (hN + (k * B + b) * H).update(from: xh + (T * B + b) * X + I, count: H)
                    (cN + (k * B + b) * H).update(from: cell + ((T - 1) * B + b) * H, count: H)
                }
            }
        }
    }

    /// Backpropagation through time, mirroring `forward`. Inputs: dOutput (B,T,H), the gradient w.r.t. the top layer's
    /// hidden sequence, and dhN, dcN (L,B,H), gradients w.r.t. the final states (each nil = zero). Per layer, from the
    /// top down and from t = T−1 down to the first step kept (all, or the last `truncate` steps; earlier steps get
    /// none):
    ///   dh = dOutput[:,t] + (dh_{t+1} path); dc = dc_{t+1}·f_{t+1} + dh ⊙ o ⊙ (1 − tanh²c_t)
    ///   dGates (B,4H) = (dc⊙g⊙i(1−i), dc⊙c_{t−1}⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tanh(c_t)⊙o(1−o))
    ///   [dx[:,t], dh_{t−1}] (B,I_k+H) = dGates (B,4H) · [weight_ih, weight_hh] (4H,I_k+H)
    /// into `cache.dInputs[k]` (T+1,B,I_k+H), which mirrors `inputs`. Layers that do not stack their weights
    /// (`Layer.stacked`) compute only dh_{t−1} per step and dx for all kept steps in one product after the loop.
    /// dGates overwrite the cached gates; after the loop one product over all kept rows (T'·B of them;
    /// `weightGradients`, split by gate columns across threads) gives
    ///   [dWeight_ihᵀ; dWeight_hhᵀ] (I_k+H,4H) = [x_t, h_{t−1}]ᵀ (I_k+H,T'B) · dGates (T'B,4H);
    ///   dBias (4H) = Σ_rows dGates
    /// which are added into g.
    /// dInput (B,T,I) is WRITTEN with layer 0's dx when given (layers above pass theirs down; zero for the steps a
    /// truncation drops), and dh0, dc0 (L,B,H) with the initial-state gradients (zero when truncated, since no gradient
    /// reaches the first step). Backward consumes the cache: run forward again before another backward.
    func backward(
        _ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        batch B: Int, time T: Int, c0: UnsafePointer<Float>, cache: LSTMCache, dOutput: UnsafePointer<Float>?,
        dhN: UnsafePointer<Float>?, dcN: UnsafePointer<Float>?, dInput: UnsafeMutablePointer<Float>?,
        dh0: UnsafeMutablePointer<Float>, dc0: UnsafeMutablePointer<Float>, truncate: Int? = nil
    ) {
        let H = hidden, G = 4 * hidden, L = layers.count, avx512 = MicroKernels.useAVX512.load(ordering: .relaxed)
        precondition((truncate ?? 1) >= 1, "truncated BPTT keeps at least one step")
        let first = truncate.map { max(0, T - $0) } ?? 0
        let kept = (T - first) * B, from = first * B  // the kept rows of every (T,B,·) buffer
        let dc = cache.dc.pointer
        let dSeq = dOutput.map { _ in cache.dSeq.pointer }  // (T,B,H): dOutput time-major; made here, not in a share
        for k in stride(from: L - 1, through: 0, by: -1) {
            let layer = layers[k], I = layer.inputSize, X = I + H, stacked = layer.stacked
            let xh = UnsafePointer(cache.inputs[k].pointer)  // (T+1,B,X): row (t,b) = [x_t, h_{t−1}]
            let dxh = cache.dInputs[k].pointer  // (T+1,B,X): row (t,b) = [dx_t, dh_{t−1}]
            // ∂/∂ this layer's hidden sequence (T,B,H): dOutput time-major for the top layer (or one zero row read at
            // stride 0 when there is none), else the dx of layer k+1
            let dHidden =
                k < L - 1
                ? UnsafePointer(cache.dInputs[k + 1].pointer)
                : dSeq.map { UnsafePointer($0) } ?? UnsafePointer(cache.zeroRow.pointer)
            let dHiddenStride = k < L - 1 ? H + layers[k + 1].inputSize : dOutput == nil ? 0 : H
            let gates = cache.gates[k].pointer, cell = cache.cell[k].pointer, tanhCell = cache.tanhCell[k].pointer
            let N = stacked ? X : H  // columns of each step's product: [dx, dh_{t−1}] or dh_{t−1}
            let packed = cache.packed.reserve(packedPanelsCount(k: G, n: N))
            if stacked {
                packPanels(
                    p + layer.weightIH.offset, transposed: false, k: G, n: I, into: packed,  // [weight_ih, weight_hh]
                    besides: (p + layer.weightHH.offset, H))
            } else {
                packPanels(p + layer.weightHH.offset, transposed: false, k: G, n: H, into: packed)  // weight_hh (4H,H)
            }
            forEachShare(B) { rows in
                let b0 = rows.lowerBound, n = rows.count
                if k == L - 1, let dOutput, let dSeq {
                    reorder(dOutput, rows: rows, T, B, H, toTimeMajor: dSeq, rowStride: H)
                }
                for b in rows {
                    // ∂/∂h_{T−1}, c_{T−1} from beyond the window
                    let dhLast = dxh + (T * B + b) * X + I, dcLast = dc + b * H
                    if let dhN {
                        dhLast.update(from: dhN + (k * B + b) * H, count: H)
                    } else {
                        dhLast.update(repeating: 0, count: H)
                    }
                    if let dcN {
                        dcLast.update(from: dcN + (k * B + b) * H, count: H)
                    } else {
                        dcLast.update(repeating: 0, count: H)
                    }
                }
                for t in stride(from: T - 1, through: first, by: -1) {
                    let at = t * B + b0  // row (t, b0)
                    let cPrev = t > 0 ? UnsafePointer(cell + (at - B) * H) : c0 + (k * B + at) * H
                    cellBackward(
                        avx512: avx512, gates + at * G, cPrev, tanhCell + at * H, dHidden + at * dHiddenStride,
                        dHiddenStride, dxh + (at + B) * X + I, X, dc + b0 * H, gates + at * G, H, n)
                    packedGemm(
                        m: n, n: N, k: G, a: gates + at * G, lda: G, packed: packed,
                        c: dxh + at * X + (stacked ? 0 : I),
                        ldc: X, accumulate: false)
                }
                for b in rows {  // no gradient reaches the initial state through a truncation
                    let d = dh0 + (k * B + b) * H, e = dc0 + (k * B + b) * H
                    if first == 0 {
                        d.update(from: dxh + b * X + I, count: H); e.update(from: dc + b * H, count: H)
                    } else {
                        d.update(repeating: 0, count: H); e.update(repeating: 0, count: H)
                    }
                    // steps before the kept ones pass no gradient down
                    for t in 0..<first { (dxh + (t * B + b) * X).update(repeating: 0, count: I) }
                }
            }
            let dG = UnsafePointer(gates + from * G)  // (T'B,4H)
            if !stacked && (k > 0 || dInput != nil) {  // dx (T'B,I) = dGates · weight_ih
                let packedIH = cache.packed.reserve(packedPanelsCount(k: G, n: I))
                // weight_ih (4H,I)
                packPanels(p + layer.weightIH.offset, transposed: false, k: G, n: I, into: packedIH)
                splitPackedGemm(
                    m: kept, n: I, k: G, a: dG, lda: G, packed: packedIH, c: dxh + from * X, ldc: X,
                    accumulate: false)
            }
            // weight and bias gradients, dWᵀ (X,4H) = [x_t, h_{t−1}]ᵀ (X,T'B) · dGates (T'B,4H), into PyTorch's layouts
            let dWT = cache.dWeights.pointer, dBias = cache.bias.pointer
            let gih = g + layer.weightIH.offset, ghh = g + layer.weightHH.offset
            let gbih = g + layer.biasIH.offset, gbhh = g + layer.biasHH.offset
            weightGradients(
                x: xh + from * X, ldx: X, width: X, dY: dG, ldy: G, columns: G, rows: kept,
                dW: dWT, dBias: dBias
            ) { columns in
                for r in columns {
                    for i in 0..<I { gih[r * I + i] += dWT[i * G + r] }
                    for j in 0..<H { ghh[r * H + j] += dWT[(I + j) * G + r] }
                    gbih[r] += dBias[r]; gbhh[r] += dBias[r]
                }
            }
            if k == 0, let dInput {
                forEachShare(B) { rows in reorder(dxh, rowStride: X, rows: rows, T, B, I, toBatchMajor: dInput) }
            }
        }
    }
}

/// The `lstm` body of an `EncoderNetwork`: h0, c0 → hN, cN (L,B,H); backward takes `dHiddenSequence` when given,
/// dhN, dcN and gives dh0, dc0.
extension LSTM: EncoderBody {
    func makeCache(batch: Int, time: Int) -> AnyObject? { LSTMCache(self, batch: batch, time: time) }

    func forward(_ p: UnsafePointer<Float>, _ ws: Workspace, packs: PackedWeights) {
        forward(
            p, input: ws.embedded.pointer, batch: ws.batch, time: ws.time, h0: ws.h0.pointer, c0: ws.c0.pointer,
            cache: ws.bodyCache as! LSTMCache, hN: ws.hN.pointer, cN: ws.cN.pointer, packs: packs)
    }

    func backward(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ ws: Workspace, truncate: Int?) {
        let dSequence = ws.sequenceGradientGiven ? UnsafePointer(ws.sequenceGradient.pointer) : nil
        backward(
            p, g, input: ws.embedded.pointer, batch: ws.batch, time: ws.time, c0: ws.c0.pointer,
            cache: ws.bodyCache as! LSTMCache, dOutput: dSequence, dhN: ws.dhN.pointer, dcN: ws.dcN.pointer,
            dInput: ws.dEmbedded.pointer, dh0: ws.dh0.pointer, dc0: ws.dc0.pointer, truncate: truncate)
    }

    func hiddenSequence(_ ws: Workspace) -> FloatBuffer {
        (ws.bodyCache as! LSTMCache).hiddenSequence(batch: ws.batch)
    }
}

/// Whether `LSTM.forward` runs each step as one product over [weight_ihᵀ; weight_hhᵀ] (I+H,4H): when the packed
/// weights fit in half of this machine's L2 (`l2CacheBytes`), so each step reads them from L2 and stores the gates
/// once. Larger layers (e.g. I = H = 300: 2.9 MB) project x for all steps in one product instead and read only
/// weight_hh per step; then each step's product adds into gates written long before, which it reads back from memory
/// (on a 1 MB L2, I = H = 128 runs 6% faster stacked). Both ways give the same bits
/// (`stackedAndUnstackedLayersGiveTheSameBits`), so only the speed depends on the machine.
func stacksWeights(inputSize I: Int, hidden H: Int) -> Bool {
    (I + H) * 4 * H * MemoryLayout<Float>.size <= l2CacheBytes / 2
}

/// The fewest batch rows a thread's share needs for `LSTM.forward` to step on the stacked weights: with fewer (batch-1
/// acting), reading them at every step costs more than projecting x for all steps first (inference at I = H = 128:
/// 0.47 ms stacked, 0.32 ms not).
let stackedRowsPerShare = 4

/// The L2 cache of one core, in bytes: what the C library reports (Linux), else 512 KB (the smallest of the x86-64
/// server cores of recent years).
let l2CacheBytes: Int = {
    #if os(Linux)
        let reported = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        if reported > 0 { return reported }
    #endif
    return 512 << 10
}()

/// Copies rows `rows` of a batch-major (B,T,W) sequence into a time-major (T,B,·) one whose rows are `rowStride` apart.
@inline(__always)
func reorder(
    _ source: UnsafePointer<Float>, rows: Range<Int>, _ T: Int, _ B: Int, _ W: Int,
    toTimeMajor target: UnsafeMutablePointer<Float>, rowStride: Int
) {
    for b in rows {
        for t in 0..<T { (target + (t * B + b) * rowStride).update(from: source + (b * T + t) * W, count: W) }
    }
}

/// Copies rows `rows` of a time-major (T,B,·) sequence whose rows are `rowStride` apart into a batch-major (B,T,W) one.
@inline(__always)
func reorder(
    _ source: UnsafePointer<Float>, rowStride: Int, rows: Range<Int>, _ T: Int, _ B: Int, _ W: Int,
    toBatchMajor target: UnsafeMutablePointer<Float>
) {
    for b in rows {
        for t in 0..<T { (target + (b * T + t) * W).update(from: source + (t * B + b) * rowStride, count: W) }
    }
}

/// One step of `rows` sequences of the cell, forward: `nk_avx512_lstm_cell_forward`'s arguments and layout. On x86-64
/// the C cell, 16 lanes (`avx512`) or 8; elsewhere `lstmCellForward` row by row. All give the same bits.
@inline(__always)
func cellForward(
    avx512: Bool, _ gates: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ cPrev: UnsafePointer<Float>,
    _ cell: UnsafeMutablePointer<Float>, _ tanhCell: UnsafeMutablePointer<Float>, _ hidden: UnsafeMutablePointer<Float>,
    _ hiddenStride: Int, _ H: Int, _ rows: Int
) {
    #if arch(x86_64)
        if avx512 {
            nk_avx512_lstm_cell_forward(gates, bias, cPrev, cell, tanhCell, hidden, hiddenStride, H, rows)
        } else {
            nk_avx2_lstm_cell_forward(gates, bias, cPrev, cell, tanhCell, hidden, hiddenStride, H, rows)
        }
    #else
        for r in 0..<rows {
            lstmCellForward(
                gates: gates + r * 4 * H, bias: bias, cPrev: cPrev + r * H, cell: cell + r * H,
                tanhCell: tanhCell + r * H, hidden: hidden + r * hiddenStride, H: H)
        }
    #endif
}

/// One step of `rows` sequences of the cell, backward: `nk_avx512_lstm_cell_backward`'s arguments and layout. On
/// x86-64 the C cell, 16 lanes (`avx512`) or 8; elsewhere `lstmCellBackward` row by row. All give the same bits.
@inline(__always)
func cellBackward(
    avx512: Bool, _ gates: UnsafePointer<Float>, _ cPrev: UnsafePointer<Float>, _ tanhCell: UnsafePointer<Float>,
    _ dHidden: UnsafePointer<Float>, _ dHiddenStride: Int, _ dh: UnsafeMutablePointer<Float>, _ dhStride: Int,
    _ dc: UnsafeMutablePointer<Float>, _ dGates: UnsafeMutablePointer<Float>, _ H: Int, _ rows: Int
) {
    #if arch(x86_64)
        if avx512 {
            nk_avx512_lstm_cell_backward(
                gates, cPrev, tanhCell, dHidden, dHiddenStride, dh, dhStride, dc, dGates, H, rows)
        } else {
            nk_avx2_lstm_cell_backward(
                gates, cPrev, tanhCell, dHidden, dHiddenStride, dh, dhStride, dc, dGates, H, rows)
        }
    #else
        for r in 0..<rows {
            lstmCellBackward(
                gates: gates + r * 4 * H, cPrev: cPrev + r * H, tanhCell: tanhCell + r * H,
                dHidden: dHidden + r * dHiddenStride, dh: dh + r * dhStride, dc: dc + r * H,
                dGates: dGates + r * 4 * H, H: H)
        }
    #endif
}

/// One step of one sequence: gates (4H) pre-activations without the bias in, bias (4H) added → activated i, f, g, o out
/// (in place); cell (H) = f ⊙ cPrev + i ⊙ g; tanhCell (H) = tanh(cell); hidden (H) = o ⊙ tanhCell. Two passes (all
/// 4H activations, then the cell), each a loop of independent 8-lane iterations that overlap well; ~1.3× faster than
/// one fused loop whose iterations are long dependency chains. The reference the C cells (NeuralKernels' LSTMCell.h)
/// match bit for bit, and the path on architectures other than x86-64 (`cellForward`).
@inline(__always)
func lstmCellForward(
    gates: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
    cell: UnsafeMutablePointer<Float>, tanhCell: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
    H: Int
) {
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
    activate(0..<(2 * H), tanh: false)  // i, f
    activate((2 * H)..<(3 * H), tanh: true)  // g
    activate((3 * H)..<(4 * H), tanh: false)  // o
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
/// dGates (4H) = pre-activation gradients of i, f, g, o (written). 8 lanes at a time, then the tail. The C cells'
/// reference and the path off x86-64, as `lstmCellForward`.
@inline(__always)
func lstmCellBackward(
    gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, tanhCell: UnsafePointer<Float>,
    dHidden: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>,
    dGates: UnsafeMutablePointer<Float>, H: Int
) {
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

/// Everything an LSTM forward keeps for backward, sized for one (B,T), time-major, per layer k (input width I_k):
/// inputs (T+1,B,I_k+H), row (t,b) = [x_t, h_{t−1}] (row T holds only h_{T−1}); gates (T,B,4H) (activated; backward
/// overwrites them with their gradients); cell, tanhCell (T,B,H); and backward's dInputs, shaped like inputs, row (t,b)
/// = [dx_t, dh_{t−1}]. Then `output` (B,T,H), room for the top layer's hidden sequence batch-major, and dSeq (T,B,H)
/// (the top layer's dOutput, time-major), both made on first use; scratch: zeroRow (H) (stands in for a dOutput that is
/// all zero), dc (B,H), bias (4H) (bias_ih + bias_hh of the layer in progress, then its gradient), dWeights (I_k+H,4H)
/// (a layer's weight gradients, transposed), `packed` (a layer's weights packed for backward's `packedGemm`, sized on
/// first use).
final class LSTMCache {
    let inputs, gates, cell, tanhCell, dInputs: [FloatBuffer]
    let zeroRow, dc, bias, dWeights: FloatBuffer
    /// Made on first use, since most callers want neither (an agent's heads read only the last step); lazy, so touched
    /// only from the calling thread, never inside a share.
    private(set) lazy var output = FloatBuffer(batch * time * hidden)
    private(set) lazy var dSeq = FloatBuffer(time * batch * hidden)
    let packed = ScratchBuffer()

    private let batch, time, hidden, topWidth: Int

    init(_ lstm: LSTM, batch B: Int, time T: Int) {
        let H = lstm.hidden
        batch = B; time = T; hidden = H; topWidth = lstm.layers.last!.inputSize + H
        inputs = lstm.layers.map { FloatBuffer((T + 1) * B * ($0.inputSize + H)) }
        gates = lstm.layers.map { _ in FloatBuffer(T * B * 4 * H) }
        cell = lstm.layers.map { _ in FloatBuffer(T * B * H) }
        tanhCell = lstm.layers.map { _ in FloatBuffer(T * B * H) }
        dInputs = lstm.layers.map { FloatBuffer((T + 1) * B * ($0.inputSize + H)) }
        zeroRow = FloatBuffer(H)
        dc = FloatBuffer(B * H)
        bias = FloatBuffer(4 * H)
        dWeights = FloatBuffer(4 * H * (max(lstm.inputSize, H) + H))
    }

    /// The top layer's hidden sequence h_0…h_{T−1} (B,T,H) after a forward of batch B, copied batch-major into
    /// `output` (only callers that want it pay for the copy).
    func hiddenSequence(batch B: Int) -> FloatBuffer {
        let xh = UnsafePointer(inputs.last!.pointer), X = topWidth, H = hidden
        reorder(xh + B * X + (X - H), rowStride: X, rows: 0..<B, time, B, H, toBatchMajor: output.pointer)
        return output
    }
}

/// Float scratch that grows to the largest size asked for and keeps it (no allocation once warmed up).
final class ScratchBuffer {
    private(set) var pointer = allocateFloats(1)
    private var capacity = 1

    /// The buffer, with room for at least `count` floats (contents undefined after growing).
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            pointer = allocateFloats(count)
            capacity = count
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}
