import Foundation
import Testing

@testable import Experiments

/// One event of an event file, decoded by `readEventFile`.
struct DecodedEvent: Equatable {
    var wallTime = 0.0
    var step: Int64 = 0
    var fileVersion: String?
    /// Whether the event is a `session_log` (7) of status START (1).
    var sessionStart = false
    /// The summary's `(tag, simple_value)` pairs.
    var scalars: [Scalar] = []

    struct Scalar: Equatable {
        var tag: String
        var value: Float
    }
}

struct EventFileError: Error, CustomStringConvertible {
    let description: String
}

/// The events of a TFRecord file, after checking every length's and every data's masked CRC-32C.
func readEventFile(_ url: URL) throws -> [DecodedEvent] {
    let bytes = [UInt8](try Data(contentsOf: url))
    var events: [DecodedEvent] = []
    var at = 0
    func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n <= bytes.count - at else { throw EventFileError(description: "record truncated at byte \(at)") }
        defer { at += n }
        return bytes[at..<at + n]
    }
    while at < bytes.count {
        let start = at
        let length = try take(8)
        guard try littleEndian(take(4)) == CRC32C.masked(length) else {
            throw EventFileError(description: "length CRC of the record at byte \(start)")
        }
        let count = Int(littleEndian(length))
        let data = try take(count)
        guard try littleEndian(take(4)) == CRC32C.masked(data) else {
            throw EventFileError(description: "data CRC of the record at byte \(start)")
        }
        events.append(try decodeEvent(data))
    }
    return events
}

/// The unsigned integer of little-endian `bytes`.
func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) } }

/// The fields of a protobuf message: field number, and the varint value or the fixed / length-delimited bytes.
func protobufFields(_ bytes: ArraySlice<UInt8>) throws -> [(field: Int, varint: UInt64, bytes: ArraySlice<UInt8>)] {
    var fields: [(Int, UInt64, ArraySlice<UInt8>)] = []
    var at = bytes.startIndex
    func varint() throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard at < bytes.endIndex else { break }
            let byte = bytes[at]
            at += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
        }
        throw EventFileError(description: "bad varint")
    }
    func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n <= bytes.endIndex - at else { throw EventFileError(description: "field truncated") }
        defer { at += n }
        return bytes[at..<at + n]
    }
    while at < bytes.endIndex {
        let key = try varint()
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: fields.append((field, try varint(), []))
        case 1: fields.append((field, 0, try take(8)))
        case 2: fields.append((field, 0, try take(Int(try varint()))))
        case 5: fields.append((field, 0, try take(4)))
        default: throw EventFileError(description: "wire type \(key & 7)")
        }
    }
    return fields
}

/// An `Event` with `wall_time` (1), `step` (2), `file_version` (3), `summary` (5) of values with `tag` (1) and
/// `simple_value` (2), and `session_log` (7) with its `status` (1); any other field is an error.
func decodeEvent(_ data: ArraySlice<UInt8>) throws -> DecodedEvent {
    var event = DecodedEvent()
    for f in try protobufFields(data) {
        switch f.field {
        case 1: event.wallTime = Double(bitPattern: littleEndian(f.bytes))
        case 2: event.step = Int64(bitPattern: f.varint)
        case 3: event.fileVersion = String(decoding: f.bytes, as: UTF8.self)
        case 7: event.sessionStart = try protobufFields(f.bytes).map { [$0.field, Int($0.varint)] } == [[1, 1]]
        case 5:
            for value in try protobufFields(f.bytes) where value.field == 1 {
                var scalar = DecodedEvent.Scalar(tag: "", value: .nan)
                for v in try protobufFields(value.bytes) {
                    switch v.field {
                    case 1: scalar.tag = String(decoding: v.bytes, as: UTF8.self)
                    case 2: scalar.value = Float(bitPattern: UInt32(littleEndian(v.bytes)))
                    default: throw EventFileError(description: "unexpected Value field \(v.field)")
                    }
                }
                event.scalars.append(scalar)
            }
        default: throw EventFileError(description: "unexpected Event field \(f.field)")
        }
    }
    return event
}

/// The committed fixture: the writer's file for `fixtureEvents`, and what TensorBoard read from it (outside the test
/// target's folder, which declares no resources).
let tensorBoardFixtures = repoRoot + "/Tests/Fixtures/tensorboard"

@Suite struct TensorBoardTests {
    func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tensorboard-\(UUID().uuidString)")
    }

    /// Standard check values (the last three from RFC 3720, B.4) and the masks TensorBoard's own `masked_crc32c`
    /// computes for them.
    @Test(
        arguments: [
            (Array("123456789".utf8), 0xE306_9283, 0xC78A_B0E5),
            ([], 0, 0xA282_EAD8),
            ([UInt8](repeating: 0, count: 32), 0x8A91_36AA, 0x0FD7_FFFA),
            ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43, 0xF909_B029),
            (Array(0..<32), 0x46DD_794E, 0x951F_7892),
        ] as [([UInt8], UInt32, UInt32)])
    func crc32c(bytes: [UInt8], crc: UInt32, masked: UInt32) {
        #expect(CRC32C.checksum(bytes) == crc)
        #expect(CRC32C.masked(bytes) == masked)
    }

    @Test func aRunStillWritingCanBeRead() throws {
        let dir = temporaryFolder().appendingPathComponent("nested/run-1")
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent().deletingLastPathComponent()) }
        let writer = try TensorBoardWriter(directory: dir, wallTime: 1_750_000_000.5)
        let name = writer.file.lastPathComponent
        #expect(name == "events.out.tfevents.1750000000.\(ProcessInfo.processInfo.hostName)")
        #expect(writer.file.deletingLastPathComponent().path == dir.path)
        let header = DecodedEvent(wallTime: 1_750_000_000.5, fileVersion: "brain.Event:2")
        #expect(try readEventFile(writer.file) == [header])

        writer.add(tag: "losses/td", value: 0.25, step: 10, wallTime: 1_750_000_001)
        writer.add(tag: "charts/episodicReturn", value: -3.5, step: 12, wallTime: 1_750_000_002)
        #expect(try readEventFile(writer.file) == [header], "add only buffers")
        try writer.flush()
        let first = [
            DecodedEvent(wallTime: 1_750_000_001, step: 10, scalars: [.init(tag: "losses/td", value: 0.25)]),
            DecodedEvent(
                wallTime: 1_750_000_002, step: 12,
                scalars: [.init(tag: "charts/episodicReturn", value: -3.5)]),
        ]
        #expect(try readEventFile(writer.file) == [header] + first)

        writer.add(tag: "eval/validation/sharpe", value: 0.1, step: 20, wallTime: 1_750_000_003)
        try writer.flush()
        let second = DecodedEvent(
            wallTime: 1_750_000_003, step: 20,
            scalars: [.init(tag: "eval/validation/sharpe", value: Float(0.1))])
        #expect(try readEventFile(writer.file) == [header] + first + [second])
        try writer.close()
        #expect(try readEventFile(writer.file) == [header] + first + [second])
    }

    @Test func aWriterDroppedWithoutCloseWritesItsBufferedEvents() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var writer: TensorBoardWriter? = try TensorBoardWriter(directory: dir, wallTime: 1_750_000_000)
        let file = writer!.file
        writer!.add(tag: "losses/td", value: 1, step: 1, wallTime: 1_750_000_001)
        writer = nil
        #expect(try readEventFile(file).map(\.scalars) == [[], [.init(tag: "losses/td", value: 1)]])
    }

    @Test func aSecondWriterInTheSameSecondGetsItsOwnFile() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try TensorBoardWriter(directory: dir, wallTime: 1_750_000_000.1)
        let b = try TensorBoardWriter(directory: dir, wallTime: 1_750_000_000.9)
        #expect(b.file.lastPathComponent == a.file.lastPathComponent + ".1")
        b.add(tag: "b", value: 2, step: 2, wallTime: 1_750_000_002)
        try b.close()
        try a.close()
        #expect(try readEventFile(a.file).map(\.wallTime) == [1_750_000_000.1])
        #expect(try readEventFile(b.file).map(\.wallTime) == [1_750_000_000.9, 1_750_000_002])
    }

    @Test func aCorruptedRecordFailsItsCRCCheck() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try TensorBoardWriter(directory: dir, wallTime: 1_750_000_000)
        writer.add(tag: "losses/td", value: 1, step: 1, wallTime: 1_750_000_001)
        try writer.close()
        let good = try Data(contentsOf: writer.file)
        let second = 8 + 4 + Int(good[0]) + 4  // where the second record starts
        for (offset, kind) in [(0, "length"), (12, "data"), (second, "length"), (good.count - 5, "data")] {
            var bad = good
            bad[offset] ^= 0x01
            try bad.write(to: writer.file)
            #expect(throws: EventFileError.self, "\(kind) at \(offset)") { try readEventFile(writer.file) }
        }
    }

    @Test func aFolderThatCannotBeMadeIsOneClearError() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("file")
        try Data("not a folder".utf8).write(to: file)
        #expect(throws: TensorBoardError(file, "not a folder")) {
            try TensorBoardWriter(directory: file.appendingPathComponent("runs/run-1"))
        }
    }

    /// Events of the committed fixture: step 0 (left out of the encoding), a value a float rounds, a step past 2³²,
    /// and a tag longer than 127 bytes (two-byte lengths).
    static let fixtureStart = 1_700_000_000.0
    static let fixtureEvents: [(tag: String, value: Double, step: Int64, wallTime: Double)] = [
        ("losses/td", 0.5, 0, 1_700_000_000.25),
        ("losses/td", 0.1, 128, 1_700_000_001.5),
        ("charts/episodicReturn", -12.75, 300, 1_700_000_002.125),
        ("charts/sps", 1.5e6, 5_000_000_000, 1_700_000_003),
        ("eval/validation/" + String(repeating: "long", count: 30), 3.25, 1_000, 1_700_000_004.75),
    ]

    struct FixtureReading: Decodable {
        struct Scalar: Decodable, Equatable {
            var tag: String
            var step: Int64
            var value: Double
            var wall_time: Double
        }
        var file_version: Double
        var records: Int
        var canonical_encoding: Bool
        var scalars: [Scalar]
    }

    @Test func theWriterReproducesTheCommittedFixture() throws {
        let dir = temporaryFolder()
        let writer = try TensorBoardWriter(directory: dir, wallTime: Self.fixtureStart)
        for e in Self.fixtureEvents { writer.add(tag: e.tag, value: e.value, step: e.step, wallTime: e.wallTime) }
        try writer.close()
        let committed = URL(fileURLWithPath: tensorBoardFixtures + "/events.out.tfevents.1700000000.fixture")
        let same = try Data(contentsOf: writer.file) == (try? Data(contentsOf: committed))
        #expect(
            same,
            """
            \(writer.file.path) differs from \(committed.path); if the format changed on purpose, copy it over and \
            rerun scripts/make_tensorboard_fixture.py
            """)
        if same { try FileManager.default.removeItem(at: dir) }
    }

    /// A resumed run's folder: the killed process's file (`losses/td` at steps 100 to 400, and a value at 300 that the
    /// resumed process does not log again), then the resumed process's, which starts its session at its checkpoint's
    /// step 200, logs again what the store kept at 200 and goes on with new values. Returns the two files.
    static func writeResumedRun(in dir: URL) throws -> [URL] {
        let killed = try TensorBoardWriter(directory: dir, wallTime: fixtureStart)
        for (k, step) in [100, 200, 300, 400].enumerated() {
            killed.add(
                tag: "losses/td", value: Double(k + 1), step: Int64(step), wallTime: fixtureStart + Double(k + 1))
        }
        killed.add(tag: "numeric/skippedUpdates", value: 1, step: 300, wallTime: fixtureStart + 10)
        try killed.close()
        let resumed = try TensorBoardWriter(directory: dir, wallTime: fixtureStart + 100)
        resumed.addSessionStart(step: 200, wallTime: fixtureStart + 100)
        for (step, value) in [(200, 2.0), (300, 30), (400, 40)] {
            resumed.add(tag: "losses/td", value: value, step: Int64(step), wallTime: fixtureStart + 100 + value)
        }
        try resumed.close()
        return [killed.file, resumed.file]
    }

    /// TensorBoard shows a resumed run without the points the killed process logged from the resumed checkpoint's
    /// step on: the committed files are the writer's (`writeResumedRun`), and `resumed_read.json` what TensorBoard read
    /// from their folder.
    @Test func aResumedRunsStartDropsWhatTheKilledProcessLoggedFromItsStepOn() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try Self.writeResumedRun(in: dir)
        #expect(
            try readEventFile(files[1])[1]
                == DecodedEvent(wallTime: Self.fixtureStart + 100, step: 200, sessionStart: true))
        for (file, time) in zip(files, ["1700000000", "1700000100"]) {
            let committed = URL(fileURLWithPath: tensorBoardFixtures + "/resumed/events.out.tfevents.\(time).fixture")
            #expect(
                try Data(contentsOf: file) == (try? Data(contentsOf: committed)), "\(file.path) ≠ \(committed.path)")
        }
        let json = try Data(contentsOf: URL(fileURLWithPath: tensorBoardFixtures + "/resumed_read.json"))
        let reading = try JSONDecoder().decode([FixtureReading.Scalar].self, from: json)
        #expect(
            reading.map { "\($0.tag) \($0.step) \($0.value)" } == [
                "losses/td 100 1.0", "losses/td 200 2.0", "losses/td 300 30.0", "losses/td 400 40.0",
            ])
    }

    @Test func tensorBoardReadsTheCommittedFixture() throws {
        let json = try Data(contentsOf: URL(fileURLWithPath: tensorBoardFixtures + "/tensorboard_read.json"))
        let reading = try JSONDecoder().decode(FixtureReading.self, from: json)
        #expect(reading.file_version == 2)
        #expect(reading.records == Self.fixtureEvents.count + 1)
        #expect(reading.canonical_encoding)
        let expected = Self.fixtureEvents.map {
            FixtureReading.Scalar(tag: $0.tag, step: $0.step, value: Double(Float($0.value)), wall_time: $0.wallTime)
        }
        let order = { (a: FixtureReading.Scalar, b: FixtureReading.Scalar) in (a.tag, a.step) < (b.tag, b.step) }
        #expect(reading.scalars.sorted(by: order) == expected.sorted(by: order))
    }
}
