import ArgumentParser
import Foundation
import KinemaFiles
import SmoothCLI

/// The root `kinema` command: a list of subcommands, and the one place that says how a command failed.
public struct Kinema: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kinema",
        abstract: "From behavioural video to poses, smooth trajectories and predicted neural activity.",
        subcommands: [
            Info.self,
            ProjectCommand.self, ExtractFrames.self, LabelFrames.self,
            Outliers.self, Merge.self,
            PoseDemoCommand.self, PoseTrain.self, PoseEvaluate.self, PosePredict.self, Jobs.self,
            Filter.self, Plot.self,
            Bench.self,
            Video.self,
            Neural.self,
            Smooth.self,
        ]
    )
    public init() {}

    /// Parses and runs a command. Usage errors, `--help` and exit codes are ArgumentParser's; any other error
    /// is one line, `kinema <command>: error: <what went wrong>`, in words (never Foundation's or libtorch's
    /// raw dump), and exit status 1.
    public static func main() async {
        await main(CommandLine.arguments.dropFirst().map { $0 })
    }

    /// `main()` with the given arguments (tests).
    public static func main(_ arguments: [String]) async {
        var command: any ParsableCommand
        do {
            // `kinema smooth …` parses against a root that holds only `smooth` (same name, same help): building every
            // command's parser first costs Swift's first conformance lookups of each type, a linear scan of this large
            // binary's conformance records each time — ~3 ms, a fifth of a smoothing job.
            command = try arguments.first == Smooth.configuration.commandName ? SmoothOnly.parseAsRoot(arguments) : parseAsRoot(arguments)
        } catch {
            exit(withError: error)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            // ArgumentParser's own outcomes (help, usage errors, exit codes) exit as ArgumentParser says; the rest
            // would print as its raw `description`, which may be Foundation's dump.
            if error is ExitCode || exitCode(for: error) != .failure { exit(withError: error) }
            FileHandle.standardError.write(Data((errorLine(error, arguments: arguments) + "\n").utf8))
            Foundation.exit(1)
        }
    }

    /// `kinema` with only its `smooth` subcommand.
    struct SmoothOnly: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: Kinema.configuration.commandName, subcommands: [Smooth.self])
    }

    /// `kinema video info: error: …`: the command path from the arguments, the error in one line.
    static func errorLine(_ error: any Error, arguments: [String]) -> String {
        var path = ["kinema"]
        var commands: [any ParsableCommand.Type] = configuration.subcommands
        for argument in arguments {
            guard let next = commands.first(where: { $0._commandName == argument }) else { break }
            path.append(argument)
            commands = next.configuration.subcommands
        }
        let text = FileProblem.sentence(error).split(whereSeparator: \.isNewline).joined(separator: " ")
        return "\(path.joined(separator: " ")): error: \(text)"
    }
}
