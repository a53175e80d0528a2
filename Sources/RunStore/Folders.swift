import Foundation

// The folders tradesim writes in (the run store's, outputs', checkpoints', TensorBoard's) are made and checked here.

/// A folder `makeFolder` could not make: the path at fault (the folder or one of its parents) and the system's reason,
/// or a file in the way.
public struct FolderProblem: Error {
    public let path: String
    public let reason: String
    public var inTheWay: Bool { reason == FolderProblem.fileInTheWay }
    static let fileInTheWay = "a file, not a folder"
}

/// Creates `folder` and its missing parents, like `mkdir -p`.
public func makeFolder(_ folder: URL) throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
        guard isFolder.boolValue else { throw FolderProblem(path: folder.path, reason: FolderProblem.fileInTheWay) }
        return
    }
    try makeFolder(folder.deletingLastPathComponent())
    guard mkdir(folder.path, 0o755) == 0 || errno == EEXIST else {
        throw FolderProblem(path: folder.path, reason: String(cString: strerror(errno)))
    }
}

/// Nil when a new file can be created in the existing folder `folder`, else the system's reason. It tries, since
/// access(2) says yes to root even on read-only media.
public func reasonFolderTakesNoFile(_ folder: String) -> String? {
    let probe = (folder as NSString).appendingPathComponent(".tradesim-probe-\(getpid())-\(UUID().uuidString)")
    let fd = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return String(cString: strerror(errno)) }
    close(fd)
    unlink(probe)
    return nil
}
