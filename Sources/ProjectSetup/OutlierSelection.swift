// Which frames of a prediction are worth labelling again: DeepLabCut's extract_outlier_frames criteria (jump,
// uncertain), an ensemble's spread and the pose-PCA error, each a per-frame score against a threshold; the candidates
// are then thinned by k-means over their thumbnails for variety. Pure functions of the tables (no files).
import Foundation
import PoseFormats

/// One reason to relabel a frame.
public enum OutlierCriterion: String, Sendable, CaseIterable, Comparable {
    /// An ensemble disagrees: the spread √(σx² + σy²) of a keypoint over the members (EKS's `x_ens_var`, `y_ens_var`;
    /// the posterior variances when a file has only those) above the threshold, in pixels.
    case spread
    /// DeepLabCut's `jump`: a keypoint moved more than ε pixels since the previous frame.
    case jump
    /// DeepLabCut's `uncertain`: a keypoint's likelihood below `p_bound`.
    case likelihood
    /// The pose is far from the labels' principal subspace (Lightning Pose's pose-PCA error) by more than ε pixels.
    case pca

    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// The thresholds of the criteria.
public struct OutlierThresholds: Sendable, Equatable {
    /// Pixels a keypoint may move between consecutive frames (DeepLabCut's `epsilon`, 20).
    public var jump = 20.0
    /// A likelihood below this is uncertain (DeepLabCut's `p_bound`, 0.01; compared with `<`).
    public var likelihood = 0.01
    /// Pixels of ensemble spread √(σx² + σy²) per keypoint.
    public var spread = 10.0
    /// Pixels of pose-PCA reconstruction error per keypoint; nil: the fit's own ε (the labels' 99th percentile).
    public var pca: Double?
    public init() {}
}

/// Per-keypoint pose-PCA errors of every row of a prediction, and the ε they are compared with.
public struct PoseErrors: Sendable, Equatable {
    /// `errors[row][keypoint]`, pixels (NaN: unknown, e.g. a keypoint missing in that frame). The keypoints are those
    /// the PCA covers, named in `keypoints`.
    public var errors: [[Double]]
    public var keypoints: [String]
    public var epsilon: Double
    /// One line on the fit (`pose PCA: 4 of 12 components …`).
    public var summary: String
    public init(errors: [[Double]], keypoints: [String], epsilon: Double, summary: String) {
        (self.errors, self.keypoints, self.epsilon, self.summary) = (errors, keypoints, epsilon, summary)
    }
}

/// Why a frame is a candidate: the criterion, its value and the keypoint that gave it.
public struct OutlierReason: Sendable, Equatable, CustomStringConvertible {
    public var criterion: OutlierCriterion
    public var value: Double
    public var keypoint: String

    public init(criterion: OutlierCriterion, value: Double, keypoint: String) {
        (self.criterion, self.value, self.keypoint) = (criterion, value, keypoint)
    }

    public var description: String {
        switch criterion {
        case .spread: return "spread \(String(format: "%.1f", value)) px (\(keypoint))"
        case .jump: return "jump \(String(format: "%.1f", value)) px (\(keypoint))"
        case .likelihood: return "likelihood \(String(format: "%.3g", value)) (\(keypoint))"
        case .pca: return "pca error \(String(format: "%.1f", value)) px (\(keypoint))"
        }
    }
}

/// A frame to relabel, with every criterion it fails.
public struct OutlierCandidate: Sendable, Equatable {
    public var frame: Int
    public var reasons: [OutlierReason]
    /// How far past its thresholds the frame is (≥ 1): value / threshold for the pixel criteria, 1 + the likelihood's
    /// shortfall / p_bound for likelihood; the largest over its reasons. Ranks frames within a k-means cluster.
    public var severity: Double

    public init(frame: Int, reasons: [OutlierReason], severity: Double) {
        (self.frame, self.reasons, self.severity) = (frame, reasons, severity)
    }
}

public enum OutlierSelection {
    /// The criteria a prediction table supports: spread needs variance columns, likelihood a `likelihood` column,
    /// jump `x` and `y`; pca is left to the caller (it needs the project's labels).
    public static func available(in table: PoseTable) -> [OutlierCriterion] {
        var found: [OutlierCriterion] = []
        if varianceColumns(table) != nil { found.append(.spread) }
        if table.coordIndex("x") != nil, table.coordIndex("y") != nil { found.append(.jump) }
        if table.coordIndex("likelihood") != nil { found.append(.likelihood) }
        return found
    }

    /// The x and y variance columns a spread is computed from: the ensemble's, else the posterior's.
    static func varianceColumns(_ table: PoseTable) -> (x: Int, y: Int)? {
        for (x, y) in [("x_ens_var", "y_ens_var"), ("x_posterior_var", "y_posterior_var")] {
            if let i = table.coordIndex(x), let j = table.coordIndex(y) { return (i, j) }
        }
        return nil
    }

    /// Every frame of `table` (rows are frame numbers) that fails at least one of `criteria`, leaving out
    /// `excluding` (frames already extracted), ascending by frame.
    /// - Parameter pca: needed when `criteria` holds `.pca`; its rows are the table's.
    public static func candidates(
        in table: PoseTable, by criteria: [OutlierCriterion], thresholds: OutlierThresholds, pca: PoseErrors? = nil,
        excluding: Set<Int> = []
    ) -> [OutlierCandidate] {
        let frames = table.frameNumbers ?? Array(0..<table.rowCount)
        var reasons = [[OutlierReason]](repeating: [], count: table.rowCount)
        var severity = [Double](repeating: 0, count: table.rowCount)
        func add(_ row: Int, _ criterion: OutlierCriterion, _ value: Double, _ keypoint: String, _ how: Double) {
            reasons[row].append(OutlierReason(criterion: criterion, value: value, keypoint: keypoint))
            severity[row] = max(severity[row], how)
        }
        let k = table.keypoints.count
        for criterion in Set(criteria).sorted() {
            switch criterion {
            case .jump:
                guard let cx = table.coordIndex("x"), let cy = table.coordIndex("y") else { continue }
                // DeepLabCut's rule: the frame after the move is the candidate (its `diff` along time).
                for row in 1..<max(1, table.rowCount) where frames[row] == frames[row - 1] + 1 {
                    let worst = worstKeypoint(k) { j in
                        hypot(
                            table.value(row: row, keypoint: j, coord: cx) - table.value(row: row - 1, keypoint: j, coord: cx),
                            table.value(row: row, keypoint: j, coord: cy) - table.value(row: row - 1, keypoint: j, coord: cy))
                    }
                    if let worst, worst.value > thresholds.jump {
                        add(row, .jump, worst.value, table.keypoints[worst.keypoint], worst.value / thresholds.jump)
                    }
                }
            case .likelihood:
                guard let c = table.coordIndex("likelihood") else { continue }
                for row in 0..<table.rowCount {
                    let lowest = worstKeypoint(k) { -table.value(row: row, keypoint: $0, coord: c) }
                    if let lowest, -lowest.value < thresholds.likelihood {
                        let value = -lowest.value
                        add(
                            row, .likelihood, value, table.keypoints[lowest.keypoint],
                            1 + (thresholds.likelihood - value) / thresholds.likelihood)
                    }
                }
            case .spread:
                guard let variance = varianceColumns(table) else { continue }
                let (vx, vy) = variance
                for row in 0..<table.rowCount {
                    let worst = worstKeypoint(k) {
                        (table.value(row: row, keypoint: $0, coord: vx) + table.value(row: row, keypoint: $0, coord: vy)).squareRoot()
                    }
                    if let worst, worst.value > thresholds.spread {
                        add(row, .spread, worst.value, table.keypoints[worst.keypoint], worst.value / thresholds.spread)
                    }
                }
            case .pca:
                guard let pca, pca.errors.count == table.rowCount else { continue }
                let epsilon = thresholds.pca ?? pca.epsilon
                for row in 0..<table.rowCount {
                    let errors = pca.errors[row]
                    if let worst = worstKeypoint(errors.count, { errors[$0] }), worst.value > epsilon {
                        add(row, .pca, worst.value, pca.keypoints[worst.keypoint], worst.value / max(epsilon, .leastNonzeroMagnitude))
                    }
                }
            }
        }
        return (0..<table.rowCount).compactMap { row in
            guard !reasons[row].isEmpty, !excluding.contains(frames[row]) else { return nil }
            return OutlierCandidate(frame: frames[row], reasons: reasons[row], severity: severity[row])
        }
    }

    /// The keypoint with the largest finite `value`; nil when none is finite.
    private static func worstKeypoint(_ count: Int, _ value: (Int) -> Double) -> (keypoint: Int, value: Double)? {
        var best: (keypoint: Int, value: Double)? = nil
        for j in 0..<count {
            let v = value(j)
            if v.isFinite, best == nil || v > best!.value { best = (j, v) }
        }
        return best
    }

    /// `count` candidates that look different: k-means over their thumbnails (`candidates.count × dimension`, in
    /// the candidates' order) into `count` clusters, and from each cluster its most severe frame (DeepLabCut takes
    /// a random member; the worst one is the one worth relabelling). All of them when there are no more than `count`.
    /// Ascending by frame.
    public static func thin(
        _ candidates: [OutlierCandidate], thumbnails: [Float], dimension: Int, count: Int, seed: UInt64
    ) -> [OutlierCandidate] {
        guard candidates.count > count else { return candidates }
        guard count > 0, dimension > 0, thumbnails.count == candidates.count * dimension else { return [] }
        let clusters = KMeans(vectors: thumbnails, dimension: dimension, k: count, seed: seed)
        return clusters.members.compactMap { members in
            members.max { a, b in
                candidates[a].severity != candidates[b].severity
                    ? candidates[a].severity < candidates[b].severity : candidates[a].frame > candidates[b].frame
            }.map { candidates[$0] }
        }.sorted { $0.frame < $1.frame }
    }

    /// At most `limit` candidates to cluster: the most severe ones (ties: the earlier frame), ascending by frame.
    /// Bounds the thumbnails held in memory, as `extract-frames` does.
    public static func mostSevere(_ candidates: [OutlierCandidate], limit: Int) -> [OutlierCandidate] {
        guard candidates.count > limit else { return candidates }
        return Array(
            candidates.sorted { $0.severity != $1.severity ? $0.severity > $1.severity : $0.frame < $1.frame }.prefix(limit)
        ).sorted { $0.frame < $1.frame }
    }
}
