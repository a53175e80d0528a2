import Crypto
import Foundation

/// `value` as JSON with sorted keys (equal values, equal text: what the config hash is taken of).
func sortedJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// SHA-256 of a file's bytes, as 64 hex digits.
func sha256Hex(ofFile path: String) throws -> String {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var hasher = SHA256()
    // 256 KiB at a time: hashing a full replay buffer holds no copy of it in memory.
    while let chunk = try handle.read(upToCount: 1 << 18), !chunk.isEmpty { hasher.update(data: chunk) }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}

/// FNV-1a 64 of a string's UTF-8 bytes, as 16 hex digits (the config hash: equal configs, equal hashes).
func fnv1aHex(_ s: String) -> String {
    var h = FNV1a()
    for b in s.utf8 { h.add(byte: b) }
    return h.hex
}
