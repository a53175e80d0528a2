import Foundation
import Testing

@testable import RunStore

/// Runs `tradesim args…` as a user who cannot write in the folders this process made: this process's user when it is
/// not root (the caller makes the folder read-only), else `nobody` through `setpriv`, on a copy of the executable in
/// `bin` (a folder anyone can read, where the build's own folder may not be).
private func runAsReader(_ args: [String], bin: String) throws -> CLIResult {
    guard getuid() == 0 else { return try runCLI(args) }
    let binary = bin + "/tradesim"
    if !FileManager.default.fileExists(atPath: binary) {
        try FileManager.default.copyItem(atPath: tradesimBinary, toPath: binary)
        #expect(chmod(bin, 0o755) == 0 && chmod(binary, 0o755) == 0)
    }
    let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", binary]
    return try runCLI(nobody + args, in: bin, executable: "/usr/bin/setpriv")
}

/// A store whose folder takes no new file (read-only media, another user's folder) can be read by every command that
/// only reads runs, with the same output as where it can be written, and nothing is written beside it; the
/// transactions a running writer has committed to its `-wal` file are read too. A command that writes is one error
/// line.
@Test func aStoreInAFolderThatTakesNoFileCanBeRead() throws {
    let dir = try temporaryDirectory(), bin = try temporaryDirectory()
    let (id, _) = try trainedRun(dir)
    let store = ["--store", dir + "/runs.sqlite"]
    // compare and replay read the run's data in the repository, which another user may not be able to read
    let data = getuid() != 0 || othersCanRead(repoRoot + "/data")
    let readers =
        ([["runs"], ["export", "\(id)"], ["sweeps"]] + (data ? [["compare", "\(id)"], ["replay", "\(id)"]] : []))
        .map { $0 + store }
    // run in the folder the reader runs in, since outputs name files relative to it
    let expected = try readers.map { try runCLI($0, in: getuid() == 0 ? bin : repoRoot) }
    for r in expected { #expect(r.status == 0 && !r.stdout.isEmpty, "\(r.stderr)") }
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    #expect(chmod(dir, 0o555) == 0)
    defer { chmod(dir, 0o755) }

    for (command, before) in zip(readers, expected) {
        let r = try runAsReader(command, bin: bin)
        #expect(r.status == 0, "\(command): \(r.stderr)")
        #expect(r.stdout == before.stdout, "\(command)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == files)
    let remove = try runAsReader(["runs", "rm", "\(id)", "--yes"] + store, bin: bin)
    #expect(remove.failsWithOneErrorLine && remove.stderr.contains("\(dir)/: directory is not writable"))

    // A writer that can write there (root, or this user) renames the run and keeps the store open: its -wal holds it.
    guard getuid() == 0 else { return }
    let writer = try RunStore(path: dir + "/runs.sqlite")
    try writer.pool.write { db in try db.execute(sql: "UPDATE run SET name = 'renamed' WHERE id = ?", arguments: [id]) }
    #expect(FileManager.default.fileExists(atPath: dir + "/runs.sqlite-wal"))
    let runs = try runAsReader(["runs"] + store, bin: bin)
    #expect(runs.status == 0 && runs.stdout.contains(" renamed "), "\(runs.stdout)\(runs.stderr)")
    withExtendedLifetime(writer) {}
}

/// Whether a user with none of the owner's or the group's rights can read `path`: every folder above it searchable by
/// others, and it readable by others.
private func othersCanRead(_ path: String) -> Bool {
    var info = stat()
    guard stat(path, &info) == 0, info.st_mode & S_IROTH != 0 else { return false }
    var folder = (path as NSString).deletingLastPathComponent
    while !folder.isEmpty && folder != "/" {
        guard stat(folder, &info) == 0, info.st_mode & S_IXOTH != 0 else { return false }
        folder = (folder as NSString).deletingLastPathComponent
    }
    return true
}
