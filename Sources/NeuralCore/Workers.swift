import Foundation
import Synchronization

// NeuralCore's threads. A training step of the agents' network splits its work across the threads 6–10 times (the
// LSTM's forward and backward passes, the weight gradients), tens to hundreds of microseconds apart. Handing each
// split to Dispatch woke a sleeping thread every time, which costs 30–40 µs in this VM (measured: 15% of a `bench nn
// --shape small` step lost to waiting for the second share to start); the pool's workers poll for the next job for a
// while instead.

/// How many shares `forEachShare` splits n items into: one per NeuralCore thread (`blasThreads()`), at most n.
func shareCount(_ n: Int) -> Int { max(1, min(blasThreads(), n)) }

/// Runs `body` over disjoint shares of 0..<n (batch rows, panels), one share per NeuralCore thread, in parallel; share
/// s of S is s·n/S ..< (s+1)·n/S. LSTM sequences are independent, so a share of the batch runs all its time steps with
/// no synchronisation; the result does not depend on scheduling.
func forEachShare(_ n: Int, _ body: (Range<Int>) -> Void) {
    let shares = shareCount(n)
    if shares <= 1 { return body(0..<n) }
    // Safe to share: every call writes only its own share of the caller's buffers and reads shared inputs.
    WorkerPool.shared.run(shares: shares) { s in body((s * n / shares)..<((s + 1) * n / shares)) }
}

/// Persistent worker threads. `run(shares:)` runs share 0 on the calling thread and share s on worker s, and returns
/// when all are done. After a job a worker polls for the next one for `pollNanoseconds` before it sleeps, so jobs
/// that come close together start at once; one that comes after a longer pause pays one wake-up.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker polls before sleeping: longer than the gaps inside a training step and between the
    /// DQN agent's updates (4 env steps with batch-1 forwards on one thread, about 0.5 ms).
    static let pollNanoseconds: UInt64 = 1_000_000

    /// Bumped (under `sleep`'s lock) to post a job; each worker runs each generation once.
    private let generation = Atomic<Int>(0)
    /// Workers that have not yet finished the current generation.
    private let remaining = Atomic<Int>(0)
    /// Set while a job runs: a nested or concurrent `run` runs its shares inline instead.
    private let busy = Atomic<Bool>(false)
    private let sleep = NSCondition()
    private var sleepers = 0   // guarded by `sleep`
    // Written by the caller only while no job runs; read by workers after they see the new generation.
    private var workers = 0
    private var job: ((Int) -> Void)?
    private var shares = 0

    /// Runs `body(s)` for s in 0..<shares (s = 0 on this thread) and returns when all have returned. When the pool is
    /// already running a job (`run` called from inside a share, or from a second thread), runs them one after another
    /// on this thread: the same shares, so the same results.
    func run(shares: Int, _ body: (Int) -> Void) {
        guard shares > 1, !busy.exchange(true, ordering: .acquiring) else {
            for s in 0..<shares { body(s) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            while workers < shares - 1 { startWorker() }
            job = body
            self.shares = shares
            remaining.store(workers, ordering: .relaxed)   // every worker answers every generation
            sleep.lock()
            generation.add(1, ordering: .releasing)
            if sleepers > 0 { sleep.broadcast() }
            sleep.unlock()
            body(0)
            while remaining.load(ordering: .acquiring) > 0 {}
            job = nil   // every worker has dropped its reference (`runJob`), as withoutActuallyEscaping requires
        }
    }

    private func startWorker() {
        workers += 1
        let index = workers, seen = generation.load(ordering: .relaxed)
        let thread = Thread { [self] in
            var seen = seen
            while true {
                seen = waitForJob(after: seen)
                if index < shares { runJob(index) }
                remaining.subtract(1, ordering: .releasing)
            }
        }
        thread.name = "NeuralCore worker \(index)"
        thread.start()
    }

    /// Calls the job in a frame of its own, so this thread holds no reference to the closure once it returns.
    @inline(never)
    private func runJob(_ index: Int) { job!(index) }

    /// Polls for a generation after `seen` for up to `pollNanoseconds`, then sleeps until one is posted; returns it.
    private func waitForJob(after seen: Int) -> Int {
        let start = DispatchTime.now().uptimeNanoseconds
        var polls = 0
        while true {
            let posted = generation.load(ordering: .acquiring)
            if posted != seen { return posted }
            polls += 1
            if polls & 1023 == 0 && DispatchTime.now().uptimeNanoseconds - start > Self.pollNanoseconds { break }
        }
        sleep.lock()
        defer { sleep.unlock() }
        while generation.load(ordering: .acquiring) == seen {
            sleepers += 1
            sleep.wait()
            sleepers -= 1
        }
        return generation.load(ordering: .acquiring)
    }
}
