// Argument parsing of every `kinema` command family through the public root command: defaults (as --help
// states them), required arguments, bad values rejected with a clear message, and --help naming the key options.
// Nothing runs here (EndToEndTests runs the commands).
import ArgumentParser
import Foundation
import KinemaCLI
import Testing

/// The message ArgumentParser prints for these arguments (the error and usage), or nil when they parse.
private func message(_ arguments: [String]) -> String? {
    do {
        _ = try Kinema.parseAsRoot(arguments)
        return nil
    } catch {
        return Kinema.fullMessage(for: error)
    }
}

/// Expects the arguments to parse.
private func parses(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    let text = message(arguments)
    #expect(text == nil, "kinema \(arguments.joined(separator: " ")): \(text ?? "")", sourceLocation: sourceLocation)
}

/// Expects parsing to fail with a message containing every one of `parts`.
private func rejects(_ arguments: [String], _ parts: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    guard let text = message(arguments) else {
        Issue.record("kinema \(arguments.joined(separator: " ")) parsed", sourceLocation: sourceLocation)
        return
    }
    for part in parts { #expect(text.contains(part), "message: \(text)", sourceLocation: sourceLocation) }
}

/// The --help text of a command (`[]` = the root), 80 columns wide. (`parseAsRoot` answers `--help` with a
/// command that prints, so the text comes from the command type found by name in the public tree.)
private func helpText(_ path: [String]) -> String {
    var current: ParsableCommand.Type = Kinema.self
    for name in path {
        guard let next = current.configuration.subcommands.first(where: { $0._commandName == name }) else {
            Issue.record("no command \(path.joined(separator: " "))")
            return ""
        }
        current = next
    }
    return Kinema.helpMessage(for: current, columns: 80)
}

/// Expects `--help` text containing every one of `parts`.
private func helps(_ arguments: [String], _ parts: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    let text = helpText(arguments)
    for part in parts { #expect(text.contains(part), "help of \(arguments): \(text)", sourceLocation: sourceLocation) }
}

/// The default --help states for `option` (its entry with wrapped lines joined), or nil.
private func helpDefault(_ arguments: [String], _ option: String) -> String? {
    let lines = helpText(arguments).split(separator: "\n").map(String.init)
    guard let start = lines.firstIndex(where: { $0.hasPrefix("  \(option) ") || $0 == "  \(option)" }) else { return nil }
    var entry = lines[start]
    for line in lines[(start + 1)...] {
        guard line.hasPrefix("   ") else { break }  // continuation lines are indented further than entries
        entry += " " + line.trimmingCharacters(in: .whitespaces)
    }
    guard let range = entry.range(of: "(default: ") else { return nil }
    return String(entry[range.upperBound...].prefix { $0 != ")" }).replacingOccurrences(of: " ", with: "")
}

/// Expects these defaults in the help of a command.
private func defaults(_ arguments: [String], _ expected: [String: String], sourceLocation: SourceLocation = #_sourceLocation) {
    for (option, value) in expected {
        #expect(helpDefault(arguments, option) == value, "default of \(option)", sourceLocation: sourceLocation)
    }
}

@Suite("kinema argument parsing")
struct ParsingTests {
    @Test func rootListsEveryFamily() {
        helps([], "info", "demo", "train", "predict", "evaluate", "bench", "video", "neural", "smooth")
        rejects(["frobnicate"], "Unexpected argument 'frobnicate'")
        parses(["info"])
    }

    // MARK: video

    @Test func videoFrames() {
        parses(["video", "frames", "a.mp4", "--at", "0,17,5-7", "--out", "dir", "--gray", "--width", "32", "--format", "jpg"])
        defaults(["video", "frames"], ["--format <format>": "png"])
        rejects(["video", "frames", "a.mp4", "--out", "dir"], "Missing expected argument '--at <LIST>'")
        rejects(
            ["video", "frames", "a.mp4", "--at", "7-3", "--out", "d"], "--at: '7-3' is not a frame index (0, 1, ...) or a range like 10-20")
        rejects(["video", "frames", "a.mp4", "--at", "1", "--out", "d", "--format", "gif"], "--format must be png or jpg, not 'gif'")
        rejects(["video", "frames", "a.mp4", "--at", "1", "--out", "d", "--width", "0"], "--width must be positive")
        rejects(["video", "info"], "Missing expected argument '<file>'")
        helps(["video", "frames"], "--at", "--out", "--gray", "--format")
    }

    // MARK: neural

    @Test func neuralTrain() {
        parses(["neural", "train", "--data", "syn", "--out", "m"])
        parses([
            "neural", "train", "--data", "syn", "--out", "m", "--steps", "5", "--batch-size", "2", "--seed", "9",
            "--teacher", "t1", "--teacher", "t2", "--no-calibrate-readouts", "--recipe", "--device", "cuda:1", "--resume",
        ])
        defaults(["neural", "train"], ["--device <device>": "cpu"])
        rejects(["neural", "train", "--out", "m"], "Missing expected argument '--data <data>'")
        rejects(
            ["neural", "train", "--data", "d", "--out", "m", "--device", "tpu"], "--device: 'tpu' is not a device; use cpu, cuda or cuda:N")
        rejects(["neural", "train", "--data", "d", "--out", "m", "--steps", "many"], "The value 'many' is invalid for '--steps <steps>'")
        helps(
            ["neural", "train"], "--data", "--out", "--teacher", "--resume", "--recipe", "--no-calibrate-readouts",
            "checkpoint.safetensors", "Ctrl-C")
    }

    @Test func neuralPredictAndEvaluate() {
        parses(["neural", "predict", "--model", "m", "--data", "d", "--out", "p"])
        parses([
            "neural", "predict", "--model", "m", "--data", "d", "--submission", "s.parquet", "--device", "cuda:1", "--window-stride", "7",
        ])
        defaults(
            ["neural", "predict"],
            [
                "--batch-size <batch-size>": "32", "--window-stride <window-stride>": "1", "--device <device>": "cpu",
                "--tiers <tiers>": "oracle,live_test_main,final_test_main,live_test_bonus,final_test_bonus",
            ])
        rejects(
            ["neural", "predict", "--model", "m", "--data", "d", "--out", "p", "--window-stride", "2"], "--window-stride must be 1 or odd")
        rejects(["neural", "predict", "--model", "m", "--data", "d"], "give --out DIR (per-trial .npy files), --submission FILE, or both")
        rejects(["neural", "predict", "--data", "d", "--out", "p"], "Missing expected argument '--model <model>'")
        rejects(
            ["neural", "predict", "--model", "m", "--data", "d", "--out", "p", "--device", "gpu:0"], "--device: 'gpu:0' is not a device")
        helps(["neural", "predict"], "--model", "--data", "--out", "--submission", "--drop-last", "--unscaled")

        parses(["neural", "evaluate", "--data", "d", "--predictions", "p"])
        defaults(["neural", "evaluate"], ["--tier <tier>": "oracle", "--skip <skip>": "50", "--cap <cap>": "300"])
        rejects(["neural", "evaluate", "--predictions", "p"], "Missing expected argument '--data <data>'")
        rejects(["neural", "evaluate", "--data", "d", "--skip", "x"], "The value 'x' is invalid for '--skip <skip>'")
        helps(["neural", "evaluate"], "--predictions", "--submission", "--rates", "--drop-last")
    }

    @Test func neuralSynthAndDecode() {
        parses(["neural", "synth", "out", "--neurons", "6,5", "--train-trials", "3", "--full-size"])
        rejects(["neural", "synth"], "Missing expected argument '<out>'")
        rejects(["neural", "synth", "out", "--train-trials", "x"], "The value 'x' is invalid for '--train-trials <train-trials>'")
        helps(["neural", "synth"], "--neurons", "--train-trials", "--shared-positions", "--config")
        parses(["neural", "decode", "--data", "m"])
        defaults(
            ["neural", "decode"],
            [
                "--signal <signal>": "pupil", "--folds <folds>": "5", "--lags <lags>": "0",
                "--max-neurons <max-neurons>": "500", "--tiers <tiers>": "train,oracle",
            ])
        rejects(["neural", "decode", "--folds", "five"], "The value 'five' is invalid for '--folds <folds>'")
        helps(["neural", "decode"], "--signal", "--pose-csv", "--column", "--activity")
        helps(["neural"], "synth", "train", "predict", "evaluate", "decode")
    }

    // MARK: smooth, pose, bench, info (through the command line only: their internals belong to other targets)

    @Test func smoothCommands() {
        parses(["smooth", "singlecam", "--input-dir", "in", "--s", "5"])
        parses(["smooth", "multicam", "--input-dir", "in", "--camera-names", "top", "bot"])
        rejects(["smooth", "singlecam", "--s", "soft"], "The value 'soft' is invalid for '--s <s>'")
        rejects(["smooth", "nothing"], "Unexpected argument 'nothing'")
        helps(["smooth", "singlecam"], "--input-dir", "--input-files", "--save-dir", "--s", "--bodypart-list")
        helps(["smooth"], "singlecam", "mirrored-multicam", "multicam", "pupil", "paw")
    }

    @Test func poseCommands() {
        parses(["train", "config.yaml", "--epochs", "1", "--image-size", "64"])
        parses(["predict", "model", "a.mp4", "b.mp4", "--labeled-video"])
        parses(["evaluate", "model"])
        parses(["demo", "--epochs", "1"])
        defaults(["predict"], ["--batch-size <batch-size>": "16"])
        defaults(["demo"], ["--directory <directory>": "kinema-demo", "--epochs <epochs>": "20"])
        rejects(["train", "c.yaml", "--epochs", "one"], "The value 'one' is invalid for '--epochs <epochs>'")
        rejects(["predict", "model"], "give videos or folders of images after MODEL, or a batch with --videos")
        parses(["predict", "model", "--videos", "list.txt", "more/*.mp4", "--output", "out", "--workers", "4", "--retry-failed"])
        rejects(["predict", "model", "--videos", "a.mp4", "--strict"], "--strict applies to videos given after MODEL")
        parses([
            "predict", "model", "--videos", "list.txt", "--slurm", "--partition", "gpu", "--time", "2:00:00", "--gpus-per-task", "1",
            "--max-parallel", "8", "--sbatch-line", "mem=16G", "--sbatch-line=--account=lab", "--videos-per-task", "20",
        ])
        rejects(["predict", "model", "a.mp4", "--slurm"], "--slurm applies to a batch given with --videos")
        rejects(["predict", "model", "--videos", "a.mp4", "--slurm", "--max-parallel", "0"], "--max-parallel must be positive")
        parses(["jobs", "wait", "out", "--interval", "60"])
        helps(["jobs"], "status", "wait", "retry")
        rejects(["evaluate"], "Missing expected argument '<model>'")
        helps(["train"], "--model-dir", "--resume", "--epochs", "--image-size", "--backbone")
        helps(["predict"], "--output", "--labeled-video", "--batch-size", "--videos", "--workers", "--retry-failed")
        helps(["demo"], "--directory", "--epochs")
    }

    @Test func benchAndInfo() {
        helps(["bench"], "predict", "train", "neural", "smooth", "clips")
        helps(["bench", "clips"], "--clip-length", "--step-ms", "--augmentation")
        parses(["bench", "clips", "v.mp4", "--clip-length", "16", "--augmentation", "none"])
        rejects(["bench", "clips", "--augmentation", "dlc"], "--augmentation is lp or none")
        rejects(["bench", "clips", "--batches", "1"], "--batches at least 2")
        helps(["info"], "libtorch", "FFmpeg")
        rejects(["info", "extra"], "Unexpected argument 'extra'")
    }
}
