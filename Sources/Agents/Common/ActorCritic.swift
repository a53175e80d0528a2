import Foundation
import NeuralCore
import RLCore

// The actor-critic core that REINFORCE, A2C and PPO share: one encoder with a policy head and a value head, the
// policy distribution (categorical over K discrete actions, or a diagonal Gaussian over A continuous values), batched
// action selection over a VectorEnv, rollout collection, and the optimizer step. `PolicyGradientAgent` wraps it into
// an agent.

/// How a continuous Gaussian sample x (A) becomes the environment's action.
public enum ContinuousSquash: String, Codable, Sendable, CaseIterable {
    /// x itself (the environment projects it onto its constraints).
    case none
    /// tanh(x) ∈ (−1, 1) per value.
    case tanh
    /// softmax(x): long-only weights summing to 1 (the logistic-normal portfolio policy).
    case softmax
}

extension ContinuousSquash {
    /// The action for a Gaussian sample or mean x (A): x, tanh(x) or softmax(x).
    public func apply(_ x: [Double]) -> [Double] {
        switch self {
        case .none: x
        case .tanh: x.map { Foundation.tanh($0) }
        case .softmax: Agents.softmax(x)
        }
    }
}

/// exp(x − max x) / Σ exp(x − max x), shape of x.
func softmax(_ x: [Double]) -> [Double] {
    var v = x
    let m = v.max() ?? 0
    var s = 0.0
    for j in v.indices { v[j] = Foundation.exp(v[j] - m); s += v[j] }
    for j in v.indices { v[j] /= s }
    return v
}

/// Where the Gaussian policy's log-std comes from; encodes as its raw string.
public enum LogStdMode: String, Codable, Sendable, CaseIterable {
    /// A learned parameter vector (A), the same in every state (PPO's default).
    case stateIndependent
    /// A second policy head output (A) per state.
    case learned
}

/// The continuous-action policy (used when the environment has no discrete actions).
public struct ContinuousPolicyConfig: Codable, Equatable, Sendable {
    /// How a Gaussian sample becomes the action passed to `action(continuous:)`.
    public var squash: ContinuousSquash = .none
    /// State-independent log-std parameter or a learned per-state head.
    public var logStd: LogStdMode = .stateIndependent
    /// Initial log σ of the state-independent parameter (and bias of the learned head).
    public var initialLogStd: Double = -0.5
    public init() {}
}

/// log σ is clamped to this range in the learned mode.
let logStdRange: ClosedRange<Float> = -5...2
let halfLogTwoPi = Float(0.5 * log(2 * Double.pi))

/// Policy + value network, optimizer and the policy distribution's math. Heads: 0 `policy` (K logits, A means, or
/// A means then A log-stds), 1 `value` (1).
final class ActorCritic {
    enum Kind: Equatable {
        case categorical(Int)
        case gaussian(Int)
    }

    let spec: AgentSpec
    let kind: Kind
    let continuous: ContinuousPolicyConfig
    let net: EncoderNetwork
    let workspaces: WorkspacePool
    var adam: Adam
    /// Gaussian, state-independent mode: log σ (A), its gradient and its optimizer.
    var logStd: [Float]
    var dLogStd: [Float]
    var logStdAdam: Adam
    /// Floats per stored action: 1 (the index) or A.
    let actionWidth: Int
    var extrasScratch: [Float] = []
    var rowScratch: [Int] = []
    var actionScratch: [Float] = []

    init(
        spec: AgentSpec, encoder: EncoderConfig, continuous: ContinuousPolicyConfig, learningRate: Double,
        using rng: inout Xoshiro256
    ) {
        self.spec = spec
        self.continuous = continuous
        let policyWidth: Int
        if spec.discreteActions > 0 {
            kind = .categorical(spec.discreteActions)
            policyWidth = spec.discreteActions
            actionWidth = 1
        } else {
            precondition(spec.continuousActions > 0, "the environment offers no actions")
            kind = .gaussian(spec.continuousActions)
            policyWidth = continuous.logStd == .learned ? 2 * spec.continuousActions : spec.continuousActions
            actionWidth = spec.continuousActions
        }
        net = encoder.network(
            inputWidth: spec.inputWidth, window: spec.window,
            heads: [HeadSpec("policy", .linear(outputs: policyWidth)), HeadSpec("value", .linear(outputs: 1))],
            using: &rng)
        if case .gaussian(let A) = kind, continuous.logStd == .learned, let bias = net.tensor(named: "policy.bias") {
            net.updateParameters { for j in 0..<A { $0[bias.offset + A + j] = Float(continuous.initialLogStd) } }
        }
        workspaces = WorkspacePool(net, time: spec.window)
        adam = Adam(parameterCount: net.parameters.count, .init(learningRate: Float(learningRate)))
        let A = spec.discreteActions > 0 ? 0 : spec.continuousActions
        logStd = .init(
            repeating: Float(continuous.initialLogStd), count: continuous.logStd == .stateIndependent ? A : 0)
        dLogStd = .init(repeating: 0, count: logStd.count)
        logStdAdam = Adam(parameterCount: logStd.count, .init(learningRate: Float(learningRate)))
    }

    // MARK: forward

    /// One forward for B observations (B environments); outputs in the returned workspace.
    func forward<O: WindowObservation>(_ observations: [O]) -> Workspace {
        let ws = workspaces(batch: observations.count)
        fillInput(ws, observations: observations, spec: spec, scratch: &extrasScratch)
        net.forward(ws)
        return ws
    }

    /// One forward for the rollout entries `rows` (M).
    func forward(_ buffer: RolloutBuffer, rows: ArraySlice<Int>) -> Workspace {
        let ws = workspaces(batch: rows.count)
        buffer.bars.withUnsafeBufferPointer { bars in
            buffer.extras.withUnsafeBufferPointer { extras in
                rows.withUnsafeBufferPointer { r in
                    fillInput(
                        ws, features: buffer.features, spec: spec, bars: bars.baseAddress!,
                        extras: extras.baseAddress, rows: r.baseAddress!, count: rows.count)
                }
            }
        }
        net.forward(ws)
        return ws
    }

    // MARK: the distribution, row b of a forward

    @inline(__always) func value(_ ws: Workspace, _ b: Int) -> Float { ws.outputs[1].pointer[b] }

    /// μ_j and log σ_j of row b (Gaussian).
    @inline(__always) func gaussian(_ ws: Workspace, _ b: Int, _ j: Int, _ A: Int) -> (Float, Float, Bool) {
        let out = ws.outputs[0].pointer
        if continuous.logStd == .learned {
            let width = 2 * A, raw = out[b * width + A + j]
            let clamped = min(max(raw, logStdRange.lowerBound), logStdRange.upperBound)
            return (out[b * width + j], clamped, clamped == raw)
        }
        return (out[b * A + j], logStd[j], true)
    }

    /// Draws an action for row b into `action` (actionWidth) and returns log π(action).
    func sample(_ ws: Workspace, _ b: Int, into action: UnsafeMutablePointer<Float>, using rng: inout Xoshiro256)
        -> Float
    {
        switch kind {
        case .categorical(let K):
            let row = ws.outputs[0].pointer + b * K
            let lse = logSumExp(row, K)
            let u = Float.random(in: 0..<1, using: &rng)
            var acc: Float = 0, chosen = K - 1
            for a in 0..<K {
                acc += Foundation.exp(row[a] - lse)
                if u < acc { chosen = a; break }
            }
            action[0] = Float(chosen)
            return row[chosen] - lse
        case .gaussian(let A):
            for j in 0..<A {
                let (mu, ls, _) = gaussian(ws, b, j, A)
                action[j] = mu + Foundation.exp(ls) * Float(standardNormal(using: &rng))
            }
            return logProb(ws, b, action)
        }
    }

    /// The most likely action of row b (argmax, or the Gaussian mean).
    func mode(_ ws: Workspace, _ b: Int, into action: UnsafeMutablePointer<Float>) {
        switch kind {
        case .categorical(let K):
            let row = ws.outputs[0].pointer + b * K
            var best = 0
            for a in 1..<max(K, 1) where row[a] > row[best] { best = a }
            action[0] = Float(best)
        case .gaussian(let A):
            for j in 0..<A { action[j] = gaussian(ws, b, j, A).0 }
        }
    }

    /// log π(action | row b).
    func logProb(_ ws: Workspace, _ b: Int, _ action: UnsafePointer<Float>) -> Float {
        switch kind {
        case .categorical(let K):
            let row = ws.outputs[0].pointer + b * K
            return row[Int(action[0])] - logSumExp(row, K)
        case .gaussian(let A):
            var sum: Float = 0
            for j in 0..<A {
                let (mu, ls, _) = gaussian(ws, b, j, A)
                let z = (action[j] - mu) * Foundation.exp(-ls)
                sum += -0.5 * z * z - ls - halfLogTwoPi
            }
            return sum
        }
    }

    /// What a loss needs of row b's policy: log π(action | row b), the entropy and (categorical) the row's
    /// log-sum-exp, computed once; `addPolicyGradients` reuses the last two.
    struct RowTerms {
        let logProb: Float, entropy: Float, logSumExp: Float
    }

    /// Row b's `RowTerms` for `action`.
    func terms(_ ws: Workspace, _ b: Int, _ action: UnsafePointer<Float>) -> RowTerms {
        switch kind {
        case .categorical(let K):
            let row = ws.outputs[0].pointer + b * K
            let lse = logSumExp(row, K)
            var h: Float = 0
            for a in 0..<K { let lp = row[a] - lse; h -= Foundation.exp(lp) * lp }
            return RowTerms(logProb: row[Int(action[0])] - lse, entropy: h, logSumExp: lse)
        case .gaussian(let A):
            var h: Float = 0
            for j in 0..<A { h += gaussian(ws, b, j, A).1 + 0.5 + halfLogTwoPi }
            return RowTerms(logProb: logProb(ws, b, action), entropy: h, logSumExp: 0)
        }
    }

    /// dOutputs (and dLogStd) += cPi · ∂ log π(action | row b) / ∂ outputs (none when cPi is nil), then
    /// += cH · ∂ entropy(row b) / ∂ outputs (none when cH is 0), element by element in that order. `t`: the row's
    /// `terms`.
    func addPolicyGradients(
        _ ws: Workspace, _ b: Int, _ action: UnsafePointer<Float>, _ t: RowTerms, logProb cPi: Float?, entropy cH: Float
    ) {
        let d = ws.dOutputs[0].pointer
        switch kind {
        case .categorical(let K):
            let row = ws.outputs[0].pointer + b * K, dRow = d + b * K, chosen = Int(action[0])
            for a in 0..<K {
                let lp = row[a] - t.logSumExp, p = Foundation.exp(lp)
                if let cPi { dRow[a] += cPi * ((a == chosen ? 1 : 0) - p) }
                if cH != 0 { dRow[a] += cH * (-p * (lp + t.entropy)) }
            }
        case .gaussian(let A):
            for j in 0..<A {
                let (mu, ls, inside) = gaussian(ws, b, j, A)
                if let cPi {
                    let inverseVariance = Foundation.exp(-2 * ls)
                    let diff = action[j] - mu
                    let dLog = diff * diff * inverseVariance - 1
                    if continuous.logStd == .learned {
                        d[b * 2 * A + j] += cPi * diff * inverseVariance
                        if inside { d[b * 2 * A + A + j] += cPi * dLog }
                    } else {
                        d[b * A + j] += cPi * diff * inverseVariance
                        dLogStd[j] += cPi * dLog
                    }
                }
                guard cH != 0 else { continue }
                if continuous.logStd == .learned {
                    if inside { d[b * 2 * A + A + j] += cH }
                } else {
                    dLogStd[j] += cH
                }
            }
        }
    }

    /// The agent's action for a stored action (index, or the Gaussian sample squashed as configured).
    func agentAction(_ action: UnsafePointer<Float>) -> AgentAction {
        switch kind {
        case .categorical: return .index(Int(action[0]))
        case .gaussian(let A): return .continuous(continuous.squash.apply((0..<A).map { Double(action[$0]) }))
        }
    }

    /// What the greedy action is chosen from (`Agent.actionScores`).
    var scoreKind: ActionScoreKind {
        switch kind {
        case .categorical: .probabilities
        case .gaussian: .means(squash: continuous.squash)
        }
    }

    /// π(· | o) (K, the softmax of the logits) or the Gaussian means μ (A) of one observation.
    func scores<O: WindowObservation>(_ o: O) -> [Double] {
        let ws = forward([o])
        switch kind {
        case .categorical(let K):
            let logits = ws.outputs[0].pointer
            return softmax((0..<K).map { Double(logits[$0]) })
        case .gaussian(let A):
            return (0..<A).map { Double(gaussian(ws, 0, $0, A).0) }
        }
    }

    /// act() for one observation.
    func act<O: WindowObservation>(_ o: O, deterministic: Bool, using rng: inout Xoshiro256) -> AgentAction {
        let ws = forward([o])
        if actionScratch.count < actionWidth { actionScratch = .init(repeating: 0, count: actionWidth) }
        return actionScratch.withUnsafeMutableBufferPointer { a in
            if deterministic {
                mode(ws, 0, into: a.baseAddress!)
            } else {
                _ = sample(ws, 0, into: a.baseAddress!, using: &rng)
            }
            return agentAction(a.baseAddress!)
        }
    }

    // MARK: optimisation

    /// Clears the network's and the log-std's gradients.
    func zeroGradients() {
        net.zeroGradients()
        for j in dLogStd.indices { dLogStd[j] = 0 }
    }

    /// Clips the global gradient norm of the network and the log-std together (0 = no clipping), then one Adam step of
    /// both, unless a gradient is not finite. Returns the norm before clipping.
    @discardableResult
    func step(maxGradNorm: Double, learningRate: Double) -> Float {
        let (norm, apply) = net.clipAndCheck(maxGradNorm: maxGradNorm, extraGradients: &dLogStd)
        guard apply else { return norm }  // a non-finite update is never applied (see NumericGuard)
        adam.configuration.learningRate = Float(learningRate)
        net.updateParameters { adam.update(&$0, gradients: net.gradients) }
        if !logStd.isEmpty {
            logStdAdam.configuration.learningRate = Float(learningRate)
            logStdAdam.update(&logStd, gradients: dLogStd)
        }
        return norm
    }

    // MARK: collection

    /// Runs `steps` steps of every environment of `venv` with one forward for the B observations per step, sampling
    /// actions; appends to `buffer` (rewards × `rewardScale`), bootstrapping truncated episodes from V(final
    /// observation). Returns the number of episodes that ended.
    func collect<Env: AgentEnvironment>(
        _ venv: inout VectorEnv<Env>, observations: inout [Env.Observation],
        into buffer: inout RolloutBuffer, steps S: Int, rewardScale: Double,
        rng: inout Xoshiro256, tracker: inout EpisodeTracker, globalStep: inout Int,
        profile: inout TrainingProfile, progress: (TrainingEvent<Env.Info>) -> Void
    ) -> Int {
        let B = venv.count, W = actionWidth
        if actionScratch.count < B * W { actionScratch = .init(repeating: 0, count: B * W) }
        var envActions: [Env.Action] = []
        envActions.reserveCapacity(B)
        // What each environment's step row keeps as its action (`AgentAction.number`): the squashed action's first
        // value, as evaluation keeps it, not the Gaussian sample.
        var loggedActions = [Double](repeating: 0, count: B)
        var episodes = 0
        for _ in 0..<S {
            let t0 = now()
            let ws = forward(observations)
            buffer.attach(features: observations[0].features)
            envActions.removeAll(keepingCapacity: true)
            actionScratch.withUnsafeMutableBufferPointer { a in
                for b in 0..<B {
                    let slot = a.baseAddress! + b * W
                    let lp = sample(ws, b, into: slot, using: &rng)
                    buffer.bars.append(observations[b].bar)
                    for v in observations[b].extras { buffer.extras.append(Float(v)) }
                    for j in 0..<W { buffer.actions.append(slot[j]) }
                    buffer.logProbs.append(lp)
                    buffer.values.append(value(ws, b))
                    let chosen = agentAction(slot)
                    envActions.append(venv.envs[b].action(for: chosen))
                    loggedActions[b] = chosen.number
                }
            }
            let t1 = now()
            let steps = venv.step(envActions)
            globalStep += B
            var truncatedFinals: [Env.Observation] = []
            for b in 0..<B {
                let s = steps[b]
                buffer.rewards.append(Float(s.reward * rewardScale))
                buffer.terminated.append(s.terminated)
                buffer.truncated.append(s.truncated)
                buffer.bootstrapValues.append(0)
                if s.truncated, let final = venv.finalObservations[b] { truncatedFinals.append(final) }
                tracker.record(env: b, step: s, action: loggedActions[b], globalStep: globalStep, progress: progress)
                if s.done { episodes += 1 }
                observations[b] = s.observation
            }
            let t2 = now()
            if !truncatedFinals.isEmpty {
                let ws = forward(truncatedFinals)
                var k = 0
                let base = buffer.count - B
                for b in 0..<B where steps[b].truncated && venv.finalObservations[b] != nil {
                    buffer.bootstrapValues[base + b] = value(ws, k)
                    k += 1
                }
            }
            let t3 = now()
            profile.act += (t1 - t0) + (t3 - t2)
            profile.env += t2 - t1
        }
        return episodes
    }

    /// V of each observation (B), one forward.
    func values<O: WindowObservation>(_ observations: [O]) -> [Float] {
        let ws = forward(observations)
        return (0..<observations.count).map { value(ws, $0) }
    }

    // MARK: checkpoints

    func extraState() -> [String: [Double]] {
        [
            "logStd": logStd.map(Double.init), "logStdAdam.m": logStdAdam.m.map(Double.init),
            "logStdAdam.v": logStdAdam.v.map(Double.init), "logStdAdam.step": [Double(logStdAdam.step)],
        ]
    }

    func restore(extra: [String: [Double]]) throws {
        guard let ls = extra["logStd"], ls.count == logStd.count, let m = extra["logStdAdam.m"],
            m.count == logStd.count,
            let v = extra["logStdAdam.v"], v.count == logStd.count, let s = extra["logStdAdam.step"]?.first
        else {
            throw CheckpointError("checkpoint lacks the policy's log-std state")
        }
        logStd = ls.map(Float.init); logStdAdam.m = m.map(Float.init); logStdAdam.v = v.map(Float.init)
        logStdAdam.step = Int(s)
    }
}

/// log Σ exp of `count` logits, stable.
@inline(__always) func logSumExp(_ row: UnsafePointer<Float>, _ count: Int) -> Float {
    var m = -Float.infinity
    for a in 0..<count { m = max(m, row[a]) }
    var s: Float = 0
    for a in 0..<count { s += Foundation.exp(row[a] - m) }
    return m + Foundation.log(s)
}
