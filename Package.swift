// swift-tools-version:6.1
import PackageDescription

/// The numeric modules are compiled for AVX2 + FMA (x86-64-v3, Haswell and later; every Zen): about 1.3× on the
/// LSTM's gate loops and the env's fill kernel. `tradesim` checks the CPU at start-up and says so if it lacks them.
let vectorISA: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux]))]

let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let yams: Target.Dependency = .product(name: "Yams", package: "Yams")

/// Every target declares each module it imports (`scripts/test.sh` builds with
/// `--explicit-target-dependency-import-check error`); SyntheticMarkets and Benchmarks stay out of the library product.
let package = Package(
    name: "tradesim",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tradesim", targets: ["TradeSimCLI"]),
        .library(
            name: "TradeSim",
            targets: ["NeuralCore", "RLCore", "MarketData", "TradingEnv", "Agents", "RunStore", "Experiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/JohnSundell/Plot", exact: "0.14.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // System library (apt: zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),

        // AVX-512 micro-kernels (per-function target attributes), chosen at run time by NeuralCore.
        .target(name: "NeuralKernels"),
        .target(name: "NeuralCore", dependencies: ["NeuralKernels"], swiftSettings: vectorISA),
        .target(name: "RLCore"),
        .target(name: "MarketData", dependencies: ["CZlib"]),
        .target(name: "TradingEnv", dependencies: ["RLCore", "MarketData"], swiftSettings: vectorISA),
        .target(name: "Agents", dependencies: ["RLCore", "NeuralCore"], swiftSettings: vectorISA),
        .target(
            name: "RunStore",
            dependencies: [
                grdb, .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]),
        .target(
            name: "Experiments",
            dependencies: [
                "RLCore", "MarketData", "TradingEnv", "NeuralCore", "Agents", "RunStore", yams,
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Plot", package: "Plot"),
            ]),
        // Seeded random-walk panels and a panel environment at any scale, for the benchmarks and the tests; not in the
        // library product.
        .target(name: "SyntheticMarkets", dependencies: ["RLCore", "MarketData", "TradingEnv"]),
        // The `tradesim bench` workloads; only the CLI links them.
        .target(
            name: "Benchmarks",
            dependencies: [
                "RLCore", "MarketData", "TradingEnv", "NeuralCore", "NeuralKernels", "Agents", "RunStore",
                "Experiments", "Sweeps",
            ]),
        // Sweeps, walk-forward and selection across trials, on a local pool of processes or a Slurm job array.
        .target(name: "Sweeps", dependencies: ["RLCore", "MarketData", "TradingEnv", "RunStore", "Experiments", yams]),
        .executableTarget(
            name: "TradeSimCLI",
            dependencies: [
                "RLCore", "MarketData", "TradingEnv", "NeuralCore", "Agents", "RunStore",
                "Experiments", "Sweeps", "SyntheticMarkets", "Benchmarks", yams,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Test support shared by test targets (seeded fuzz loops under a watchdog).
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport"),
        .testTarget(
            name: "NeuralCoreTests", dependencies: ["NeuralCore", "NeuralKernels", "RLCore"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "RLCoreTests", dependencies: ["RLCore"]),
        .testTarget(
            name: "MarketDataTests", dependencies: ["MarketData", "RLCore", "FuzzSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "TradingEnvTests", dependencies: ["RLCore", "MarketData", "TradingEnv"]),
        .testTarget(
            name: "AgentsTests",
            dependencies: [
                "RLCore", "MarketData", "TradingEnv", "NeuralCore", "Agents",
                "SyntheticMarkets",
            ]),
        .testTarget(name: "RunStoreTests", dependencies: ["RunStore", grdb]),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: [
                "RLCore", "MarketData", "TradingEnv", "NeuralCore", "Agents", "RunStore",
                "Experiments", "Sweeps", "TradeSimCLI", "FuzzSupport", grdb, yams,
            ]),
        .testTarget(name: "SweepsTests", dependencies: ["RLCore", "RunStore", "Experiments", "Sweeps", yams]),
        .testTarget(
            name: "BenchmarksTests",
            dependencies: [
                "RLCore", "TradingEnv", "NeuralCore", "Agents", "RunStore",
                "SyntheticMarkets", "Benchmarks",
            ]),
    ]
)
