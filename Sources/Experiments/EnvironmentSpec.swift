import Foundation
import MarketData
import TradingEnv
import Yams

extension DataConfig: Config {}
extension MarketConfig: Config {}

/// A named part of the data.
public enum Split: String, Codable, Sendable, CaseIterable {
    case train, validation, test
}

/// `environments/NAME.yaml`: the data and the market simulation.
public struct EnvironmentSpec: Config {
    /// The bars: file, repairs, calendar, splits, features. `file` is relative to this YAML file's folder.
    public var data: DataConfig = DataConfig()
    /// Window, actions, fills, costs, reward, episodes.
    public var market: MarketConfig = MarketConfig()

    public init() {}

    /// Decodes `path` strictly (unknown keys and wrong types are errors naming the file and key), with `overrides` laid
    /// over it.
    public static func load(_ path: String, overrides: Overrides? = nil) throws -> EnvironmentSpec {
        try StrictYAML.decode(EnvironmentSpec.self, file: path, overrides: overrides)
    }

    /// The files its data is read from: the data file and each side series' file, resolved against `folder` (the
    /// environment file's) as the loader resolves them.
    public func dataFiles(folder: String) -> [String] {
        ([data.file] + data.side.map(\.file)).map { dataFilePath(file: $0, folder: folder) }
    }
}

/// A loaded environment file: the dataset once, and market environments over any split on demand.
public struct MarketSetup: Sendable {
    public let path: String
    public let spec: EnvironmentSpec
    /// The folder the data path is relative to.
    public let folder: String
    public let dataset: MarketDataset

    /// Loads the environment file (with `overrides` laid over it) and its data (paths in it are relative to the
    /// file's folder). A check of the data or the market that the file alone passes names the overrides.
    public init(path: String, overrides: Overrides? = nil) throws {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try self.init(
                spec: EnvironmentSpec.load(path, overrides: overrides), folder: folder.isEmpty ? "." : folder,
                path: path)
        } catch let error as ConfigError where overrides != nil && error.description.hasPrefix(path + ": ") {
            let origin = StrictYAML.origin(of: path, overrides) { _ = try MarketSetup(path: path) }
            throw ConfigError(origin + error.description.dropFirst(path.count))
        }
    }

    /// Loads the data of an already decoded environment (`folder`: what its data path is relative to; `path`: the
    /// name used in messages), or takes it from a setup in `loaded` with the same data config and folder.
    public init(spec: EnvironmentSpec, folder: String, path: String, sharingDataWith loaded: [MarketSetup] = []) throws
    {
        self.path = path
        self.spec = spec
        self.folder = folder
        if let same = loaded.first(where: { $0.spec.data == spec.data && $0.folder == folder }) {
            dataset = same.dataset
        } else {
            do {
                dataset = try loadMarket(spec.data, baseDirectory: folder)
            } catch let error as MarketDataError {
                throw ConfigError("\(path): data: \(error.description)")
            }
        }
        // Build one environment per non-empty split now, so a window longer than a split fails at load time.
        for split in Split.allCases where !bars(of: split).isEmpty { _ = try environment(split) }
        // A panel's minimum-variance baseline fits a covariance of daily returns on the train split.
        let train = bars(of: .train).count
        if dataset.panel.assetCount > 1 && train < 3 {
            throw ConfigError(
                "\(path): the train split has \(train) bar\(train == 1 ? "" : "s"); a panel needs at least 3 (its "
                    + "minimum-variance baseline fits a covariance of daily returns on them)")
        }
    }

    /// The files loading the environment file `path` (with `overrides`) reads, found without loading its data: the file
    /// itself, its data file and its side series' files.
    public static func files(path: String, overrides: Overrides? = nil) throws -> [String] {
        let folder = (path as NSString).deletingLastPathComponent
        return [path]
            + (try EnvironmentSpec.load(path, overrides: overrides)).dataFiles(folder: folder.isEmpty ? "." : folder)
    }

    /// The data file as read (`data.file` resolved against `folder`).
    public var dataPath: String { dataFilePath(spec.data, folder: folder) }

    /// Bar indices of a split.
    public func bars(of split: Split) -> Range<Int> {
        switch split {
        case .train: dataset.splits.train
        case .validation: dataset.splits.validation
        case .test: dataset.splits.test
        }
    }

    /// A market environment over one split; `configure` may change the market config (e.g. costs for a sweep).
    public func environment(_ split: Split, seed: UInt64 = 0, configure: (inout MarketConfig) -> Void = { _ in }) throws
        -> MarketEnv
    {
        let range = bars(of: split)
        guard !range.isEmpty else { throw ConfigError("\(path): the \(split.rawValue) split is empty") }
        return try environment(bars: range, name: "\(split.rawValue) split", seed: seed, configure: configure)
    }

    /// A market environment over any bar range (`name` says which in messages), e.g. the years `tradesim compare` asks
    /// for.
    public func environment(
        bars range: Range<Int>, name: String, seed: UInt64 = 0,
        configure: (inout MarketConfig) -> Void = { _ in }
    ) throws -> MarketEnv {
        var market = spec.market
        configure(&market)
        do {
            return try MarketEnv(
                panel: dataset.panel, features: dataset.observations.values, width: dataset.observations.width,
                bars: range, firstObservableBar: dataset.features.warmup, config: market, seed: seed)
        } catch let error as EnvironmentError {
            throw ConfigError("\(path): \(name): \(error.description)")
        }
    }
}

/// `data.file` resolved against the environment file's `folder`, as `loadMarket` reads it.
func dataFilePath(_ data: DataConfig, folder: String) -> String { dataFilePath(file: data.file, folder: folder) }

/// `file` resolved against `folder` unless it is absolute.
func dataFilePath(file: String, folder: String) -> String {
    file.hasPrefix("/") || folder.isEmpty ? file : folder + "/" + file
}
