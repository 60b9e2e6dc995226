import Foundation
import PoseFormats
import Smoothing
import Testing

// MARK: - Locating shared data

/// `shared/data/eks` next to the repository (CI clones the repo beside `shared/`).
let eksData: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/data/eks")

/// CSV files of a folder, sorted by full path (the package's member order).
func csvFiles(_ folder: String, containing: String? = nil) throws -> [URL] {
    let dir = eksData.appendingPathComponent(folder)
    return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
        .filter { url in url.pathExtension == "csv" && (containing.map { url.lastPathComponent.contains($0) } ?? true) }
        .sorted { $0.path < $1.path }
}

func members(_ files: [URL], keypoints: [String]? = nil) throws -> EnsembleMembers {
    try EnsembleMembers(tables: files.map { try PoseTable.read(from: $0) }, names: files.map(\.path), keypoints: keypoints)
}

func golden(_ path: String) throws -> PoseTable {
    try PoseTable.read(from: eksData.appendingPathComponent("golden/\(path)"))
}

/// Final s values recorded in a golden folder's run_info.json.
func goldenSmoothingParameters(_ folder: String) throws -> [Double] {
    let data = try Data(contentsOf: eksData.appendingPathComponent("golden/\(folder)/run_info.json"))
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return (json?["smoothing_params_final"] as? [Double]) ?? []
}

// MARK: - Comparison

/// Largest deviations of our table from the golden one, by column group.
struct GoldenDeviation: CustomStringConvertible {
    var position = 0.0          // x, y (px)
    var median = 0.0            // x/y_ens_median (px)
    var likelihood = 0.0        // abs
    var ensembleVariance = 0.0  // relative
    var posteriorVariance = 0.0 // relative
    var description: String {
        String(format: "pos %.3g px, median %.3g px, lik %.3g, ens var %.3g rel, post var %.3g rel",
               position, median, likelihood, ensembleVariance, posteriorVariance)
    }
}

func deviation(_ ours: PoseTable, _ gold: PoseTable) -> GoldenDeviation {
    var dev = GoldenDeviation()
    #expect(ours.keypoints == gold.keypoints)
    #expect(ours.coords == gold.coords)
    #expect(ours.rowCount == gold.rowCount)
    guard ours.keypoints == gold.keypoints, ours.coords == gold.coords, ours.rowCount == gold.rowCount else { return dev }
    for r in 0..<ours.rowCount {
        for k in 0..<ours.keypoints.count {
            for (c, name) in ours.coords.enumerated() {
                let a = ours.value(row: r, keypoint: k, coord: c), b = gold.value(row: r, keypoint: k, coord: c)
                let absErr = abs(a - b), relErr = abs(a - b) / max(abs(b), 1e-300)
                switch name {
                case "x", "y": dev.position = max(dev.position, absErr.isNaN ? .infinity : absErr)
                case "x_ens_median", "y_ens_median": dev.median = max(dev.median, absErr.isNaN ? .infinity : absErr)
                case "likelihood": dev.likelihood = max(dev.likelihood, absErr.isNaN ? .infinity : absErr)
                case "x_ens_var", "y_ens_var": dev.ensembleVariance = max(dev.ensembleVariance, relErr.isNaN ? .infinity : relErr)
                default: dev.posteriorVariance = max(dev.posteriorVariance, relErr.isNaN ? .infinity : relErr)
                }
            }
        }
    }
    return dev
}

/// Tolerances for one comparison.
struct GoldenTolerance {
    var position: Double
    var median: Double
    var likelihood: Double
    var ensembleVariance: Double
    var posteriorVariance: Double

    /// `_x64` goldens: the package in float64.
    static let float64 = GoldenTolerance(position: 1e-6, median: 1e-9, likelihood: 1e-9, ensembleVariance: 1e-6, posteriorVariance: 1e-6)

    func check(_ d: GoldenDeviation, _ label: String) {
        #expect(d.position <= position, "\(label): \(d)")
        #expect(d.median <= median, "\(label): \(d)")
        #expect(d.likelihood <= likelihood, "\(label): \(d)")
        #expect(d.ensembleVariance <= ensembleVariance, "\(label): \(d)")
        #expect(d.posteriorVariance <= posteriorVariance, "\(label): \(d)")
    }
}

func fixedOptions(_ s: Double, q: Double = 95, inflate: Bool = true) -> SmoothingOptions {
    var o = SmoothingOptions()
    o.smoothing = .fixed([s])
    o.quantileKeepPCA = q
    o.inflateVariances = inflate
    return o
}
