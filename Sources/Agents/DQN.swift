import Foundation
import NeuralCore
import RLCore

// Deep Q-learning (Mnih et al. 2015) on the shared Market2Vec + LSTM encoder, with the Rainbow-era options each as a
// config field: Double DQN (van Hasselt et al. 2016), a dueling head (Wang et al. 2016), n-step returns, a target
// network synced hard every N steps or by Polyak averaging, Huber loss, gradient clipping, an ε-greedy schedule and
// proportional prioritized replay (Schaul et al. 2016, off by default).
//
// Shapes: B batch, T window, F features, P extras, K discrete actions; Q (B,K).

/// The TD loss.
public enum TDLoss: String, Codable, Sendable, CaseIterable {
    /// Huber with threshold `huberDelta` (torch.nn.HuberLoss).
    case huber
    /// Mean squared error.
    case mse
}

/// DQN's hyper-parameters. Defaults follow CleanRL's `dqn.py`, with Double DQN, dueling, 3-step returns and Huber on.
public struct DQNConfig: Codable, Equatable, Sendable {
    /// Algorithm discriminator; must be `dqn`.
    public var algo: Algorithm = .dqn
    /// The shared encoder's size.
    public var encoder: EncoderConfig = EncoderConfig()
    /// Adam learning rate.
    public var learningRate: Double = 1e-4
    /// Discount γ.
    public var gamma: Double = 0.99
    /// Replay capacity in transitions.
    public var bufferSize: Int = 100_000
    /// Transitions per update (B; at most `AgentLimits.batch`).
    public var batchSize: Int = 64
    /// Environment steps before the first update.
    public var learningStarts: Int = 1_000
    /// Environment steps between updates.
    public var trainFrequency: Int = 4
    /// Environment steps between target-network syncs.
    public var targetUpdateInterval: Int = 1_000
    /// Target sync weight τ: 1 copies the online network, τ < 1 moves the target τ of the way (Polyak).
    public var tau: Double = 1
    /// Pick the next action with the online network and evaluate it with the target network.
    public var doubleDQN: Bool = true
    /// Dueling head Q = V + A − mean A (false: one linear Q head).
    public var dueling: Bool = true
    /// n of the n-step return (1 = one-step TD; at most `AgentLimits.nStep`).
    public var nStep: Int = 3
    /// TD loss.
    public var loss: TDLoss = .huber
    /// Huber threshold δ.
    public var huberDelta: Double = 1
    /// Global gradient-norm clip (0 = none).
    public var maxGradNorm: Double = 10
    /// Shape of the ε decay.
    public var epsilonSchedule: ScheduleKind = .linear
    /// ε at step 0.
    public var epsilonStart: Double = 1
    /// Final ε.
    public var epsilonEnd: Double = 0.05
    /// Environment steps over which ε decays to its end.
    public var epsilonSteps: Int = 10_000
    /// Proportional prioritized replay (sum tree, importance weights).
    public var prioritizedReplay: Bool = false
    /// Priority exponent α.
    public var priorityAlpha: Double = 0.6
    /// Importance-sampling exponent β at step 0, annealed linearly to 1.
    public var priorityBetaStart: Double = 0.4
    /// Environment steps over which β reaches 1.
    public var priorityBetaSteps: Int = 100_000
    /// ε added to |TD error| in priorities.
    public var priorityEpsilon: Double = 1e-6
    /// Environments stepped together (one forward chooses all their actions; at most `AgentLimits.environments`).
    public var numEnvs: Int = 1
    /// Rewards are multiplied by this before learning (events report unscaled returns).
    public var rewardScale: Double = 1
    /// Updates between `.update` events (their metrics are means over the interval); a `train` call ends with one for
    /// the updates since the last.
    public var logInterval: Int = 100

    public init() {}

    /// Checks the discriminator and ranges; throws one line naming the field.
    public func validate() throws {
        try expect(algo == .dqn, "algo is \(algo.rawValue), expected dqn")
        try expect(batchSize >= 1 && bufferSize >= batchSize, "bufferSize must be ≥ batchSize ≥ 1")
        try expect("batchSize", batchSize, atMost: AgentLimits.batch)
        // The replay and the target values keep at least 46 bytes a transition (two bars, the action, the target values'
        // version: 8 each; reward, discount and one target value: 4 each; two flags), more with extras.
        try expectMemory(46 * Double(bufferSize), "bufferSize \(bufferSize)", "for the replay")
        try expect(
            trainFrequency >= 1 && targetUpdateInterval >= 1 && nStep >= 1 && numEnvs >= 1 && logInterval >= 1,
            "trainFrequency, targetUpdateInterval, nStep, numEnvs and logInterval must be ≥ 1")
        try expect("nStep", nStep, atMost: AgentLimits.nStep)
        try expect("numEnvs", numEnvs, atMost: AgentLimits.environments)
        try expect(gamma >= 0 && gamma <= 1 && tau > 0 && tau <= 1, "gamma must be in [0,1] and tau in (0,1]")
        try expect(
            epsilonStart >= 0 && epsilonStart <= 1 && epsilonEnd >= 0 && epsilonEnd <= 1 && epsilonSteps >= 0,
            "epsilonStart/End must be in [0,1], epsilonSteps ≥ 0")
        try expect(epsilonSchedule == .linear || epsilonEnd > 0, "an exponential epsilon schedule needs epsilonEnd > 0")
        try expect(
            learningRate > 0 && huberDelta > 0 && maxGradNorm >= 0,
            "learningRate and huberDelta must be > 0, maxGradNorm ≥ 0")
        try expect(
            priorityAlpha >= 0 && priorityBetaStart >= 0 && priorityBetaStart <= 1 && priorityEpsilon > 0,
            "priorityAlpha ≥ 0, priorityBetaStart in [0,1], priorityEpsilon > 0")
        try expect(learningStarts >= 0, "learningStarts must be ≥ 0, not \(learningStarts)")
        try expectRewardScale(rewardScale)
    }

    /// ε at environment step `step`.
    public func epsilon(at step: Int) -> Double {
        switch epsilonSchedule {
        case .linear:
            return Schedule.linear(start: epsilonStart, end: epsilonEnd, steps: epsilonSteps).value(at: step)
        case .exponential:
            let decay = epsilonSteps > 0 ? pow(epsilonEnd / epsilonStart, 1 / Double(epsilonSteps)) : 0
            return max(epsilonStart * pow(decay, Double(step)), epsilonEnd)
        }
    }

    /// β of prioritized replay at environment step `step`.
    public func beta(at step: Int) -> Double {
        Schedule.linear(start: priorityBetaStart, end: 1, steps: priorityBetaSteps).value(at: step)
    }
}

/// DQN over K discrete actions: online and target Q networks (encoder + Q head (B,K)), replay of bar indices.
public final class DQNAgent: Agent {
    public let config: DQNConfig
    public let spec: AgentSpec
    public var algorithm: Algorithm { .dqn }
    public private(set) var stepsDone = 0
    public private(set) var updatesDone = 0
    public private(set) var profile = TrainingProfile()

    /// Q (B,K) networks.
    public let online: EncoderNetwork
    public var networks: [EncoderNetwork] { [online, target] }
    public let target: EncoderNetwork
    var adam: Adam
    var rng: Xoshiro256
    public private(set) var replay: ReplayBuffer
    var prioritized: PrioritizedSampler
    let K: Int
    let acting: WorkspacePool
    /// Workspaces (B,T) of the update: current states, next states.
    let stateWS: Workspace
    let nextWS: Workspace
    // update scratch (B)
    var slots: [Int], weights: [Float], targets: [Float], predictions: [Float], dPredictions: [Float], nextBest: [Int]
    var extrasScratch: [Float] = []
    /// Target Q-values of the replay's next states (C,K) by slot, and the target network's `parametersVersion` each
    /// slot's were computed with (C; −1 for none, and when the slot is written). Between two writes of the target's
    /// parameters a transition sampled again reads its values here: the update runs the target network on the other
    /// rows only. `bench agent --algo dqn` (a sync every 1,000 steps, B = 64 every 4 steps) evaluates 47.5% of them.
    var targetValues: [Float], targetVersions: [Int]
    /// Whether `update` keeps `targetValues` (off only to test that keeping them changes no bit).
    var keepsTargetValues = true
    /// Sampled rows of the update's next states that the target network evaluates (B).
    var pending: [Int]
    /// Rows the target network has evaluated in updates, of `updatesDone` · B sampled.
    public private(set) var targetRowsEvaluated = 0
    var stepsSinceUpdate = 0
    var stepsSinceTargetSync = 0

    public init(_ config: DQNConfig, spec: AgentSpec, seed: UInt64) {
        do { try config.validate() } catch { preconditionFailure("invalid DQN config: \(error)") }
        precondition(spec.discreteActions > 0, "DQN needs discrete actions")
        self.config = config
        self.spec = spec
        K = spec.discreteActions
        rng = Xoshiro256(seed: seed)
        let head = config.dueling ? HeadSpec("q", .dueling(actions: K)) : HeadSpec("q", .linear(outputs: K))
        online = config.encoder.network(inputWidth: spec.inputWidth, window: spec.window, heads: [head], using: &rng)
        target = config.encoder.network(inputWidth: spec.inputWidth, window: spec.window, heads: [head], using: &rng)
        target.copyParameters(from: online)
        adam = Adam(parameterCount: online.parameters.count, .init(learningRate: Float(config.learningRate)))
        replay = ReplayBuffer(capacity: config.bufferSize, extrasWidth: spec.extras)
        prioritized = PrioritizedSampler(
            capacity: config.prioritizedReplay ? config.bufferSize : 1,
            alpha: config.priorityAlpha, epsilon: config.priorityEpsilon)
        acting = WorkspacePool(online, time: spec.window)
        let B = config.batchSize
        stateWS = online.makeWorkspace(batch: B, time: spec.window)
        nextWS = online.makeWorkspace(batch: B, time: spec.window)
        slots = .init(repeating: 0, count: B); weights = .init(repeating: 1, count: B)
        targets = .init(repeating: 0, count: B); predictions = .init(repeating: 0, count: B)
        dPredictions = .init(repeating: 0, count: B); nextBest = .init(repeating: 0, count: B)
        targetValues = .init(repeating: 0, count: config.bufferSize * K)
        targetVersions = .init(repeating: -1, count: config.bufferSize)
        pending = .init(repeating: 0, count: B)
    }

    /// ε of the exploration schedule now.
    public var epsilon: Double { config.epsilon(at: stepsDone) }

    // MARK: act

    /// Q (B,K) for B observations, one forward; returns the workspace holding them.
    func qValues<O: WindowObservation>(_ observations: [O]) -> Workspace {
        let ws = acting(batch: observations.count)
        fillInput(ws, observations: observations, spec: spec, scratch: &extrasScratch)
        online.forward(ws)
        return ws
    }

    @inline(__always) func argmax(_ row: UnsafePointer<Float>) -> Int {
        var best = 0
        for a in 1..<K where row[a] > row[best] { best = a }
        return best
    }

    public func act<O: WindowObservation>(_ observation: O, deterministic: Bool) -> AgentAction {
        if !deterministic && Double.random(in: 0..<1, using: &rng) < epsilon {
            return .index(Int.random(in: 0..<K, using: &rng))
        }
        return .index(argmax(qValues([observation]).outputs[0].pointer))
    }

    public var scoreKind: ActionScoreKind { .qValues }

    /// Q(s, ·) of the online network (K).
    public func actionScores<O: WindowObservation>(_ observation: O) -> [Double] {
        let q = qValues([observation]).outputs[0].pointer
        return (0..<K).map { Double(q[$0]) }
    }

    /// ε-greedy indices for B environments: one uniform draw per environment, then one forward for all of them
    /// when any acts greedily.
    func chooseActions<O: WindowObservation>(_ observations: [O], epsilon: Double, into actions: inout [Int]) {
        var greedy = false
        for b in observations.indices {
            if Double.random(in: 0..<1, using: &rng) < epsilon {
                actions[b] = Int.random(in: 0..<K, using: &rng)
            } else {
                actions[b] = -1
                greedy = true
            }
        }
        guard greedy else { return }
        let q = qValues(observations).outputs[0].pointer
        for b in observations.indices where actions[b] < 0 { actions[b] = argmax(q + b * K) }
    }

    // MARK: train

    public func train<Env: AgentEnvironment>(
        env: Env, steps: Int, seed: UInt64, progress: (TrainingEvent<Env.Info>) -> Void
    ) {
        let B = config.numEnvs, P = spec.extras
        var venv = VectorEnv(Array(repeating: env, count: B))
        var observations = venv.reset(seed: seed)
        var accumulators = (0..<B).map { _ in
            NStepAccumulator(n: config.nStep, gamma: Float(config.gamma), extrasWidth: P)
        }
        var tracker = EpisodeTracker(envs: B)
        var actions = [Int](repeating: 0, count: B)
        var envActions: [Env.Action] = []
        envActions.reserveCapacity(B)
        var stateExtras = [Float](repeating: 0, count: B * P), nextExtras = [Float](repeating: 0, count: P)
        for b in 0..<B { for p in 0..<P { stateExtras[b * P + p] = Float(observations[b].extras[p]) } }
        let stop = stepsDone + steps, startSteps = stepsDone, startTime = now()
        var sums: [String: Double] = [:], logged = 0
        /// The means of the updates' metrics since the last report, with ε, the rate and PER's β.
        func report(epsilon eps: Double) {
            var metrics = sums.mapValues { $0 / Double(logged) }
            metrics["charts/epsilon"] = eps
            metrics["charts/sps"] = Double(stepsDone - startSteps) / max(now() - startTime, 1e-9)
            if config.prioritizedReplay { metrics["charts/beta"] = config.beta(at: stepsDone) }
            progress(.update(step: stepsDone, metrics: metrics))
            sums.removeAll(keepingCapacity: true)
            logged = 0
        }

        while stepsDone < stop {
            let t0 = now()
            let eps = epsilon
            chooseActions(observations, epsilon: eps, into: &actions)
            envActions.removeAll(keepingCapacity: true)
            for b in 0..<B { envActions.append(venv.envs[b].action(index: actions[b])) }
            let t1 = now()
            let results = venv.step(envActions)
            stepsDone += B
            replay.attach(features: observations[0].features)
            for b in 0..<B {
                let s = results[b]
                let next = venv.finalObservations[b] ?? s.observation
                for p in 0..<P { nextExtras[p] = Float(next.extras[p]) }
                let first = replay.cursor
                let written = accumulators[b].push(
                    bar: observations[b].bar, extras: stateExtras[b * P..<(b + 1) * P],
                    action: actions[b], reward: Float(s.reward * config.rewardScale),
                    terminated: s.terminated, truncated: s.truncated, nextBar: next.bar,
                    nextExtras: nextExtras[0..<P], into: &replay)
                for k in 0..<written {
                    let slot = (first + k) % replay.capacity
                    targetVersions[slot] = -1
                    if config.prioritizedReplay { prioritized.added(slot) }
                }
                tracker.record(env: b, step: s, action: Double(actions[b]), globalStep: stepsDone, progress: progress)
                observations[b] = s.observation
                for p in 0..<P { stateExtras[b * P + p] = Float(s.observation.extras[p]) }
            }
            let t2 = now()
            profile.act += t1 - t0
            profile.env += t2 - t1

            stepsSinceUpdate += B
            stepsSinceTargetSync += B
            while stepsSinceUpdate >= config.trainFrequency {
                stepsSinceUpdate -= config.trainFrequency
                guard stepsDone >= config.learningStarts, replay.count >= config.batchSize else { continue }
                let (loss, meanQ, norm) = update()
                sums["losses/td", default: 0] += Double(loss)
                sums["losses/q_values", default: 0] += Double(meanQ)
                sums["charts/grad_norm", default: 0] += Double(norm)
                logged += 1
                if logged == config.logInterval { report(epsilon: eps) }
            }
            while stepsSinceTargetSync >= config.targetUpdateInterval {
                stepsSinceTargetSync -= config.targetUpdateInterval
                syncTarget()
            }
            profile.update += now() - t2
        }
        // a call (a chunk of a run) shorter than `logInterval` updates still reports what it did
        if logged > 0 { report(epsilon: epsilon) }
    }

    /// Hard copy (τ = 1) or Polyak step θ⁻ ← τθ + (1 − τ)θ⁻.
    func syncTarget() {
        if config.tau >= 1 { target.copyParameters(from: online); return }
        let tau = Float(config.tau)
        online.parameters.withUnsafeBufferPointer { src in
            target.updateParameters {
                $0.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<dst.count { dst[i] = tau * src[i] + (1 - tau) * dst[i] }
                }
            }
        }
    }

    /// One gradient step on a sampled batch: y = R + discount · Q⁻(s', argmax_a Q(s', a)) (Double DQN) or
    /// R + discount · max_a Q⁻(s', a); loss = mean_B w_b · ℓ(Q(s,a) − y). Returns (loss, mean Q(s,a), grad norm).
    func update() -> (Float, Float, Float) {
        let B = config.batchSize
        if config.prioritizedReplay {
            prioritized.sample(
                &slots, weights: &weights, stored: replay.count, beta: config.beta(at: stepsDone), using: &rng)
        } else {
            replay.sampleUniform(&slots, using: &rng)
        }
        let K = self.K
        // Next states: the online network picks (Double DQN), the target network evaluates.
        slots.withUnsafeBufferPointer { rows in
            replay.nextBars.withUnsafeBufferPointer { bars in
                replay.nextExtras.withUnsafeBufferPointer { extras in
                    fillInput(
                        nextWS, features: replay.features, spec: spec, bars: bars.baseAddress!,
                        extras: extras.baseAddress,
                        rows: rows.baseAddress!, count: B)
                }
            }
            replay.bars.withUnsafeBufferPointer { bars in
                replay.extras.withUnsafeBufferPointer { extras in
                    fillInput(
                        stateWS, features: replay.features, spec: spec, bars: bars.baseAddress!,
                        extras: extras.baseAddress,
                        rows: rows.baseAddress!, count: B)
                }
            }
        }
        if config.doubleDQN {
            online.forward(nextWS)
            let q = nextWS.outputs[0].pointer
            for b in 0..<B { nextBest[b] = argmax(q + b * K) }
        }
        evaluateTarget()
        targetValues.withUnsafeBufferPointer { values in
            for b in 0..<B {
                let k = slots[b], row = values.baseAddress! + k * K
                let bootstrap = config.doubleDQN ? row[nextBest[b]] : row[argmax(row)]
                targets[b] = replay.rewards[k] + replay.discounts[k] * bootstrap
            }
        }
        // Current states: Q(s, a) and the loss gradient through the chosen action only.
        online.forward(stateWS)
        let q = stateWS.outputs[0].pointer, dq = stateWS.dOutputs[0].pointer
        var meanQ: Float = 0
        for b in 0..<B {
            predictions[b] = q[b * K + replay.actions[slots[b]]]
            meanQ += predictions[b]
            dPredictions[b] = 0
        }
        let loss: Float = predictions.withUnsafeBufferPointer { p in
            targets.withUnsafeBufferPointer { y in
                dPredictions.withUnsafeMutableBufferPointer { d in
                    config.loss == .huber
                        ? huberLoss(
                            prediction: p.baseAddress!, target: y.baseAddress!, count: B,
                            delta: Float(config.huberDelta),
                            dPrediction: d.baseAddress!)
                        : mseLoss(
                            prediction: p.baseAddress!, target: y.baseAddress!, count: B, dPrediction: d.baseAddress!)
                }
            }
        }
        for b in 0..<B {
            let w = config.prioritizedReplay ? weights[b] : 1
            dq[b * K + replay.actions[slots[b]]] += w * dPredictions[b]
        }
        online.zeroGradients()
        online.backward(stateWS)
        let (norm, apply) = online.clipAndCheck(maxGradNorm: config.maxGradNorm, loss: loss)
        if apply { online.updateParameters { adam.update(&$0, gradients: online.gradients) } }
        if config.prioritizedReplay && apply {
            for b in 0..<B { prioritized.update(slots[b], tdError: Double(predictions[b] - targets[b])) }
        }
        updatesDone += 1
        return (loss, meanQ / Float(B), norm)
    }

    /// Target Q-values of the sampled next states (filled in `nextWS`) into `targetValues`: one forward of the target
    /// network over the rows whose slot holds none for the target's current parameters, moved to the front of
    /// `nextWS` (a row's outputs do not depend on the batch it runs in).
    func evaluateTarget() {
        let version = target.parametersVersion, K = self.K
        var n = 0
        for b in 0..<config.batchSize where !keepsTargetValues || targetVersions[slots[b]] != version {
            targetVersions[slots[b]] = version  // a slot sampled twice is evaluated once
            pending[n] = b
            n += 1
        }
        targetRowsEvaluated += n
        guard n > 0 else { return }
        let width = nextWS.time * nextWS.configuration.features, input = nextWS.input.pointer
        for i in 0..<n where pending[i] != i {
            (input + i * width).update(from: input + pending[i] * width, count: width)
        }
        nextWS.use(rows: n)
        target.forward(nextWS)
        nextWS.use(rows: config.batchSize)
        let q = UnsafePointer(nextWS.outputs[0].pointer)
        targetValues.withUnsafeMutableBufferPointer { values in
            for i in 0..<n { (values.baseAddress! + slots[pending[i]] * K).update(from: q + i * K, count: K) }
        }
    }

    // MARK: checkpoints

    static let targetFile = "target.safetensors"
    static let replayFile = "replay.bin"

    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try online.save(to: directory.appendingPathComponent(Checkpoint.network), optimizer: adam)
        try target.save(to: directory.appendingPathComponent(Self.targetFile))
        let replayURL = directory.appendingPathComponent(Self.replayFile),
            partial = replayURL.appendingPathExtension("partial")
        var archive = try BinaryArchive(writingTo: partial)
        try replay.archive(into: &archive)
        if config.prioritizedReplay { try prioritized.archive(into: &archive) }
        try archive.finish()
        guard rename(partial.path, replayURL.path) == 0 else {
            throw CheckpointError("\(replayURL.path): cannot write the replay buffer")
        }
        try Checkpoint.write(
            CheckpointState(
                algorithm: .dqn, config: config, spec: spec, rng: rng, stepsDone: stepsDone,
                updatesDone: updatesDone,
                extra: ["counters": [Double(stepsSinceUpdate), Double(stepsSinceTargetSync)]]),
            to: directory)
    }

    public func load(from directory: URL) throws {
        let state = try Checkpoint.read(DQNConfig.self, from: directory, algorithm: .dqn, config: config, spec: spec)
        guard let counters = state.extra["counters"], counters.count == 2 else {
            throw CheckpointError("agent.json lacks DQN counters")
        }
        try online.load(from: directory.appendingPathComponent(Checkpoint.network), optimizer: &adam)
        try target.load(from: directory.appendingPathComponent(Self.targetFile))
        let replayURL = directory.appendingPathComponent(Self.replayFile)
        let bytes: Data
        do { bytes = try Data(contentsOf: replayURL) } catch {
            throw CheckpointError("\(replayURL.path): cannot read the replay buffer")
        }
        var archive = try BinaryArchive(reading: bytes, file: replayURL.path)
        try replay.restore(from: &archive, file: replayURL.path)
        targetVersions.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
        if config.prioritizedReplay { try prioritized.restore(from: &archive, file: replayURL.path) }
        rng = state.rng
        stepsDone = state.stepsDone
        updatesDone = state.updatesDone
        stepsSinceUpdate = Int(counters[0])
        stepsSinceTargetSync = Int(counters[1])
    }
}
