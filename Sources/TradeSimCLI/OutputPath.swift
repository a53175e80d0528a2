import Foundation

/// Fails with one line naming the flag unless `path` can be written: an existing writable file, or a new file in a
/// writable folder (a missing folder is made, as the store's is). Commands check their outputs with it before they
/// start work.
func checkWritable(_ path: String, flag: String) throws {
    let fm = FileManager.default
    var isFolder: ObjCBool = false
    if fm.fileExists(atPath: path, isDirectory: &isFolder) {
        guard !isFolder.boolValue else { throw CLIError("\(flag) \(path): is a folder") }
        guard fm.isWritableFile(atPath: path) else { throw CLIError("\(flag) \(path): the file is not writable") }
        return
    }
    let parent = (path as NSString).deletingLastPathComponent
    let folder = parent.isEmpty ? "." : parent
    if !fm.fileExists(atPath: folder) {
        do { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw CLIError("\(flag) \(path): cannot make the folder \(folder)")
        }
    }
    guard fm.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw CLIError("\(flag) \(path): \(folder) is not a folder")
    }
    guard fm.isWritableFile(atPath: folder) else { throw CLIError("\(flag) \(path): the folder is not writable") }
}

/// Writes `text` to `path` (stdout when nil), or fails with one line naming the flag.
func write(_ text: String, to path: String?, flag: String = "--out") throws {
    guard let path else {
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        return
    }
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw CLIError("\(flag) \(path): cannot write the file")
    }
}
