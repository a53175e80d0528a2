import Foundation

/// Where a PostgreSQL store lives, from `postgresql://user[:password]@host[:port]/database[?schema=S&sslmode=M]`
/// (`postgres://` too). As libpq: the port defaults to 5432, the user to `PGUSER` or the login name, the database to
/// the user; the password comes from the URL (before the `@`, or as its `password` parameter), else `PGPASSWORD`, else
/// the first matching line of `~/.pgpass` (or `PGPASSFILE`), which is read only when group and others have no access to
/// it (mode 0600). `schema` keeps the store in that schema (created when missing); `sslmode` is `disable`, `prefer`
/// (the default: TLS when the server offers it, certificate not verified, as libpq) or `require`.
struct PostgresLocation: Sendable, Equatable {
    enum SSLMode: String, Sendable { case disable, prefer, require }

    var user: String
    var host: String
    var port: Int
    var database: String
    var schema: String?
    var sslMode: SSLMode
    var password: String?
    /// Whether the password came in the URL itself.
    var passwordInURL: Bool
    /// Why `~/.pgpass` was skipped, said when the server then refuses the password.
    var passFileNote: String?
    /// The URL as it is shown and stored: without its password.
    var shown: String

    /// Whether `text` is meant as a URL rather than a SQLite file: it starts with a scheme followed by `/`
    /// (`postgresql://…` in any case, and misspelt ones such as `postgresql:/…` or `mysql://…`), or it holds a
    /// `user:password@` part. Only a well-formed `postgresql://` or `postgres://` URL opens (`components`); any other
    /// is refused without its password, never taken as a file name.
    static func isURL(_ text: String) -> Bool {
        text.range(of: "^[A-Za-z][A-Za-z0-9+.-]*:/", options: .regularExpression) != nil
            || text.range(of: ":[^@]*@", options: .regularExpression) != nil
    }

    /// The parts of `text` when it is a well-formed PostgreSQL URL: `postgresql://` or `postgres://` (the scheme in
    /// any case) that `URLComponents` parses; nil otherwise.
    static func components(_ text: String) -> URLComponents? {
        let lower = text.lowercased()
        guard lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") else { return nil }
        return URLComponents(string: text)
    }

    /// `text` with whatever stands between the user name and the `@` cut out, and any `password=` parameter, for a URL
    /// that does not parse (after a scheme and its slashes, if any: `postgresql:/u:pw@h/db` → `postgresql:/u@h/db`).
    static func redacted(_ text: String) -> String {
        let text = text.replacingOccurrences(of: "password=[^&#]*", with: "password=…", options: .regularExpression)
        let start =
            text.range(of: "^[A-Za-z][A-Za-z0-9+.-]*:/+", options: .regularExpression)?.upperBound ?? text.startIndex
        guard let at = text.lastIndex(of: "@"), at > start, let colon = text[start..<at].firstIndex(of: ":") else {
            return text
        }
        return String(text[..<colon]) + String(text[at...])
    }

    /// The URL `text` as it may be shown and stored: without its password (nor a `password` parameter).
    static func shown(_ text: String) -> String {
        guard var url = components(text) else { return redacted(text) }
        url.password = nil
        let items = url.queryItems?.filter { $0.name != "password" }
        url.queryItems = items?.isEmpty == false ? items : nil
        return url.string ?? redacted(text)
    }

    /// Whether the URL `text` holds a password (for one that is not well-formed: whether `redacted` cuts anything).
    static func holdsPassword(_ text: String) -> Bool {
        guard let url = components(text) else { return redacted(text) != text }
        return url.password != nil || url.queryItems?.contains { $0.name == "password" } == true
    }

    /// Parses `text` and looks up the password.
    /// - Throws: `RunStoreError` naming the URL without its password, e.g. `postgresql://u@h:x/db: not a PostgreSQL
    ///   URL (postgresql://user@host:port/database)`.
    init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let usage = "not a PostgreSQL URL (postgresql://user@host:port/database)"
        guard let url = Self.components(text) else {
            throw RunStoreError(path: Self.redacted(text), reason: usage)
        }
        let parameter = url.queryItems?.last { $0.name == "password" }?.value
        password = (url.password ?? parameter).flatMap { $0.isEmpty ? nil : $0 }
        passwordInURL = password != nil
        shown = Self.shown(text)
        user = url.user.flatMap { $0.isEmpty ? nil : $0 } ?? environment["PGUSER"] ?? Self.loginName()
        host = (url.host ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host.isEmpty { host = "localhost" }
        port = url.port ?? 5432
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !path.contains("/") else { throw RunStoreError(path: shown, reason: usage) }
        database = path.isEmpty ? user : path
        sslMode = .prefer
        for item in url.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("schema", let value):
                guard value.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil else {
                    throw RunStoreError(path: shown, reason: "schema '\(value)' must be lower-case letters, digits, _")
                }
                schema = value
            case ("sslmode", let value):
                guard let mode = SSLMode(rawValue: value) else {
                    throw RunStoreError(path: shown, reason: "sslmode '\(value)' is not disable, prefer or require")
                }
                sslMode = mode
            case ("password", _): break
            case (let name, _):
                throw RunStoreError(path: shown, reason: "unknown parameter '\(name)' (schema, sslmode, password)")
            }
        }
        if password == nil, let fromEnvironment = environment["PGPASSWORD"], !fromEnvironment.isEmpty {
            password = fromEnvironment
        }
        if password == nil {
            let file = environment["PGPASSFILE"] ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.pgpass"
            (password, passFileNote) = Self.passFilePassword(
                file, host: host, port: port, database: database,
                user: user)
        }
    }

    /// The password of the first line of the password file `file` (`host:port:database:user:password`, `*` matches
    /// anything, `\:` and `\\` escape) that matches; nil and a note when the file is readable by group or others.
    static func passFilePassword(
        _ file: String, host: String, port: Int, database: String,
        user: String
    ) -> (String?, String?) {
        var info = stat()
        guard stat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return (nil, nil) }
        guard info.st_mode & 0o077 == 0 else {
            return (nil, "\(file) was not read: group or others can access it (chmod 600 it)")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return (nil, nil) }
        let wanted = [host, String(port), database, user]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = passFileFields(line)
            guard fields.count >= 5 else { continue }
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) {
                return (fields[4...].joined(separator: ":"), nil)
            }
        }
        return (nil, nil)
    }

    /// A `.pgpass` line split at unescaped colons, escapes removed.
    static func passFileFields(_ line: Substring) -> [String] {
        var fields = [""]
        var escaped = false
        for c in line {
            if escaped {
                fields[fields.count - 1].append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == ":" {
                fields.append("")
            } else {
                fields[fields.count - 1].append(c)
            }
        }
        return fields
    }

    /// The name of the user running this process.
    static func loginName() -> String {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return "postgres" }
        return String(cString: name)
    }
}
