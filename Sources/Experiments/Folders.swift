import Foundation
import RunStore

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
    if let reason = reasonFolderTakesNoFile(path) {
        throw ConfigError("\(label) \(folder): cannot write in the folder (\(reason))")
    }
}
