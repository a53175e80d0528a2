import Foundation
import MarketData
import NeuralCore
import Yams

/// A configuration value: Codable, with a default for every field (`init()`), so a YAML file only names what it
/// changes.
///
/// Config types use no Optionals: a field that can be "unset" has an explicit default (an empty string, `[]`, a
/// `.none` case). That keeps every key visible in the encoded defaults, which is how unknown keys are found.
public protocol Config: Codable, Equatable, Sendable {
    init()
}

/// Keys laid over a config file from another file: an experiment's `overrides.agent` or `overrides.environment`, with
/// any sweep keys set in them. Errors about keys it sets name its file, the key as written there
/// (`overrides.agent.learningRate`) and, where the decoder has one, its line.
public struct Overrides {
    /// The mapping laid over the file.
    public var node: Node
    /// The file it is written in.
    public var file: String
    /// Where it sits in that file: `["overrides", "agent"]`.
    public var key: [String]

    public init(node: Node, file: String, key: [String]) {
        self.node = node
        self.file = file
        self.key = key
    }
}

/// Strict YAML decoding: the file's mapping is laid over the encoded defaults of `T`, so missing keys keep their
/// defaults; a key the defaults do not have is an error naming the key path and line; a value of the wrong type, or a
/// number that is not finite (`.inf`, `.nan`), is an error naming the key path. Mappings whose default is empty
/// (dictionaries such as `overrides`) accept any key.
public enum StrictYAML {
    public static func decode<T: Config>(_ type: T.Type, file: String, overrides: Overrides? = nil) throws -> T {
        try decode(type, node: document(file), file: file, overrides: overrides)
    }

    public static func decode<T: Config>(
        _ type: T.Type, yaml: String, file: String, overrides: Overrides? = nil
    ) throws -> T {
        try decode(type, node: document(yaml, file: file), file: file, overrides: overrides)
    }

    /// The text of the YAML file `path`, or one line naming what keeps it from being read: no such file, a folder, a
    /// system error, bytes that are not UTF-8 text.
    public static func text(of path: String) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ConfigError("\(path): cannot read the file (no such file)")
        }
        if isFolder.boolValue { throw ConfigError("\(path): is a folder, not a YAML file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ConfigError("\(path): cannot read the file (\(describe(error)))")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigError("\(path): cannot read the file (it is not UTF-8 text)")
        }
        return text
    }

    /// The YAML document of the file `path` (`text(of:)`, then `document(_:file:)`).
    public static func document(_ path: String) throws -> Node { try document(text(of: path), file: path) }

    /// `text`, the content of the file `path`, parsed: invalid YAML, an empty file (no document, or only comments) and
    /// a tag that is not one of YAML's own types (`!!python/object:…`: such a file is meant for another reader) are
    /// each one line.
    public static func document(_ text: String, file path: String) throws -> Node {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw ConfigError("\(path): invalid YAML: \(yamlProblem(error))")
        }
        guard let node else { throw ConfigError("\(path): the file is empty (no YAML document)") }
        if let foreign = foreignTag(in: node) {
            let line = foreign.mark.map { "line \($0.line): " } ?? ""
            throw ConfigError(
                "\(path): \(line)tag \(foreign.tag) is not one of YAML's own (str, int, float, bool, "
                    + "null, seq, map)")
        }
        return node
    }

    /// The tags YAML resolves by itself: the core types, and the timestamp a date such as `2011-01-03` is read as.
    private static let ownTags = Set(
        ([.implicit, .nonSpecific, .str, .int, .float, .bool, .null, .seq, .map, .merge, .timestamp, .value]
            as [Tag.Name]).map(\.rawValue))

    /// The first node (depth first) whose tag is not one of `ownTags`, nil when there is none.
    private static func foreignTag(in node: Node) -> Node? {
        if !ownTags.contains(node.tag.description) { return node }
        switch node {
        case .mapping(let m): return m.lazy.compactMap { foreignTag(in: $0.key) ?? foreignTag(in: $0.value) }.first
        case .sequence(let s): return s.lazy.compactMap(foreignTag).first
        default: return nil
        }
    }

    /// Decodes an already parsed node strictly (see the type's doc comment), with `overrides` laid over it; an error
    /// about a key the overrides set names their file (see `Overrides`).
    public static func decode<T: Config>(
        _ type: T.Type, node: Node, file: String, overrides: Overrides? = nil
    ) throws -> T {
        let defaults: Node
        do {
            defaults = try defaultsNode(T.self)
        } catch {
            throw ConfigError("\(file): cannot encode the defaults of \(T.self): \(error)")
        }
        if let overrides {  // their unknown and repeated keys, in their own file
            do {
                _ = try merge(overrides.node, over: defaults, path: overrides.key)
            } catch let error as ConfigError {
                throw ConfigError("\(overrides.file): \(error.description)")
            }
        }
        let merged: Node
        do {
            merged = try merge(layer(overrides?.node, over: node), over: defaults, path: [])
        } catch let error as ConfigError {
            throw ConfigError("\(file): \(error.description)")
        }
        /// The file and key prefix of an error at `path`: the overrides' when they set that key.
        func origin(_ path: [any CodingKey]) -> (file: String, key: [String]) {
            guard let overrides, Self.node(at: path, in: overrides.node) != nil else { return (file, []) }
            return (overrides.file, overrides.key)
        }
        do {
            let value = try YAMLDecoder().decode(T.self, from: merged)
            if let path = nonFiniteKey(in: value) {
                let (file, key) = origin(path)
                throw ConfigError(
                    "\(file): key '\(codingPath(path, under: key))' must be a finite number\(found(path, in: merged))")
            }
            return value
        } catch let error as DecodingError {
            let (file, key) = origin(context(of: error)?.codingPath ?? [])
            throw ConfigError("\(file): \(describe(error, in: merged, defaults: T(), under: key))")
        }
    }

    /// Where a check that failed on a file with `overrides` laid over it went wrong: the file (`file`) when `alone`,
    /// the same check of the file without them, fails too; else the overrides, whose values broke it
    /// (`experiments/x.yaml: overrides.agent`).
    public static func origin(of file: String, _ overrides: Overrides?, alone: () throws -> Void) -> String {
        guard let overrides else { return file }
        do { try alone() } catch { return file }
        return "\(overrides.file): \(keyPath(overrides.key))"
    }

    /// The encoded defaults of each config type, composed once (guarded by `defaultsLock`).
    nonisolated(unsafe) private static var defaultsCache: [ObjectIdentifier: Node] = [:]
    private static let defaultsLock = NSLock()

    /// `T()` encoded and composed as a YAML node (cached per type: a config's defaults never change).
    static func defaultsNode<T: Config>(_ type: T.Type) throws -> Node {
        defaultsLock.lock()
        defer { defaultsLock.unlock() }
        if let cached = defaultsCache[ObjectIdentifier(T.self)] { return cached }
        let node = try Yams.compose(yaml: YAMLEncoder().encode(T())) ?? Node.mapping(.init([]))
        defaultsCache[ObjectIdentifier(T.self)] = node
        return node
    }

    /// Lays `top` (e.g. an experiment's overrides) over `base` key by key for mappings, without checking keys (the
    /// strict decode of the result does); anything else in `top` replaces `base`. Nil `top` returns `base`.
    public static func layer(_ top: Node?, over base: Node) -> Node {
        guard let top else { return base }
        guard case .mapping(let t) = top, case .mapping(let b) = base else { return top }
        var pairs: [(Node, Node)] = b.map { ($0.key, $0.value) }
        for (k, v) in t {
            if let i = pairs.firstIndex(where: { $0.0.string == k.string }) {
                pairs[i].1 = layer(v, over: pairs[i].1)
            } else {
                pairs.append((k, v))
            }
        }
        return .mapping(.init(pairs))
    }

    /// `node` with the value at key path `path` set to `value`, making the mappings on the way (a non-mapping on the
    /// way is replaced by one).
    public static func setting(_ path: [String], to value: Node, in node: Node) -> Node {
        guard let key = path.first else { return value }
        var mapping = node.mapping ?? Node.Mapping([])
        mapping[Node(key)] = setting(
            Array(path.dropFirst()), to: value, in: mapping[Node(key)] ?? Node.mapping(.init([])))
        return .mapping(mapping)
    }

    /// A stored node (a configuration written by an earlier version, as JSON) with every key the defaults have and it
    /// lacks filled in from them, key by key for mappings; its own values and keys are kept as they are.
    static func filling(_ stored: Node, with defaults: Node) -> Node {
        guard case .mapping(let d) = defaults, !d.isEmpty, case .mapping(var m) = stored else { return stored }
        for (key, value) in d {
            m[key] = m[key].map { filling($0, with: value) } ?? value
        }
        return .mapping(m)
    }

    /// Lays `user` over `defaults`, key by key for mappings; anything else in `user` replaces the default.
    static func merge(_ user: Node, over defaults: Node, path: [String]) throws -> Node {
        guard case .mapping(let defaultMap) = defaults else { return user }
        guard case .mapping(let userMap) = user else {
            if case .scalar(let s) = user,
                s.tag.description == Tag.Name.null.rawValue || s.string == "~" || s.string.isEmpty
            {
                return defaults  // `key:` with nothing after it keeps the defaults
            }
            // Anything else where the default is a mapping goes to the type's decoder, which takes it
            // (`data.features`: a list, or the mapping form it had before) or says it must be a mapping.
            return user
        }
        if defaultMap.isEmpty { return user }  // a dictionary: free keys
        var pairs: [(Node, Node)] = defaultMap.map { ($0.key, $0.value) }
        var seen = Set<String>()
        for (k, v) in userMap {
            let key = k.string ?? "\(k)"
            guard seen.insert(key).inserted else {
                throw ConfigError("\(at(k))key '\(keyPath(path + [key]))' appears twice")
            }
            guard let index = pairs.firstIndex(where: { $0.0.string == key }) else {
                let known = pairs.compactMap { $0.0.string }.sorted().joined(separator: ", ")
                throw ConfigError("\(at(k))unknown key '\(keyPath(path + [key]))' (known keys: \(known))")
            }
            pairs[index].1 = try merge(v, over: pairs[index].1, path: path + [key])
        }
        return .mapping(.init(pairs))
    }

    /// `line N: ` of a node parsed from a file (nothing for one made in code, e.g. a sweep's key).
    static func at(_ node: Node) -> String { node.mark.map { "line \($0.line): " } ?? "" }

    static func keyPath(_ path: [String]) -> String { path.isEmpty ? "(top level)" : path.joined(separator: ".") }

    /// A coding path as a dotted key path, after the keys `prefix`.
    static func codingPath(_ path: [any CodingKey], under prefix: [String] = []) -> String {
        keyPath(prefix + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue })
    }

    static func context(of error: DecodingError) -> DecodingError.Context? {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c): c
        @unknown default: nil
        }
    }

    /// The key of the first infinite or NaN floating-point value in `value`, if any. YAML reads `.inf`, `-.inf`, `.nan`
    /// (in any of their spellings) and numbers beyond a Double's range (`1e999`) as numbers, but no key means them,
    /// and a run's configuration is stored as JSON, which has none: its encoder names the key.
    static func nonFiniteKey(in value: some Encodable) -> [any CodingKey]? {
        do {
            _ = try JSONEncoder().encode(value)
            return nil
        } catch EncodingError.invalidValue(let invalid, let context) where invalid is Double || invalid is Float {
            return context.codingPath
        } catch {
            return nil
        }
    }

    /// `, got 'VALUE' (line N)`: the value at a coding path of `root` and its line, for a message about that key.
    static func found(_ path: [any CodingKey], in root: Node) -> String {
        guard let node = node(at: path, in: root) else { return "" }
        let line = node.mark.map { " (line \($0.line))" } ?? ""
        switch node {
        case .scalar(let s):
            // One line: a multi-line or long scalar (a mapping written flat by mistake) is shown escaped and cut.
            let text = s.string.replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\r", with: "\\r")
            return ", got '\(text.count > 60 ? text.prefix(57) + "…" : text)'\(line)"
        case .mapping: return ", got a mapping\(line)"
        case .sequence: return ", got a list\(line)"
        case .alias: return line
        }
    }

    /// One line about a decoding error, in the user's terms: the key (after the keys `prefix`), what it must be (an
    /// enum's allowed values), the value found and its line, e.g. `key 'learningRate' must be a number, got 'abc'
    /// (line 12)`.
    static func describe(
        _ error: DecodingError, in root: Node, defaults: some Config, under prefix: [String] = []
    ) -> String {
        func found(_ path: [any CodingKey]) -> String { Self.found(path, in: root) }
        func key(_ path: [any CodingKey]) -> String { codingPath(path, under: prefix) }
        switch error {
        case .typeMismatch(let type, let c):
            return "key '\(key(c.codingPath))' must be \(typeName(type))\(found(c.codingPath))"
        case .valueNotFound(let type, let c):
            return "key '\(key(c.codingPath))' needs a value of type \(typeName(type))\(found(c.codingPath))"
        case .keyNotFound(let missing, let c): return "missing key '\(key(c.codingPath + [missing]))'"
        case .dataCorrupted(let c):
            if let message = c.underlyingError as? MarketDataError {  // a list element's own strict check
                let line = node(at: c.codingPath, in: root)?.mark.map { "line \($0.line): " } ?? ""
                return "\(line)key '\(key(c.codingPath))': \(message.description)"
            }
            if let allowed = allowedValues(at: c.codingPath, in: defaults) {
                return "key '\(key(c.codingPath))' must be one of \(allowed.joined(separator: ", "))"
                    + found(c.codingPath)
            }
            return "key '\(key(c.codingPath))' has an invalid value\(found(c.codingPath))"
        @unknown default: return "\(error)"
        }
    }

    /// The node a coding path leads to in `root` (mapping keys and sequence indices), if any.
    static func node(at path: [any CodingKey], in root: Node) -> Node? {
        var node = root
        for key in path {
            switch node {
            case .mapping(let m):
                guard let next = m.first(where: { $0.key.string == key.stringValue })?.value else { return nil }
                node = next
            case .sequence(let s):
                guard let i = key.intValue, s.indices.contains(i) else { return nil }
                node = s[i]
            default: return nil
            }
        }
        return node
    }

    /// The raw values of the enum at `path` of a config's defaults (property names are the YAML keys), when it is one.
    static func allowedValues(at path: [any CodingKey], in defaults: Any) -> [String]? {
        var value: Any = defaults
        for key in path {
            let children = Mirror(reflecting: value).children
            let next =
                key.intValue.flatMap { i in children.dropFirst(i).first?.value }
                ?? children.first { $0.label == key.stringValue }?.value
            guard let next else { return nil }
            value = next
        }
        guard let type = type(of: value) as? any CaseIterable.Type else { return nil }
        return caseNames(type)
    }

    static func caseNames<C: CaseIterable>(_ type: C.Type) -> [String] {
        C.allCases.map { c in (c as? any RawRepresentable).map { "\($0.rawValue)" } ?? "\(c)" }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is UInt64.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        case is Node.Mapping.Type: return "a mapping"
        case is Node.Sequence.Type: return "a list"
        default: return "\(type)"
        }
    }

    static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "line \(mark.line): \(problem)"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }

    static func describe(_ error: any Error) -> String { fileSystemReason(error) }
}
