// Options shared by every mode, and the smoothed output (one track per view and keypoint), with
// conversion to the package's 9-column CSV table.
import Foundation
import PoseFormats

// MARK: - Options

/// How the smoothing parameter is set.
public enum SmoothingParameterChoice: Sendable, Equatable {
    /// Chosen per keypoint by the package's likelihood search (optionally on some frames only).
    case automatic(frames: [FrameRange]? = nil)
    /// One value for every keypoint, or one per keypoint.
    case fixed([Double])
}

/// Options of the EKS modes; defaults are those of the package's command line.
public struct SmoothingOptions: Sendable {
    public var averaging: EnsembleAveraging = .median
    public var variance: EnsembleVarianceMode = .confidenceWeighted
    public var smoothing: SmoothingParameterChoice = .automatic()
    /// Percentile of the ensemble variance below which frames are "good" (multi-view modes).
    public var quantileKeepPCA: Double = 95
    /// Inflate the variances of frames that disagree with a factor model across views.
    public var inflateVariances: Bool = true
    /// Latent dimension of the linear multi-view model (PCA components).
    public var latentDimension: Int = 3
    /// Keypoint blocks sharing one s (singlecam only); every keypoint must be in a block.
    public var blocks: [[Int]] = []
    /// Run keypoints in parallel on the machine's cores.
    public var parallel: Bool = true
    /// Called after each keypoint (or block) of the automatic search with (done, total).
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil

    public init() {}

    /// The package's Python-API defaults (q = 50, no inflation) rather than the CLI's.
    public static var pythonAPIDefaults: SmoothingOptions {
        var o = SmoothingOptions()
        o.quantileKeepPCA = 50
        o.inflateVariances = false
        return o
    }
}

// MARK: - Result

/// The smoothed trajectory of one keypoint in one view, with the package's output columns.
public struct SmoothedTrack: Sendable {
    public var x: [Double]
    public var y: [Double]
    public var likelihood: [Double]
    public var xEnsembleMedian: [Double]
    public var yEnsembleMedian: [Double]
    public var xEnsembleVariance: [Double]
    public var yEnsembleVariance: [Double]
    public var xPosteriorVariance: [Double]
    public var yPosteriorVariance: [Double]

    /// Column order of the package's CSV.
    public static let columnNames = [
        "x", "y", "likelihood", "x_ens_median", "y_ens_median",
        "x_ens_var", "y_ens_var", "x_posterior_var", "y_posterior_var",
    ]
    var columns: [[Double]] {
        [
            x, y, likelihood, xEnsembleMedian, yEnsembleMedian, xEnsembleVariance, yEnsembleVariance,
            xPosteriorVariance, yPosteriorVariance,
        ]
    }
}

/// A smoothed 3-D trajectory (calibrated multi-camera mode).
public struct SmoothedTrack3D: Sendable {
    public var x: [Double], y: [Double], z: [Double]
    public var xPosteriorVariance: [Double], yPosteriorVariance: [Double], zPosteriorVariance: [Double]
}

/// Everything a smoothing run produces.
public struct SmoothingResult: Sendable {
    /// Keypoint names (without view suffixes).
    public var keypoints: [String]
    /// View (camera) names; `[""]` for single-camera modes.
    public var views: [String]
    /// `tracks[view][keypoint]`.
    public var tracks: [[SmoothedTrack]]
    /// Smoothing parameter per keypoint (pupil: `[s_diameter, s_centre]`).
    public var smoothingParameters: [Double]
    /// Optimiser iterations per keypoint (0 when s was fixed).
    public var iterations: [Int]
    /// 3-D tracks per keypoint (calibrated mode only).
    public var tracks3D: [SmoothedTrack3D]? = nil

    public var frames: Int { tracks.first?.first?.x.count ?? 0 }

    /// The package's output table for `view` with the given bodypart labels (default: keypoint names).
    public func table(view v: Int, bodyparts: [String]? = nil) throws -> PoseTable {
        let names = bodyparts ?? keypoints
        let cols = SmoothedTrack.columnNames
        let T = frames
        var values = [Double](repeating: .nan, count: T * names.count * cols.count)
        for (k, track) in tracks[v].enumerated() {
            for (c, column) in track.columns.enumerated() {
                for t in 0..<T { values[(t * names.count + k) * cols.count + c] = column[t] }
            }
        }
        return try PoseTable(
            scorer: "ensemble-kalman_tracker", keypoints: names, coords: cols,
            rowKeys: (0..<T).map(String.init), indexStyle: .frameNumber, values: values)
    }

    /// The mirrored output (one image, several views): keypoints of view 0 as `<kp>_<view0>`, then view 1, … in one table.
    public func mirroredTable() throws -> PoseTable {
        let parts = try views.indices.map { try table(view: $0) }
        let T = frames, per = keypoints.count * SmoothedTrack.columnNames.count
        var values: [Double] = []
        values.reserveCapacity(T * per * parts.count)
        for t in 0..<T { for part in parts { values += part.values[(t * per)..<((t + 1) * per)] } }
        return try PoseTable(
            scorer: "ensemble-kalman_tracker",
            keypoints: views.flatMap { cam in keypoints.map { "\($0)_\(cam)" } },
            coords: SmoothedTrack.columnNames, rowKeys: (0..<T).map(String.init), values: values)
    }

    /// The 3-D table (`x, y, z` and their posterior variances per keypoint).
    public func table3D() throws -> PoseTable? {
        guard let tracks3D else { return nil }
        let cols = ["x", "y", "z", "x_posterior_var", "y_posterior_var", "z_posterior_var"]
        let T = tracks3D.first?.x.count ?? 0
        var values = [Double](repeating: .nan, count: T * tracks3D.count * cols.count)
        for (k, tr) in tracks3D.enumerated() {
            let columns = [tr.x, tr.y, tr.z, tr.xPosteriorVariance, tr.yPosteriorVariance, tr.zPosteriorVariance]
            for (c, column) in columns.enumerated() {
                for t in 0..<T { values[(t * tracks3D.count + k) * cols.count + c] = column[t] }
            }
        }
        return try PoseTable(
            scorer: "ensemble-kalman_tracker", keypoints: keypoints, coords: cols,
            rowKeys: (0..<T).map(String.init), indexStyle: .frameNumber, values: values)
    }
}

// MARK: - Per-keypoint parallelism

/// Runs `body(k)` for k in 0..<count, on all cores when `parallel`, collecting results in order.
func mapKeypoints<T: Sendable>(_ count: Int, parallel: Bool, _ body: @Sendable (Int) -> T) -> [T] {
    guard parallel, count > 1 else { return (0..<count).map(body) }
    let box = ResultBox<T>(count)
    DispatchQueue.concurrentPerform(iterations: count) { k in box.set(k, body(k)) }
    return box.values()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private var items: [T?]
    private let lock = NSLock()
    init(_ n: Int) { items = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
    func values() -> [T] { items.map { $0! } }
}
