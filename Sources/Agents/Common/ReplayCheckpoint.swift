import Foundation

/// Arrays of plain values written as (count: Int64, raw little-endian bytes), in a fixed order; `replay.bin` of a DQN
/// checkpoint. Reading checks every count against the buffer being restored, so a truncated or foreign file is an
/// error. Writing streams to the file in chunks of at most `chunk` bytes, so saving a full replay buffer never holds a
/// second copy of it in memory (a long run's peak RSS stays flat across checkpoints).
struct BinaryArchive {
    static let magic: [UInt8] = Array("TSREPLAY1".utf8)
    static let chunk = 1 << 18
    /// Reading: the whole file. Writing: the bytes not yet flushed to `sink`.
    var data = Data(magic)
    var offset = 0
    private var sink: FileHandle?

    /// An archive that writes to a new file at `url` (replaced if present); call `finish()` when done.
    init(writingTo url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
            let handle = try? FileHandle(forWritingTo: url)
        else {
            throw CheckpointError("\(url.path): cannot write the replay buffer")
        }
        sink = handle
    }

    mutating func put<T: BitwiseCopyable>(_ a: [T]) throws {
        var n = Int64(a.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        try a.withUnsafeBytes { raw in
            for start in stride(from: 0, to: raw.count, by: Self.chunk) {
                data.append(
                    contentsOf: UnsafeRawBufferPointer(rebasing: raw[start..<min(start + Self.chunk, raw.count)]))
                if data.count >= Self.chunk { try flush() }
            }
        }
    }

    mutating func put(_ x: Double) throws { try put([x]) }

    /// Writes what is buffered to the file.
    mutating func flush() throws {
        guard let sink, !data.isEmpty else { return }
        try sink.write(contentsOf: data)
        data.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file.
    mutating func finish() throws {
        try flush()
        try sink?.close()
        sink = nil
    }

    init(reading data: Data, file: String) throws {
        guard data.starts(with: Self.magic) else { throw CheckpointError("\(file): not a tradesim replay file") }
        self.data = data
        offset = Self.magic.count
    }

    mutating func take<T: BitwiseCopyable>(_ expected: Int, _ type: T.Type, file: String, name: String) throws -> [T] {
        guard offset + 8 <= data.count else { throw CheckpointError("\(file): truncated before '\(name)'") }
        let n = Int(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int64.self) }.littleEndian)
        offset += 8
        let bytes = n * MemoryLayout<T>.stride
        guard n == expected else {
            throw CheckpointError("\(file): '\(name)' holds \(n) values, this agent needs \(expected)")
        }
        guard offset + bytes <= data.count else { throw CheckpointError("\(file): truncated inside '\(name)'") }
        let values = [T](unsafeUninitializedCapacity: n) { buffer, count in
            data.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + bytes]))
            }
            count = n
        }
        offset += bytes
        return values
    }

    mutating func take(file: String, name: String) throws -> Double {
        try take(1, Double.self, file: file, name: name)[0]
    }
}

extension ReplayBuffer {
    /// Writes every stored transition and the ring position (not the feature matrix: it is the environment's).
    func archive(into a: inout BinaryArchive) throws {
        try a.put([count, cursor])
        try a.put(bars); try a.put(extras); try a.put(actions); try a.put(rewards); try a.put(discounts)
        try a.put(nextBars); try a.put(nextExtras); try a.put(terminated); try a.put(truncated)
    }

    /// Restores what `archive` wrote, for a buffer of the same capacity and extras width.
    mutating func restore(from a: inout BinaryArchive, file: String) throws {
        let C = capacity, P = extrasWidth
        let position = try a.take(2, Int.self, file: file, name: "position")
        guard position[0] >= 0, position[0] <= C, position[1] >= 0, position[1] < C else {
            throw CheckpointError("\(file): replay position \(position) does not fit capacity \(C)")
        }
        count = position[0]; cursor = position[1]
        bars = try a.take(C, Int.self, file: file, name: "bars")
        extras = try a.take(C * P, Float.self, file: file, name: "extras")
        actions = try a.take(C, Int.self, file: file, name: "actions")
        rewards = try a.take(C, Float.self, file: file, name: "rewards")
        discounts = try a.take(C, Float.self, file: file, name: "discounts")
        nextBars = try a.take(C, Int.self, file: file, name: "nextBars")
        nextExtras = try a.take(C * P, Float.self, file: file, name: "nextExtras")
        terminated = try a.take(C, Bool.self, file: file, name: "terminated")
        truncated = try a.take(C, Bool.self, file: file, name: "truncated")
    }
}

extension PrioritizedSampler {
    func archive(into a: inout BinaryArchive) throws {
        try a.put(tree.sums); try a.put(tree.mins); try a.put(maxPriority)
    }

    mutating func restore(from a: inout BinaryArchive, file: String) throws {
        tree.sums = try a.take(tree.sums.count, Double.self, file: file, name: "priorities")
        tree.mins = try a.take(tree.mins.count, Double.self, file: file, name: "minimum priorities")
        maxPriority = try a.take(file: file, name: "maxPriority")
    }
}
