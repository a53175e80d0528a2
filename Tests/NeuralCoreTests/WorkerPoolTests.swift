import Foundation
import Synchronization
import Testing

@testable import NeuralCore

/// Every share runs exactly once per job, over many jobs in a row (the workers' poll path, racing the caller for the
/// shares) and after a pause longer than the poll (the sleep and wake-up path), where share 0 waits for the others to
/// start, so the sleeping workers must wake and run them on threads of their own.
@Test func workerPoolRunsEachShareOnce() {
    let pool = WorkerPool()
    for shares in [2, 3, 2, 4] {
        for _ in 0..<200 {
            let counts = Mutex([Int](repeating: 0, count: shares))
            pool.run(shares: shares) { s in counts.withLock { $0[s] += 1 } }
            #expect(counts.withLock { $0 } == [Int](repeating: 1, count: shares))
        }
    }
    Thread.sleep(forTimeInterval: Double(WorkerPool.pollNanoseconds) / 1e9 * 3)  // the workers are asleep now
    let threads = Mutex<Set<String>>([])
    let started = Atomic<Int>(0)
    pool.run(shares: 3) { s in
        threads.withLock { _ = $0.insert("\(pthread_self())") }
        if s > 0 { started.add(1, ordering: .relaxed); return }
        let deadline = Date().addingTimeInterval(10)
        while started.load(ordering: .relaxed) < 2 && Date() < deadline {}
    }
    #expect(started.load(ordering: .relaxed) == 2)
    #expect(threads.withLock { $0.count } == 3)
}

/// Idle workers sleep once they have polled for `pollNanoseconds`; `wakeAhead` sets them polling again. Naps are
/// counted from the moment both workers sleep: a worker that starts polling before `run` posts its job (the caller
/// descheduled in between, on a busy machine) may nap once more before it.
@Test func idleWorkersSleepAndWakeAhead() {
    let pool = WorkerPool()
    pool.run(shares: 3) { _ in }
    #expect(waitUntil { pool.sleeping == 2 }, "both workers went to sleep")
    let naps = pool.naps
    pool.wakeAhead()
    #expect(
        waitUntil { pool.naps == naps + 2 && pool.sleeping == 2 },
        "wakeAhead woke both, and they slept again after polling")
    Thread.sleep(forTimeInterval: Double(WorkerPool.pollNanoseconds) / 1e9 * 3)
    #expect(pool.naps == naps + 2, "nothing else wakes a sleeping worker")
    #expect(pool.sleeping == 2)
}

/// Polls `condition` every millisecond for up to 10 s; whether it became true.
func waitUntil(_ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(10)
    while !condition() {
        if Date() > deadline { return false }
        Thread.sleep(forTimeInterval: 0.001)
    }
    return true
}

/// A `run` from inside a share, and two callers at once, still run every share once (inline when the pool is busy).
@Test func workerPoolNestedAndConcurrentCallers() {
    let pool = WorkerPool()
    let inner = Atomic<Int>(0)
    pool.run(shares: 2) { _ in pool.run(shares: 3) { _ in inner.add(1, ordering: .relaxed) } }
    #expect(inner.load(ordering: .relaxed) == 6)

    let total = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 4) { _ in
        for _ in 0..<100 { pool.run(shares: 2) { s in total.add(s + 1, ordering: .relaxed) } }
    }
    #expect(total.load(ordering: .relaxed) == 4 * 100 * 3)
}

/// `forEachShare` covers 0..<n with disjoint ranges, share s being s·n/S ..< (s+1)·n/S.
@Test func sharesPartitionTheRange() {
    setBLASThreads(2)
    let seen = Mutex<[Range<Int>]>([])
    forEachShare(7) { range in seen.withLock { $0.append(range) } }
    #expect(seen.withLock { $0.sorted { $0.lowerBound < $1.lowerBound } } == [0..<3, 3..<7])
}

/// The thread count `OPENBLAS_NUM_THREADS` pins: none when unset, a positive integer as written, and anything else an
/// error that quotes the value.
@Test func pinnedThreadCountReadsOnlyPositiveIntegers() throws {
    #expect(try pinnedThreadCount(in: [:]) == nil)
    #expect(try pinnedThreadCount(in: ["OPENBLAS_NUM_THREADS": "3"]) == 3)
    for bad in ["0", "-2", "two", "", " 2", "2.0"] {
        #expect(throws: ThreadCountError(value: bad)) { try pinnedThreadCount(in: ["OPENBLAS_NUM_THREADS": bad]) }
    }
    #expect(
        "\(ThreadCountError(value: "two"))" == "OPENBLAS_NUM_THREADS must be a positive integer, not 'two'")
}
