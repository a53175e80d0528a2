import Experiments
import Foundation
import RunStore

/// The `sbatch` settings of a sweep's job array (`tradesim sweep --launcher slurm`); nil leaves one to the cluster.
public struct SlurmOptions: Sendable, Equatable {
    public var partition: String?
    /// Each task's time limit, e.g. `02:00:00`.
    public var time: String?
    public var cpusPerTask: Int?
    /// Each task's memory, e.g. `4G`.
    public var mem: String?
    /// Array tasks running at once (the `%K` throttle): at most this many trials hold a store connection.
    public var maxParallel: Int
    /// More `sbatch` options, each written into the script as its own `#SBATCH` line.
    public var sbatchArgs: [String]

    /// Keeps a sweep's store connections (one per running trial) under what PostgreSQL serves without a pooler.
    public static let defaultMaxParallel = 100

    public init(
        partition: String? = nil, time: String? = nil, cpusPerTask: Int? = nil, mem: String? = nil,
        maxParallel: Int = SlurmOptions.defaultMaxParallel, sbatchArgs: [String] = []
    ) {
        self.partition = partition
        self.time = time
        self.cpusPerTask = cpusPerTask
        self.mem = mem
        self.maxParallel = maxParallel
        self.sbatchArgs = sbatchArgs
    }
}

/// A sweep's trials as a Slurm job array. The batch script `FOLDER/array.sbatch` has one array index per trial (the
/// trial's index), the `%K` throttle, `--requeue` (a task whose node fails or that is preempted starts again, resuming
/// its trial from its last checkpoint) and one output file per task (`FOLDER/trial-I.log`, appended to by a requeued
/// start). Each task runs `EXECUTABLE sweep run-trial NAME --index $SLURM_ARRAY_TASK_ID --store STORE` in
/// `workingDirectory`. The trials are submitted in waves, one job each: a walk-forward window that starts from the
/// previous window's weights waits (`--dependency=afterany`) for the job of the wave before.
public struct SlurmArray {
    public let sweep: String
    /// The store as every task opens it: an absolute file path or a URL.
    public let store: String
    public let executable: String
    /// The folder every task runs in: the sweep's experiment path, and the data paths, resolve against it.
    public let workingDirectory: String
    /// The folder of the script and the tasks' output files.
    public let folder: String
    public let options: SlurmOptions
    /// The trial indices to run, in submission waves.
    public let waves: [[Int64]]

    /// - Parameters:
    ///   - submitting: the trials to run (all of a new sweep's; `resubmittable` for a resumed one).
    public init(
        sweep: String, trials: [TrialRecord], submitting: [Int64], store: String, executable: String,
        workingDirectory: String, options: SlurmOptions
    ) throws {
        self.sweep = sweep
        self.store = RunStore.isURL(store) ? store : absolutePath(store)
        self.executable = executable
        self.workingDirectory = workingDirectory
        folder = sweepFolder(sweep, store: store)
        self.options = options
        waves = Self.waves(trials, submitting: submitting)
        for (what, value) in [
            ("the sweep name", sweep), ("the working directory", workingDirectory),
            ("the sweep folder", folder),
        ] where value.contains(where: \.isWhitespace) {
            throw ConfigError("--launcher slurm: \(what) '\(value)' contains a space, which #SBATCH lines cannot hold")
        }
    }

    public var scriptPath: String { folder + "/array.sbatch" }

    /// The batch script; its `--array` lists every trial to run (each wave's job narrows it).
    public var script: String {
        var lines = [
            "#!/bin/bash",
            "# Sweep \(sweep): one array task per trial (the array index is the trial's index), written by",
            "# `tradesim sweep --launcher slurm`. A task claims its trial in the store at most once and trains it with",
            "# checkpoints; a requeued task resumes it from its last checkpoint.",
            "#SBATCH --job-name=\(sweep)",
            "#SBATCH --array=\(arraySpec(waves.flatMap { $0 }))",
            "#SBATCH --requeue",
            "#SBATCH --chdir=\(workingDirectory)",
            "#SBATCH --output=\(folder)/trial-%a.log",
            "#SBATCH --open-mode=append",
        ]
        if let p = options.partition { lines.append("#SBATCH --partition=\(p)") }
        if let t = options.time { lines.append("#SBATCH --time=\(t)") }
        if let c = options.cpusPerTask { lines.append("#SBATCH --cpus-per-task=\(c)") }
        if let m = options.mem { lines.append("#SBATCH --mem=\(m)") }
        lines += options.sbatchArgs.map { "#SBATCH \($0)" }
        lines.append(
            [
                "exec", shellQuoted(executable), "sweep", "run-trial", shellQuoted(sweep),
                "--index", "\"$SLURM_ARRAY_TASK_ID\"", "--store", shellQuoted(store),
            ].joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `sbatch` arguments of wave `w` after the job `previous` of the wave before: none for a single wave (the
    /// script says it all), else the wave's `--array` and the dependency.
    public func arguments(wave w: Int, after previous: String?) -> [String] {
        guard waves.count > 1 else { return [] }
        return ["--array=" + arraySpec(waves[w])] + (previous.map { ["--dependency=afterany:\($0)"] } ?? [])
    }

    /// The `sbatch` command lines that `submit` runs (`<job of wave N>` for the ids not known before).
    public var commands: [String] {
        waves.indices.map { w in
            let previous = w == 0 ? nil : "<job of wave \(w)>"
            let words = ["sbatch", "--parsable"] + arguments(wave: w, after: previous) + [scriptPath]
            return words.joined(separator: " ")
        }
    }

    /// Writes the script (creating its folder).
    public func write() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        do {
            try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        } catch {
            throw ConfigError("\(scriptPath): cannot write the batch script (\(error.localizedDescription))")
        }
    }

    /// Submits the written script, one job per wave; `submitted` gets each job id as soon as Slurm has it.
    public func submit(_ submitted: (String) throws -> Void) throws {
        var previous: String?
        for w in waves.indices {
            let job = try Slurm.submit(scriptPath, arguments: arguments(wave: w, after: previous))
            try submitted(job)
            previous = job
        }
    }

    /// `--array` of these indices: ranges (`0-3,7`) and the throttle (`%K`).
    func arraySpec(_ indices: [Int64]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = indices.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",") + "%\(options.maxParallel)"
    }

    /// The trials to submit in waves: a trial whose `after` trial is submitted too goes in the wave after that one's
    /// (a trial's `after` has a lower index).
    static func waves(_ trials: [TrialRecord], submitting: [Int64]) -> [[Int64]] {
        let chosen = Set(submitting)
        var wave: [Int64: Int] = [:]
        for t in trials where chosen.contains(t.index) {
            wave[t.index] = t.after.flatMap { wave[$0] }.map { $0 + 1 } ?? 0
        }
        let count = (wave.values.max() ?? -1) + 1
        return (0..<count).map { w in wave.filter { $0.value == w }.keys.sorted() }
    }

    /// The trials a resumed sweep submits again: those that need a process (`needsProcess`: pending, failed, or
    /// running while no process runs their run) whose `after` trial has finished or is submitted with them.
    public static func resubmittable(_ trials: [TrialRecord], runs: [Int64: RunRecord]) -> [Int64] {
        var chosen = Set<Int64>()
        for t in trials where needsProcess(t, run: t.runId.flatMap { runs[$0] }) {
            if let after = t.after, trials[Int(after)].status != .finished, !chosen.contains(after) { continue }
            chosen.insert(t.index)
        }
        return chosen.sorted()
    }
}

/// `text` as one shell word.
func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
