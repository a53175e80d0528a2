import Experiments
import Foundation
import RunStore

/// Fails with one line naming the flag unless `path` can be written and is none of the files the command reads: the
/// run store `store` (a SQLite file, with its `-wal`, `-shm` and `-journal` files) and `reads` (its data files). Files
/// are compared as `FileIdentity`s, so another spelling of a path, a symbolic link or a hard link is caught too. The
/// path must be an existing writable file or a new file in a writable folder (a missing folder is made, as the
/// store's is). Every command checks each of its outputs (`--out`, `--report`) with it before it starts work.
func checkOutput(_ path: String, flag: String, store: String? = nil, reads: [String] = []) throws {
    let output = FileIdentity(path)
    if let store, !RunStore.isURL(store) {
        // SQLite keeps the -wal and -shm files beside a linked store's target.
        let file = URL(fileURLWithPath: store).resolvingSymlinksInPath().path
        if ["", "-wal", "-shm", "-journal"].contains(where: { FileIdentity(file + $0) == output }) {
            throw CLIError("\(flag) \(path): that is the run store; write the output elsewhere")
        }
    }
    if let input = reads.first(where: { FileIdentity($0) == output }) {
        throw CLIError("\(flag) \(path): the command reads that file (\(input)); write the output elsewhere")
    }
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

/// `checkOutput` for a command that evaluates the stored `runs` of `db`: their data files are read too.
func checkOutput(_ path: String, flag: String, store: String, evaluating runs: [RunRecord], in db: RunStore) throws {
    try checkOutput(path, flag: flag, store: store, reads: try runs.flatMap { try dataFiles(of: $0, store: db) })
}

/// A file as the system knows it: its device and inode when it exists, else its absolute path with the symbolic links
/// of its folder resolved (two paths of a file not yet written are the same file when they resolve alike).
enum FileIdentity: Equatable {
    case inode(device: UInt64, inode: UInt64)
    case path(String)

    init(_ path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            self = .inode(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        } else {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            self = .path(
                url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent)
                    .path)
        }
    }
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
