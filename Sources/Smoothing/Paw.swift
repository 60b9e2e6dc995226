// IBL paw EKS (§5.5): two asynchronous cameras (left, right) with timestamps; the right camera is
// resampled at the left timestamps, mirrored and paw-swapped, then smoothed as linear multi-view.
import Foundation
import PoseFormats

extension EnsembleKalmanSmoother {

    /// Keypoints and cameras of the IBL paw mode.
    public static let pawKeypoints = ["paw_l", "paw_r"]
    public static let pawCameras = ["left", "right"]

    // MARK: - Paw

    /// Smooths IBL paw predictions (`fit_eks_multicam_ibl_paw`). Left frames outside the right
    /// camera's time span are dropped (the output can be shorter); right-camera output stays in
    /// the mirrored (x → width − x), paw-swapped frame like the package's.
    /// - Parameters:
    ///   - left, right: member tables of each camera (same count), with `paw_l` and `paw_r`.
    ///   - options: the package CLI uses variance mode `var`, q = 95 and inflation on.
    public static func iblPaw(
        left: [PoseTable], right: [PoseTable], leftNames: [String], rightNames: [String],
        leftTimestamps: [Double], rightTimestamps: [Double], imageWidth: Double = 128,
        options: SmoothingOptions
    ) throws -> (result: SmoothingResult, keptLeftFrames: [Int]) {
        guard !left.isEmpty, left.count == right.count else {
            throw SmoothingError(
                "paw smoothing needs the same number (≥ 1) of left and right prediction files; got \(left.count) left, \(right.count) right"
            )
        }
        guard rightTimestamps.count >= 2, zip(rightTimestamps, rightTimestamps.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw SmoothingError("right timestamps must be strictly increasing with at least 2 entries")
        }
        let leftMembers = try EnsembleMembers(tables: left, names: leftNames, keypoints: pawKeypoints)
        let rightMembers = try EnsembleMembers(tables: right, names: rightNames, keypoints: pawKeypoints.reversed())
        guard leftTimestamps.count == leftMembers.frames else {
            throw SmoothingError(
                "left timestamps have \(leftTimestamps.count) entries but the left predictions have \(leftMembers.frames) frames")
        }
        guard rightTimestamps.count == rightMembers.frames else {
            throw SmoothingError(
                "right timestamps have \(rightTimestamps.count) entries but the right predictions have \(rightMembers.frames) frames")
        }
        let lo = rightTimestamps[0], hi = rightTimestamps[rightTimestamps.count - 1]
        let kept = leftTimestamps.indices.filter { leftTimestamps[$0] >= lo && leftTimestamps[$0] <= hi }
        guard !kept.isEmpty else { throw SmoothingError("no left frame lies within the right camera's time span") }
        let M = left.count, T = kept.count
        var leftValues = [Double](repeating: 0, count: M * T * 2 * 3), rightValues = leftValues
        for m in 0..<M {
            for (i, t) in kept.enumerated() {
                let ts = leftTimestamps[t]
                // scipy's interp1d: segment from searchsorted(side='left') clipped to [1, n-1].
                let j = min(max(firstIndexNotBelow(rightTimestamps, ts), 1), rightTimestamps.count - 1) - 1
                let dx = rightTimestamps[j + 1] - rightTimestamps[j], offset = ts - rightTimestamps[j]
                for k in 0..<2 {
                    let o = ((m * T + i) * 2 + k) * 3
                    leftValues[o] = leftMembers.value(member: m, frame: t, keypoint: k, coord: 0)
                    leftValues[o + 1] = leftMembers.value(member: m, frame: t, keypoint: k, coord: 1)
                    for c in 0..<2 {
                        let a = rightMembers.value(member: m, frame: j, keypoint: k, coord: c)
                        let b = rightMembers.value(member: m, frame: j + 1, keypoint: k, coord: c)
                        let v = (b - a) / dx * offset + a
                        rightValues[o + c] = c == 0 ? imageWidth - v : v
                    }
                    // Likelihoods are discarded (0) as in the package.
                }
            }
        }
        let views = [
            try EnsembleMembers(keypoints: pawKeypoints, frames: T, memberCount: M, values: leftValues),
            try EnsembleMembers(keypoints: pawKeypoints, frames: T, memberCount: M, values: rightValues),
        ]
        return (try multiView(views, viewNames: pawCameras, options: options), kept)
    }

    /// First index i with `ts[i] >= x` in sorted `ts` (NumPy `searchsorted(side='left')`).
    static func firstIndexNotBelow(_ ts: [Double], _ x: Double) -> Int {
        var lo = 0, hi = ts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ts[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
