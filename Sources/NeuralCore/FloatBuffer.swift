/// A fixed-size, zero-initialised Float allocation owned by a workspace: no copy-on-write, no bounds checks in kernels.
/// `pointer` is valid while the owner lives; index it like an array (`buffer[i]`) from outside.
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(_ count: Int) {
        self.count = count
        pointer = allocateFloats(count)
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count, "index \(i) out of 0..<\(count)"); return pointer[i] }
        set { precondition(i >= 0 && i < count, "index \(i) out of 0..<\(count)"); pointer[i] = newValue }
    }

    /// A copy of the contents, for tests and logging.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Copies `values` (exactly `count` floats) in.
    public func set(_ values: [Float]) {
        precondition(values.count == count, "expected \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}

/// Room for `count` floats (at least one) starting on a 64-byte boundary: a cache line, one AVX-512 vector. Rows whose
/// strides are whole vectors then never straddle two lines, whatever address the allocator picks (malloc promises 16
/// bytes). Free with `deallocate()`.
func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(count, 1))
}

/// Runs `body` on scratch room for `count` floats (uninitialised), 64-byte aligned as `allocateFloats`' (so that a
/// packed panel's rows are whole cache lines), on the stack when small.
func withFloatScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
    let bytes = max(count, 1) * MemoryLayout<Float>.stride
    return withUnsafeTemporaryAllocation(byteCount: bytes, alignment: 64) { raw in
        body(raw.baseAddress!.bindMemory(to: Float.self, capacity: max(count, 1)))
    }
}
