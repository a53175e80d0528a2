import Experiments
import Foundation
import RunStore

/// Whether a store location is a PostgreSQL URL (`postgresql://user@host:port/db`) rather than a SQLite file.
public func isStoreURL(_ location: String) -> Bool {
    location.hasPrefix("postgresql://") || location.hasPrefix("postgres://")
}

/// The absolute folder a store's files go in: a SQLite file's folder; for a PostgreSQL store, which has none, `runs/`
/// in the working directory.
public func storeFolder(_ location: String) -> String {
    let folder = isStoreURL(location) ? URL(fileURLWithPath: "runs", isDirectory: true)
        : URL(fileURLWithPath: location).deletingLastPathComponent()
    return folder.standardizedFileURL.path
}

/// The folder of a sweep's files: its trials' logs (`trial-I.log`) and, on Slurm, its batch script (`array.sbatch`):
/// `sweeps/NAME` in the store's folder.
public func sweepFolder(_ name: String, store location: String) -> String {
    storeFolder(location) + "/sweeps/" + name
}

/// The absolute folder of a sweep's checkpoints, as its trials resolve it: their `checkpoints` key (the experiment's,
/// or `--checkpoints`), else `checkpoints/` in the store's folder.
public func checkpointFolder(of sweep: SweepRecord, trial: TrialRecord, store location: String) throws -> String {
    let experiment = try Experiment.load(sweep.experimentPath, text: sweep.experimentYAML,
                                         assignments: try assignments(fromJSON: trial.assignmentsJSON))
    return checkpointRoot(experiment.spec.checkpoints, storeFolder: storeFolder(location))
}
