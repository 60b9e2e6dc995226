// Frame-to-frame jumps of a prediction: the histogram `kinema plot` draws and the largest jumps, where a tracker most
// often went wrong.
import PoseFormats

/// The distribution of frame-to-frame jumps (LP's temporal norm) over every keypoint, counting only jumps between
/// two frames whose likelihoods both reach `pcutoff` (DeepLabCut masks the others in its plots).
public struct JumpStatistics: Sendable, Equatable {
    /// Bin edges in pixels, `bins + 1` values from 0 to the largest counted jump.
    public var edges: [Double]
    /// Jumps per bin: `[edges[i], edges[i + 1])`, the last bin closed (numpy's `histogram`).
    public var counts: [Int]
    /// The largest counted jumps, largest first: keypoint, the row it jumped to, pixels.
    public var largest: [(keypoint: String, row: String, pixels: Double)]

    public static func == (a: JumpStatistics, b: JumpStatistics) -> Bool {
        a.edges == b.edges && a.counts == b.counts
            && a.largest.map { "\($0.keypoint)|\($0.row)|\($0.pixels)" } == b.largest.map { "\($0.keypoint)|\($0.row)|\($0.pixels)" }
    }

    /// Counted jumps.
    public var total: Int { counts.reduce(0, +) }

    public init(_ table: PoseTable, pcutoff: Double, bins: Int = 50, keepLargest: Int = 5) throws {
        let norm = try FrameMetric.temporalNorm(table)
        let li = table.coordIndex("likelihood")
        let k = table.keypoints.count
        var jumps: [(keypoint: Int, row: Int, pixels: Double)] = []
        for r in 1..<max(1, table.rowCount) {
            for j in 0..<k {
                let v = norm.values[r * k + j]
                guard v.isFinite else { continue }
                if let li {
                    let before = table.value(row: r - 1, keypoint: j, coord: li), after = table.value(row: r, keypoint: j, coord: li)
                    guard before >= pcutoff, after >= pcutoff else { continue }
                }
                jumps.append((j, r, v))
            }
        }
        let top = jumps.map(\.pixels).max() ?? 0
        let upper = top > 0 ? top : 1
        edges = (0...bins).map { upper * Double($0) / Double(bins) }
        counts = [Int](repeating: 0, count: bins)
        for jump in jumps { counts[min(bins - 1, Int(jump.pixels / upper * Double(bins)))] += 1 }
        largest = jumps.sorted { $0.pixels > $1.pixels }.prefix(keepLargest).map {
            (table.keypoints[$0.keypoint], table.rowKeys[$0.row], $0.pixels)
        }
    }
}
