// Fails when a target imports a module of this package, or a product of a package dependency, that its entry in
// Package.swift does not list: every import is a declared, direct dependency. SwiftPM's
// `--explicit-target-dependency-import-check` (which scripts/test.sh also uses) accepts any module among the target's
// transitive dependencies, so the CLI importing RunStore through Experiments passes it; this check does not.
//
//     swift scripts/check_imports.swift        (from the package folder; prints one line per undeclared import)
import Foundation

struct Manifest: Decodable {
    struct Target: Decodable {
        var name: String
        var type: String
        var path: String?
        /// Each entry is `{"byName": [name, …]}`, `{"target": [name, …]}` or `{"product": [name, package, …]}`.
        var dependencies: [[String: [String?]]]
    }
    var targets: [Target]
}

let dump = Process()
dump.executableURL = URL(fileURLWithPath: "/usr/bin/env")
dump.arguments = ["swift", "package", "dump-package"]
let output = Pipe()
dump.standardOutput = output
try dump.run()
let json = output.fileHandleForReading.readDataToEndOfFile()
dump.waitUntilExit()
guard dump.terminationStatus == 0 else { fatalError("swift package dump-package failed") }
let targets = try JSONDecoder().decode(Manifest.self, from: json).targets

func declared(_ target: Manifest.Target) -> Set<String> {
    Set(target.dependencies.compactMap { $0.values.first?.first ?? nil })
}
/// The modules an import can name and this check can know: the package's targets and the products they depend on.
let known = Set(targets.map(\.name)).union(targets.flatMap(declared))
let modifiers: Set<Substring> = ["public", "package", "internal", "fileprivate", "private"]
let kinds: Set<Substring> = ["struct", "class", "enum", "protocol", "typealias", "func", "var", "let"]

/// The module an `import` line names (attributes, access level and declaration kind skipped), or nil.
func importedModule(_ line: Substring) -> Substring? {
    var words = line.split(whereSeparator: \.isWhitespace).drop { $0.hasPrefix("@") || modifiers.contains($0) }
    guard words.first == "import" else { return nil }
    words = words.dropFirst().drop { kinds.contains($0) }
    return words.first?.split(separator: ".").first
}

var problems = 0
for target in targets where target.type != "system" {
    let folder = target.path ?? (target.type == "test" ? "Tests/" : "Sources/") + target.name
    let allowed = declared(target).union([target.name])
    let files = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
    for file in files.sorted() where file.hasSuffix(".swift") {
        let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
        for line in text.split(separator: "\n") {
            guard let module = importedModule(line), known.contains(String(module)),
                !allowed.contains(String(module))
            else { continue }
            print("error: \(folder)/\(file): \(target.name) imports \(module) without listing it in Package.swift")
            problems += 1
        }
    }
}
exit(problems == 0 ? 0 : 1)
