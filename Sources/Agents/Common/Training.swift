import Foundation
import RLCore

/// Monotonic seconds (package: the benchmarks time with it too).
@inline(__always) package func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// Per-environment running episode return and length; emits `.step` and `.episode` events.
struct EpisodeTracker {
    var returns: [Double]
    var lengths: [Int]
    init(envs: Int) { returns = .init(repeating: 0, count: envs); lengths = .init(repeating: 0, count: envs) }

    mutating func record<Info>(
        env i: Int, step: Step<some Any, Info>, action: Double, globalStep: Int,
        progress: (TrainingEvent<Info>) -> Void
    ) {
        progress(.step(env: i, globalStep: globalStep, action: action, reward: step.reward, info: step.info))
        returns[i] += step.reward
        lengths[i] += 1
        if step.done {
            progress(
                .episode(
                    EpisodeEnd(
                        step: globalStep, env: i, episodeReturn: returns[i], length: lengths[i],
                        terminated: step.terminated, info: step.info)))
            returns[i] = 0
            lengths[i] = 0
        }
    }
}
