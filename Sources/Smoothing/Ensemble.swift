// Stage 1 of EKS: combine the predictions of several models (the ensemble) into a median track
// with a per-frame variance.
import Foundation
import PoseFormats

// MARK: - Options

/// How the ensemble centre is computed.
public enum EnsembleAveraging: String, Sendable, CaseIterable {
    case median, mean
}

/// How the ensemble variance is computed.
public enum EnsembleVarianceMode: String, Sendable, CaseIterable {
    /// Variance over members divided by the mean likelihood (package default).
    case confidenceWeighted = "confidence_weighted_var"
    /// Plain variance over members.
    case plain = "var"
}

// MARK: - Member predictions

/// Predictions of M ensemble members for one camera view: x, y, likelihood per member, frame and
/// keypoint, stored as `values[((member * frames + t) * keypoints + k) * 3 + c]`.
public struct EnsembleMembers: Sendable {
    public let keypoints: [String]
    public let frames: Int
    public let memberCount: Int
    public var values: [Double]

    /// Builds the ensemble from raw arrays (`values` laid out as documented on the type).
    public init(keypoints: [String], frames: Int, memberCount: Int, values: [Double]) throws {
        guard values.count == keypoints.count * frames * memberCount * 3 else {
            throw SmoothingError(
                "ensemble arrays have \(values.count) values, expected \(memberCount) members × \(frames) frames × \(keypoints.count) keypoints × 3"
            )
        }
        guard memberCount > 0 else { throw SmoothingError("the ensemble has no members") }
        self.keypoints = keypoints
        self.frames = frames
        self.memberCount = memberCount
        self.values = values
    }

    /// Builds the ensemble from prediction tables, picking `keypoints` (default: all of the first
    /// table) by name. Every table must have the same frames and x/y/likelihood columns.
    /// `names` are used in error messages (file paths).
    public init(tables: [PoseTable], names: [String], keypoints wanted: [String]? = nil) throws {
        guard let first = tables.first else { throw SmoothingError("no prediction files were given") }
        let keypoints = wanted ?? first.keypoints
        let frames = first.rowCount
        var values = [Double](repeating: .nan, count: tables.count * frames * keypoints.count * 3)
        for (m, table) in tables.enumerated() {
            let name = m < names.count ? names[m] : "member \(m)"
            guard table.rowCount == frames else {
                throw SmoothingError(
                    "\(name): has \(table.rowCount) frames but \(names.first ?? "the first file") has \(frames); all ensemble members must cover the same frames"
                )
            }
            if table.rowKeys != first.rowKeys {
                let i = table.rowKeys.indices.first { table.rowKeys[$0] != first.rowKeys[$0] } ?? 0
                throw SmoothingError(
                    "\(name): row \(i) is '\(table.rowKeys[i])' but '\(first.rowKeys[i])' in \(names.first ?? "the first file"); members must index the same frames"
                )
            }
            guard let cx = table.coordIndex("x"), let cy = table.coordIndex("y") else {
                throw SmoothingError("\(name): needs x and y columns (found coords \(table.coords))")
            }
            guard let cl = table.coordIndex("likelihood") else {
                throw SmoothingError(
                    "\(name): needs a likelihood column per keypoint (found coords \(table.coords)); label files cannot be smoothed")
            }
            for (k, kp) in keypoints.enumerated() {
                guard let tk = table.keypointIndex(kp) else {
                    throw SmoothingError("\(name): keypoint '\(kp)' is missing (file has \(table.keypoints.joined(separator: ", ")))")
                }
                for t in 0..<frames {
                    let o = ((m * frames + t) * keypoints.count + k) * 3
                    values[o] = table.value(row: t, keypoint: tk, coord: cx)
                    values[o + 1] = table.value(row: t, keypoint: tk, coord: cy)
                    values[o + 2] = table.value(row: t, keypoint: tk, coord: cl)
                }
            }
        }
        try self.init(keypoints: keypoints, frames: frames, memberCount: tables.count, values: values)
    }

    /// x, y, likelihood of one member at (t, k).
    @inline(__always)
    public func value(member m: Int, frame t: Int, keypoint k: Int, coord c: Int) -> Double {
        values[((m * frames + t) * keypoints.count + k) * 3 + c]
    }
}

// MARK: - Ensemble statistics

/// Per-frame ensemble centre, variance and mean likelihood of one keypoint in one view.
public struct EnsembleStatistics: Sendable {
    public var x: [Double]
    public var y: [Double]
    public var xVariance: [Double]
    public var yVariance: [Double]
    public var likelihood: [Double]
    public var frames: Int { x.count }

    /// Computes the statistics of keypoint `k` (package §2: NaN-aware centre and variance, plain
    /// mean likelihood, NaN variance → 1000, ±inf → ±float32 max).
    public init(
        members e: EnsembleMembers, keypoint k: Int, averaging: EnsembleAveraging = .median,
        variance mode: EnsembleVarianceMode = .confidenceWeighted
    ) {
        let T = e.frames, M = e.memberCount
        x = [Double](repeating: 0, count: T)
        y = x; xVariance = x; yVariance = x; likelihood = x
        var bx = [Double](repeating: 0, count: M), by = bx, scratch = bx
        for t in 0..<T {
            var lsum = 0.0
            for m in 0..<M {
                bx[m] = e.value(member: m, frame: t, keypoint: k, coord: 0)
                by[m] = e.value(member: m, frame: t, keypoint: k, coord: 1)
                lsum += e.value(member: m, frame: t, keypoint: k, coord: 2)
            }
            let lbar = lsum / Double(M)
            x[t] = averaging == .median ? Stats.nanMedian(bx, scratch: &scratch) : Stats.nanMean(bx)
            y[t] = averaging == .median ? Stats.nanMedian(by, scratch: &scratch) : Stats.nanMean(by)
            var vx: Double, vy: Double
            if M == 1 {
                vx = 1 / max(lbar, 1e-5)
                if lbar.isNaN { vx = .nan }
                vy = vx
            } else if mode == .confidenceWeighted {
                vx = Stats.nanVariance(bx) / lbar
                vy = Stats.nanVariance(by) / lbar
            } else {
                vx = Stats.nanVariance(bx)
                vy = Stats.nanVariance(by)
            }
            xVariance[t] = Self.sanitize(vx)
            yVariance[t] = Self.sanitize(vy)
            likelihood[t] = lbar
        }
    }

    /// Memberwise initialiser (e.g. for tests or custom pipelines).
    public init(x: [Double], y: [Double], xVariance: [Double], yVariance: [Double], likelihood: [Double]) {
        self.x = x; self.y = y; self.xVariance = xVariance; self.yVariance = yVariance; self.likelihood = likelihood
    }

    /// NaN → 1000 and ±inf → ±largest float32, like `jnp.nan_to_num` in float32.
    static func sanitize(_ v: Double) -> Double {
        if v.isNaN { return 1000 }
        if v == .infinity { return Double(Float.greatestFiniteMagnitude) }
        if v == -.infinity { return -Double(Float.greatestFiniteMagnitude) }
        return v
    }
}

// MARK: - Errors

/// A smoothing problem explained in one line (which file, keypoint or option, and what to do).
public struct SmoothingError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// MARK: - Mirrored views

extension EnsembleMembers {
    /// Splits "mirrored" prediction tables (all views in one file, bodyparts named `<kp>_<cam>`)
    /// into one ensemble per camera, with keypoints named without the camera suffix.
    public static func mirroredViews(
        tables: [PoseTable], names: [String], keypoints: [String]?,
        cameras: [String]
    ) throws -> [EnsembleMembers] {
        guard let first = tables.first else { throw SmoothingError("no prediction files were given") }
        guard !cameras.isEmpty else { throw SmoothingError("mirrored smoothing needs --camera-names (e.g. top bot)") }
        let kps = keypoints ?? defaultMirroredKeypoints(first.keypoints)
        return try cameras.map { cam in
            let view = try EnsembleMembers(tables: tables, names: names, keypoints: kps.map { "\($0)_\(cam)" })
            return try EnsembleMembers(keypoints: kps, frames: view.frames, memberCount: view.memberCount, values: view.values)
        }
    }

    /// The package's default keypoint list for mirrored files: distinct bodypart prefixes before
    /// the first underscore, in order of appearance.
    public static func defaultMirroredKeypoints(_ bodyparts: [String]) -> [String] {
        var seen: [String] = []
        for b in bodyparts {
            let prefix = String(b.split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            if !seen.contains(prefix) { seen.append(prefix) }
        }
        return seen
    }
}
