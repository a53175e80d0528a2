import Experiments
import Foundation
import RunStore

// `stdout`, the C stream `print` writes through, is a mutable global of the C library: used from the main thread only.
#if canImport(Glibc)
    @preconcurrency import SwiftGlibc
#elseif canImport(Darwin)
    @preconcurrency import Darwin
#endif

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
    do { try makeFolder(URL(fileURLWithPath: folder)) } catch let problem as FolderProblem {
        if problem.inTheWay { throw CLIError("\(flag) \(path): \(problem.path) is not a folder") }
        throw CLIError("\(flag) \(path): cannot make the folder \(folder) (\(problem.reason))")
    }
    if let reason = reasonFolderTakesNoFile(folder) {
        throw CLIError("\(flag) \(path): cannot write in the folder (\(reason))")
    }
}

/// `checkOutput` for a command that evaluates or exports the stored `runs` of `db`: their environment and data files
/// count as read too, and so do the experiment file an `--experiment` flag names and the files it names.
func checkOutput(
    _ path: String, flag: String, store: String, evaluating runs: [RunRecord], in db: RunStore,
    experiment: String? = nil
) throws {
    var reads = try runs.flatMap { try inputFiles(of: $0, store: db) }
    if let experiment, FileManager.default.fileExists(atPath: experiment) {
        reads += (try? Experiment.load(experiment).files) ?? [experiment]
    }
    try checkOutput(path, flag: flag, store: store, reads: reads)
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

/// Writes `text` to `path` (stdout when nil, ending in a newline), or fails with one line naming the flag.
func write(_ text: String, to path: String?, flag: String = "--out") throws {
    let output = try Output(path, flag: flag)
    try output.write(path == nil && !text.hasSuffix("\n") ? text + "\n" : text)
    try output.close()
}

/// Where a command writes its results: a file (`--out`, `--report`) or standard output (through its buffer, which
/// `TradeSim.main` flushes and checks at the end). A regular file, new or existing (through a symbolic link too), is
/// replaced whole: the results go to a new file beside it, which `close` renames over it, so a failed or interrupted
/// command leaves the file as it was. A device or a pipe is written in place and stays what it is, and so is a file
/// whose folder takes no new file. A failed write or close is one line naming the output, e.g. `--out /dev/full: No
/// space left on device`.
final class Output {
    /// The file's descriptor; nil for standard output.
    private let descriptor: Int32?
    /// Whether the file's descriptor is still to be closed.
    private var isOpen = true
    /// How messages name the output: `--out FILE` or `standard output`.
    private let name: String
    /// For a regular file: the new file being written, and the file `close` renames it over.
    private var replacing: (written: String, target: String)?

    /// Opens `path` (of `flag`) for writing; nil is standard output.
    init(_ path: String?, flag: String = "--out") throws {
        guard let path else {
            (descriptor, name) = (nil, "standard output")
            return
        }
        name = "\(flag) \(path)"
        var info = stat()
        let exists = stat(path, &info) == 0
        if !exists || info.st_mode & S_IFMT == S_IFREG {
            // a link's file is replaced, not the link
            let target = exists ? URL(fileURLWithPath: path).resolvingSymlinksInPath().path : path
            let folder = (target as NSString).deletingLastPathComponent
            let written =
                (folder.isEmpty ? "" : folder + "/") + ".\((target as NSString).lastPathComponent).tradesim-"
                + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let fd = open(written, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 {
                if exists { fchmod(fd, info.st_mode & 0o7777) }  // the file keeps its permissions
                (descriptor, replacing) = (fd, (written, target))
                return
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw Output.failure(name) }
        descriptor = fd
    }

    /// A file not closed (after an error) is left as it was: the new file is removed.
    deinit {
        if let descriptor, isOpen { _ = Foundation.close(descriptor) }
        if let replacing { unlink(replacing.written) }
    }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) throws {
        let written = bytes.withUnsafeBytes { buffer in
            guard let descriptor else { return fwrite(buffer.baseAddress, 1, buffer.count, stdout) == buffer.count }
            return writeAll(descriptor, buffer)
        }
        if !written { throw Output.failure(name) }
    }

    /// Closes the file and puts it in place (a failure to store what was written shows here on some file systems), or
    /// flushes standard output.
    func close() throws {
        guard let descriptor else {
            if fflush(stdout) != 0 { throw Output.failure(name) }
            return
        }
        isOpen = false
        var failure: CLIError?
        // the new file's data reaches the disk before it replaces the old one
        if replacing != nil && fsync(descriptor) != 0 { failure = Output.failure(name) }
        if Foundation.close(descriptor) != 0 && failure == nil { failure = Output.failure(name) }
        if let failure { throw failure }
        if let (written, target) = replacing {
            guard rename(written, target) == 0 else { throw Output.failure(name) }
            replacing = nil
        }
    }

    /// Flushes standard output: anything written to it that was lost, now or earlier (a full disk, a closed pipe), is
    /// one line. `TradeSim.main` calls it after every command.
    static func flushStandardOutput() throws {
        errno = 0
        if fflush(stdout) != 0 || ferror(stdout) != 0 {
            throw CLIError("standard output: " + (errno == 0 ? "write error" : String(cString: strerror(errno))))
        }
    }

    /// The last system error, about the output `name`.
    private static func failure(_ name: String) -> CLIError { CLIError("\(name): \(String(cString: strerror(errno)))") }
}

/// Writes all of `buffer` to the file descriptor `fd`, retrying short and interrupted writes; false (with `errno`
/// set) when the system refuses.
private func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    while done < buffer.count {
        let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { return false }
        done += n
    }
    return true
}
