import Foundation

/// What a seeded fuzz loop found: problems by case, the slowest case's seconds, the cases run, and whether the loop
/// finished before its watchdog. Shared by the CSV fuzzing (MarketDataTests) and the YAML fuzzing (ExperimentsTests).
public final class FuzzOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var found: [String] = []
    private var slowestSeconds = 0.0
    private var done = 0
    private var watchdogPassed = false

    /// Runs `problem(k)` for k in 0..<`cases` on a thread of its own (16 MiB of stack) and waits at most `seconds`;
    /// `problem` returns nil when case k behaved. A loop that hangs is reported by `finished` (its thread is left
    /// running) instead of blocking the test run.
    public static func run(
        cases: Int, watchdog seconds: Double,
        _ problem: @escaping @Sendable (Int) -> String?
    ) -> FuzzOutcome {
        let outcome = FuzzOutcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            for k in 0..<cases {
                let start = DispatchTime.now().uptimeNanoseconds
                let p = problem(k)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                outcome.record(case: k, problem: p, seconds: seconds)
            }
            done.signal()
        }
        thread.stackSize = 16 << 20
        thread.start()
        let finished = done.wait(timeout: .now() + seconds) == .success
        outcome.lock.withLock { outcome.watchdogPassed = finished }
        return outcome
    }

    /// The loop ran to its end within the watchdog's time.
    public var finished: Bool { lock.withLock { watchdogPassed } }
    /// "case K: problem", in case order.
    public var problems: [String] { lock.withLock { found } }
    public var slowest: Double { lock.withLock { slowestSeconds } }
    /// Cases run so far.
    public var count: Int { lock.withLock { done } }

    private func record(case k: Int, problem: String?, seconds: Double) {
        lock.withLock {
            if let problem { found.append("case \(k): \(problem)") }
            slowestSeconds = max(slowestSeconds, seconds)
            done += 1
        }
    }
}
