import Foundation

/// A load or save failure, one line naming the file and, where there is one, the tensor.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ url: URL, _ message: String) { description = "\(url.path): \(message)" }
}

/// The safetensors format (what the Python `safetensors` package reads and writes): an 8-byte little-endian header
/// length n, n bytes of JSON `{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__":
/// {string: string}}` (padded with spaces to a multiple of 8), then the little-endian data; offsets are relative to the
/// data's start. Only F32 tensors are written or read here.
public enum SafeTensors {
    /// One tensor to write; `values` must hold shape.reduce(1, *) floats.
    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let values: ArraySlice<Float>
        public init(name: String, shape: [Int], values: ArraySlice<Float>) {
            precondition(
                values.count == shape.reduce(1, *), "tensor \(name): \(values.count) values for shape \(shape)")
            self.name = name; self.shape = shape; self.values = values
        }
    }

    /// Writes `tensors` in the given order, atomically (temporary file + rename).
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to url: URL) throws {
        var entries: [String] = []
        var offset = 0
        for t in tensors {
            let end = offset + 4 * t.values.count
            entries.append(
                "\(jsonString(t.name)):{\"dtype\":\"F32\","
                    + "\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
                    + "\"data_offsets\":[\(offset),\(end)]}"
            )
            offset = end
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.insert("\"__metadata__\":{\(pairs.joined(separator: ","))}", at: 0)
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for t in tensors {
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw SafeTensorsError(url, "cannot write: \(fileSystemReason(error))")
        }
    }

    /// A parsed file: its metadata and tensor table, with the data kept in memory.
    public struct File {
        public struct Entry { public let shape: [Int]; let begin: Int; let end: Int }
        public let url: URL
        public let metadata: [String: String]
        public let entries: [String: Entry]
        let data: [UInt8]
        let dataStart: Int

        /// Reads and validates the header of `url`: length, JSON, dtype F32, shapes, offsets inside the file.
        public init(contentsOf url: URL) throws {
            self.url = url
            let bytes: [UInt8]
            do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
                throw SafeTensorsError(url, "cannot read: \(fileSystemReason(error))")
            }
            guard bytes.count >= 8 else {
                throw SafeTensorsError(url, "truncated file: \(bytes.count) bytes, no header length")
            }
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
            guard n <= UInt64(bytes.count - 8) else {
                throw SafeTensorsError(url, "truncated file: header says \(n) bytes, only \(bytes.count - 8) follow")
            }
            let headerEnd = 8 + Int(n)
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
                let table = object as? [String: Any]
            else {
                throw SafeTensorsError(url, "bad header: not a JSON object")
            }
            let dataSize = bytes.count - headerEnd
            var entries: [String: Entry] = [:]
            var metadata: [String: String] = [:]
            for (name, value) in table {
                if name == "__metadata__" {
                    guard let m = value as? [String: String] else {
                        throw SafeTensorsError(url, "bad header: __metadata__ is not {string: string}")
                    }
                    metadata = m
                    continue
                }
                guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                    let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int],
                    offsets.count == 2
                else {
                    throw SafeTensorsError(url, "bad header: tensor '\(name)' lacks dtype, shape or data_offsets")
                }
                guard dtype == "F32" else {
                    throw SafeTensorsError(url, "tensor '\(name)' has dtype \(dtype), expected F32")
                }
                let (begin, end) = (offsets[0], offsets[1])
                guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, end - begin == 4 * shape.reduce(1, *) else {
                    throw SafeTensorsError(
                        url, "bad header: tensor '\(name)' data_offsets [\(begin), \(end)] do not fit shape \(shape)")
                }
                guard end <= dataSize else {
                    throw SafeTensorsError(
                        url, "truncated file: tensor '\(name)' ends at data byte \(end), only \(dataSize) present")
                }
                entries[name] = Entry(shape: shape, begin: begin, end: end)
            }
            self.metadata = metadata
            self.entries = entries
            data = bytes
            dataStart = headerEnd
        }

        /// The values of tensor `name`, checked against `shape`.
        public func values(_ name: String, shape: [Int]) throws -> [Float] {
            guard let e = entries[name] else { throw SafeTensorsError(url, "missing tensor '\(name)'") }
            guard e.shape == shape else {
                throw SafeTensorsError(url, "tensor '\(name)' has shape \(e.shape), expected \(shape)")
            }
            var out = [Float](repeating: 0, count: (e.end - e.begin) / 4)
            for i in 0..<out.count {
                let at = dataStart + e.begin + 4 * i
                let bits =
                    UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3])
                    << 24
                out[i] = Float(bitPattern: bits)
            }
            return out
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

extension EncoderNetwork {
    /// Saves every parameter under its `state_dict` name, and with `optimizer` its moments as `adam.m.<name>`,
    /// `adam.v.<name>` and its step count in the metadata (`adam.step`). The architecture is in the metadata too.
    public func save(to url: URL, optimizer: Adam? = nil) throws {
        var list = tensors.map { SafeTensors.Tensor(name: $0.name, shape: $0.shape, values: parameters[$0.range]) }
        var metadata = ["format": "pt"]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]  // the same network always writes the same bytes
        if let data = try? encoder.encode(configuration), let json = String(data: data, encoding: .utf8) {
            metadata["tradesim.architecture"] = json
        }
        if let optimizer {
            precondition(optimizer.m.count == parameters.count, "optimizer was made for another network")
            list += tensors.map {
                SafeTensors.Tensor(name: "adam.m.\($0.name)", shape: $0.shape, values: optimizer.m[$0.range])
            }
            list += tensors.map {
                SafeTensors.Tensor(name: "adam.v.\($0.name)", shape: $0.shape, values: optimizer.v[$0.range])
            }
            metadata["adam.step"] = String(optimizer.step)
        }
        try SafeTensors.write(list, metadata: metadata, to: url)
    }

    /// Loads every parameter (each must be present with its shape; other tensors are ignored).
    /// Nothing changes unless the whole file checks out.
    public func load(from url: URL) throws {
        parameters = try loadedParameters(SafeTensors.File(contentsOf: url))
    }

    /// Loads every parameter and the optimizer's moments and step, as `save(to:optimizer:)` wrote them.
    /// Nothing changes unless the whole file checks out.
    public func load(from url: URL, optimizer: inout Adam) throws {
        precondition(optimizer.m.count == parameters.count, "optimizer was made for another network")
        let file = try SafeTensors.File(contentsOf: url)
        let newParameters = try loadedParameters(file)
        var adam = optimizer
        for t in tensors {
            adam.m.replaceSubrange(t.range, with: try file.values("adam.m.\(t.name)", shape: t.shape))
            adam.v.replaceSubrange(t.range, with: try file.values("adam.v.\(t.name)", shape: t.shape))
        }
        guard let text = file.metadata["adam.step"], let step = Int(text), step >= 0 else {
            throw SafeTensorsError(url, "missing or bad metadata 'adam.step'")
        }
        adam.step = step
        optimizer = adam
        parameters = newParameters
    }

    private func loadedParameters(_ file: SafeTensors.File) throws -> [Float] {
        var values = parameters
        for t in tensors { values.replaceSubrange(t.range, with: try file.values(t.name, shape: t.shape)) }
        return values
    }
}
