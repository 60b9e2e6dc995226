import ArgumentParser

/// `kinema bench`: performance figures, each printed as
/// `bench <name> <value> <unit> ratio=<r> vs <baseline>` next to the baseline's own line.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Kinema against its baselines on this machine.",
        discussion: """
            Every figure is printed on one line, `bench <name> <value> <unit> ratio=<r> vs <baseline>`, \
            with the baseline measured in the same run.
            """,
        subcommands: [
            BenchTorch.self,
            BenchVideo.self,
            BenchClips.self,
            BenchPredict.self,
            BenchTrain.self,
            BenchSmooth.self,
            BenchNeural.self,
            BenchSemi.self,
        ]
    )
}
