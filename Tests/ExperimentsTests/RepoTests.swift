import Foundation
import Testing

/// The repository stands on its own: no tracked text file points into a folder beside the clone or at one machine's
/// home, temporary or workspace folders. Files with a NUL byte (gzip, safetensors, images) are binary and skipped.
@Test func noTrackedFileNamesAFolderOutsideTheRepository() throws {
    // Each pattern is written in two pieces so that this file does not contain it.
    let patterns = [
        ["..", "shared"], ["", "work/"], ["", "home/"], ["", "root/"], ["", "tmp/"], ["", "Users/"],
        ["", "var/folders/"],
    ].map { $0.joined(separator: "/") }
    let git = Process()
    git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    git.arguments = ["git", "ls-files", "-z"]
    git.currentDirectoryURL = URL(fileURLWithPath: repoRoot)
    let out = Pipe()
    git.standardOutput = out
    try git.run()
    let listing = out.fileHandleForReading.readDataToEndOfFile()
    git.waitUntilExit()
    try #require(git.terminationStatus == 0, "git ls-files failed in \(repoRoot)")
    let files = listing.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    try #require(files.count > 100, "git ls-files listed only \(files.count) files")

    var found: [String] = []
    for file in files {
        // A file deleted in the work tree but still in the index has nothing to scan.
        guard let bytes = FileManager.default.contents(atPath: repoRoot + "/" + file), !bytes.contains(0) else {
            continue
        }
        let text = String(decoding: bytes, as: UTF8.self)
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            for pattern in patterns where line.contains(pattern) {
                found.append("\(file):\(number + 1): \(pattern)")
            }
        }
    }
    #expect(found.isEmpty, "\(found.count) lines name a path outside the repository:\n\(found.joined(separator: "\n"))")
}
