import Foundation
import RunStore

/// Writes scalars into a TensorBoard event file, which `tensorboard --logdir` shows live while the file grows.
///
/// The file is `directory/events.out.tfevents.{unix seconds, 10 digits}.{host name}` (with `.1`, `.2`, … appended if
/// that name is taken; TensorBoard reads every file whose name contains `tfevents`, in name order). It is a sequence of
/// TFRecords, each
///
///     uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes · length bytes of data ·
///     uint32 masked CRC-32C of the data
///
/// whose data is one `Event` protobuf (tensorboard/compat/proto/event.proto, summary.proto):
///
///     Event   { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; Summary summary = 5; } }
///     Summary { repeated Value value = 1; }
///     Value   { string tag = 1; oneof { float simple_value = 2; } }
///
/// The first event holds `file_version: "brain.Event:2"`; each scalar is then one event with one value. Fields are
/// encoded as protobuf's own serializer does (ascending field numbers, zero `wall_time` / `step` left out), so the
/// bytes are the canonical encoding of the event.
///
/// `add` only buffers; `flush` appends the buffered records to the file with one write, after which a reader sees every
/// event added so far. A writer dropped without `close` still writes its buffered events, ignoring any error.
public final class TensorBoardWriter {
    /// The event file.
    public let file: URL
    private let handle: FileHandle
    /// Records added since the last flush.
    private var pending = Data()

    /// Creates `directory` (and its parents) if needed and a new event file in it, holding the `file_version` event at
    /// `wallTime` (seconds since 1970, also the file name's time).
    public init(directory: URL, wallTime: Double = Date().timeIntervalSince1970) throws {
        do { try makeFolder(directory) } catch let problem as FolderProblem {
            let path = URL(fileURLWithPath: problem.path)
            throw TensorBoardError(
                path, problem.inTheWay ? "not a folder" : "cannot create the folder: \(problem.reason)")
        }
        let base = String(format: "events.out.tfevents.%010lld.", Int64(wallTime)) + ProcessInfo.processInfo.hostName
        var suffix = 0
        while true {
            let url = directory.appendingPathComponent(suffix == 0 ? base : "\(base).\(suffix)")
            let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd >= 0 {
                file = url
                handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
                break
            }
            guard errno == EEXIST else {
                throw TensorBoardError(url, "cannot create: \(String(cString: strerror(errno)))")
            }
            suffix += 1
        }
        var version = Data()
        version.appendBytesField(3, Data("brain.Event:2".utf8))
        append(event: version, step: 0, wallTime: wallTime)
        try flush()
    }

    deinit { try? flush() }

    /// Buffers the scalar `tag` = `value` (stored as a 32-bit float, TensorBoard's `simple_value`) at training step
    /// `step` and `wallTime` (seconds since 1970).
    public func add(tag: String, value: Double, step: Int64, wallTime: Double = Date().timeIntervalSince1970) {
        var scalar = Data()
        scalar.appendBytesField(1, Data(tag.utf8))
        scalar.appendKey(2, wireType: 5)
        scalar.appendLittleEndian(Float(value).bitPattern)
        var summary = Data()
        summary.appendBytesField(1, scalar)
        var event = Data()
        event.appendBytesField(5, summary)
        append(event: event, step: step, wallTime: wallTime)
    }

    /// Buffers the event that says a session started at training step `step` (`SessionLog` START): TensorBoard then
    /// drops every point at `step` or later that earlier files of the run hold (a killed process's, after the
    /// checkpoint a resume starts from).
    public func addSessionStart(step: Int64, wallTime: Double = Date().timeIntervalSince1970) {
        var log = Data()
        log.appendKey(1, wireType: 0)  // status: START
        log.appendVarint(1)
        var event = Data()
        event.appendBytesField(7, log)
        append(event: event, step: step, wallTime: wallTime)
    }

    /// Writes the buffered events to the file (on an error they are dropped, not written again by the next flush).
    public func flush() throws {
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        do {
            try handle.write(contentsOf: pending)
        } catch {
            throw TensorBoardError(file, "cannot write: \(error.localizedDescription)")
        }
    }

    /// Flushes and closes the file; the writer must not be used afterwards.
    public func close() throws {
        try flush()
        do {
            try handle.close()
        } catch {
            throw TensorBoardError(file, "cannot close: \(error.localizedDescription)")
        }
    }

    /// Buffers the record of the event made of `wall_time`, `step` and `what` (the encoded oneof field).
    private func append(event what: Data, step: Int64, wallTime: Double) {
        var event = Data()
        if wallTime != 0 {
            event.appendKey(1, wireType: 1)
            event.appendLittleEndian(wallTime.bitPattern)
        }
        if step != 0 {
            event.appendKey(2, wireType: 0)
            event.appendVarint(UInt64(bitPattern: step))
        }
        event.append(what)
        var length = Data()
        length.appendLittleEndian(UInt64(event.count))
        pending.append(length)
        pending.appendLittleEndian(CRC32C.masked(length))
        pending.append(event)
        pending.appendLittleEndian(CRC32C.masked(event))
    }
}

/// A TensorBoard event file that cannot be created or written.
public struct TensorBoardError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ url: URL, _ message: String) { description = "\(url.path): \(message)" }
}

/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF), byte-wise with a
/// 256-entry table; `checksum("123456789") == 0xE3069283`.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { byte in
        (0..<8).reduce(UInt32(byte)) { crc, _ in crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8) }
    }

    /// The checksum as TFRecord stores it: rotated right by 15 bits plus 0xA282EAD8 (so that a CRC of data that
    /// holds CRCs is not degenerate).
    static func masked(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// Protobuf wire format: keys, varints and length-delimited fields.
extension Data {
    /// The key of field `field` with wire type `wireType` (0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed
    /// 32-bit).
    fileprivate mutating func appendKey(_ field: Int, wireType: UInt64) {
        appendVarint(UInt64(field) << 3 | wireType)
    }

    /// `value` in base-128 groups of 7 bits, least significant first, with the high bit set on all but the last.
    fileprivate mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    fileprivate mutating func appendLittleEndian(_ value: some FixedWidthInteger) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// A length-delimited field (a string, bytes or an embedded message).
    fileprivate mutating func appendBytesField(_ field: Int, _ bytes: Data) {
        appendKey(field, wireType: 2)
        appendVarint(UInt64(bytes.count))
        append(bytes)
    }
}
