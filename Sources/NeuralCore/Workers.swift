import Foundation
import NeuralKernels
import Synchronization

// NeuralCore's threads. A training step of the agents' network splits its work across the threads 6–10 times (the
// LSTM's forward and backward passes, the weight gradients, Adam), microseconds to tens of microseconds apart. Waking a
// sleeping thread costs 30–40 µs in this VM (through Dispatch: 15% of a `bench nn --shape small` step lost to waiting
// for the second share to start), so the pool's workers poll for the next job for a while before they sleep, a caller
// that is about to split work wakes sleeping workers ahead of time (`wakeAhead`), and a share no worker has started
// yet is run by the caller itself, so a late or descheduled worker never holds a job up.

/// How many shares `forEachShare` splits n items into: one per NeuralCore thread (`blasThreads()`), at most n (and
/// `WorkerPool.maxShares`).
func shareCount(_ n: Int) -> Int { max(1, min(blasThreads(), n, WorkerPool.maxShares)) }

/// Runs `body` over disjoint shares of 0..<n (batch rows, panels), one share per NeuralCore thread, in parallel; share
/// s of S is s·n/S ..< (s+1)·n/S. LSTM sequences are independent, so a share of the batch runs all its time steps with
/// no synchronisation; the result does not depend on scheduling. Public for work beside the network's that splits the
/// same way (an agent filling a minibatch's input rows).
public func forEachShare(_ n: Int, _ body: (Range<Int>) -> Void) {
    let shares = shareCount(n)
    if shares <= 1 { return body(0..<n) }
    // Safe to share: every call writes only its own share of the caller's buffers and reads shared inputs.
    WorkerPool.shared.run(shares: shares) { s in body((s * n / shares)..<((s + 1) * n / shares)) }
}

/// Multiply-adds from which a layer's product over many rows (`Linear.forward`, a Market2Vec over B·T bars) splits
/// its rows across the threads, bias and activation share by share: a few microseconds of work, beyond which an idle
/// thread costs more than a job's start.
let rowSplitWork = 1 << 18

/// Runs `body` over 0..<n at once, or, from `elementwiseSplitCount` elements, over shares of it across the threads
/// (`forEachShare`), each share but the last a whole number of 8-lane vectors: Adam's update, an activation's backward.
func splitElementwise(_ n: Int, _ body: (Range<Int>) -> Void) {
    guard n >= elementwiseSplitCount else { return body(0..<n) }
    forEachShare((n + 7) / 8) { vectors in body((vectors.lowerBound * 8)..<min(n, vectors.upperBound * 8)) }
}

/// Elements from which `splitElementwise` splits (Adam: about 10 µs of work on one thread).
let elementwiseSplitCount = 16_384

/// Persistent worker threads. `run(shares:)` runs share 0 on the calling thread and offers share s to worker s; the
/// caller then runs every share whose worker has not claimed it yet, and returns when all are done. After a job a
/// worker polls for the next one for `pollNanoseconds`, then sleeps until `run` or `wakeAhead` wakes it.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker polls before it sleeps: longer than the gaps between the jobs of a training step and
    /// between steps (Adam, the loss: tens of µs), shorter than an agent's acting between updates.
    static let pollNanoseconds: UInt64 = 200_000
    /// How long `run` polls for the workers' shares to finish before it sleeps until they do.
    static let waitPollNanoseconds: UInt64 = 50_000
    /// The most shares a job may have.
    static let maxShares = 32

    /// The current job, generation·256 + its share count, posted (under `sleep`'s lock) by `run`; each worker looks at
    /// each generation once.
    private let posted = Atomic<Int>(0)
    /// The current generation (its low 31 bits)·2³² + a bit per share claimed so far (by its worker or by the
    /// caller): each share runs once, and a worker that wakes for a finished generation claims nothing.
    private let claims = Atomic<Int>(0)
    /// Workers that may be running a share of the current job (counted before they claim).
    private let running = Atomic<Int>(0)
    /// Set while `run` sleeps until `running` is 0.
    private let callerSleeps = Atomic<Bool>(false)
    /// Bumped (under `sleep`'s lock) by `wakeAhead`: sleeping workers go back to polling.
    private let wakeUps = Atomic<Int>(0)
    /// Set while a job runs: a nested or concurrent `run` runs its shares inline instead.
    private let busy = Atomic<Bool>(false)
    private let sleep = NSCondition(), done = NSCondition()
    private var sleepers = 0, napCount = 0  // guarded by `sleep`
    // Written by the caller only while no job runs; read by workers after they see the new generation.
    private var workers = 0
    private var job: ((Int) -> Void)?

    /// Runs `body(s)` for s in 0..<shares (s = 0 on this thread) and returns when all have returned. When the pool is
    /// already running a job (`run` called from inside a share, or from a second thread), runs them one after another
    /// on this thread: the same shares, so the same results.
    func run(shares: Int, _ body: (Int) -> Void) {
        precondition(shares <= Self.maxShares, "at most \(Self.maxShares) shares")
        guard shares > 1, !busy.exchange(true, ordering: .acquiring) else {
            for s in 0..<shares { body(s) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            while workers < shares - 1 { startWorker() }
            job = body
            let generation = posted.load(ordering: .relaxed) >> 8 + 1
            claims.store((generation & 0x7FFF_FFFF) << 32, ordering: .relaxed)
            sleep.lock()
            posted.store(generation << 8 | shares, ordering: .releasing)
            if sleepers > 0 { sleep.broadcast() }
            sleep.unlock()
            body(0)
            for s in 1..<shares where claim(s, generation: generation) { body(s) }  // the shares no worker has started
            waitForWorkers()
            // no worker holds the closure once its share is done (`runJob`), as withoutActuallyEscaping requires
            job = nil
        }
    }

    /// Wakes sleeping workers so they poll again: for a caller about to split work after some work of its own, so
    /// that the wake-up overlaps that work. Costs nothing much when no worker sleeps.
    func wakeAhead() {
        guard !busy.load(ordering: .relaxed) else { return }
        sleep.lock()
        if sleepers > 0 {
            wakeUps.add(1, ordering: .relaxed)
            sleep.broadcast()
        }
        sleep.unlock()
    }

    /// How many times a worker has gone to sleep (tests).
    var naps: Int {
        sleep.lock()
        defer { sleep.unlock() }
        return napCount
    }

    /// How many workers sleep now (tests).
    var sleeping: Int {
        sleep.lock()
        defer { sleep.unlock() }
        return sleepers
    }

    /// Claims share s of `generation`; false when it was claimed already or the generation is over.
    private func claim(_ s: Int, generation: Int) -> Bool {
        let bit = 1 << s
        var current = claims.load(ordering: .acquiring)
        while current >> 32 == generation & 0x7FFF_FFFF && current & bit == 0 {
            let (exchanged, original) = claims.compareExchange(
                expected: current, desired: current | bit,
                ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Polls until no worker runs a share of this job, then sleeps until the last one finishes.
    private func waitForWorkers() {
        let start = DispatchTime.now().uptimeNanoseconds
        var polls = 0
        while running.load(ordering: .sequentiallyConsistent) > 0 {
            nk_spin_pause()
            polls += 1
            if polls & 255 == 0 && DispatchTime.now().uptimeNanoseconds - start > Self.waitPollNanoseconds {
                done.lock()
                callerSleeps.store(true, ordering: .sequentiallyConsistent)
                while running.load(ordering: .sequentiallyConsistent) > 0 { done.wait() }
                callerSleeps.store(false, ordering: .relaxed)
                done.unlock()
                return
            }
        }
    }

    private func startWorker() {
        workers += 1
        let index = workers, seen = posted.load(ordering: .relaxed)
        let thread = Thread { [self] in
            var seen = seen
            while true {
                seen = waitForJob(after: seen)
                // counted before the claim, so that a caller that finds the share claimed waits for it
                running.add(1, ordering: .sequentiallyConsistent)
                if index < seen & 255 && claim(index, generation: seen >> 8) { runJob(index) }
                if running.subtract(1, ordering: .sequentiallyConsistent).newValue == 0
                    && callerSleeps.load(ordering: .sequentiallyConsistent)
                {
                    done.lock()
                    done.signal()
                    done.unlock()
                }
            }
        }
        thread.name = "NeuralCore worker \(index)"
        thread.start()
    }

    /// Calls the job in a frame of its own, so this thread holds no reference to the closure once it returns.
    @inline(never)
    private func runJob(_ index: Int) { job!(index) }

    /// Polls for a job posted after `seen` for up to `pollNanoseconds`, then sleeps until one is posted (or until
    /// `wakeAhead`, then polls again); returns it.
    private func waitForJob(after seen: Int) -> Int {
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            var polls = 0
            while true {
                let job = posted.load(ordering: .acquiring)
                if job != seen { return job }
                nk_spin_pause()
                polls += 1
                if polls & 255 == 0 && DispatchTime.now().uptimeNanoseconds - start > Self.pollNanoseconds { break }
            }
            sleep.lock()
            napCount += 1
            let woken = wakeUps.load(ordering: .relaxed)
            while posted.load(ordering: .acquiring) == seen && wakeUps.load(ordering: .relaxed) == woken {
                sleepers += 1
                sleep.wait()
                sleepers -= 1
            }
            sleep.unlock()
        }
    }
}
