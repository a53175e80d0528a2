/// Which sequence model sits between the Market2Vec embedding (B,T,E) and the heads (B,H); encodes as its raw string.
public enum EncoderKind: String, Codable, Sendable, CaseIterable {
    /// Stacked LSTM, the final hidden state (`LSTM`).
    case lstm
    /// Causal dilated 1-D convolutions over time, the last step (`TemporalConvolution`).
    case cnn
    /// The flattened window through dense layers (`WindowMLP`), the ablation without recurrence.
    case mlp
}

/// The sequence model of an `EncoderNetwork` between the Market2Vec embedding (B,T,E) and the heads (B,H): `LSTM`,
/// `TemporalConvolution` or `WindowMLP`, one per `EncoderKind`. Its layers hold slots in the network's flat parameter
/// buffer; the network calls it once per forward and once per backward with the workspace of the batch (B,T).
protocol EncoderBody: Sendable {
    /// Draws the body's parameters as PyTorch initialises them, in `state_dict` order.
    func initialise(_ parameters: inout [Float], using rng: inout some RandomNumberGenerator)
    /// What forward keeps for backward for batches of shape (B,T), kept in the workspace as `bodyCache` (nil: none).
    func makeCache(batch: Int, time: Int) -> AnyObject?
    /// Reads `ws.embedded` (B,T,E); writes `ws.hN` (L,B,H), whose layer L−1 the heads read (and `ws.cN` if the body
    /// has cell states). `packs`: the network's packed weights (of `p`, whichever network made `ws`).
    func forward(_ p: UnsafePointer<Float>, _ ws: Workspace, packs: PackedWeights)
    /// Backpropagates `ws.dhN` (and `dHiddenSequence`, `dcN` where the body has them) through the last forward:
    /// the parameters' gradients add into `g`; the embedding's gradient is WRITTEN into `ws.dEmbedded`.
    /// `truncate`: BPTT through only the last k steps (bodies without recurrence ignore it).
    func backward(_ p: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ ws: Workspace, truncate: Int?)
    /// The top layer's output at every step (B,T,H) after forward.
    func hiddenSequence(_ ws: Workspace) -> FloatBuffer
}
