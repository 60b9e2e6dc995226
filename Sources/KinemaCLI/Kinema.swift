import ArgumentParser
import SmoothCLI

/// The root `kinema` command: a list of subcommands, nothing else.
public struct Kinema: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kinema",
        abstract: "From behavioural video to poses, smooth trajectories and predicted neural activity.",
        subcommands: [
            Info.self,
            PoseDemoCommand.self, PoseTrain.self, PoseEvaluate.self, PosePredict.self,
            Bench.self,
            Video.self,
            Neural.self,
            Smooth.self,
        ]
    )
    public init() {}
}
