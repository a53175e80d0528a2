/// Doubles in one allocation owned by an object, so that the step works on a pointer without closures or retains.
///
/// `MarketEnv.quotes` is never written and shared by every copy of an environment; `MarketEnv.book` is written, and its
/// owner copies it first while another copy of the environment still holds it (`isKnownUniquelyReferenced`), as an
/// array would.
final class DoubleBuffer: @unchecked Sendable {
    /// The first of `count` values.
    let base: UnsafeMutablePointer<Double>
    let count: Int

    init(_ values: some Collection<Double>) {
        count = values.count
        base = .allocate(capacity: max(count, 1))
        _ = UnsafeMutableBufferPointer(start: base, count: count).initialize(from: values)
    }

    /// A buffer of its own with the same values.
    func copy() -> DoubleBuffer { DoubleBuffer(UnsafeBufferPointer(start: base, count: count)) }

    /// Value i.
    subscript(i: Int) -> Double {
        precondition(i >= 0 && i < count, "DoubleBuffer: index \(i) outside 0..<\(count)")
        return base[i]
    }

    /// Values `range`, as an array.
    subscript(range: Range<Int>) -> [Double] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "DoubleBuffer: \(range) outside 0..<\(count)")
        return Array(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    deinit { base.deallocate() }
}
