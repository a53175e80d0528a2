import Experiments
import Foundation
import RunStore

/// The folder of a sweep's files: its trials' logs (`trial-I.log`) and, on Slurm, its batch script (`array.sbatch`):
/// `sweeps/NAME` in the store's folder (`RunStore.folder(of:)`), or, for a PostgreSQL store, which has no folder,
/// under `runs/` in the working directory.
public func sweepFolder(_ name: String, store location: String) -> String {
    (RunStore.folder(of: location) ?? absolutePath("runs")) + "/sweeps/" + name
}

/// Fails unless `name` can name a sweep: it is a folder under `sweeps/` (`sweepFolder`), so it must be one plain folder
/// name: not empty nor `.`, without `/`, `\`, `..` or control characters. `source` says where the name came from, e.g.
/// `--name`.
public func checkSweepName(_ name: String, source: String) throws {
    let plain =
        !name.isEmpty && name != "." && !name.contains("/") && !name.contains("\\") && !name.contains("..")
        && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    guard plain else {
        throw ConfigError(
            "\(source) \(String(reflecting: name)): a sweep's name is a folder name; it cannot be empty or hold /, \\, "
                + ".. or control characters")
    }
}

/// The absolute folder of a sweep's checkpoints, as its trials resolve it: their `checkpoints` key (the experiment's,
/// or `--checkpoints`), else `checkpoints/` in the store's folder. A PostgreSQL store has no folder, so without the
/// key this is an error naming `location` (the store's path or URL, shown without a password).
public func checkpointFolder(of sweep: SweepRecord, trial: TrialRecord, store location: String) throws -> String {
    let experiment = try Experiment.load(
        sweep.experimentPath, text: sweep.experimentYAML,
        assignments: try assignments(fromJSON: trial.assignmentsJSON))
    return try checkpointRoot(
        experiment.spec.checkpoints, storeFolder: RunStore.folder(of: location), store: RunStore.shown(location))
}
