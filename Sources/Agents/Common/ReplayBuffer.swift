import Foundation
import RLCore

/// Experience replay that stores bar indices and the small per-step state, never observation windows: the window of a
/// stored state is rebuilt from the shared (D,F) feature matrix (`features`, one reference) when a batch is sampled.
///
/// Entry i (capacity C, ring order): bar, extras (P), action, reward (the n-step return R), discount (γ^m of the
/// bootstrap, 0 after a termination), next bar, next extras (P), terminated, truncated. The TD target of entry i is
/// `reward[i] + discount[i] · max/double-Q(next state)`.
public struct ReplayBuffer {
    public let capacity: Int
    /// P
    public let extrasWidth: Int
    /// The shared (D,F) feature matrix of the environment the entries come from.
    public private(set) var features: [Float] = []
    public internal(set) var bars: [Int]
    public internal(set) var extras: [Float]
    public internal(set) var actions: [Int]
    public internal(set) var rewards: [Float]
    public internal(set) var discounts: [Float]
    public internal(set) var nextBars: [Int]
    public internal(set) var nextExtras: [Float]
    public internal(set) var terminated: [Bool]
    public internal(set) var truncated: [Bool]
    /// Entries stored (≤ C).
    public internal(set) var count = 0
    /// Where the next entry goes.
    public internal(set) var cursor = 0

    public init(capacity: Int, extrasWidth: Int) {
        precondition(capacity >= 1, "replay capacity must be positive")
        self.capacity = capacity
        self.extrasWidth = extrasWidth
        bars = .init(repeating: 0, count: capacity)
        extras = .init(repeating: 0, count: capacity * extrasWidth)
        actions = .init(repeating: 0, count: capacity)
        rewards = .init(repeating: 0, count: capacity)
        discounts = .init(repeating: 0, count: capacity)
        nextBars = .init(repeating: 0, count: capacity)
        nextExtras = .init(repeating: 0, count: capacity * extrasWidth)
        terminated = .init(repeating: false, count: capacity)
        truncated = .init(repeating: false, count: capacity)
    }

    /// Keeps a reference to the environment's feature matrix (copy-on-write: no copy is made). All entries must come
    /// from environments sharing one matrix.
    public mutating func attach(features f: [Float]) {
        if features.isEmpty { features = f; return }
        precondition(f.count == features.count, "replay entries must share one feature matrix")
    }

    /// Stores one transition and returns its slot.
    @discardableResult
    public mutating func add(
        bar: Int, extras e: ArraySlice<Float>, action: Int, reward: Float, discount: Float,
        nextBar: Int, nextExtras ne: ArraySlice<Float>, terminated term: Bool, truncated trunc: Bool
    ) -> Int {
        let P = extrasWidth, i = cursor
        precondition(e.count == P && ne.count == P, "replay needs \(P) extras")
        bars[i] = bar; actions[i] = action; rewards[i] = reward; discounts[i] = discount; nextBars[i] = nextBar
        terminated[i] = term; truncated[i] = trunc
        var k = i * P
        for v in e { extras[k] = v; k += 1 }
        k = i * P
        for v in ne { nextExtras[k] = v; k += 1 }
        cursor = (cursor + 1) % capacity
        count = min(count + 1, capacity)
        return i
    }

    /// B slots drawn uniformly with replacement, written into `into` (B).
    public func sampleUniform(_ into: inout [Int], using rng: inout Xoshiro256) {
        for b in into.indices { into[b] = Int.random(in: 0..<count, using: &rng) }
    }
}

/// Turns a stream of 1-step transitions of one environment into n-step transitions (Sutton & Barto 7.1):
/// R_t = Σ_{j<m} γ^j r_{t+j}, bootstrap discount γ^m from the state m steps later, where m = n, or fewer when the
/// episode ends first; after a termination the discount is 0 (no bootstrap), after a truncation it stays γ^m and the
/// next state is the final observation.
public struct NStepAccumulator {
    public let n: Int
    public let gamma: Float
    let P: Int
    var bars: [Int], extras: [Float], actions: [Int], rewards: [Float]
    var head = 0
    public private(set) var pending = 0

    public init(n: Int, gamma: Float, extrasWidth: Int) {
        precondition(n >= 1, "n-step needs n ≥ 1")
        self.n = n; self.gamma = gamma; P = extrasWidth
        bars = .init(repeating: 0, count: n); extras = .init(repeating: 0, count: n * extrasWidth)
        actions = .init(repeating: 0, count: n); rewards = .init(repeating: 0, count: n)
    }

    /// Adds the transition (state, action, reward → next state) and writes every n-step transition it completes into
    /// `buffer`; returns how many were written.
    @discardableResult
    public mutating func push(
        bar: Int, extras e: ArraySlice<Float>, action: Int, reward: Float, terminated: Bool,
        truncated: Bool, nextBar: Int, nextExtras: ArraySlice<Float>,
        into buffer: inout ReplayBuffer
    ) -> Int {
        let slot = (head + pending) % n
        bars[slot] = bar; actions[slot] = action; rewards[slot] = reward
        var k = slot * P
        for v in e { extras[k] = v; k += 1 }
        pending += 1
        var written = 0
        if terminated || truncated {
            while pending > 0 {
                emit(
                    terminated: terminated, truncated: truncated, nextBar: nextBar, nextExtras: nextExtras,
                    into: &buffer);
                written += 1
            }
        } else if pending == n {
            emit(terminated: false, truncated: false, nextBar: nextBar, nextExtras: nextExtras, into: &buffer)
            written += 1
        }
        return written
    }

    /// Drops pending transitions (the environment was reset from outside).
    public mutating func clear() { head = 0; pending = 0 }

    /// Writes the oldest pending transition with the return over all pending rewards, and drops it.
    mutating func emit(
        terminated: Bool, truncated: Bool, nextBar: Int, nextExtras: ArraySlice<Float>,
        into buffer: inout ReplayBuffer
    ) {
        var ret: Float = 0, discount: Float = 1
        for j in 0..<pending {
            ret += discount * rewards[(head + j) % n]
            discount *= gamma
        }
        buffer.add(
            bar: bars[head], extras: extras[head * P..<(head + 1) * P], action: actions[head], reward: ret,
            discount: terminated ? 0 : discount, nextBar: nextBar, nextExtras: nextExtras,
            terminated: terminated, truncated: truncated)
        head = (head + 1) % n
        pending -= 1
    }
}

/// A sum tree (and min tree) over C priorities for proportional prioritized replay (Schaul et al. 2016): O(log C)
/// update, prefix-sum search and total; leaves are padded to a power of two.
public struct SumTree {
    public let capacity: Int
    let size: Int
    var sums: [Double]
    var mins: [Double]

    public init(capacity: Int) {
        precondition(capacity >= 1, "sum tree capacity must be positive")
        self.capacity = capacity
        var s = 1
        while s < capacity { s <<= 1 }
        size = s
        sums = .init(repeating: 0, count: 2 * s)
        mins = .init(repeating: .infinity, count: 2 * s)
    }

    /// Σ of all priorities.
    public var total: Double { sums[1] }
    /// The smallest priority set so far (+∞ when none).
    public var minimum: Double { mins[1] }

    public func priority(_ i: Int) -> Double { sums[size + i] }

    /// Sets leaf i's priority p ≥ 0.
    public mutating func update(_ i: Int, priority p: Double) {
        precondition(i >= 0 && i < capacity && p >= 0 && p.isFinite, "bad sum-tree update (\(i), \(p))")
        var k = size + i
        sums[k] = p; mins[k] = p
        k >>= 1
        while k >= 1 {
            sums[k] = sums[2 * k] + sums[2 * k + 1]
            mins[k] = min(mins[2 * k], mins[2 * k + 1])
            k >>= 1
        }
    }

    /// The leaf i where the running sum of priorities first exceeds `prefix` (0 ≤ prefix < total).
    public func find(prefix: Double) -> Int {
        var u = prefix, k = 1
        while k < size {
            let left = sums[2 * k]
            if u < left || sums[2 * k + 1] == 0 { k = 2 * k } else { u -= left; k = 2 * k + 1 }
        }
        return min(k - size, capacity - 1)
    }
}

/// Proportional prioritized sampling over a replay buffer's slots: P(i) = p_i / Σp with p_i = (|δ_i| + ε)^α,
/// stratified over B equal segments of the total; importance weights w_i = (C_n · P(i))^−β / max_j w_j with C_n the
/// number of stored entries (the max taken over the whole buffer through the min priority).
public struct PrioritizedSampler {
    public var tree: SumTree
    public let alpha: Double
    public let epsilon: Double
    /// The largest priority seen; new entries get it so that each is replayed at least once soon.
    public internal(set) var maxPriority = 1.0

    public init(capacity: Int, alpha: Double, epsilon: Double) {
        tree = SumTree(capacity: capacity); self.alpha = alpha; self.epsilon = epsilon
    }

    /// A newly stored slot gets the maximum priority.
    public mutating func added(_ slot: Int) { tree.update(slot, priority: maxPriority) }

    /// Sets slot i's priority from its TD error.
    public mutating func update(_ slot: Int, tdError: Double) {
        let p = pow(abs(tdError) + epsilon, alpha)
        maxPriority = max(maxPriority, p)
        tree.update(slot, priority: p)
    }

    /// Fills `slots` (B) and `weights` (B) for `stored` entries and exponent β.
    public func sample(
        _ slots: inout [Int], weights: inout [Float], stored: Int, beta: Double, using rng: inout Xoshiro256
    ) {
        let B = slots.count, total = tree.total, segment = total / Double(B)
        let maxWeight = pow(Double(stored) * tree.minimum / total, -beta)
        for b in 0..<B {
            let u = (Double(b) + Double.random(in: 0..<1, using: &rng)) * segment
            let i = tree.find(prefix: min(u, total.nextDown))
            slots[b] = i
            let w = pow(Double(stored) * tree.priority(i) / total, -beta)
            weights[b] = Float(w / maxWeight)
        }
    }
}
