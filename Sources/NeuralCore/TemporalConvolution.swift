/// The `cnn` encoder body: L stacked causal, dilated 1-D convolutions over time (a temporal convolutional network),
/// each followed by ReLU. Layer k has H output channels, kernel K, dilation 2^k, and sees steps t, t−d, …, t−(K−1)d of
/// the sequence below (zeros before the first step), so step t never depends on a later bar. The body's output is the
/// top layer's last step (B,H); its receptive field is 1 + (K−1)(2^L − 1) bars.
///
/// PyTorch equivalent of layer k: `nn.Conv1d(I_k, H, K, dilation=2**k, padding=(K-1)*2**k)` on (B,I_k,T), keeping the
/// first T outputs, then ReLU. Tensors `prefix.{k}.weight` (H,I_k,K) and `prefix.{k}.bias` (H), as an `nn.ModuleList`
/// called `prefix` names them (I_0 = I, I_k = H above).
///
/// Each layer runs as one gemm over an im2col matrix: cols (B·T, I_k·K) with cols[(b,t), i·K + j] = x[b, t − (K−1−j)·d,
/// i].
public struct TemporalConvolution: Sendable {
    public struct Layer: Sendable {
        public let inputSize: Int
        public let dilation: Int
        public let weight: TensorSlot
        public let bias: TensorSlot
    }

    public let inputSize: Int
    /// H, output channels of every layer.
    public let channels: Int
    /// K, taps per kernel.
    public let kernel: Int
    public let layers: [Layer]

    public init(
        _ prefix: String = "conv", inputSize: Int, channels: Int, kernel: Int, layers: Int,
        layout: inout ParameterLayout
    ) {
        precondition(layers >= 1 && kernel >= 1, "a temporal convolution needs at least one layer and one tap")
        self.inputSize = inputSize
        self.channels = channels
        self.kernel = kernel
        self.layers = (0..<layers).map { k in
            let i = k == 0 ? inputSize : channels
            return Layer(
                inputSize: i, dilation: 1 << k,
                weight: layout.add("\(prefix).\(k).weight", [channels, i, kernel]),
                bias: layout.add("\(prefix).\(k).bias", [channels]))
        }
    }

    /// PyTorch's Conv1d default: weight and bias U(−1/√(I·K), 1/√(I·K)).
    public func initialise(_ parameters: inout [Float], using rng: inout some RandomNumberGenerator) {
        for layer in layers {
            let bound = 1 / Float(layer.inputSize * kernel).squareRoot()
            initialiseUniform(&parameters, layer.weight, bound: bound, using: &rng)
            initialiseUniform(&parameters, layer.bias, bound: bound, using: &rng)
        }
    }

    /// For each layer k (x = input (B,T,I) for k = 0, layer k−1's output above):
    ///   cols (B·T, I_k·K) = im2col(x); out (B·T,H) = ReLU(cols · weightᵀ (I_k·K,H) + bias); hN[k] (B,H) = out[:, T−1].
    /// The top layer's out (B,T,H) is `cache.output[L−1]`. Each layer's product is a `Linear` over the B·T rows of
    /// cols, on the packed kernels with its weights packed once per write of the parameters (`packs`).
    func forward(
        _ p: UnsafePointer<Float>, input: UnsafePointer<Float>, batch B: Int, time T: Int,
        cache: ConvolutionCache, hN: UnsafeMutablePointer<Float>, packs: PackedWeights
    ) {
        let H = channels
        for (k, layer) in layers.enumerated() {
            let x = k == 0 ? input : UnsafePointer(cache.output[k - 1].pointer)
            let cols = cache.cols[k].pointer, out = cache.output[k].pointer
            imageToColumns(x, batch: B, time: T, width: layer.inputSize, dilation: layer.dilation, cols: cols)
            let dense = Linear(
                inFeatures: layer.inputSize * kernel, outFeatures: H, weight: layer.weight, bias: layer.bias)
            dense.forward(p, input: cols, rows: B * T, output: out, packs: packs) { rows in
                Activation.relu.forward(out + rows.lowerBound * H, count: rows.count * H)
            }
            for b in 0..<B { (hN + (k * B + b) * H).update(from: out + (b * T + T - 1) * H, count: H) }
        }
    }

    /// Mirrors `forward`, from the top layer down. dOutput (B,T,H): gradient w.r.t. the top layer's output sequence;
    /// dhN (L,B,H): gradients w.r.t. each layer's last step. Per layer: dPre = dOut ⊙ [out > 0];
    /// dWeight (H, I_k·K) += dPreᵀ · cols; dBias (H) += Σ dPre; dCols (B·T, I_k·K) = dPre · weight, scattered back
    /// (col2im) into the layer below's dOut, or added into dInput (B,T,I) for layer 0 when given.
    func backward(
        _ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, batch B: Int, time T: Int,
        cache: ConvolutionCache, dOutput: UnsafePointer<Float>, dhN: UnsafePointer<Float>,
        dInput: UnsafeMutablePointer<Float>?
    ) {
        let H = channels, dOut = cache.dOut.pointer, dPre = cache.dPre.pointer, dCols = cache.dCols.pointer
        dOut.update(from: dOutput, count: B * T * H)
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[k], width = layer.inputSize * kernel
            for b in 0..<B {
                let row = dOut + (b * T + T - 1) * H, d = dhN + (k * B + b) * H
                for j in 0..<H { row[j] += d[j] }
            }
            Activation.relu.backward(output: cache.output[k].pointer, dOutput: dOut, dInput: dPre, count: B * T * H)
            gemm(
                transA: true, m: H, n: width, k: B * T, a: dPre, b: cache.cols[k].pointer, accumulate: true,
                c: g + layer.weight.offset)
            addColumnSums(dPre, rows: B * T, columns: H, into: g + layer.bias.offset)
            let below: UnsafeMutablePointer<Float>? = k > 0 ? dOut : dInput
            guard let below else { continue }
            gemm(m: B * T, n: width, k: H, a: dPre, b: p + layer.weight.offset, c: dCols)
            if k > 0 { dOut.update(repeating: 0, count: B * T * H) }
            columnsToImage(dCols, batch: B, time: T, width: layer.inputSize, dilation: layer.dilation, into: below)
        }
    }

    /// cols (B·T, I·K) from x (B,T,I): cols[(b,t), i·K + j] = x[b, t − (K−1−j)·d, i], 0 before the first step.
    func imageToColumns(
        _ x: UnsafePointer<Float>, batch B: Int, time T: Int, width I: Int, dilation d: Int,
        cols: UnsafeMutablePointer<Float>
    ) {
        let K = kernel
        for b in 0..<B {
            for t in 0..<T {
                let row = cols + (b * T + t) * I * K
                for j in 0..<K {
                    let s = t - (K - 1 - j) * d
                    if s < 0 {
                        for i in 0..<I { row[i * K + j] = 0 }
                    } else {
                        let src = x + (b * T + s) * I
                        for i in 0..<I { row[i * K + j] = src[i] }
                    }
                }
            }
        }
    }

    /// The adjoint of `imageToColumns`: dx (B,T,I) += Σ over the taps that read each element of dCols (B·T, I·K).
    func columnsToImage(
        _ dCols: UnsafePointer<Float>, batch B: Int, time T: Int, width I: Int, dilation d: Int,
        into dx: UnsafeMutablePointer<Float>
    ) {
        let K = kernel
        for b in 0..<B {
            for t in 0..<T {
                let row = dCols + (b * T + t) * I * K
                for j in 0..<K {
                    let s = t - (K - 1 - j) * d
                    guard s >= 0 else { continue }
                    let dst = dx + (b * T + s) * I
                    for i in 0..<I { dst[i] += row[i * K + j] }
                }
            }
        }
    }
}

/// The `cnn` body of an `EncoderNetwork`: hN (L,B,H) holds each layer's last step; `dHiddenSequence` (zero unless
/// given) and dhN flow back.
extension TemporalConvolution: EncoderBody {
    func makeCache(batch: Int, time: Int) -> AnyObject? { ConvolutionCache(self, batch: batch, time: time) }

    func forward(_ p: UnsafePointer<Float>, _ ws: Workspace, packs: PackedWeights) {
        forward(
            p, input: ws.embedded.pointer, batch: ws.batch, time: ws.time, cache: ws.bodyCache as! ConvolutionCache,
            hN: ws.hN.pointer, packs: packs)
    }

    func backward(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ ws: Workspace, truncate: Int?) {
        ws.dEmbedded.zero()  // layer 0's columns add into it
        backward(
            p, g, batch: ws.batch, time: ws.time, cache: ws.bodyCache as! ConvolutionCache,
            dOutput: ws.sequenceGradient.pointer, dhN: ws.dhN.pointer, dInput: ws.dEmbedded.pointer)
    }

    func hiddenSequence(_ ws: Workspace) -> FloatBuffer { (ws.bodyCache as! ConvolutionCache).output.last! }
}

/// What a temporal convolution keeps for backward, for one (B,T): per layer cols (B·T, I_k·K) and output (B,T,H)
/// (after ReLU); scratch dOut, dPre (B,T,H) and dCols (B·T, max I_k·K).
final class ConvolutionCache {
    let cols, output: [FloatBuffer]
    let dOut, dPre, dCols: FloatBuffer

    init(_ conv: TemporalConvolution, batch B: Int, time T: Int) {
        cols = conv.layers.map { FloatBuffer(B * T * $0.inputSize * conv.kernel) }
        output = conv.layers.map { _ in FloatBuffer(B * T * conv.channels) }
        dOut = FloatBuffer(B * T * conv.channels)
        dPre = FloatBuffer(B * T * conv.channels)
        dCols = FloatBuffer(B * T * conv.kernel * conv.layers.map(\.inputSize).max()!)
    }
}
