// `kinema filter`: DeepLabCut's filterpredictions on one prediction table (median, Savitzky–Golay) and single-camera
// EKS through the Smoothing library (the recommended one: it weighs each point by its likelihood).
import Foundation
import PoseFormats
import Smoothing

/// How a prediction table is filtered over time, one keypoint coordinate at a time.
public struct PredictionFilter: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        /// `scipy.signal.medfilt`, DeepLabCut's default.
        case median
        /// `scipy.signal.savgol_filter` (mode 'interp').
        case savgol
        /// Single-camera ensemble Kalman smoothing of the one table (observation variance 1 / likelihood).
        case eks
    }

    public var method: Method
    /// Frames per window (median, savgol); odd.
    public var window: Int
    /// Polynomial degree (savgol).
    public var order: Int
    /// Points whose likelihood is below this are treated as missing (filled from their neighbours before filtering,
    /// and given the filtered value); nil keeps every point, as DeepLabCut's median filter does (savgol: DeepLabCut's
    /// 0.001). With EKS the filled points keep their low likelihood, so the smoother also trusts them little.
    public var pBound: Double?

    public init(method: Method = .median, window: Int = 5, order: Int = 3, pBound: Double? = nil) {
        (self.method, self.window, self.order, self.pBound) = (method, window, order, pBound)
    }

    /// DeepLabCut's `p_bound` default, used for Savitzky–Golay when none is given.
    public static let dlcPBound = 0.001

    /// What is wrong with the settings, in words naming the option; nil when nothing is.
    public var problem: String? {
        switch method {
        case .median, .savgol:
            guard window >= 1, window % 2 == 1 else { return "--window must be an odd number of frames (e.g. 5), not \(window)" }
            if method == .savgol, !(0..<window).contains(order) {
                return "--order must be at least 0 and smaller than --window (\(window)), not \(order)"
            }
        case .eks: break
        }
        if let pBound, !(0...1).contains(pBound) { return "--p-bound must be a likelihood between 0 and 1, not \(pBound)" }
        return nil
    }

    /// The filtered table: same rows, keypoints and likelihoods; x and y filtered. A missing (NaN) point stays
    /// missing (median, savgol) or gets the smoothed value (EKS); a point below `pBound` gets the value filtered from
    /// its neighbours. `name` names the table in errors.
    public func apply(_ table: PoseTable, name: String) throws -> PoseTable {
        if let problem { throw PoseAnalysisError(problem) }
        guard let xi = table.coordIndex("x"), let yi = table.coordIndex("y") else {
            throw PoseAnalysisError(
                "\(name): has no x and y columns (found \(table.coords.joined(separator: ", "))); is it a prediction file?")
        }
        let li = table.coordIndex("likelihood")
        if method == .eks, li == nil {
            throw PoseAnalysisError("\(name): EKS needs a likelihood column per keypoint (found \(table.coords.joined(separator: ", ")))")
        }
        guard table.rowCount > 0 else { throw PoseAnalysisError("\(name): has no frames to filter") }
        if method == .savgol, window > table.rowCount {
            throw PoseAnalysisError("\(name): has \(table.rowCount) frames, fewer than the Savitzky–Golay --window \(window)")
        }
        let bound = pBound ?? (method == .savgol ? Self.dlcPBound : nil)
        // Unsure points become the line between their kept neighbours, and so do missing ones (for the filters' sake; EKS
        // gives them a value, the others leave them missing).
        var filled = table
        for k in table.keypoints.indices {
            let likelihood = li.map { table.column(keypoint: k, coord: $0) }
            let kept: [Bool] = (0..<table.rowCount).map { r in
                guard let bound, let likelihood else { return true }
                return likelihood[r] >= bound || likelihood[r].isNaN
            }
            for c in [xi, yi] {
                guard let line = SignalFilters.interpolated(table.column(keypoint: k, coord: c), kept: kept) else { continue }
                for r in 0..<table.rowCount { filled.setValue(line[r], row: r, keypoint: k, coord: c) }
            }
        }
        var out = table
        if method == .eks {
            let smoothed = try Self.eks(filled, name: name)
            for k in table.keypoints.indices {
                for r in 0..<table.rowCount {
                    out.setValue(smoothed.tracks[0][k].x[r], row: r, keypoint: k, coord: xi)
                    out.setValue(smoothed.tracks[0][k].y[r], row: r, keypoint: k, coord: yi)
                }
            }
            return out
        }
        for k in table.keypoints.indices {
            for c in [xi, yi] {
                let raw = table.column(keypoint: k, coord: c), line = filled.column(keypoint: k, coord: c)
                guard !line.contains(where: \.isNaN) else { continue }  // nothing to anchor on: left as it is
                let filtered =
                    method == .median
                    ? SignalFilters.median(line, window: window) : SignalFilters.savitzkyGolay(line, window: window, order: order)
                for r in 0..<table.rowCount { out.setValue(raw[r].isNaN ? .nan : filtered[r], row: r, keypoint: k, coord: c) }
            }
        }
        return out
    }

    /// EKS over the table as an ensemble of one: its variance is 1 / likelihood (the EKS package's rule for one
    /// member), so unsure points count less; the smoothing parameter is chosen per keypoint as `kinema smooth` does.
    static func eks(_ table: PoseTable, name: String) throws -> SmoothingResult {
        do {
            return try EnsembleKalmanSmoother.singleCamera(EnsembleMembers(tables: [table], names: [name]))
        } catch let error as SmoothingError {
            throw PoseAnalysisError(error.description)
        }
    }

    /// One line for the log: what was applied.
    public var summary: String {
        switch method {
        case .median:
            return "median filter over \(window) frames" + (pBound.map { ", likelihood below \($0) filled from neighbours" } ?? "")
        case .savgol:
            return
                "Savitzky–Golay filter over \(window) frames, degree \(order), likelihood below \(pBound ?? Self.dlcPBound) filled from neighbours"
        case .eks:
            return "single-camera EKS (variance 1/likelihood, smoothing parameter chosen per keypoint)"
                + (pBound.map { ", likelihood below \($0) filled from neighbours first" } ?? "")
        }
    }
}

// MARK: - Files

extension PredictionFilter {
    /// `<stem>_filtered.csv` beside the input (DeepLabCut's name for filtered predictions).
    public static func output(for input: URL, extension ext: String = "csv") -> URL {
        let stem = input.deletingPathExtension().lastPathComponent
        return input.deletingLastPathComponent().appendingPathComponent(stem + "_filtered." + ext)
    }
}
