import CZlib

/// Reads a whole file into memory, inflating it through zlib when it is gzip-compressed (`gzread` passes plain
/// files through unchanged). A truncated or corrupt gzip stream is an error naming the file.
enum FileBytes {
    /// The file's (decompressed) bytes followed by one 0 byte, so number parsing can never run past the end.
    static func read(_ path: String) throws -> [UInt8] {
        guard let gz = gzopen(path, "rb") else { throw MarketDataError("\(path): cannot open the file") }
        gzbuffer(gz, 1 << 20)
        var bytes: [UInt8] = []
        let chunk = 1 << 20
        var scratch = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = Int(scratch.withUnsafeMutableBufferPointer { gzread(gz, $0.baseAddress, UInt32(chunk)) })
            if n < 0 {
                let message = gzMessage(gz)
                gzclose(gz)
                throw MarketDataError("\(path): cannot decompress the file (\(message))")
            }
            if n == 0 { break }
            scratch.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<n])) }
        }
        var status: Int32 = 0
        let message = String(cString: gzerror(gz, &status))
        let closeStatus = gzclose(gz)
        if status != Z_OK || closeStatus != Z_OK {
            let why =
                status == Z_BUF_ERROR || closeStatus == Z_BUF_ERROR
                ? "truncated gzip data: unexpected end of file" : message
            throw MarketDataError("\(path): cannot decompress the file (\(why))")
        }
        bytes.append(0)
        return bytes
    }

    private static func gzMessage(_ gz: gzFile) -> String {
        var status: Int32 = 0
        return String(cString: gzerror(gz, &status))
    }
}

/// Writes gzip files through zlib (used to export bars and to build test fixtures without a shell).
enum GzipFile {
    /// Compresses `bytes` into a gzip file at `path`.
    static func write(_ bytes: [UInt8], to path: String) throws {
        guard let gz = gzopen(path, "wb") else { throw MarketDataError("\(path): cannot create the file") }
        let written = bytes.withUnsafeBufferPointer { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
        let closed = gzclose(gz)
        guard written == Int32(bytes.count), closed == Z_OK else {
            throw MarketDataError("\(path): cannot write gzip data")
        }
    }
}
