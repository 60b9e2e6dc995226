// A whole smoothing job as the command line runs it: find the files, build the ensembles, run the
// mode, write the package's output files (and plots), and summarise.
import Foundation
import PoseFormats

/// One command-line smoothing run (`kinema smooth …`), usable from any front end.
public struct SmoothingJob: Sendable {
    /// The EKS mode and its mode-specific inputs.
    public enum Mode: Sendable {
        case singleCamera
        case mirrored(cameras: [String])
        case multiCamera(cameras: [String])
        case calibrated(calibration: URL)
        case pupil
        case paw(imageWidth: Double)
    }

    public var mode: Mode
    /// Prediction CSVs (and for paw the two timestamp `.npy` files).
    public var inputs: [URL]
    public var outputFolder: URL
    /// Output file name for single-file modes (default: the package's name for the mode).
    public var outputFileName: String?
    public var keypoints: [String]?
    public var options: SmoothingOptions
    /// Write one PNG per keypoint and view.
    public var plot = false
    /// Frames shown in plots (default 0..<500, so that single movements stay visible).
    public var plotFrames: Range<Int>? = 0..<500

    public init(
        mode: Mode, inputs: [URL], outputFolder: URL, outputFileName: String? = nil,
        keypoints: [String]? = nil, options: SmoothingOptions = SmoothingOptions()
    ) {
        self.mode = mode; self.inputs = inputs; self.outputFolder = outputFolder
        self.outputFileName = outputFileName; self.keypoints = keypoints; self.options = options
    }

    /// What a run produced.
    public struct Report: Sendable {
        public var result: SmoothingResult
        public var files: [URL]
        public var plots: [URL]
        /// Human-readable summary lines (frames, keypoints, s, mean posterior std).
        public var summary: [String]
    }

    /// Prediction files of a folder (not recursive), sorted by path; the package's member order.
    public static func csvFiles(in folder: URL) throws -> [URL] {
        guard let items = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) else {
            throw SmoothingError("\(folder.path): not a readable folder; --input-dir must be a folder of prediction CSVs")
        }
        return poseFiles(items).sorted { $0.path < $1.path }
    }

    /// The pose tables among `urls`: CSVs and DeepLabCut .h5 files, without an .h5 whose same-named .csv is also
    /// there (`analyze_videos(save_as_csv=True)` writes both; counting both would double an ensemble member).
    public static func poseFiles(_ urls: [URL]) -> [URL] {
        let csvs = Set(urls.filter { $0.pathExtension.lowercased() == "csv" }.map { $0.deletingPathExtension().path })
        return urls.filter { url in
            switch url.pathExtension.lowercased() {
            case "csv": return true
            case "h5": return !csvs.contains(url.deletingPathExtension().path)
            default: return false
            }
        }
    }

    // MARK: - Running

    public func run() throws -> Report {
        let csvs = Self.poseFiles(inputs)
        guard !csvs.isEmpty else { throw SmoothingError("no prediction CSV (or DeepLabCut .h5) files were found among the inputs") }
        func read(_ urls: [URL]) throws -> [PoseTable] { try PoseTable.read(from: urls) }
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        var files: [URL] = []
        let result: SmoothingResult
        var plotMembers: [EnsembleMembers?] = []
        switch mode {
        case .singleCamera:
            let members = try EnsembleMembers(tables: try read(csvs), names: csvs.map(\.path), keypoints: keypoints)
            result = try EnsembleKalmanSmoother.singleCamera(members, options: options)
            files.append(try write(result.table(view: 0), outputFileName ?? "eks_singlecam.csv"))
            plotMembers = [members]
        case .mirrored(let cameras):
            let views = try EnsembleMembers.mirroredViews(
                tables: try read(csvs), names: csvs.map(\.path), keypoints: keypoints, cameras: cameras)
            result = try EnsembleKalmanSmoother.multiView(views, viewNames: cameras, options: options)
            files.append(try write(try result.mirroredTable(), outputFileName ?? "eks_mirrored_multicam.csv"))
            plotMembers = views
        case .multiCamera(let cameras):
            let views = try cameraViews(csvs, cameras: cameras)
            result = try EnsembleKalmanSmoother.multiView(views, viewNames: cameras, options: options)
            for (v, cam) in cameras.enumerated() { files.append(try write(result.table(view: v), "multicam_\(cam)_results.csv")) }
            plotMembers = views
        case .calibrated(let url):
            let calibration = try CameraCalibration.read(from: url)
            let names = calibration.cameras.map(\.name)
            let views = try cameraViews(csvs, cameras: names)
            result = try EnsembleKalmanSmoother.calibrated(views, calibration: calibration, options: options)
            for (v, cam) in names.enumerated() { files.append(try write(result.table(view: v), "multicam_\(cam)_results.csv")) }
            if let table3D = try result.table3D() { files.append(try write(table3D, "multicam_3d_results.csv")) }
            plotMembers = views
        case .pupil:
            let members = try EnsembleMembers(
                tables: try read(csvs), names: csvs.map(\.path), keypoints: EnsembleKalmanSmoother.pupilKeypoints)
            result = try EnsembleKalmanSmoother.pupil(members, options: options)
            files.append(try write(result.table(view: 0), outputFileName ?? "eks_ibl_pupil.csv"))
            plotMembers = [nil]  // columns are scrambled like the package's; members would not line up
        case .paw(let width):
            let stamps = inputs.filter { $0.lastPathComponent.contains("timestamps") }
            guard let leftStamps = stamps.first(where: { $0.lastPathComponent.contains("left") }),
                let rightStamps = stamps.first(where: { !$0.lastPathComponent.contains("left") })
            else {
                throw SmoothingError("paw smoothing needs two timestamp .npy files with 'timestamps' in their names (one with 'left')")
            }
            let preds = csvs.filter { !$0.lastPathComponent.contains("timestamps") }
            let left = preds.filter { $0.lastPathComponent.contains("left") },
                right = preds.filter { !$0.lastPathComponent.contains("left") }
            let (r, _) = try EnsembleKalmanSmoother.iblPaw(
                left: try read(left), right: try read(right), leftNames: left.map(\.path),
                rightNames: right.map(\.path),
                leftTimestamps: try NumpyVector.read(from: leftStamps),
                rightTimestamps: try NumpyVector.read(from: rightStamps),
                imageWidth: width, options: options)
            result = r
            for (v, cam) in EnsembleKalmanSmoother.pawCameras.enumerated() {
                files.append(try write(result.table(view: v), "multicam_\(cam)_results.csv"))
            }
            plotMembers = [nil, nil]
        }
        var plots: [URL] = []
        if plot {
            plots = try SmoothingPlot.writeAll(result: result, members: plotMembers, folder: outputFolder, frames: plotFrames)
        }
        return Report(result: result, files: files, plots: plots, summary: Self.summary(result))
    }

    // MARK: - Helpers

    /// Files per camera: those whose name contains the camera name (the package's rule).
    func cameraViews(_ csvs: [URL], cameras: [String]) throws -> [EnsembleMembers] {
        guard cameras.count >= 2 else { throw SmoothingError("--camera-names needs at least two cameras (got \(cameras))") }
        let groups = cameras.map { cam in csvs.filter { $0.lastPathComponent.contains(cam) } }
        for (cam, files) in zip(cameras, groups) where files.isEmpty {
            throw SmoothingError("no prediction file name contains the camera name '\(cam)'; name files like <model>.\(cam).csv")
        }
        if Set(groups.map(\.count)).count > 1 {
            let counts = zip(cameras, groups).map { "\($0): \($1.count)" }.joined(separator: ", ")
            throw SmoothingError("cameras have different numbers of prediction files (\(counts)); give one file per model and camera")
        }
        return try groups.map { try EnsembleMembers(tables: try PoseTable.read(from: $0), names: $0.map(\.path), keypoints: keypoints) }
    }

    private func write(_ table: PoseTable, _ name: String) throws -> URL {
        let url = outputFolder.appendingPathComponent(name)
        try table.write(to: url)
        return url
    }

    /// Frames, keypoints, s and mean posterior standard deviation per keypoint and view.
    public static func summary(_ result: SmoothingResult) -> [String] {
        var lines = [
            "frames \(result.frames), keypoints \(result.keypoints.count)"
                + (result.views == [""] ? "" : ", views \(result.views.joined(separator: " "))")
        ]
        let isPupil = result.keypoints == EnsembleKalmanSmoother.pupilKeypoints && result.smoothingParameters.count == 2
        if isPupil {
            lines.append(
                String(format: "s_diameter %.6g, s_centre %.6g", result.smoothingParameters[0], result.smoothingParameters[1])
                    + (result.iterations[0] > 0 ? " (\(result.iterations[0]) Newton steps)" : " (fixed)"))
        }
        let width = max(8, result.keypoints.map(\.count).max() ?? 8)
        for (k, name) in result.keypoints.enumerated() {
            var line = name.padding(toLength: width, withPad: " ", startingAt: 0)
            if !isPupil {
                line += String(format: "  s %-10.6g", result.smoothingParameters[k])
                line += result.iterations[k] > 0 ? String(format: " (%3d steps)", result.iterations[k]) : " (fixed)    "
            }
            for (v, view) in result.views.enumerated() {
                let tr = result.tracks[v][k]
                let sd = zip(tr.xPosteriorVariance, tr.yPosteriorVariance).map { (($0 + $1) / 2).squareRoot() }
                let mean = Stats.nanMean(sd)
                line += "  mean posterior sd" + (view.isEmpty ? "" : " \(view)") + String(format: " %.3f px", mean)
            }
            lines.append(line)
        }
        return lines
    }
}
