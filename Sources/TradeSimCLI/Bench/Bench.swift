import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print one JSON line (build with -c release; pin OPENBLAS_NUM_THREADS).",
        subcommands: [
            BenchEnv.self, BenchLoad.self, BenchNN.self, BenchAgent.self, BenchStore.self, BenchSoak.self,
            BenchSweep.self,
        ])
}
