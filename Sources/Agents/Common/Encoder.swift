import NeuralCore
import RLCore

// The body every agent shares: each bar's input row (the F features of that bar, then the observation's P extras)
// → Market2Vec embedding (F+P → E) → stacked LSTM (E → H, L layers) → the final hidden state (B,H) → the agent's heads.
// Shapes: B batch, T window, F features per bar, P extras per step, E embedding, H hidden, L layers, K discrete
// actions, A continuous action values.

/// The embedding's activation; encodes as its raw string.
public enum EncoderActivation: String, Codable, Sendable, CaseIterable {
    case relu, tanh, identity, sigmoid, leakyReLU

    /// NeuralCore's activation (leaky ReLU with slope 0.01, PyTorch's default).
    public var activation: Activation {
        switch self {
        case .relu: .relu
        case .tanh: .tanh
        case .identity: .identity
        case .sigmoid: .sigmoid
        case .leakyReLU: .leakyReLU(slope: 0.01)
        }
    }
}

/// The shared Market2Vec + LSTM (or CNN, or MLP) encoder's size (the input width F+P comes from the environment).
public struct EncoderConfig: Codable, Equatable, Sendable {
    /// The body after the embedding: `lstm` (stacked LSTM), `cnn` (causal dilated 1-D convolutions over the window,
    /// last step) or `mlp` (the flattened window through dense layers; the ablation without recurrence).
    public var kind: EncoderKind = .lstm
    /// K: taps per convolution kernel (`cnn` only; at most `AgentLimits.kernel`).
    public var kernel: Int = 3
    /// E: Market2Vec embedding width (at most `AgentLimits.width`).
    public var embedding: Int = 32
    /// H: LSTM hidden units per layer (at most `AgentLimits.width`).
    public var hidden: Int = 64
    /// L: stacked LSTM, convolution or dense layers (at most `AgentLimits.layers`).
    public var layers: Int = 1
    /// Activation of the embedding.
    public var activation: EncoderActivation = .relu
    /// A `tradesim pretrain` run (id, name, or a name prefix: the latest finished pretrain run it matches) in the
    /// experiment's store whose embedding and LSTM weights the agent starts from (`""`: random initialisation). The
    /// run's input width and sizes must equal this encoder's.
    public var from: String = ""
    /// With `from`: keep the pretrained embedding and LSTM fixed and train only the agent's heads.
    public var freeze: Bool = false

    public init() {}

    public init(
        embedding: Int, hidden: Int, layers: Int, activation: EncoderActivation = .relu,
        kind: EncoderKind = .lstm, kernel: Int = 3
    ) {
        self.embedding = embedding; self.hidden = hidden; self.layers = layers; self.activation = activation
        self.kind = kind; self.kernel = kernel
    }

    /// The network: input width F+P over windows of T bars, this body, then `heads` on the body's output (B,H).
    public func network(
        inputWidth: Int, window: Int, heads: [HeadSpec],
        using rng: inout some RandomNumberGenerator
    ) -> EncoderNetwork {
        precondition(embedding >= 1 && hidden >= 1 && layers >= 1 && kernel >= 1, "encoder sizes must be positive")
        let net = EncoderNetwork(
            .init(
                features: inputWidth, embedding: embedding, hidden: hidden, layers: layers,
                embeddingActivation: activation.activation, heads: heads, kind: kind,
                kernel: kernel, window: window), using: &rng)
        if freeze { net.frozen = net.encoderParameters }
        return net
    }

    /// Checks the sizes (each at least 1 and at most its `AgentLimits` bound) and `from` / `freeze` (freeze needs a
    /// pretrained encoder to keep).
    public func validate() throws {
        let sizes = [
            ("embedding", embedding, AgentLimits.width), ("hidden", hidden, AgentLimits.width),
            ("layers", layers, AgentLimits.layers), ("kernel", kernel, AgentLimits.kernel),
        ]
        for (key, size, bound) in sizes {
            try expect(size >= 1, "encoder.\(key) must be at least 1, not \(size)")
            try expect("encoder.\(key)", size, atMost: bound)
        }
        if freeze && from.isEmpty {
            throw AgentConfigError(
                "encoder.freeze: true needs encoder.from (a pretrain run); a random encoder cannot be frozen")
        }
    }
}

extension EncoderConfig {
    /// A lower bound of the bytes the network takes for F+P = `inputWidth` inputs per bar, windows of T = `window`
    /// bars and batches of B = `batch` rows: four floats per weight of the embedding and the body (the weight, its
    /// gradient and Adam's two moments) and, per batch row, the input and embedded window and what the body keeps for
    /// backward (the LSTM, per step and layer: the gates, the cell and its tanh, h and its gradient, 8H; the CNN each
    /// layer's outputs; the MLP each layer's output).
    public func minimumBytes(inputWidth: Int, window: Int, batch: Int) -> Double {
        let (F, T, B) = (Double(inputWidth), Double(window), Double(batch))
        let (E, H, L, K) = (Double(embedding), Double(hidden), Double(layers), Double(kernel))
        let (body, kept): (Double, Double) =
            switch kind {
            case .lstm: (4 * H * (E + H) + (L - 1) * 4 * H * (H + H), T * 8 * H * L)
            case .cnn: (K * H * (E + (L - 1) * H), T * H * L)
            case .mlp: (H * (T * E + (L - 1) * H), H * L)
            }
        return 4 * (4 * (F * E + body) + B * (T * (F + E) + kept))
    }

    /// Throws unless `minimumBytes` fit in this machine's memory, naming the sizes.
    public func checkMemory(inputWidth: Int, window: Int, batch: Int) throws {
        try expectMemory(
            minimumBytes(inputWidth: inputWidth, window: window, batch: batch),
            "encoder \(kind.rawValue) with embedding \(embedding), hidden \(hidden) and \(layers) layers",
            "for \(inputWidth) inputs a bar over windows of \(window) bars in batches of \(batch)")
    }
}

/// What an agent must know about its environment to build its networks.
public struct AgentSpec: Codable, Equatable, Sendable {
    /// T: bars in an observation window.
    public var window: Int
    /// F: features per bar.
    public var features: Int
    /// P: per-step extras (e.g. portfolio weights) appended to every bar's row.
    public var extras: Int
    /// K: discrete actions (0 when the environment takes only continuous actions).
    public var discreteActions: Int
    /// A: values in a continuous action.
    public var continuousActions: Int

    public init(window: Int, features: Int, extras: Int, discreteActions: Int, continuousActions: Int) {
        self.window = window; self.features = features; self.extras = extras
        self.discreteActions = discreteActions; self.continuousActions = continuousActions
    }

    /// Reads the shape from a copy of `env` reset with seed 0 (the environment passed in is not touched).
    public init<Env: AgentEnvironment>(of env: Env) {
        var copy = env
        let o = copy.reset(seed: 0)
        self.init(
            window: o.window, features: o.width, extras: o.extras.count,
            discreteActions: env.discreteActionCount, continuousActions: env.continuousActionCount)
    }

    /// F + P: the network's input width per bar.
    public var inputWidth: Int { features + extras }
}

/// Writes one observation into row b of a network input x (B,T,F+P): for each of the T bars of the window,
/// the F features of the bar, then the P extras. `features` is the shared (D,F) matrix; the window is rows
/// `bar−T+1 … bar`.
@inlinable
func fillInputRow(
    _ input: UnsafeMutablePointer<Float>, row b: Int, features: UnsafePointer<Float>, bar: Int,
    window T: Int, width F: Int, extras: UnsafePointer<Float>?, extrasCount P: Int
) {
    let W = F + P, out = input + b * T * W, source = features + (bar - T + 1) * F
    // without extras the window is the matrix's rows as they are; with them, element by element (a `memmove` call per
    // bar cost more than its few floats)
    guard P > 0, let extras else { return out.update(from: source, count: T * F) }
    for t in 0..<T {
        let row = out + t * W, bar = source + t * F
        for j in 0..<F { row[j] = bar[j] }
        for p in 0..<P { row[F + p] = extras[p] }
    }
}

/// Fills rows 0..<B of `ws.input` from B stored states (bars (B), extras (B,P)) over the shared feature matrix.
/// Shapes: ws.input (B,T,F+P); `rows[i]` picks the stored entry for batch row i.
func fillInput(
    _ ws: Workspace, features: [Float], spec: AgentSpec, bars: UnsafePointer<Int>, extras: UnsafePointer<Float>?,
    rows: UnsafePointer<Int>, count B: Int
) {
    precondition(
        B <= ws.batch && ws.time == spec.window,
        "workspace (\(ws.batch),\(ws.time)) cannot take \(B) windows of \(spec.window)")
    let P = spec.extras
    // Split across NeuralCore's threads, which would otherwise wait for this copy (B·T·(F+P) floats). The stored
    // entries are random picks from a large buffer: each share reads all of its picks first, so that their cache
    // misses overlap instead of each waiting behind the previous row's copy.
    features.withUnsafeBufferPointer { f in
        forEachShare(B) { share in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: share.count) { picked in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: max(share.count * P, 1)) { pickedExtras in
                    for (j, i) in share.enumerated() {
                        let k = rows[i]
                        picked[j] = bars[k]
                        for p in 0..<P { pickedExtras[j * P + p] = extras![k * P + p] }
                    }
                    for (j, i) in share.enumerated() {
                        fillInputRow(
                            ws.input.pointer, row: i, features: f.baseAddress!, bar: picked[j], window: spec.window,
                            width: spec.features, extras: pickedExtras.baseAddress! + j * P, extrasCount: P)
                    }
                }
            }
        }
    }
}

/// Fills rows 0..<B of `ws.input` from B observations (one forward for B environments).
func fillInput<O: WindowObservation>(_ ws: Workspace, observations: [O], spec: AgentSpec, scratch: inout [Float]) {
    precondition(observations.count <= ws.batch && ws.time == spec.window, "workspace too small for the observations")
    let P = spec.extras
    if scratch.count < P { scratch = [Float](repeating: 0, count: P) }
    for (i, o) in observations.enumerated() {
        precondition(
            o.window == spec.window && o.width == spec.features && o.extras.count == P,
            "observation (T \(o.window), F \(o.width), P \(o.extras.count)) does not match the agent's \(spec)")
        for p in 0..<P { scratch[p] = Float(o.extras[p]) }
        o.features.withUnsafeBufferPointer { f in
            scratch.withUnsafeBufferPointer { e in
                fillInputRow(
                    ws.input.pointer, row: i, features: f.baseAddress!, bar: o.bar, window: o.window,
                    width: o.width, extras: e.baseAddress, extrasCount: P)
            }
        }
    }
}

/// Workspaces of one network keyed by batch size, made once each (the window T is fixed by the spec).
final class WorkspacePool {
    let network: EncoderNetwork
    let time: Int
    private var byBatch: [Int: Workspace] = [:]

    init(_ network: EncoderNetwork, time: Int) { self.network = network; self.time = time }

    func callAsFunction(batch: Int) -> Workspace {
        if let ws = byBatch[batch] { return ws }
        let ws = network.makeWorkspace(batch: batch, time: time)
        byBatch[batch] = ws
        return ws
    }
}

extension AgentConfig {
    /// Rows of the largest batch the networks run on: DQN's update batch (or its environments, acting), a PPO
    /// minibatch, an A2C rollout; REINFORCE's chunks follow its episodes, so one row stands for them.
    var largestBatch: Int {
        switch self {
        case .dqn(let c): max(c.batchSize, c.numEnvs)
        case .reinforce: 1
        case .a2c(let c): c.numEnvs * c.nSteps
        case .ppo(let c): max(min(c.minibatchSize, c.numEnvs * c.nSteps), c.numEnvs)
        }
    }

    /// Throws unless the networks fit in this machine's memory on an environment of `spec` (`EncoderConfig.checkMemory`
    /// for the largest batch).
    public func checkMemory(for spec: AgentSpec) throws {
        try encoder.checkMemory(inputWidth: spec.inputWidth, window: spec.window, batch: largestBatch)
    }

    /// The agent's encoder config.
    public var encoder: EncoderConfig {
        switch self {
        case .dqn(let c): c.encoder
        case .reinforce(let c): c.encoder
        case .a2c(let c): c.encoder
        case .ppo(let c): c.encoder
        }
    }
}

extension Agent {
    /// Copies the embedding and body tensors (`embed.*`, then `lstm.*`, `conv.*` or `mlp.*`) of `source` into every
    /// network of the agent (the heads keep their initialisation). Throws an `AgentConfigError` when a tensor is
    /// missing or its shape differs (another body, input width or encoder size than the agent's config).
    public func loadEncoder(from source: EncoderNetwork) throws {
        for net in networks {
            let encoder = net.tensors.filter { net.encoderParameters.contains($0.range.lowerBound) }
            for t in encoder {
                guard let s = source.tensor(named: t.name), s.shape == t.shape else {
                    let have = source.tensor(named: t.name).map { "\($0.shape)" } ?? "missing"
                    throw AgentConfigError(
                        "pretrained encoder: tensor \(t.name) is \(have), the agent needs "
                            + "\(t.shape) (same environment width and encoder sizes?)")
                }
                net.updateParameters { $0.replaceSubrange(t.range, with: source.parameters[s.range]) }
            }
        }
    }
}

/// Fills rows 0..<B of `ws.input` (B,T,F+P) with the windows ending at `bars` (B) of the shared (D,F) `features`, the P
/// extras of every bar set to 0 (a flat book): the agents' input for supervised pretraining.
public func fillWindows(_ ws: Workspace, features: [Float], spec: AgentSpec, bars: [Int]) {
    precondition(
        bars.count <= ws.batch && ws.time == spec.window,
        "workspace (\(ws.batch),\(ws.time)) cannot take \(bars.count) windows of \(spec.window)")
    let zeros = [Float](repeating: 0, count: max(spec.extras, 1))
    features.withUnsafeBufferPointer { f in
        zeros.withUnsafeBufferPointer { z in
            for (i, bar) in bars.enumerated() {
                fillInputRow(
                    ws.input.pointer, row: i, features: f.baseAddress!, bar: bar, window: spec.window,
                    width: spec.features, extras: z.baseAddress, extrasCount: spec.extras)
            }
        }
    }
}
