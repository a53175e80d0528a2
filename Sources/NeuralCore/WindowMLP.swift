/// The `mlp` encoder body, the ablation without any sequence structure: the whole window x (B,T,I), read as one
/// flat row (B, T·I) per sequence, → L dense layers (T·I → H, then H → H), each followed by ReLU → (B,H).
/// Its size depends on the window T, so a network built for one T only takes workspaces of that T.
///
/// PyTorch equivalent: `nn.Sequential(nn.Flatten(), nn.Linear(T*I, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), …)`;
/// tensors `prefix.{k}.weight` (H, I_k) and `prefix.{k}.bias` (H), I_0 = T·I, I_k = H above.
public struct WindowMLP: Sendable {
    public let layers: [Linear]
    /// T, the window the first layer was sized for.
    public let time: Int
    public var hidden: Int { layers[0].outFeatures }

    public init(
        _ prefix: String = "mlp", inputSize: Int, time: Int, hidden: Int, layers: Int, layout: inout ParameterLayout
    ) {
        precondition(layers >= 1 && time >= 1, "a window MLP needs at least one layer and a positive window")
        self.time = time
        self.layers = (0..<layers).map { k in
            Linear(
                "\(prefix).\(k)", inFeatures: k == 0 ? time * inputSize : hidden, outFeatures: hidden, layout: &layout)
        }
    }

    public func initialise(_ parameters: inout [Float], using rng: inout some RandomNumberGenerator) {
        for layer in layers { layer.initialise(&parameters, using: &rng) }
    }

    /// out_k (B,H) = ReLU(Linear_k(out_{k−1})), out_{−1} = input (B, T·I); out_k is written to hN[k] (L,B,H). On the
    /// packed kernels, with the weights packed once per write of the parameters (`packs`).
    func forward(
        _ p: UnsafePointer<Float>, input: UnsafePointer<Float>, batch B: Int, hN: UnsafeMutablePointer<Float>,
        packs: PackedWeights
    ) {
        let H = hidden
        for (k, layer) in layers.enumerated() {
            let out = hN + k * B * H, x = k == 0 ? input : UnsafePointer(hN + (k - 1) * B * H)
            layer.forward(p, input: x, rows: B, output: out, packs: packs) { rows in
                Activation.relu.forward(out + rows.lowerBound * H, count: rows.count * H)
            }
        }
    }

    /// Mirrors `forward` from the top: dOut_k = dhN[k] (+ the gradient from layer k+1); dPre = dOut_k ⊙ [out_k > 0]
    /// (scratch dPre, dBelow (B,H)); the layers' gradients add into `g`; dInput (B, T·I) += layer 0's input gradient.
    func backward(
        _ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch B: Int,
        hN: UnsafePointer<Float>, dhN: UnsafePointer<Float>, dPre: UnsafeMutablePointer<Float>,
        dBelow: UnsafeMutablePointer<Float>, dInput: UnsafeMutablePointer<Float>?
    ) {
        let H = hidden
        dBelow.update(from: dhN + (layers.count - 1) * B * H, count: B * H)
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
            Activation.relu.backward(output: hN + k * B * H, dOutput: dBelow, dInput: dPre, count: B * H)
            if k > 0 {
                dBelow.update(from: dhN + (k - 1) * B * H, count: B * H)
                layers[k].backward(p, g, input: hN + (k - 1) * B * H, rows: B, dOutput: dPre, dInput: dBelow)
            } else {
                layers[k].backward(p, g, input: input, rows: B, dOutput: dPre, dInput: dInput)
            }
        }
    }
}

/// The `mlp` body of an `EncoderNetwork`: hN (L,B,H) holds each layer's output; it has no per-step states, so its
/// hidden sequence is all zero and `dHiddenSequence` is not read.
extension WindowMLP: EncoderBody {
    func makeCache(batch: Int, time: Int) -> AnyObject? {
        precondition(time == self.time, "this mlp network takes windows of \(self.time), not \(time)")
        return WindowMLPCache(batch: batch, time: time, hidden: hidden)
    }

    func forward(_ p: UnsafePointer<Float>, _ ws: Workspace, packs: PackedWeights) {
        forward(p, input: ws.embedded.pointer, batch: ws.batch, hN: ws.hN.pointer, packs: packs)
    }

    func backward(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ ws: Workspace, truncate: Int?) {
        let cache = ws.bodyCache as! WindowMLPCache
        ws.dEmbedded.zero()  // layer 0's backward adds into it
        backward(
            p, g, input: ws.embedded.pointer, batch: ws.batch, hN: ws.hN.pointer, dhN: ws.dhN.pointer,
            dPre: cache.dPre.pointer, dBelow: cache.dBelow.pointer, dInput: ws.dEmbedded.pointer)
    }

    func hiddenSequence(_ ws: Workspace) -> FloatBuffer { (ws.bodyCache as! WindowMLPCache).zeroSequence }
}

/// A window MLP's backward scratch for one (B,T): dPre, dBelow (B,H); and the all-zero (B,T,H) sequence it reports
/// as its hidden sequence, made on first use.
final class WindowMLPCache {
    let dPre, dBelow: FloatBuffer
    private let count: Int
    private(set) lazy var zeroSequence = FloatBuffer(count)

    init(batch B: Int, time T: Int, hidden H: Int) {
        dPre = FloatBuffer(B * H); dBelow = FloatBuffer(B * H); count = B * T * H
    }
}
