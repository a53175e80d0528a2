import Foundation
import Testing

@testable import RunStore

/// `postgresql://` URLs: the parts, the password's sources, and no password in anything shown.
@Suite struct PostgresLocationTests {
    @Test func partsAndDefaults() throws {
        let l = try PostgresLocation(
            "postgresql://ann:s%40cret@db.example:6543/runs?schema=exp1&sslmode=disable",
            environment: [:])
        #expect(l.user == "ann" && l.host == "db.example" && l.port == 6543 && l.database == "runs")
        #expect(l.schema == "exp1" && l.sslMode == .disable && l.password == "s@cret" && l.passwordInURL)
        #expect(l.shown == "postgresql://ann@db.example:6543/runs?schema=exp1&sslmode=disable")
        let d = try PostgresLocation("postgres://bob@localhost", environment: ["PGPASSWORD": "fromenv"])
        #expect(d.port == 5432 && d.database == "bob" && d.sslMode == .prefer)
        #expect(d.password == "fromenv" && !d.passwordInURL)
        #expect(PostgresLocation.isURL("postgresql://x") && !PostgresLocation.isURL("runs/postgresql.sqlite"))
    }

    @Test func badURLsAreOneLineWithoutThePassword() {
        for (url, reason) in [
            ("postgresql://u:s3cret@host:port/db", "not a PostgreSQL URL (postgresql://user@host:port/database)"),
            ("postgresql://u:s3cret@host/db/extra", "not a PostgreSQL URL (postgresql://user@host:port/database)"),
            ("postgresql://u:s3cret@host/db?sslmode=maybe", "sslmode 'maybe' is not disable, prefer or require"),
            ("postgresql://u:s3cret@host/db?user=x", "unknown parameter 'user' (schema, sslmode, password)"),
            ("postgresql://u@host/db?password=s3cret&user=x", "unknown parameter 'user' (schema, sslmode, password)"),
            (
                "postgresql://u:s3cret@host/db?schema=Bad-Name",
                "schema 'Bad-Name' must be lower-case letters, digits, _"
            ),
        ] {
            do {
                _ = try PostgresLocation(url, environment: [:])
                Issue.record("\(url) was accepted")
            } catch let error as RunStoreError {
                #expect(error.reason == reason)
                #expect(!error.description.contains("s3cret") && !error.description.contains("\n"), "\(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
        #expect(PostgresLocation.redacted("postgresql://u:pa/ss@h@host:1/db") == "postgresql://u@host:1/db")
        #expect(PostgresLocation.redacted("postgresql://u@host/db") == "postgresql://u@host/db")
        #expect(
            PostgresLocation.redacted("postgresql://u@h:x/db?password=s3cret") == "postgresql://u@h:x/db?password=…")
    }

    /// Every URL in a message loses its password, whatever stands around it; the rest of the text stays.
    @Test func messagesShowNoPassword() {
        #expect(
            RunStore.withoutPasswords("Unexpected argument 'postgresql://me:S3cret@127.0.0.1:1/db'")
                == "Unexpected argument 'postgresql://me@127.0.0.1:1/db'")
        #expect(
            RunStore.withoutPasswords("a postgres://u:x@h/d and \"postgresql://v@h/e?password=y\", runs.sqlite")
                == "a postgres://u@h/d and \"postgresql://v@h/e\", runs.sqlite")
        #expect(RunStore.withoutPasswords("no URL: a:b@c") == "no URL: a:b@c")
    }

    /// The password as libpq takes it in the query too; shown and stored without it either way.
    @Test func passwordParameterIsUsedAndNeverShown() throws {
        let l = try PostgresLocation(
            "postgresql://u@host/db?password=s3cret&schema=x", environment: ["PGPASSWORD": "e"])
        #expect(l.password == "s3cret" && l.passwordInURL && l.schema == "x")
        #expect(l.shown == "postgresql://u@host/db?schema=x")
        #expect(PostgresLocation.shown("postgresql://u:s3cret@host/db?password=s3cret") == "postgresql://u@host/db")
        #expect(PostgresLocation.shown("postgresql://u:pa/ss@h@host:1/db") == "postgresql://u@host:1/db")
        #expect(RunStore.shown("runs/a.sqlite") == "runs/a.sqlite")
        for (url, holds) in [
            ("postgresql://u:s3cret@host/db", true), ("postgresql://u@host/db?password=x", true),
            ("postgresql://u:pa/ss@h@host:1/db", true), ("postgresql://u@host/db?schema=x", false),
            ("postgresql://u@host:x/db", false),
        ] {
            #expect(RunStore.holdsPassword(url) == holds, "\(url)")
        }
        #expect(!RunStore.holdsPassword("runs/password=x.sqlite"))
    }

    /// The scheme in any case is a PostgreSQL URL; anything else that looks like a URL (a scheme and `/`, or
    /// `user:password@`) is refused without its password, never taken for a SQLite file whose name holds it.
    @Test func urlsAreRecognisedInAnyCaseAndMalformedOnesRefused() throws {
        let upper = try PostgresLocation("POSTGRESQL://ann:s3cret@db:6543/runs", environment: [:])
        #expect(upper.host == "db" && upper.port == 6543 && upper.password == "s3cret")
        #expect(!upper.shown.contains("s3cret") && upper.shown.hasSuffix("ann@db:6543/runs"), "\(upper.shown)")
        #expect(try PostgresLocation("Postgres://ann@db/runs", environment: [:]).database == "runs")
        for (text, shown) in [
            ("postgresql:/ann:s3cret@db:1/runs", "postgresql:/ann@db:1/runs"),
            ("POSTGRESQL:ann:s3cret@db/runs", "POSTGRESQL@db/runs"),
            ("ann:s3cret@db:1/runs", "ann@db:1/runs"),
            ("mysql://ann:s3cret@db/runs", "mysql://ann@db/runs"),
            ("postgresql:/db/runs?password=s3cret", "postgresql:/db/runs?password=…"),
        ] {
            #expect(RunStore.isURL(text) && RunStore.holdsPassword(text), "\(text)")
            #expect(RunStore.shown(text) == shown)
            #expect(RunStore.folder(of: text) == nil)
            #expect(
                throws: RunStoreError(
                    path: shown, reason: "not a PostgreSQL URL (postgresql://user@host:port/database)")
            ) {
                _ = try PostgresLocation(text, environment: [:])
            }
        }
        #expect(RunStore.isURL("postgresql:/db/runs") && !RunStore.holdsPassword("postgresql:/db/runs"))
        for file in ["runs/tradesim.sqlite", "/data/a@b.sqlite", "runs:2024/x.sqlite", "postgresql.sqlite"] {
            #expect(!RunStore.isURL(file) && RunStore.shown(file) == file, "\(file)")
        }
    }

    @Test func passwordFileLinesMatchWithWildcardsAndEscapes() throws {
        let dir = try TemporaryDirectory()
        let file = dir.file("pgpass")
        try """
        # comment
        other:5432:runs:ann:wrong
        db.example:*:runs:ann:pa\\:ss\\\\1
        *:*:*:*:fallback
        """.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let env = ["PGPASSFILE": file]
        #expect(try PostgresLocation("postgresql://ann@db.example:7777/runs", environment: env).password == #"pa:ss\1"#)
        #expect(try PostgresLocation("postgresql://zed@elsewhere/x", environment: env).password == "fallback")
        // PGPASSWORD comes before the file, the URL before both.
        let withPGPASSWORD = env.merging(["PGPASSWORD": "e"]) { $1 }
        #expect(try PostgresLocation("postgresql://zed@h/x", environment: withPGPASSWORD).password == "e")
        #expect(try PostgresLocation("postgresql://zed:u@h/x", environment: withPGPASSWORD).password == "u")
        // Like libpq, a file that group or others can read is not used; the note says why.
        chmod(file, 0o644)
        let open = try PostgresLocation("postgresql://zed@elsewhere/x", environment: env)
        #expect(open.password == nil)
        #expect(open.passFileNote == "\(file) was not read: group or others can access it (chmod 600 it)")
    }

    @Test func parametersAndQuotedIdentifiersForPostgreSQL() {
        #expect(
            PostgresStoreConnection.translate(#"SELECT "runId", '?', "index" FROM t WHERE a = ? AND b IN (?, ?)"#)
                == #"SELECT "runid", '?', "index" FROM t WHERE a = $1 AND b IN ($2, $3)"#)
        let sqlite =
            #"CREATE TABLE "t" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "x" DOUBLE, "d" DATETIME) WITHOUT ROWID"#
        #expect(
            SQLDialect.postgres.ddl(sqlite) == #"CREATE TABLE "t" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY "#
                + #"PRIMARY KEY, "x" DOUBLE PRECISION, "d" TIMESTAMPTZ)"#)
        #expect(SQLDialect.sqlite.ddl(sqlite) == sqlite)
        #expect(grdbDateText(microsecondsSince2000: 817_214_400_250_999) == "2025-11-23 12:00:00.250")
        #expect(grdbDateText(microsecondsSince2000: -1) == "1999-12-31 23:59:59.999")
    }
}
