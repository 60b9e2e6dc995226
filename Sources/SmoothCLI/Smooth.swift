import ArgumentParser
import Foundation
import KinemaConsole
import Smoothing

/// `kinema smooth`: ensemble Kalman smoothing (the EKS package's methods and output files).
public struct Smooth: AsyncParsableCommand {
    public init() {}

    // The name spelt out: deriving it from the type's name costs Swift's dynamic casts (~1 ms at `kinema` start-up).
    public static let configuration = CommandConfiguration(
        commandName: "smooth", abstract: "Smooth an ensemble of pose predictions into one trajectory with uncertainty (EKS).",
        discussion: """
            Each subcommand reads the prediction CSVs of several models (an ensemble), writes the EKS package's \
            output CSVs (x, y, likelihood, ensemble median and variance, posterior variance) and prints a summary. \
            Without --s the smoothing parameter is chosen per keypoint by the package's likelihood search.
            """,
        subcommands: [SmoothSingleCam.self, SmoothMirroredMultiCam.self, SmoothMultiCam.self, SmoothPupil.self, SmoothPaw.self]
    )
}

/// `kinema-smooth`: the same subcommands under the executable's own name, so its usage and help say
/// `kinema-smooth …` while `kinema smooth …` stays what `kinema` shows.
public struct KinemaSmooth: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "kinema-smooth", abstract: Smooth.configuration.abstract, discussion: Smooth.configuration.discussion,
        subcommands: Smooth.configuration.subcommands)
}

// MARK: - Subcommands

struct SmoothSingleCam: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "singlecam", abstract: "One camera: every CSV is one ensemble member.")
    @OptionGroup var input: SmoothInputOptions
    @OptionGroup var parameters: SmoothParameterOptions
    @Option(name: .customLong("blocks"), help: "Keypoints sharing one s, e.g. \"0,1,2;3,4\" (indices; every keypoint must be in a block).")
    var blocks: String?

    func run() async throws {
        var options = SmoothingOptions()
        try parameters.apply(to: &options)
        if let blocks { options.blocks = try parseBlocks(blocks) }
        try runSmoothing(.singleCamera, input: input, keypoints: parameters.keypoints, options: options)
    }
}

struct SmoothMirroredMultiCam: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirrored-multicam",
        abstract: "All views in one file per member (bodyparts named <keypoint>_<camera>).")
    @OptionGroup var input: SmoothInputOptions
    @OptionGroup var parameters: SmoothParameterOptions
    @OptionGroup var views: MultiViewOptions

    func run() async throws {
        var options = SmoothingOptions()
        try parameters.apply(to: &options)
        try views.apply(to: &options)
        guard views.cameraNames.count >= 2 else {
            throw ValidationError("--camera-names needs the view suffixes, e.g. --camera-names top bot")
        }
        try runSmoothing(.mirrored(cameras: views.cameraNames), input: input, keypoints: parameters.keypoints, options: options)
    }
}

struct SmoothMultiCam: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multicam",
        abstract: "One file per member and camera; linear (PCA) model, or 3-D with --calibration.")
    @OptionGroup var input: SmoothInputOptions
    @OptionGroup var parameters: SmoothParameterOptions
    @OptionGroup var views: MultiViewOptions
    @Option(
        name: .customLong("calibration"),
        help: "Anipose calibration.toml: smooth in 3-D with the cameras' projections (camera names come from the file).")
    var calibration: String?

    func run() async throws {
        var options = SmoothingOptions()
        try parameters.apply(to: &options)
        try views.apply(to: &options)
        if let calibration {
            try runSmoothing(
                .calibrated(calibration: URL(fileURLWithPath: calibration)), input: input, keypoints: parameters.keypoints, options: options
            )
        } else {
            guard views.cameraNames.count >= 2 else {
                throw ValidationError("--camera-names is required without --calibration, e.g. --camera-names top bot")
            }
            try runSmoothing(.multiCamera(cameras: views.cameraNames), input: input, keypoints: parameters.keypoints, options: options)
        }
    }
}

struct SmoothPupil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pupil", abstract: "IBL pupil: diameter + centre model on pupil_{top,bottom,right,left}_r.",
        aliases: ["ibl-pupil"])
    @OptionGroup var input: SmoothInputOptions
    @Option(name: .customLong("diameter-s"), help: "AR(1) parameter of the diameter in (0, 1) (closer to 1 = smoother); needs --com-s.")
    var diameterS: Double?
    @Option(name: .customLong("com-s"), help: "AR(1) parameter of the pupil centre in (0, 1); needs --diameter-s.")
    var comS: Double?
    @Option(name: .customLong("s-frames"), help: "Frames used to choose the parameters (see singlecam).")
    var sFrames: String?
    @Option(name: .customLong("avg-mode"), help: "Ensemble centre: median or mean.")
    var avgMode: String = "median"

    func run() async throws {
        var options = SmoothingOptions()
        guard let a = EnsembleAveraging(rawValue: avgMode) else { throw ValidationError("--avg-mode must be median or mean") }
        options.averaging = a
        if let d = diameterS, let c = comS {
            options.smoothing = .fixed([d, c])
        } else {
            if (diameterS == nil) != (comS == nil) {
                printErr("note: both --diameter-s and --com-s are needed to fix them; optimising both")
            }
            options.smoothing = .automatic(frames: try sFrames.map(parseFrameRanges))
        }
        try runSmoothing(.pupil, input: input, keypoints: nil, options: options)
    }
}

struct SmoothPaw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paw", abstract: "IBL paws: two asynchronous cameras (left/right CSVs + timestamps_left/right .npy).",
        aliases: ["ibl-paw"])
    @OptionGroup var input: SmoothInputOptions
    @Option(name: .customLong("s"), parsing: .upToNextOption, help: "Fixed smoothing parameter (one, or one per paw).")
    var sLists: [NumberList] = []
    var s: [Double] { sLists.flatMap(\.values) }
    @Option(name: .customLong("s-frames"), help: "Frames used to choose s.")
    var sFrames: String?
    @Option(name: .customLong("quantile-keep-pca"), help: "Percentile of ensemble variance below which frames are used for the PCA.")
    var quantileKeepPCA: Double = 95
    @Flag(name: .customLong("no-inflate-vars"), help: "Do not inflate the variances of frames whose views disagree.")
    var noInflateVars = false
    @Option(name: .customLong("image-width"), help: "Image width used to mirror the right camera.")
    var imageWidth: Double = 128

    func run() async throws {
        var options = SmoothingOptions()
        options.variance = .plain  // the package's ibl-paw CLI: likelihoods are dropped
        options.quantileKeepPCA = quantileKeepPCA
        options.inflateVariances = !noInflateVars
        options.smoothing = s.isEmpty ? .automatic(frames: try sFrames.map(parseFrameRanges)) : .fixed(s)
        try runSmoothing(.paw(imageWidth: imageWidth), input: input, keypoints: nil, options: options)
    }
}

// MARK: - Running and reporting

func printErr(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// Runs a job with a progress line on stderr and prints the summary and written files.
func runSmoothing(_ mode: SmoothingJob.Mode, input: SmoothInputOptions, keypoints: [String]?, options: SmoothingOptions) throws {
    var options = options
    let progress = ProgressLine(label: "choosing s:", total: 0, unit: "keypoints", quietSeconds: 1)
    options.progress = { done, total in progress.update(done, of: total) }
    let inputs = try input.files()
    try OutputFolder.create(input.saveDir, option: "--save-dir")
    if let warning = singleMemberWarning(mode, inputs: inputs) { printErr(warning) }
    var job = SmoothingJob(
        mode: mode, inputs: inputs, outputFolder: URL(fileURLWithPath: input.saveDir),
        outputFileName: input.saveFilename, keypoints: keypoints, options: options)
    job.plot = input.plot
    job.plotFrames = try input.plotRange()
    let start = Date()
    let report: SmoothingJob.Report
    do {
        report = try job.run()
    } catch {
        progress.finish()
        throw error  // SmoothingError / PoseFormatError print as one line naming the file and the problem
    }
    progress.finish()
    for line in report.summary { print(line) }
    for file in report.files + report.plots { print("wrote \(file.path)") }
    if input.verbose { print(String(format: "done in %.3f s", Date().timeIntervalSince(start))) }
}

/// EKS's ensemble variance is the spread of the members; with one member there is none, and (like the EKS package)
/// the observation variance becomes 1/likelihood, which makes the result a plain Kalman smoother of that one track.
/// Said in one line, because an ensemble of one is usually a forgotten file rather than a choice.
func singleMemberWarning(_ mode: SmoothingJob.Mode, inputs: [URL]) -> String? {
    let files = SmoothingJob.poseFiles(inputs).map(\.lastPathComponent)
    func members(per names: [String]) -> Int? { names.map { name in files.filter { $0.contains(name) }.count }.min() }
    let count: Int?
    switch mode {
    case .singleCamera, .mirrored, .pupil: count = files.count
    case .multiCamera(let cameras): count = members(per: cameras)
    case .calibrated(let url): count = (try? CameraCalibration.read(from: url)).flatMap { members(per: $0.cameras.map(\.name)) }
    case .paw: count = min(files.filter { $0.contains("left") }.count, files.filter { !$0.contains("left") }.count)
    }
    guard count == 1 else { return nil }
    return "warning: one ensemble member per view: EKS needs at least 2 members for a meaningful ensemble variance; "
        + "smoothing the one track with variance 1/likelihood instead (a plain Kalman smoother)"
}
