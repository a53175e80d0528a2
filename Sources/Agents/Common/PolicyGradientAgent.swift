import Foundation
import NeuralCore
import RLCore

// What REINFORCE, A2C and PPO share as agents: the actor-critic network with its optimizer (`ActorCritic`), the RNG
// and counters, acting, checkpoints, the rollout loop of A2C and PPO and the vanilla policy-gradient update of
// REINFORCE and A2C. Each algorithm's file subclasses `PolicyGradientAgent` with its config and adds `train`.
//
// Shapes: B envs, S steps, N = S·B rollout entries, M rows per forward/backward chunk.

/// The fields every policy-gradient config has (each config struct declares and validates them itself).
public protocol PolicyGradientConfig: Codable, Equatable, Sendable {
    /// Algorithm discriminator.
    var algo: Algorithm { get }
    /// The shared encoder's size.
    var encoder: EncoderConfig { get }
    /// Continuous-action policy (used when the environment has no discrete actions).
    var continuous: ContinuousPolicyConfig { get }
    /// Adam learning rate.
    var learningRate: Double { get }
    /// Discount γ.
    var gamma: Double { get }
    /// Entropy bonus coefficient.
    var entropyCoefficient: Double { get }
    /// Value loss coefficient.
    var valueCoefficient: Double { get }
    /// Global gradient-norm clip (0 = none).
    var maxGradNorm: Double { get }
    /// Rewards are multiplied by this before learning.
    var rewardScale: Double { get }
    /// Checks the discriminator and ranges; throws one line naming the field.
    func validate() throws
}

/// A policy-gradient agent: a categorical (K) or Gaussian (A) policy and a value on one encoder (`ActorCritic`),
/// built from `config` and `seed`. A subclass per algorithm adds `train`, and with it the `Agent` conformance.
public class PolicyGradientAgent<Config: PolicyGradientConfig> {
    public let config: Config
    public var spec: AgentSpec { core.spec }
    public var algorithm: Algorithm { config.algo }
    public internal(set) var stepsDone = 0
    public internal(set) var updatesDone = 0
    public internal(set) var profile = TrainingProfile()
    let core: ActorCritic
    var rng: Xoshiro256
    /// Update scratch: the rollout's entry indices 0..<N, its (normalised) advantages (N).
    var rows: [Int] = []
    var advantageScratch: [Float] = []

    public init(_ config: Config, spec: AgentSpec, seed: UInt64) {
        do { try config.validate() } catch {
            preconditionFailure("invalid \(config.algo.rawValue.uppercased()) config: \(error)")
        }
        self.config = config
        rng = Xoshiro256(seed: seed)
        core = ActorCritic(
            spec: spec, encoder: config.encoder, continuous: config.continuous,
            learningRate: config.learningRate, using: &rng)
    }

    /// The policy + value network.
    public var network: EncoderNetwork { core.net }
    public var networks: [EncoderNetwork] { [core.net] }

    public func act<O: WindowObservation>(_ observation: O, deterministic: Bool) -> AgentAction {
        core.act(observation, deterministic: deterministic, using: &rng)
    }

    public var scoreKind: ActionScoreKind { core.scoreKind }

    /// π(· | s) (K) or the Gaussian means μ (A).
    public func actionScores<O: WindowObservation>(_ observation: O) -> [Double] { core.scores(observation) }

    // MARK: training

    /// The on-policy loop of A2C and PPO, until `steps` more environment steps are done: collect S steps of B copies
    /// of `env` (`ActorCritic.collect`), compute GAE(λ) advantages bootstrapped from V of the observations after the
    /// rollout, then `update(rollout, steps this call did before the rollout)`, whose metrics (with `charts/sps`)
    /// are reported as an `.update` event.
    func trainOnRollouts<Env: AgentEnvironment>(
        env: Env, steps: Int, seed: UInt64, envs B: Int, length S: Int,
        gaeLambda: Double, progress: (TrainingEvent<Env.Info>) -> Void,
        update: (RolloutBuffer, Int) -> [String: Double]
    ) {
        var venv = VectorEnv(Array(repeating: env, count: B))
        var observations = venv.reset(seed: seed)
        var buffer = RolloutBuffer(envs: B, extrasWidth: spec.extras, actionWidth: core.actionWidth, reserve: S)
        var tracker = EpisodeTracker(envs: B)
        let start = stepsDone, stop = stepsDone + steps, startTime = now()
        while stepsDone < stop {
            buffer.clear()
            _ = core.collect(
                &venv, observations: &observations, into: &buffer, steps: S,
                rewardScale: config.rewardScale, rng: &rng, tracker: &tracker, globalStep: &stepsDone,
                profile: &profile, progress: progress)
            let t0 = now()
            buffer.computeAdvantages(
                lastValues: core.values(observations), gamma: Float(config.gamma),
                lambda: Float(gaeLambda))
            var metrics = update(buffer, stepsDone - start - B * S)
            profile.update += now() - t0
            metrics["charts/sps"] = Double(stepsDone - start) / max(now() - startTime, 1e-9)
            progress(.update(step: stepsDone, metrics: metrics))
        }
    }

    /// One gradient step of the vanilla policy-gradient loss (`addVanillaLoss`) over all N entries of `buffer`, with
    /// `advantages` (N) normalised first when `normalize`; forward/backward run in chunks of at most `chunk` rows
    /// that accumulate into the one gradient. Returns the update's metrics.
    func vanillaUpdate(_ buffer: RolloutBuffer, advantages: [Float], normalize: Bool, chunk: Int) -> [String: Double] {
        let N = buffer.count
        if normalize { normalized(advantages, into: &advantageScratch) } else { advantageScratch = advantages }
        if rows.count < N { rows = Array(0..<N) }
        var sums = LossSums()
        core.zeroGradients()
        var begin = 0
        while begin < N {
            let end = min(begin + chunk, N), part = rows[begin..<end]
            let ws = core.forward(buffer, rows: part)
            core.addVanillaLoss(
                ws, rows: part, buffer: buffer, advantages: advantageScratch[begin..<end],
                valueCoefficient: config.valueCoefficient,
                entropyCoefficient: config.entropyCoefficient, normalizer: N, sums: &sums)
            core.net.backward(ws)
            begin += chunk
        }
        let norm = core.step(maxGradNorm: config.maxGradNorm, learningRate: config.learningRate)
        updatesDone += 1
        let n = Double(max(sums.count, 1))
        return [
            "losses/policy": sums.policy / n, "losses/value": sums.value / n, "losses/entropy": sums.entropy / n,
            "losses/explained_variance": explainedVariance(buffer), "charts/grad_norm": Double(norm),
            "charts/learning_rate": config.learningRate,
        ]
    }

    // MARK: checkpoints

    /// Writes the network with its optimizer moments and `agent.json` (the log-std state in `extra`).
    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try core.net.save(to: directory.appendingPathComponent(Checkpoint.network), optimizer: core.adam)
        try Checkpoint.write(
            CheckpointState(
                algorithm: algorithm, config: config, spec: spec, rng: rng,
                stepsDone: stepsDone, updatesDone: updatesDone, extra: core.extraState()),
            to: directory)
    }

    public func load(from directory: URL) throws {
        let state = try Checkpoint.read(Config.self, from: directory, algorithm: algorithm, config: config, spec: spec)
        try core.restore(extra: state.extra)
        try core.net.load(from: directory.appendingPathComponent(Checkpoint.network), optimizer: &core.adam)
        rng = state.rng; stepsDone = state.stepsDone; updatesDone = state.updatesDone
    }
}

/// Running sums of the loss terms of an update, reported as means.
struct LossSums {
    var policy = 0.0, value = 0.0, entropy = 0.0, count = 0
}

extension ActorCritic {
    /// The vanilla policy-gradient loss of REINFORCE and A2C on forwarded rows, added into the workspace gradients:
    /// L = (1/N) Σ [ −A_k log π(a_k|s_k) + c_v · ½ (V(s_k) − R_k)² − c_e · H(π(·|s_k)) ], N = `normalizer` (the
    /// whole batch, so chunks of one batch accumulate into one gradient). `advantages` (M): one per row of `ws`.
    func addVanillaLoss(
        _ ws: Workspace, rows: ArraySlice<Int>, buffer: RolloutBuffer, advantages: ArraySlice<Float>,
        valueCoefficient: Double, entropyCoefficient: Double, normalizer: Int, sums: inout LossSums
    ) {
        let n = Float(normalizer), cv = Float(valueCoefficient), ce = Float(entropyCoefficient), W = actionWidth
        let dValue = ws.dOutputs[1].pointer
        buffer.actions.withUnsafeBufferPointer { actions in
            for (i, k) in rows.enumerated() {
                let action = actions.baseAddress! + k * W
                let advantage = advantages[advantages.startIndex + i]
                let policy = terms(ws, i, action)
                sums.policy -= Double(advantage * policy.logProb)
                let error = value(ws, i) - buffer.returns[k]
                sums.value += Double(0.5 * error * error)
                dValue[i] += cv * error / n
                sums.entropy += Double(policy.entropy)
                addPolicyGradients(ws, i, action, policy, logProb: -advantage / n, entropy: -ce / n)
                sums.count += 1
            }
        }
    }
}

/// (x − mean) / (std + 1e-8) over `values`, std with Bessel's correction (as SB3 / CleanRL normalise advantages); a
/// single value is kept as it is, as SB3 keeps a minibatch of one row's advantage (its std is undefined).
func normalized<C: Collection<Float>>(_ values: C, into out: inout [Float]) {
    out.removeAll(keepingCapacity: true)
    let n = values.count
    guard n > 1 else { out.append(contentsOf: values); return }
    var mean = 0.0
    for v in values { mean += Double(v) }
    mean /= Double(n)
    var variance = 0.0
    for v in values { variance += (Double(v) - mean) * (Double(v) - mean) }
    let std = (variance / Double(n - 1)).squareRoot()
    for v in values { out.append(Float((Double(v) - mean) / (std + 1e-8))) }
}

/// Fisher–Yates shuffle driven by the agent's generator (bit-identical across platforms).
func shuffle(_ a: inout [Int], using rng: inout Xoshiro256) {
    guard a.count > 1 else { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) {
        let j = Int(rng.next() % UInt64(i + 1))
        a.swapAt(i, j)
    }
}

/// 1 − Var(returns − values) / Var(returns) over a rollout.
func explainedVariance(_ buffer: RolloutBuffer) -> Double {
    let n = buffer.count
    guard n > 1 else { return 0 }
    var my = 0.0, md = 0.0
    for k in 0..<n { my += Double(buffer.returns[k]); md += Double(buffer.returns[k] - buffer.values[k]) }
    my /= Double(n); md /= Double(n)
    var vy = 0.0, vd = 0.0
    for k in 0..<n {
        let y = Double(buffer.returns[k]) - my, d = Double(buffer.returns[k] - buffer.values[k]) - md
        vy += y * y; vd += d * d
    }
    return vy == 0 ? 0 : 1 - vd / vy
}
