import Foundation

/// A set of values an environment accepts or emits, with seeded sampling and membership.
public protocol Space: Sendable {
    associatedtype Element
    func sample(using rng: inout some RandomNumberGenerator) -> Element
    func contains(_ x: Element) -> Bool
}

/// `{0, 1, …, n−1}`.
public struct Discrete: Space, Equatable {
    public let n: Int

    public init(_ n: Int) {
        precondition(n > 0, "Discrete space needs n > 0")
        self.n = n
    }

    @inlinable
    public func sample(using rng: inout some RandomNumberGenerator) -> Int { Int.random(in: 0..<n, using: &rng) }

    @inlinable
    public func contains(_ x: Int) -> Bool { x >= 0 && x < n }
}

/// A box `low[i] ≤ x[i] ≤ high[i]` of `shape.reduce(1, *)` Float values, stored flat in row-major order.
public struct Box: Space, Equatable {
    public let low: [Float]
    public let high: [Float]
    public let shape: [Int]

    /// Same bounds for every element.
    public init(low: Float, high: Float, shape: [Int]) {
        let count = shape.reduce(1, *)
        self.init(
            low: [Float](repeating: low, count: count), high: [Float](repeating: high, count: count), shape: shape)
    }

    public init(low: [Float], high: [Float], shape: [Int]) {
        precondition(low.count == high.count && low.count == shape.reduce(1, *), "Box bounds do not match its shape")
        precondition(zip(low, high).allSatisfy { $0 <= $1 }, "Box needs low ≤ high")
        self.low = low
        self.high = high
        self.shape = shape
    }

    public var count: Int { low.count }

    /// Uniform on bounded dimensions; a standard normal on unbounded ones (as Gymnasium), shifted for half-bounded.
    public func sample(using rng: inout some RandomNumberGenerator) -> [Float] {
        (0..<count).map { i in
            let lo = low[i], hi = high[i]
            switch (lo.isFinite, hi.isFinite) {
            case (true, true): return lo == hi ? lo : Float.random(in: lo...hi, using: &rng)
            case (true, false): return lo + Float(exponential(using: &rng))
            case (false, true): return hi - Float(exponential(using: &rng))
            case (false, false): return Float(standardNormal(using: &rng))
            }
        }
    }

    public func contains(_ x: [Float]) -> Bool {
        guard x.count == count else { return false }
        for i in 0..<count where !(x[i] >= low[i] && x[i] <= high[i]) { return false }
        return true
    }
}

/// A standard normal draw by the Box–Muller transform (one of the pair is discarded to keep the stream stateless).
@inlinable
public func standardNormal(using rng: inout some RandomNumberGenerator) -> Double {
    let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &rng)
    let u2 = Double.random(in: 0..<1, using: &rng)
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
}

/// An exponential(1) draw.
@inlinable
public func exponential(using rng: inout some RandomNumberGenerator) -> Double {
    -log(Double.random(in: Double.leastNonzeroMagnitude..<1, using: &rng))
}
