// What `kinema predict` writes beside a video's CSV (#12.5, #13.6): LP's per-frame metrics with their summary and
// picture, and with --h5 the prediction as DeepLabCut's .h5; then `kinema filter` and `kinema plot` on the result.
import Foundation
import KinemaTestSupport
import PoseData
import PoseFormats
import Testing

/// A one-epoch model of a synthetic project with enough labelled frames (30) for a pose PCA of its 11 keypoints.
private struct Fixture {
    let dir: URL
    let video: String
    static let shared: Result<Fixture, any Error> = Result { try Fixture() }

    init() throws {
        let folder = try TestFiles.temporaryDirectory("predict-extras")
        removeAtExit(folder)
        dir = folder
        video = try trainTinyModel(in: dir, labeledFrames: 30, videoFrames: 12).videoPath
    }
}

@Suite("kinema predict: metrics and .h5 beside the CSV", .serialized)
struct PredictExtrasTests {
    @Test func metricsAndH5AreWrittenBesideTheCSVAndReadBack() throws {
        guard let f = try suiteFixture(Fixture.shared) else { return }
        let out = f.dir.appendingPathComponent("preds-\(UInt32.random(in: 0...UInt32.max))")
        let run = try KinemaProcess.succeed(["predict", "model", f.video, "--output", out.path, "--h5"], in: f.dir, timeout: 300)
        let stem = URL(fileURLWithPath: f.video).deletingPathExtension().lastPathComponent
        func file(_ suffix: String) -> URL { out.appendingPathComponent(stem + suffix) }
        #expect(run.stdoutLines == [file(".csv").path], "\(run)")
        let csv = try PoseTable.read(from: file(".csv"))
        #expect(csv.rowCount == 12)

        // The .h5 holds the same table (DeepLabCut's key and layout; PoseFormatsTests check those against pandas).
        #expect(try PoseTable.read(from: file(".h5")) == csv)

        // Temporal norm, by hand from the CSV.
        let norm = try String(contentsOf: file("_temporal_norm.csv"), encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        #expect(norm.first == "," + csv.keypoints.joined(separator: ","))
        #expect(norm.count == 1 + 12 + 1)
        let cells = norm[5].split(separator: ",", omittingEmptySubsequences: false)
        #expect(cells[0] == "4")
        for k in csv.keypoints.indices {
            let dx = csv.value(row: 4, keypoint: k, coord: 0) - csv.value(row: 3, keypoint: k, coord: 0)
            let dy = csv.value(row: 4, keypoint: k, coord: 1) - csv.value(row: 3, keypoint: k, coord: 1)
            #expect(abs(Double(cells[k + 1])! - hypot(dx, dy)) < 1e-9)
        }

        // Pose PCA error for every keypoint (single-view project, no columns_for_singleview_pca: all of them); no
        // multiview error without mirrored_column_matches.
        let pca = try String(contentsOf: file("_pca_singleview_error.csv"), encoding: .utf8).split(separator: "\n")
        #expect(pca.count == 13)
        let values = pca.dropFirst().flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().map { Double($0) } }
        #expect(values.count == 12 * 11 && values.allSatisfy { ($0 ?? -1) >= 0 })
        #expect(!FileManager.default.fileExists(atPath: file("_pca_multiview_error.csv").path))
        #expect(try Data(contentsOf: file("_metrics.png")).starts(with: [0x89, 0x50, 0x4E, 0x47]))

        // The one-screen summary: a title and one line per keypoint with both metrics.
        let name = URL(fileURLWithPath: f.video).lastPathComponent
        let title = try #require(run.stderrLines.firstIndex { $0.hasPrefix("per-frame metrics of \(name) (") }, "\(run)")
        #expect(run.stderrLines[title + 1].contains("temporal norm") && run.stderrLines[title + 1].contains("pose PCA"))
        #expect(run.stderrLines[title + 2].hasPrefix("nose"))
        #expect(run.stderrLines.filter { $0.hasPrefix("paw_hind_right") }.count == 1)

        // kinema filter and kinema plot on the prediction.
        let filtered = try KinemaProcess.succeed(["filter", file(".h5").path, "--method", "eks"], in: f.dir, timeout: 120)
        #expect(filtered.stdoutLines == [file("_filtered.csv").path, file("_filtered.h5").path], "\(filtered)")
        let plotted = try KinemaProcess.succeed(["plot", file("_filtered.csv").path], in: f.dir, timeout: 120)
        #expect(
            plotted.stdoutLines.count == 3 && plotted.stdoutLines.allSatisfy { $0.contains("plot-poses/\(stem)_filtered/") }, "\(plotted)")
        try KinemaProcess.fail(["filter", file(".h5").path, "--method", "eks"], saying: "already exists", in: f.dir)
    }
}
