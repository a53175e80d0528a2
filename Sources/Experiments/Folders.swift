import Foundation

/// A folder `makeFolder` could not make: the path at fault (the folder or one of its parents) and the system's reason,
/// or a file in the way.
struct FolderProblem: Error {
    let path: String
    let reason: String
    var inTheWay: Bool { reason == FolderProblem.fileInTheWay }
    static let fileInTheWay = "a file, not a folder"
}

/// Creates `folder` and its missing parents, like `mkdir -p`.
func makeFolder(_ folder: URL) throws {
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

/// Makes `folder` (relative to the working directory) and its missing parents, or checks that the existing one can be
/// written in; the error line starts with `label` (`--checkpoints`, `x.yaml: key 'tensorboard'`) and the folder, and
/// gives the file system's reason: `--checkpoints /proc/nope/ck: cannot create the folder (/proc/nope: No such file
/// or directory)`.
public func createFolder(_ folder: String, label: String) throws {
    let path = URL(fileURLWithPath: absolutePath(folder)).standardizedFileURL.path
    do { try makeFolder(URL(fileURLWithPath: path)) } catch let problem as FolderProblem {
        let at = problem.path == path ? "" : "\(problem.path): "
        throw ConfigError("\(label) \(folder): cannot create the folder (\(at)\(problem.reason))")
    }
    guard access(path, W_OK | X_OK) == 0 else {
        throw ConfigError("\(label) \(folder): cannot write in the folder (\(String(cString: strerror(errno))))")
    }
}
