import Agents
import Foundation
import MarketData
import NeuralCore
import RLCore
import RunStore
import TradingEnv

extension EventLabelConfig: Config {}

/// `experiments/NAME.yaml` for `tradesim pretrain`: supervised training of the agents' encoder (Market2Vec → LSTM over
/// the window, built by `EncoderConfig` exactly as the agents build it) on an event label (`EventLabels`).
public struct PretrainSpec: Config {
    /// The environment file (data, features, window, costs), relative to this file's folder.
    public var environment: String = "../environments/sp500-daily.yaml"
    /// The encoder's sizes (`from` and `freeze` are for agents and must stay unset here).
    public var encoder: EncoderConfig = EncoderConfig()
    /// The event: target series, up / down fractions, horizon, 2 or 3 classes.
    public var labels: EventLabelConfig = EventLabelConfig()
    /// Optimizer steps (minibatches drawn uniformly from the labelled train bars; at most `ExperimentSpec.maxSteps`).
    public var steps: Int = 2_000
    /// Windows per minibatch.
    public var batch: Int = 64
    /// Adam learning rate.
    public var learningRate: Double = 1e-3
    /// Gradient-norm clip (0: none).
    public var maxGradNorm: Double = 1
    /// Seed of the initialisation and the minibatches.
    public var seed: Int = 1
    /// Splits reported after training (validation picks the trading threshold; add `test` only for the final look).
    public var evaluateOn: [Split] = [.validation]
    /// The run store, relative to the working directory.
    public var store: String = "runs/tradesim.sqlite"
    /// The folder of the runs' checkpoint folders, relative to the working directory (empty: `checkpoints/` beside
    /// the store file).
    public var checkpoints: String = ""

    public init() {}

    /// Decodes `path` strictly and checks the values (errors name the file and key).
    public static func load(_ path: String) throws -> PretrainSpec {
        let spec = try StrictYAML.decode(PretrainSpec.self, file: path)
        func bad(_ key: String, _ why: String) -> ConfigError { ConfigError("\(path): key '\(key)' \(why)") }
        guard spec.steps > 0 else { throw bad("steps", "must be positive") }
        guard spec.steps <= ExperimentSpec.maxSteps else {
            throw bad("steps", "must be at most \(ExperimentSpec.maxSteps), not \(spec.steps)")
        }
        guard spec.batch > 0 else { throw bad("batch", "must be positive") }
        guard spec.learningRate > 0, spec.learningRate.isFinite else { throw bad("learningRate", "must be positive") }
        guard spec.maxGradNorm >= 0 else { throw bad("maxGradNorm", "must be ≥ 0") }
        guard spec.seed >= 0 else { throw bad("seed", "must be ≥ 0") }
        guard spec.encoder.from.isEmpty, !spec.encoder.freeze else {
            throw bad("encoder", "'from' and 'freeze' are agent keys; a pretrain run starts from a random encoder")
        }
        do { try spec.encoder.validate() } catch { throw ConfigError("\(path): \(error)") }  // the sizes, as agents
        try refusePassword(inStore: spec.store, of: path)
        return spec
    }
}

/// The scores of one split after pretraining.
public struct PretrainReport: Codable, Sendable {
    public var split: Split
    /// Labelled bars scored.
    public var samples: Int
    public var logLoss: Double
    /// Log loss of always predicting the train split's class frequencies.
    public var baseRateLogLoss: Double
    public var accuracy: Double
    /// Accuracy of always predicting the train split's most frequent class.
    public var baseRateAccuracy: Double
    /// ROC AUC of p(up first) against "up first" (nil when the split has one class only).
    public var rocAUC: Double?
    /// Long the target (its weights) when p(up first) > `threshold`, flat otherwise, with the environment's costs.
    public var threshold: Double
    public var trading: EpisodeSummary
    /// Buy-and-hold of the environment over the same bars.
    public var buyAndHold: EpisodeSummary

    /// One line for the terminal.
    public var line: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        func pct(_ x: Double) -> String { String(format: "%+.2f%%", 100 * x) }
        return
            "\(split.rawValue): \(samples) bars, log loss \(f(logLoss)) (base rate \(f(baseRateLogLoss))), accuracy "
            + "\(f(accuracy)) (base rate \(f(baseRateAccuracy))), ROC AUC \(rocAUC.map(f) ?? "n/a"); long when p > "
            + "\(f(threshold)): return \(pct(trading.metrics.totalReturn)), Sharpe "
            + "\(trading.metrics.sharpe.map(f) ?? "n/a"), exposure \(f(trading.exposure)), costs "
            + "\(String(format: "%.0f", trading.costs)) (buy-and-hold \(pct(buyAndHold.metrics.totalReturn)), "
            + "Sharpe \(buyAndHold.metrics.sharpe.map(f) ?? "n/a"))"
    }
}

/// What `runPretrain` produced.
public struct PretrainOutcome {
    public var run: RunRecord
    /// Mean training loss of the first and of the last 10% of the steps.
    public var firstLoss: Double
    public var lastLoss: Double
    public var reports: [PretrainReport]
}

/// The agent kind of pretrain runs in the run store (`run.agent`).
public let pretrainRunKind = "pretrain"

/// The non-tensor part of a pretrain checkpoint: enough to rebuild the network around the weights.
struct PretrainCheckpoint: Codable {
    static let file = "pretrain.json"
    static let network = "network.safetensors"
    var architecture: EncoderNetwork.Configuration
    var spec: AgentSpec
    var labels: EventLabelConfig
}

/// A loaded pretrain setup: data, labels, the agents' input shape and the bars usable per split.
struct PretrainData {
    let setup: MarketSetup
    let labels: EventLabels
    let spec: AgentSpec
    /// Output width of the event head: 1 logit (binary, BCE) or 3 (softmax cross-entropy).
    var outputs: Int { labels.config.classes == 2 ? 1 : 3 }

    init(environment path: String, labels config: EventLabelConfig, file: String) throws {
        setup = try MarketSetup(path: path)
        do {
            labels = try EventLabels.compute(setup.dataset.panel, side: setup.dataset.side, config: config)
        } catch let e as MarketDataError {
            throw ConfigError("\(file): \(e.description)")
        }
        spec = AgentSpec(of: try setup.environment(.train))
    }

    /// Bars of `split` with a full window: all of them (for trading) or only the labelled ones (for the scores).
    func bars(_ split: Split, labelled: Bool) throws -> Range<Int> {
        let range = setup.bars(of: split)
        let first = try setup.environment(split).firstBar
        let end = labelled ? labels.labelledBars(in: range).upperBound : range.upperBound - 1
        return first..<max(first, end)
    }

    /// p(class) (n, C) for each bar: sigmoid of the logit as [1 − p, p] for 2 classes, softmax for 3.
    func probabilities(_ net: EncoderNetwork, bars: [Int]) -> [Double] {
        let classes = labels.config.classes, chunk = 256
        let ws = net.makeWorkspace(batch: chunk, time: spec.window)
        var out: [Double] = []
        out.reserveCapacity(bars.count * classes)
        let features = setup.dataset.observations.values
        for start in stride(from: 0, to: bars.count, by: chunk) {
            let part = Array(bars[start..<min(start + chunk, bars.count)])
            fillWindows(ws, features: features, spec: spec, bars: part)
            net.forward(ws)
            let o = ws.outputs[0].pointer
            for b in 0..<part.count {
                if classes == 2 {
                    let p = 1 / (1 + exp(-Double(o[b])))
                    out += [1 - p, p]
                } else {
                    let row = (0..<3).map { Double(o[b * 3 + $0]) }
                    let m = row.max()!, e = row.map { exp($0 - m) }, s = e.reduce(0, +)
                    out += e.map { $0 / s }
                }
            }
        }
        return out
    }
}

/// `tradesim pretrain`: trains the encoder with an event head on the train split's labelled bars, scores each
/// `evaluateOn` split (log loss, accuracy, ROC AUC against the base rates) and the P&L of trading the prediction
/// (threshold chosen on validation only), and stores the run (kind `pretrain`) with its checkpoint and SHA-256 rows.
public func runPretrain(
    _ path: String, storePath: String? = nil, steps: Int? = nil,
    progress: (TrainingProgress) -> Void = { _ in }
) throws -> PretrainOutcome {
    var spec = try PretrainSpec.load(path)
    if let steps { spec.steps = steps }
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let folder = (path as NSString).deletingLastPathComponent
    let environmentPath =
        spec.environment.hasPrefix("/") || folder.isEmpty ? spec.environment : folder + "/" + spec.environment
    let data = try PretrainData(environment: environmentPath, labels: spec.labels, file: path)
    let trainBars = Array(try data.bars(.train, labelled: true))
    guard trainBars.count >= spec.batch else {
        throw ConfigError(
            "\(path): only \(trainBars.count) labelled train bars (after the warm-up, the window and the last "
                + "\(spec.labels.horizon) bars), fewer than batch \(spec.batch)"
        )
    }
    do {
        try spec.encoder.checkMemory(inputWidth: data.spec.inputWidth, window: data.spec.window, batch: spec.batch)
    } catch let error as AgentConfigError {
        throw ConfigError("\(path): \(error)")
    }
    let store = try RunStore(path: storePath ?? spec.store)
    let checkpoints = try checkpointRoot(spec.checkpoints, store: store)
    let resolved = PretrainResolved(
        pretrain: spec, environment: data.setup.spec, environmentFolder: absolutePath(data.setup.folder))
    let json = try resolved.json()
    let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    let run = try store.createRun(
        experiment: name, agent: pretrainRunKind, seed: Int64(spec.seed), experimentYAML: text,
        configJSON: json, configHash: fnv1aHex(json), codeVersion: tradesimVersion)
    let runId = run.id!
    do {
        var rng = Xoshiro256(seed: UInt64(spec.seed))
        let net = spec.encoder.network(
            inputWidth: data.spec.inputWidth, window: data.spec.window,
            heads: [HeadSpec("event", .linear(outputs: data.outputs))], using: &rng)
        var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: Float(spec.learningRate)))
        let ws = net.makeWorkspace(batch: spec.batch, time: data.spec.window)
        let features = data.setup.dataset.observations.values
        var batchBars = [Int](repeating: 0, count: spec.batch)
        var targets = [Float](repeating: 0, count: spec.batch), classTargets = [Int](repeating: 0, count: spec.batch)
        var losses: [Double] = []
        var pending: [MetricRecord] = []
        let start = Date(), logEvery = max(1, spec.steps / 100)
        var runningLoss = 0.0
        for step in 1...spec.steps {
            for b in 0..<spec.batch {
                batchBars[b] = trainBars[Int(rng.next() % UInt64(trainBars.count))]
                let y = data.labels.values[batchBars[b]]
                targets[b] = Float(y); classTargets[b] = y
            }
            fillWindows(ws, features: features, spec: data.spec, bars: batchBars)
            net.forward(ws)
            let loss: Float
            if data.outputs == 1 {
                loss = binaryCrossEntropyWithLogits(
                    logits: ws.outputs[0].pointer, targets: targets, count: spec.batch,
                    dLogits: ws.dOutputs[0].pointer)
            } else {
                loss = softmaxCrossEntropy(
                    logits: ws.outputs[0].pointer, targets: classTargets, batch: spec.batch,
                    classes: 3, dLogits: ws.dOutputs[0].pointer)
            }
            net.zeroGradients()
            net.backward(ws)
            if spec.maxGradNorm > 0 { net.clipGradients(maxNorm: Float(spec.maxGradNorm)) }
            net.updateParameters { adam.update(&$0, gradients: net.gradients) }
            losses.append(Double(loss))
            runningLoss += Double(loss)
            if step % logEvery == 0 || step == spec.steps {
                let n = step % logEvery == 0 ? logEvery : step % logEvery
                let wall = Date().timeIntervalSince(start)
                pending.append(
                    MetricRecord(
                        runId: runId, globalStep: Int64(step), key: "losses/event", value: runningLoss / Double(n),
                        wallTime: Date().timeIntervalSince1970))
                progress(
                    TrainingProgress(
                        run: run.name, step: step, total: spec.steps, stepsPerSecond: Double(step) / max(wall, 1e-9),
                        lastEpisodeReturn: nil, loss: runningLoss / Double(n)))
                runningLoss = 0
            }
        }
        try store.appendMetrics(pending)
        try savePretrainCheckpoint(
            net, adam: adam, data: data,
            directory: URL(fileURLWithPath: checkpoints)
                .appendingPathComponent(run.name).appendingPathComponent("step-\(spec.steps)"), runId: runId,
            step: spec.steps, store: store)
        let reports = try scorePretrained(
            net, data: data, splits: spec.evaluateOn, runId: runId, step: spec.steps, store: store)
        try store.finishRun(runId)
        let tenth = max(1, losses.count / 10)
        return PretrainOutcome(
            run: try store.run(id: runId), firstLoss: losses.prefix(tenth).reduce(0, +) / Double(tenth),
            lastLoss: losses.suffix(tenth).reduce(0, +) / Double(tenth), reports: reports)
    } catch {
        try? store.failRun(runId, message: "\(error)")
        throw error
    }
}

/// Writes the network (weights and Adam moments) and `pretrain.json`, then records each file with its SHA-256.
func savePretrainCheckpoint(
    _ net: EncoderNetwork, adam: Adam, data: PretrainData, directory: URL, runId: Int64, step: Int,
    store: RunStore
) throws {
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try net.save(to: directory.appendingPathComponent(PretrainCheckpoint.network), optimizer: adam)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(
            PretrainCheckpoint(architecture: net.configuration, spec: data.spec, labels: data.labels.config)
        )
        .write(to: directory.appendingPathComponent(PretrainCheckpoint.file), options: .atomic)
    } catch {
        throw CheckpointError("\(directory.path): cannot write the checkpoint (\(fileSystemReason(error)))")
    }
    for name in [PretrainCheckpoint.file, PretrainCheckpoint.network] {
        let file = directory.appendingPathComponent(name).path
        try store.addCheckpoint(runId: runId, globalStep: Int64(step), file: file, sha256: try sha256Hex(ofFile: file))
    }
}

/// Scores `splits` (validation first, whatever the order given, since it picks the threshold), logs
/// `pretrain/{split}/…` metrics and the trading episode of each split.
func scorePretrained(
    _ net: EncoderNetwork, data: PretrainData, splits: [Split], runId: Int64, step: Int,
    store: RunStore
) throws -> [PretrainReport] {
    let classes = data.labels.config.classes
    let trainLabels = try data.bars(.train, labelled: true).map { data.labels.values[$0] }
    let prior = ClassificationMetrics.frequencies(trainLabels, classes: classes)
    let majority = prior.indices.max { prior[$0] < prior[$1] || (prior[$0] == prior[$1] && $0 > $1) }!
    // Trading: long the target's weights when p(up first) > threshold; the threshold maximises the validation return.
    func upProbabilities(_ split: Split) throws -> [Int: Double] {
        let bars = Array(try data.bars(split, labelled: false))
        let p = data.probabilities(net, bars: bars)
        return Dictionary(uniqueKeysWithValues: bars.enumerated().map { ($1, p[$0 * classes + 1]) })
    }
    func trade(_ split: Split, _ pUp: [Int: Double], threshold: Double) throws -> EpisodeSummary {
        var env = try data.setup.environment(split) { $0.episode.mode = .whole }
        let flat = [Double](repeating: 0, count: data.labels.weights.count)
        return runEpisode(&env, seed: 0, keepEvery: 0) { o in
            (pUp[o.bar, default: 0] > threshold ? .weights(data.labels.weights) : .weights(flat), 0)
        }.summary
    }
    var threshold = 0.5
    if !data.setup.bars(of: .validation).isEmpty {
        let pUp = try upProbabilities(.validation)
        let ups = pUp.values.sorted()
        // Candidates: 0.5 and the deciles of validation p(up); ties keep the first (lowest) candidate.
        var candidates = [0.5]
        if !ups.isEmpty { for q in 1...9 { candidates.append(ups[min(ups.count - 1, ups.count * q / 10)]) } }
        var best = -Double.infinity
        for c in candidates.sorted() {
            let r = try trade(.validation, pUp, threshold: c).metrics.totalReturn
            if r > best { best = r; threshold = c }
        }
    }
    let order = splits.filter { $0 == .validation } + splits.filter { $0 != .validation }
    return try order.map { split in
        let bars = Array(try data.bars(split, labelled: true))
        guard !bars.isEmpty else {
            throw ConfigError("\(data.setup.path): the \(split.rawValue) split has no labelled bars")
        }
        let labels = bars.map { data.labels.values[$0] }
        let p = data.probabilities(net, bars: bars)
        let basePredictions = Array(repeating: prior, count: labels.count).flatMap { $0 }
        let report = PretrainReport(
            split: split, samples: bars.count,
            logLoss: ClassificationMetrics.logLoss(probabilities: p, labels: labels, classes: classes),
            baseRateLogLoss: ClassificationMetrics.logLoss(
                probabilities: basePredictions, labels: labels, classes: classes),
            accuracy: ClassificationMetrics.accuracy(probabilities: p, labels: labels, classes: classes),
            baseRateAccuracy: Double(labels.filter { $0 == majority }.count) / Double(labels.count),
            rocAUC: ClassificationMetrics.rocAUC(
                scores: stride(from: 1, to: p.count, by: classes).map { p[$0] },
                positive: labels.map { $0 == 1 }),
            threshold: threshold, trading: try trade(split, try upProbabilities(split), threshold: threshold),
            buyAndHold: try evaluateBaseline(.buyAndHold, setup: data.setup, split: split).summary)
        let prefix = "pretrain/\(split.rawValue)/"
        let values: [(String, Double?)] = [
            ("logLoss", report.logLoss), ("baseRateLogLoss", report.baseRateLogLoss), ("accuracy", report.accuracy),
            ("baseRateAccuracy", report.baseRateAccuracy), ("rocAUC", report.rocAUC), ("threshold", threshold),
            ("totalReturn", report.trading.metrics.totalReturn), ("sharpe", report.trading.metrics.sharpe),
            ("costs", report.trading.costs), ("buyAndHoldReturn", report.buyAndHold.metrics.totalReturn),
        ]
        let wall = Date().timeIntervalSince1970
        try store.appendMetrics(
            values.compactMap { k, v in
                v.map {
                    MetricRecord(runId: runId, globalStep: Int64(step), key: prefix + k, value: $0, wallTime: wall)
                }
            })
        return report
    }
}

/// A pretrain run's configuration as stored in `run.configJSON`.
struct PretrainResolved: Codable {
    var pretrain: PretrainSpec
    var environment: EnvironmentSpec
    var environmentFolder: String

    func json() throws -> String { try sortedJSON(self) }
}

/// The network of a pretrain run from its latest checkpoint, every file checked against its recorded SHA-256.
/// `reference`: a run id, an exact run name, or a name prefix (the latest finished pretrain run whose name starts with
/// it).
public func loadPretrainedNetwork(_ reference: String, store: RunStore) throws -> EncoderNetwork {
    let run: RunRecord
    let runs = try store.runs()
    if Int64(reference) != nil || runs.contains(where: { $0.name == reference }) {
        run = try store.run(reference: reference)
    } else {
        // A name prefix (e.g. the experiment's name): the latest finished pretrain run it matches.
        guard
            let latest = runs.last(where: {
                $0.name.hasPrefix(reference) && $0.agent == pretrainRunKind && $0.status == .finished
            })
        else {
            throw RunStateError(
                "\(store.path): no finished pretrain run named '\(reference)…' (run tradesim pretrain first)")
        }
        run = latest
    }
    guard run.agent == pretrainRunKind else {
        throw RunStateError("run \(run.name) is a \(run.agent) run, not a pretrain run (tradesim pretrain)")
    }
    guard run.status == .finished else {
        throw RunStateError("pretrain run \(run.name) is \(run.status.rawValue), not finished")
    }
    let (directory, _) = try verifiedCheckpoint(run, store: store)
    let saved: PretrainCheckpoint
    do {
        saved = try JSONDecoder().decode(
            PretrainCheckpoint.self,
            from: Data(contentsOf: URL(fileURLWithPath: directory + "/" + PretrainCheckpoint.file)))
    } catch {
        throw CheckpointError("\(directory)/\(PretrainCheckpoint.file): cannot read the pretrain checkpoint (\(error))")
    }
    var rng = Xoshiro256(seed: 0)
    let net = EncoderNetwork(saved.architecture, using: &rng)
    do { try net.load(from: URL(fileURLWithPath: directory + "/" + PretrainCheckpoint.network)) } catch {
        throw CheckpointError("\(directory): cannot load the pretrained network (\(error))")
    }
    return net
}
