/// Which sequence model sits between the Market2Vec embedding (B,T,E) and the heads (B,H); encodes as its raw string.
public enum EncoderKind: String, Codable, Sendable, CaseIterable {
    /// Stacked LSTM, the final hidden state (`LSTM`).
    case lstm
    /// Causal dilated 1-D convolutions over time, the last step (`TemporalConvolution`).
    case cnn
    /// The flattened window through dense layers (`WindowMLP`), the ablation without recurrence.
    case mlp
}

/// A network's body, one of the `EncoderKind`s, with its layers' slots in the flat parameter buffer.
public enum EncoderBody: Sendable {
    case lstm(LSTM)
    case cnn(TemporalConvolution)
    case mlp(WindowMLP)

    public var kind: EncoderKind {
        switch self {
        case .lstm: .lstm
        case .cnn: .cnn
        case .mlp: .mlp
        }
    }
}
