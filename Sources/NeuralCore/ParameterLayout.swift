/// One named tensor inside a network's flat parameter buffer: its PyTorch `state_dict` name, shape and index range.
public struct TensorSlot: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let range: Range<Int>
    public var count: Int { range.count }
    public var offset: Int { range.lowerBound }
}

/// Hands out consecutive ranges of one flat buffer, in `state_dict` order, while a network is being built.
public struct ParameterLayout: Sendable {
    public private(set) var slots: [TensorSlot] = []
    public private(set) var count = 0

    public init() {}

    /// Reserves `shape.reduce(1, *)` floats under `name` and returns the slot.
    public mutating func add(_ name: String, _ shape: [Int]) -> TensorSlot {
        precondition(!slots.contains { $0.name == name }, "duplicate tensor name \(name)")
        let size = shape.reduce(1, *)
        let slot = TensorSlot(name: name, shape: shape, range: count..<(count + size))
        slots.append(slot)
        count += size
        return slot
    }
}

/// Fills `values[slot.range]` with U(−bound, bound) draws, as PyTorch's `uniform_` initialisers do.
func initialiseUniform(
    _ values: inout [Float], _ slot: TensorSlot, bound: Float, using rng: inout some RandomNumberGenerator
) {
    for i in slot.range { values[i] = Float.random(in: -bound...bound, using: &rng) }
}
