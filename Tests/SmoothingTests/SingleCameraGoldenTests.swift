import Foundation
import PoseFormats
import Smoothing
import Testing

// MARK: - Single camera against the package's goldens (mirror-mouse, 5 members, 2000 frames, 8 keypoints)

@Test func singleCameraFixedMatchesFloat64Golden() throws {
    let ens = try members(try csvFiles("mirror-mouse"))
    let result = try EnsembleKalmanSmoother.singleCamera(ens, options: fixedOptions(10))
    let d = deviation(try result.table(view: 0), try golden("mirror-mouse/singlecam_s10_x64/eks_singlecam.csv"))
    print("singlecam_s10_x64:", d)
    GoldenTolerance.float64.check(d, "singlecam_s10_x64")
}

@Test func singleCameraFixedMatchesFloat32Golden() throws {
    let ens = try members(try csvFiles("mirror-mouse"))
    let result = try EnsembleKalmanSmoother.singleCamera(ens, options: fixedOptions(10))
    let d = deviation(try result.table(view: 0), try golden("mirror-mouse/singlecam_s10/eks_singlecam.csv"))
    print("singlecam_s10:", d)
    GoldenTolerance(position: 1.5e-5, median: 1e-4, likelihood: 1e-6, ensembleVariance: 3e-4, posteriorVariance: 5e-3)
        .check(d, "singlecam_s10")
}

@Test func singleCameraAutomaticMatchesGolden() throws {
    let ens = try members(try csvFiles("mirror-mouse"))
    let result = try EnsembleKalmanSmoother.singleCamera(ens, options: SmoothingOptions())
    try checkAutomaticS(result, golden: "mirror-mouse/singlecam_auto", allowedExceptions: 0)
    let d = deviation(try result.table(view: 0), try golden("mirror-mouse/singlecam_auto/eks_singlecam.csv"))
    print("singlecam_auto:", d)
    GoldenTolerance(position: 1e-3, median: 1e-4, likelihood: 1e-6, ensembleVariance: 3e-4, posteriorVariance: 5e-3)
        .check(d, "singlecam_auto")
}
