import Experiments
import Foundation
import RunStore

/// The folder of a sweep's files: its trials' logs (`trial-I.log`) and, on Slurm, its batch script (`array.sbatch`):
/// `sweeps/NAME` in the store's folder (`RunStore.folder(of:)`), or, for a PostgreSQL store, which has no folder,
/// under `runs/` in the working directory.
public func sweepFolder(_ name: String, store location: String) -> String {
    (RunStore.folder(of: location) ?? absolutePath("runs")) + "/sweeps/" + name
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
