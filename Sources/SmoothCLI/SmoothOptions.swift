import ArgumentParser
import Foundation
import Smoothing

// MARK: - Options shared by every `kinema smooth` subcommand (named like the EKS package's CLI)

struct SmoothInputOptions: ParsableArguments {
    @Option(name: .customLong("input-dir"), help: "Folder of prediction CSV files (one per ensemble member, or per member and camera).")
    var inputDir: String?

    @Option(name: .customLong("input-files"), parsing: .upToNextOption, help: "Prediction CSV files (instead of --input-dir).")
    var inputFiles: [String] = []

    @Option(name: .customLong("save-dir"), help: "Output folder (default: ./outputs).")
    var saveDir: String = "outputs"

    @Option(name: .customLong("save-filename"), help: "Output file name for single-file modes (default: the package's name).")
    var saveFilename: String?

    @Flag(
        name: [.customLong("plot"), .customLong("make-plot")],
        help: "Write a PNG per keypoint (and view): members, median, smoothed track with its ±2σ band.")
    var plot = false

    @Option(name: .customLong("plot-frames"), help: "Frame window of the plots, START:END (default 0:500; ':' for all frames).")
    var plotFrames: String = "0:500"

    @Flag(name: .customLong("verbose"), help: "Print the optimiser's iteration counts in the summary (always shown) and progress.")
    var verbose = false

    /// The input files, sorted by path (the package's member order).
    func files() throws -> [URL] {
        if !inputFiles.isEmpty {
            for file in inputFiles where !FileManager.default.isReadableFile(atPath: file) {
                throw SmoothingError("\(file): no such readable file (given in --input-files)")
            }
            return inputFiles.map { URL(fileURLWithPath: $0) }.sorted { $0.path < $1.path }
        }
        guard let inputDir else { throw ValidationError("give --input-dir or --input-files") }
        let folder = URL(fileURLWithPath: inputDir)
        guard let all = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) else {
            throw SmoothingError("\(inputDir): not a readable folder; --input-dir must be a folder of prediction CSV files")
        }
        return all.filter { ["csv", "h5", "npy"].contains($0.pathExtension.lowercased()) }.sorted { $0.path < $1.path }
    }

    func plotRange() throws -> Range<Int>? {
        let parts = plotFrames.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw ValidationError("--plot-frames takes START:END, e.g. 0:500; got '\(plotFrames)'") }
        if parts[0].isEmpty && parts[1].isEmpty { return nil }
        guard let a = parts[0].isEmpty ? 0 : Int(parts[0]), let b = parts[1].isEmpty ? Int.max : Int(parts[1]), a < b else {
            throw ValidationError("--plot-frames takes START:END with START < END; got '\(plotFrames)'")
        }
        return a..<b
    }
}

struct SmoothParameterOptions: ParsableArguments {
    @Option(
        name: .customLong("s"), parsing: .upToNextOption,
        help: "Fixed smoothing parameter: one value for all keypoints or one per keypoint (default: chosen automatically).")
    var sLists: [NumberList] = []
    var s: [Double] { sLists.flatMap(\.values) }

    @Option(
        name: .customLong("s-frames"),
        help:
            "Frames used to choose s: \"[(start,end),...]\" (0-based, end excluded, empty = open); a bare N means [(1,N)] like the package."
    )
    var sFrames: String?

    @Option(name: .customLong("bodypart-list"), parsing: .upToNextOption, help: "Keypoints to smooth (default: all).")
    var bodypartLists: [NameList] = []
    var bodypartList: [String] { bodypartLists.flatMap(\.names) }

    @Option(name: .customLong("avg-mode"), help: "Ensemble centre: median or mean.")
    var avgMode: String = "median"

    @Option(name: .customLong("var-mode"), help: "Ensemble variance: confidence_weighted_var or var.")
    var varMode: String = "confidence_weighted_var"

    func apply(to options: inout SmoothingOptions) throws {
        guard let a = EnsembleAveraging(rawValue: avgMode) else {
            throw ValidationError("--avg-mode must be median or mean; got '\(avgMode)'")
        }
        guard let v = EnsembleVarianceMode(rawValue: varMode) else {
            throw ValidationError("--var-mode must be confidence_weighted_var or var; got '\(varMode)'")
        }
        options.averaging = a
        options.variance = v
        if !s.isEmpty {
            options.smoothing = .fixed(s)
        } else {
            options.smoothing = .automatic(frames: try sFrames.map(parseFrameRanges))
        }
    }

    var keypoints: [String]? { bodypartList.isEmpty ? nil : bodypartList }
}

struct MultiViewOptions: ParsableArguments {
    @Option(
        name: .customLong("camera-names"), parsing: .upToNextOption, help: "Camera names; each file name must contain its camera's name.")
    var cameraLists: [NameList] = []
    var cameraNames: [String] { cameraLists.flatMap(\.names) }

    @Option(name: .customLong("quantile-keep-pca"), help: "Percentile of ensemble variance below which frames are used for the PCA.")
    var quantileKeepPCA: Double = 95

    @Flag(name: .customLong("no-inflate-vars"), help: "Do not inflate the variances of frames whose views disagree.")
    var noInflateVars = false

    @Option(name: .customLong("n-latent"), help: "Latent (PCA) dimensions of the multi-view model.")
    var nLatent: Int = 3

    func apply(to options: inout SmoothingOptions) throws {
        guard quantileKeepPCA > 0, quantileKeepPCA <= 100 else { throw ValidationError("--quantile-keep-pca must be in (0, 100]") }
        options.quantileKeepPCA = quantileKeepPCA
        options.inflateVariances = !noInflateVars
        options.latentDimension = nLatent
    }
}

// MARK: - Parsing helpers

/// One value of a list option, which a person may give as `top bot` or as `top,bot` (both are common in the tools
/// labs use): the commas split it further.
struct NameList: ExpressibleByArgument {
    var names: [String]
    init?(argument: String) {
        names = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if names.isEmpty { return nil }
    }
}

/// A numeric list option's value: `--s 5 10` or `--s 5,10`.
struct NumberList: ExpressibleByArgument {
    var values: [Double]
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count == parts.count else { return nil }
        self.values = values
    }
}

/// Parses the package's `--s-frames` syntax.
func parseFrameRanges(_ text: String) throws -> [FrameRange] {
    let cleaned = text.filter { !$0.isWhitespace }
    if let n = Int(cleaned) { return [FrameRange(start: 1, end: n)] }  // the package's quirk: N means [(1, N)]
    var ranges: [FrameRange] = []
    var rest = Substring(cleaned)
    while let open = rest.firstIndex(of: "("), let close = rest[open...].firstIndex(of: ")") {
        let inside = rest[rest.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false)
        guard inside.count == 2 else { throw ValidationError("--s-frames: '(\(rest[open...close]))' is not (start,end)") }
        func bound(_ s: Substring) throws -> Int? {
            if s.isEmpty || s == "None" { return nil }
            guard let v = Int(s), v >= 0 else { throw ValidationError("--s-frames: '\(s)' is not a frame number") }
            return v
        }
        let r = FrameRange(start: try bound(inside[0]), end: try bound(inside[1]))
        if let a = r.start, let b = r.end, a > b { throw ValidationError("--s-frames: start \(a) is after end \(b)") }
        ranges.append(r)
        rest = rest[rest.index(after: close)...]
    }
    guard !ranges.isEmpty else { throw ValidationError("--s-frames: expected \"[(start,end),...]\"; got '\(text)'") }
    return ranges
}

/// Parses `--blocks "0,1,2;3,4"`.
func parseBlocks(_ text: String) throws -> [[Int]] {
    try text.split(separator: ";").map { block in
        try block.split(separator: ",").map { item in
            guard let v = Int(item.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--blocks: '\(item)' is not a keypoint index")
            }
            return v
        }
    }
}
