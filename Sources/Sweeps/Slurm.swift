import Foundation

/// A Slurm command that is missing or failed, in one line with what it said.
public struct SlurmError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// An array task as `squeue` shows it.
public struct SlurmTask: Equatable, Sendable {
    /// `ARRAYJOB_INDEX`, e.g. `12_3`.
    public var job: String
    /// `PENDING`, `RUNNING`, `COMPLETING`, `COMPLETED`, `FAILED`, `CANCELLED`, … (ended tasks stay listed for a few
    /// minutes, Slurm's `MinJobAge`).
    public var state: String
    /// The node it runs on (empty while pending) and, while pending, why (`Priority`, `JobArrayTaskLimit`, …).
    public var node: String
    public var reason: String
}

/// The Slurm commands tradesim runs — `sbatch`, `squeue`, `scancel` — found on `PATH`.
public enum Slurm {
    /// The command's path on `PATH`, nil when it is not installed.
    public static func path(of command: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return folders.map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `command arguments…` to its end; a non-zero exit is a `SlurmError` with its first line of stderr.
    static func run(_ command: String, _ arguments: [String]) throws -> String {
        guard let path = path(of: command) else { throw SlurmError("\(command) is not installed (not on PATH)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Slurm's commands print a line or two to stderr, so it cannot fill its pipe while stdout is read.
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errorData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let said =
                String(decoding: errorData.isEmpty ? output : errorData, as: UTF8.self)
                .split(separator: "\n").first.map(String.init) ?? "exit \(p.terminationStatus)"
            throw SlurmError("\(command) \(arguments.joined(separator: " ")): \(said)")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Submits a batch script (`sbatch --parsable ARGUMENTS… SCRIPT`, where arguments override the script's
    /// `#SBATCH` lines) and returns the job id.
    public static func submit(_ script: String, arguments: [String] = []) throws -> String {
        let output = try run("sbatch", ["--parsable"] + arguments + [script])
        // `--parsable` prints `ID` or `ID;CLUSTER`.
        let id = output.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError("sbatch \(script): no job id in its output '\(output)'")
        }
        return id
    }

    /// The array tasks of `jobs` that Slurm still knows, by array index; an index in several jobs gets the task of the
    /// last of them. Nil when `squeue` is not installed. Jobs Slurm has forgotten give no tasks.
    public static func tasks(ofJobs jobs: [String]) throws -> [Int64: SlurmTask]? {
        guard path(of: "squeue") != nil else { return nil }
        guard !jobs.isEmpty else { return [:] }
        let output: String
        do {
            output = try run(
                "squeue",
                [
                    "--noheader", "--array", "--states=all", "--jobs", jobs.joined(separator: ","),
                    "--format", "%F|%K|%T|%N|%r",
                ])
        } catch let error as SlurmError where error.description.contains("Invalid job id") {
            return [:]
        }
        var tasks: [Int64: (order: Int, task: SlurmTask)] = [:]
        for line in output.split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5, let index = Int64(f[1]), let order = jobs.firstIndex(of: f[0]) else { continue }
            if let known = tasks[index], known.order > order { continue }
            tasks[index] = (order, SlurmTask(job: "\(f[0])_\(index)", state: f[2], node: f[3], reason: f[4]))
        }
        return tasks.mapValues(\.task)
    }

    /// Cancels jobs (every task of each array) with `scancel`.
    public static func cancel(jobs: [String]) throws {
        _ = try run("scancel", jobs)
    }
}

extension SlurmTask {
    /// Whether its processes may still be alive (a task leaves these states once they have all exited).
    public var isActive: Bool {
        ["CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT"].contains(state)
    }

    /// Whether it has ended, and Slurm will not start it again unless told to (`scontrol requeue`).
    public var hasEnded: Bool {
        ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"]
            .contains(state)
    }
}
