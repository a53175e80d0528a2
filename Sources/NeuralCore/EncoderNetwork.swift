/// The agents' shared network, an encoder with heads: x (B,T,F) → Market2Vec (F→E, activation, per bar) → the body
/// (`EncoderBody`; by default a stacked LSTM, E→H, L layers) → the last layer's final hidden state h (B,H) → heads
/// (each (B,A_k)). `kind` picks the body, each with the same input and output: `lstm` (`LSTM`), `cnn`
/// (`TemporalConvolution`: L causal convolutions, the top layer's last step) or `mlp` (`WindowMLP`: the flattened
/// window through L dense layers; built for one T, `window`). The cnn and mlp bodies keep no state:
/// `h0`/`c0` are not read, `cN`/`dh0`/`dc0` stay zero, `truncate` is ignored; `hN` (L,B,H) holds each layer's last
/// step (cnn) or output (mlp). For `mlp`, which has no per-step states, `hiddenSequence` stays zero and
/// `dHiddenSequence` is not read. Parameters and gradients are ONE flat
/// buffer each (`parameters`, `gradients`); every layer holds slots (name, shape, range) into them, named like
/// PyTorch's `state_dict` (`embed.weight`, `lstm.weight_ih_l0`, …, `head.bias`).
///
/// Activations live in a `Workspace` made once per batch shape (B,T); after a network's first forward (which sizes its
/// packed weights, `PackedWeights`), forward/backward allocate nothing.
///
///     var rng = Xoshiro256(seed: 1)
///     let net = EncoderNetwork(.init(features: F, embedding: 32, hidden: 64, layers: 1,
///                                    heads: [HeadSpec("policy", .linear(outputs: A)),
///                                            HeadSpec("value", .linear(outputs: 1))]),
///                              using: &rng)
///     var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 3e-4))
///     let train = net.makeWorkspace(batch: 64, time: 32)    // once; reuse every update
///     // fill train.input (B,T,F), batch-major: train.input[(b * T + t) * F + f] = …
///     net.forward(train)                                    // train.outputs[k] (B,A_k); zeroes every
///                                                           // train.dOutputs[k]
///     let loss = mseLoss(prediction: train.outputs[1].pointer, target: returns, count: 64,
///                        dPrediction: train.dOutputs[1].pointer)   // losses ADD their gradient into dOutputs
///     net.zeroGradients()
///     net.backward(train)                                   // gradients += ∂loss/∂parameters
///     net.clipGradients(maxNorm: 0.5)
///     net.updateParameters { adam.update(&$0, gradients: net.gradients) }   // in place
///
/// Acting: `let act = net.makeWorkspace(batch: 1, time: 32)`, fill `act.input`, `net.forward(act)`, read
/// `act.outputs[0]`. Statefully over chunks: set `h0`/`c0` (L,B,H) before forward, read `hN`/`cN` after; give
/// `dhN`/`dcN` before backward and read `dh0`/`dc0` after. All time steps: `hiddenSequence` (B,T,H) after forward; add
/// per-step gradients into `dHiddenSequence` before backward. Target network: `target.copyParameters(from: online)`.
/// Checkpoints: `try net.save(to: url, optimizer: adam)`, `try net.load(from: url, optimizer: &adam)` (safetensors).
///
/// Threads and bits: call `setBLASThreads(n)` once at start-up. NeuralCore splits large products and the LSTM's batch
/// into n shares of its own. Every product runs on the packed kernels, each element one chain of multiply-adds in a
/// fixed order, so results are bit-identical for the same seed whatever n, on either `MicroKernels` (tested for each
/// body); with the LSTM body a batch row's outputs are also the same whatever the other rows and the batch size.
/// Forward/backward of all networks are serialised by one process-wide lock, so drive networks from one thread; a
/// network is not `Sendable`.
public final class EncoderNetwork {
    public struct Configuration: Sendable, Codable, Equatable {
        /// F, features per bar (all assets).
        public var features: Int
        /// E, the Market2Vec embedding width.
        public var embedding: Int
        /// H, LSTM hidden units per layer.
        public var hidden: Int
        /// L, stacked LSTM layers.
        public var layers: Int = 1
        /// The embedding's activation.
        public var embeddingActivation: Activation = .relu
        /// The heads on the final hidden state, in output order.
        public var heads: [HeadSpec] = [HeadSpec("head", .linear(outputs: 1))]
        /// The body between the embedding and the heads.
        public var kind: EncoderKind = .lstm
        /// K, taps per convolution kernel (`cnn` only).
        public var kernel: Int = 3
        /// T the body is built for (`mlp` only; the other kinds take any T).
        public var window: Int = 0

        public init(
            features: Int, embedding: Int, hidden: Int, layers: Int = 1, embeddingActivation: Activation = .relu,
            heads: [HeadSpec] = [HeadSpec("head", .linear(outputs: 1))], kind: EncoderKind = .lstm,
            kernel: Int = 3, window: Int = 0
        ) {
            self.features = features; self.embedding = embedding; self.hidden = hidden; self.layers = layers
            self.embeddingActivation = embeddingActivation; self.heads = heads
            self.kind = kind; self.kernel = kernel; self.window = window
        }
    }

    public let configuration: Configuration
    public let embed: Market2Vec
    let body: any EncoderBody
    let heads: [Head]
    /// Every tensor, in `state_dict` order.
    public let tensors: [TensorSlot]
    /// All parameters, one flat buffer. Every write marks the packed weights out of date. Other modules write them
    /// through `updateParameters` only: the property is observed, so an `inout` access to it from outside NeuralCore
    /// would be a get and a set that copies the whole array first (an optimizer step would copy every parameter).
    public internal(set) var parameters: [Float] { didSet { packs.stale() } }
    /// Runs `body` on `parameters` in place, one write.
    public func updateParameters<R>(_ body: (inout [Float]) throws -> R) rethrows -> R { try body(&parameters) }
    /// Changes with every write of `parameters` (never back to an earlier value): while it stays the same, so do the
    /// parameters, and so does what the network computes from the same input (e.g. DQN's target values).
    public var parametersVersion: Int { packs.generation }
    /// The forward products' packed weights, used by every forward of this network, whichever network made the
    /// workspace (a target network runs on its online network's).
    let packs = PackedWeights()
    /// ∂loss/∂parameters, same layout; backward adds into it, `zeroGradients()` clears it.
    public var gradients: [Float]
    /// Parameters that are not trained (e.g. `encoderParameters` of a frozen pretrained encoder): backward leaves their
    /// gradients at zero, so clipping ignores them and Adam (no weight decay, zero moments) leaves them bit-identical.
    public var frozen: Range<Int> = 0..<0
    /// The embedding's and the body's parameters (`embed.*`, then `lstm.*`, `conv.*` or `mlp.*`): everything before the
    /// heads.
    public let encoderParameters: Range<Int>

    /// Builds the layers and initialises the parameters as PyTorch would, drawing from `rng` in `state_dict` order.
    public init(_ configuration: Configuration, using rng: inout some RandomNumberGenerator) {
        self.configuration = configuration
        var layout = ParameterLayout()
        embed = Market2Vec(
            "embed", features: configuration.features, embedding: configuration.embedding,
            activation: configuration.embeddingActivation, layout: &layout)
        let (E, H, L) = (configuration.embedding, configuration.hidden, configuration.layers)
        switch configuration.kind {
        case .lstm: body = LSTM("lstm", inputSize: E, hidden: H, layers: L, layout: &layout)
        case .cnn:
            body = TemporalConvolution(
                "conv", inputSize: E, channels: H, kernel: configuration.kernel, layers: L,
                layout: &layout)
        case .mlp:
            body = WindowMLP("mlp", inputSize: E, time: configuration.window, hidden: H, layers: L, layout: &layout)
        }
        encoderParameters = 0..<layout.count
        heads = configuration.heads.map { Head($0, hidden: configuration.hidden, layout: &layout) }
        tensors = layout.slots
        parameters = [Float](repeating: 0, count: layout.count)
        gradients = [Float](repeating: 0, count: layout.count)
        embed.initialise(&parameters, using: &rng)
        body.initialise(&parameters, using: &rng)
        for head in heads { for linear in head.linears { linear.initialise(&parameters, using: &rng) } }
    }

    /// The slot of the tensor called `name`, if any.
    public func tensor(named name: String) -> TensorSlot? { tensors.first { $0.name == name } }

    /// Buffers for batches of shape (B,T); make one per shape in use (e.g. training batch and batch-1 acting).
    public func makeWorkspace(batch: Int, time: Int) -> Workspace { Workspace(self, batch: batch, time: time) }

    /// Runs the network on `ws.input`; fills `ws.outputs`, `ws.hN`, `ws.cN`, `ws.hiddenSequence`, and zeroes the
    /// gradient inputs (`dOutputs`, `dHiddenSequence`, `dhN`, `dcN`) for the caller's loss to add into.
    public func forward(_ ws: Workspace) {
        precondition(ws.configuration == configuration, "workspace made for another network architecture")
        let B = ws.batch, T = ws.time, H = configuration.hidden, L = configuration.layers
        computeLock.lock()
        defer { computeLock.unlock() }
        if shareCount(B) > 1 { WorkerPool.shared.wakeAhead() }  // the body splits the batch after the embedding
        parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            embed.forward(
                p, input: ws.input.pointer, rows: B * T, output: ws.embedded.pointer, packs: packs)
            body.forward(p, ws, packs: packs)
            let top = ws.hN.pointer + (L - 1) * B * H
            for (k, head) in heads.enumerated() {
                head.forward(
                    p, hidden: top, batch: B, output: ws.outputs[k].pointer, scratch: ws.headScratch[k].pointer,
                    packs: packs)
            }
        }
        for d in ws.dOutputs { d.zero() }
        ws.clearSequenceGradient(); ws.dhN.zero(); ws.dcN.zero()
    }

    /// Backpropagates the gradients the caller put in `ws.dOutputs` (and optionally `dHiddenSequence`, `dhN`, `dcN`)
    /// through the last `forward(ws)`, ADDING into `gradients`; writes `ws.dh0`, `ws.dc0`. `truncate`: BPTT through
    /// only the last k steps (nil = all T).
    public func backward(_ ws: Workspace, truncate: Int? = nil) {
        precondition(ws.configuration == configuration, "workspace made for another network architecture")
        let B = ws.batch, T = ws.time, H = configuration.hidden, L = configuration.layers
        computeLock.lock()
        defer { computeLock.unlock() }
        if shareCount(B) > 1 { WorkerPool.shared.wakeAhead() }  // the body splits the batch after the heads
        parameters.withUnsafeBufferPointer { pb in
            gradients.withUnsafeMutableBufferPointer { gb in
                let p = pb.baseAddress!, g = gb.baseAddress!
                let top = ws.hN.pointer + (L - 1) * B * H, dTop = ws.dhN.pointer + (L - 1) * B * H
                for (k, head) in heads.enumerated() {
                    head.backward(
                        p, g, hidden: top, batch: B, dOutput: ws.dOutputs[k].pointer,
                        scratch: ws.headScratch[k].pointer, dHidden: dTop)
                }
                body.backward(p, g, ws, truncate: truncate)
                embed.backward(
                    p, g, input: ws.input.pointer, rows: B * T, output: ws.embedded.pointer,
                    dOutput: ws.dEmbedded.pointer, dPre: ws.dPre.pointer, dInput: nil, scratch: ws.embeddingScratch)
                if !frozen.isEmpty { (g + frozen.lowerBound).update(repeating: 0, count: frozen.count) }
            }
        }
    }

    /// Sets every gradient to zero (the one call that does).
    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// `clipGradientNorm(&gradients, maxNorm:)`; returns the norm before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float) -> Float { clipGradientNorm(&gradients, maxNorm: maxNorm) }

    /// The network's gradients and `extra` (those of parameters trained beside it) clipped together by their global
    /// norm, `clipGradientNorm(&gradients, &extra, maxNorm:)`; returns the norm before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float, with extra: inout [Float]) -> Float {
        clipGradientNorm(&gradients, &extra, maxNorm: maxNorm)
    }

    /// Copies all parameters from a network of the same architecture (target-network sync).
    public func copyParameters(from other: EncoderNetwork) {
        precondition(other.configuration == configuration, "copyParameters needs the same architecture")
        parameters.withUnsafeMutableBufferPointer { dst in
            other.parameters.withUnsafeBufferPointer { src in
                dst.baseAddress!.update(from: src.baseAddress!, count: src.count)
            }
        }
    }

    /// Index of the head called `name` in `outputs`/`dOutputs`.
    public func headIndex(named name: String) -> Int? { heads.firstIndex { $0.spec.name == name } }
}

/// A network's activations and gradient inputs for one batch shape (B,T). All buffers are allocated here, once.
public final class Workspace {
    public let configuration: EncoderNetwork.Configuration
    /// B, the rows in use: `capacity`, or fewer after `use(rows:)`.
    public private(set) var batch: Int
    /// The most rows the buffers hold: the batch the workspace was made for.
    public let capacity: Int
    public let time: Int
    /// x (B,T,F), batch-major; the caller fills it.
    public let input: FloatBuffer
    /// Initial states (L,B,H), zero unless the caller sets them.
    public let h0, c0: FloatBuffer
    /// Final states (L,B,H) after forward; `hN` row L−1 is the heads' input.
    public let hN, cN: FloatBuffer
    /// Per head, out (B,A_k) after forward.
    public let outputs: [FloatBuffer]
    /// Per head, ∂loss/∂out (B,A_k): zeroed by forward, added into by the caller's losses, read by backward.
    public let dOutputs: [FloatBuffer]
    /// Optional extra gradient w.r.t. the top layer's hidden state at every step (B,T,H); zero after forward. Take it
    /// from this property after each forward: forward re-zeroes it only if it was handed out since, and backward reads
    /// it only then (an LSTM body skips the T·B·H pass over a gradient that is all zero).
    public var dHiddenSequence: FloatBuffer {
        sequenceGradientGiven = true
        return sequenceGradient
    }
    /// Made on first use (only a caller that takes `dHiddenSequence`, or a body that always reads it, pays for it).
    private(set) lazy var sequenceGradient = FloatBuffer(capacity * time * configuration.hidden)
    /// Whether `dHiddenSequence` was handed out since `sequenceGradient` was last zeroed.
    private(set) var sequenceGradientGiven = false
    /// Optional gradient w.r.t. the final states (L,B,H); zeroed by forward (heads add into dhN's last layer).
    public let dhN, dcN: FloatBuffer
    /// ∂loss/∂initial states (L,B,H), written by backward.
    public let dh0, dc0: FloatBuffer
    /// The embedding's output (B,T,E), its gradient and the embedding's backward scratch.
    let embedded, dEmbedded, dPre: FloatBuffer
    let headScratch: [FloatBuffer]
    /// The embedding's backward operands (`Linear`), sized on first use.
    let embeddingScratch = ScratchBuffer()
    /// The network's body and what it keeps from forward for backward (`EncoderBody.makeCache`).
    let body: any EncoderBody
    let bodyCache: AnyObject?

    init(_ net: EncoderNetwork, batch B: Int, time T: Int) {
        precondition(B >= 1 && T >= 1, "batch and time must be positive")
        let c = net.configuration, H = c.hidden, L = c.layers, E = c.embedding
        configuration = c; batch = B; capacity = B; time = T
        input = FloatBuffer(B * T * c.features)
        h0 = FloatBuffer(L * B * H); c0 = FloatBuffer(L * B * H)
        hN = FloatBuffer(L * B * H); cN = FloatBuffer(L * B * H)
        dhN = FloatBuffer(L * B * H); dcN = FloatBuffer(L * B * H)
        dh0 = FloatBuffer(L * B * H); dc0 = FloatBuffer(L * B * H)
        outputs = c.heads.map { FloatBuffer(B * $0.outputs) }
        dOutputs = c.heads.map { FloatBuffer(B * $0.outputs) }
        embedded = FloatBuffer(B * T * E); dEmbedded = FloatBuffer(B * T * E); dPre = FloatBuffer(B * T * E)
        headScratch = net.heads.map { FloatBuffer($0.scratchCount(batch: B)) }
        body = net.body
        bodyCache = body.makeCache(batch: B, time: T)
    }

    /// Lays the workspace out for batch `rows` (1…`capacity`) from now on, as if it were made for it: the next forward
    /// runs on input rows 0..<rows only (e.g. the rows whose outputs are not known yet), and every buffer holds those
    /// rows. What the buffers held before is undefined. A row's outputs do not depend on the batch it runs in (see
    /// `EncoderNetwork`).
    public func use(rows: Int) {
        precondition(rows >= 1 && rows <= capacity, "a workspace of \(capacity) rows cannot use \(rows)")
        batch = rows
    }

    /// Zeroes `sequenceGradient` if `dHiddenSequence` handed it out since it was last zeroed (it starts zero).
    func clearSequenceGradient() {
        guard sequenceGradientGiven else { return }
        sequenceGradient.zero()
        sequenceGradientGiven = false
    }

    /// The top layer's hidden state at every step (B,T,H), valid after forward.
    public var hiddenSequence: FloatBuffer { body.hiddenSequence(self) }
}
