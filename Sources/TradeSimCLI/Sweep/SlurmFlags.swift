import ArgumentParser
import Foundation
import Sweeps

/// `tradesim sweep --launcher slurm`'s options: the job array's `sbatch` settings and `--dry-run`.
struct SlurmFlags: ParsableArguments {
    @Option(help: "With --launcher slurm: the partition.")
    var partition: String?
    @Option(help: "With --launcher slurm: each task's time limit (HH:MM:SS, D-HH:MM:SS or minutes).")
    var time: String?
    @Option(parsing: .unconditional, help: "With --launcher slurm: CPUs per task.")
    var cpusPerTask: Int?
    @Option(help: "With --launcher slurm: memory per task (e.g. 4G).")
    var mem: String?
    @Option(
        parsing: .unconditional,
        help: "With --launcher slurm: tasks at once, the %K throttle (default 100: one store connection each).")
    var maxParallel: Int?
    @Option(
        name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue,
        help: "With --launcher slurm: another sbatch option, e.g. --sbatch-arg --account=X (repeatable).")
    var sbatchArgs: [String] = []
    @Flag(help: "With --launcher slurm: write and print the batch script, submit nothing and record nothing.")
    var dryRun = false

    /// The flags given, by name (each needs `--launcher slurm`).
    var given: [String] {
        [
            ("--partition", partition != nil), ("--time", time != nil), ("--cpus-per-task", cpusPerTask != nil),
            ("--mem", mem != nil), ("--max-parallel", maxParallel != nil), ("--sbatch-arg", !sbatchArgs.isEmpty),
            ("--dry-run", dryRun),
        ].filter(\.1).map(\.0)
    }

    func validate() throws {
        if let time, time.wholeMatch(of: /(\d+-)?\d+(:\d+){0,2}/) == nil {
            throw ValidationError("--time: '\(time)' is not a Slurm time limit (HH:MM:SS, D-HH:MM:SS or minutes)")
        }
        if let mem, mem.wholeMatch(of: /\d+[KMGT]?/) == nil {
            throw ValidationError("--mem: '\(mem)' is not a Slurm memory size (e.g. 4000, 4G)")
        }
        for (flag, value) in [("--cpus-per-task", cpusPerTask), ("--max-parallel", maxParallel)] {
            if let value, value < 1 { throw ValidationError("\(flag) must be at least 1, got \(value)") }
        }
    }

    var options: SlurmOptions {
        SlurmOptions(
            partition: partition, time: time, cpusPerTask: cpusPerTask, mem: mem,
            maxParallel: maxParallel ?? SlurmOptions.defaultMaxParallel, sbatchArgs: sbatchArgs)
    }
}
