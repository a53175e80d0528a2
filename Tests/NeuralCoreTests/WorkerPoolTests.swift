import Foundation
import Synchronization
import Testing
@testable import NeuralCore

/// Every share runs exactly once per job, on as many threads as shares, over many jobs in a row (the workers' poll
/// path) and after a pause longer than the poll (the sleep and wake-up path).
@Test func workerPoolRunsEachShareOnce() {
    let pool = WorkerPool()
    for shares in [2, 3, 2, 4] {
        for _ in 0..<200 {
            let counts = Mutex([Int](repeating: 0, count: shares))
            pool.run(shares: shares) { s in counts.withLock { $0[s] += 1 } }
            #expect(counts.withLock { $0 } == [Int](repeating: 1, count: shares))
        }
    }
    Thread.sleep(forTimeInterval: Double(WorkerPool.pollNanoseconds) / 1e9 * 3)   // the workers are asleep now
    let threads = Mutex<Set<String>>([])
    let hits = Atomic<Int>(0)
    pool.run(shares: 3) { _ in
        hits.add(1, ordering: .relaxed)
        threads.withLock { _ = $0.insert("\(pthread_self())") }
    }
    #expect(hits.load(ordering: .relaxed) == 3)
    #expect(threads.withLock { $0.count } == 3)
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
