import Foundation
import KinemaTestSupport
import ProjectSetup
import Testing

@Suite struct KMeansTests {
    /// Five tight blobs far apart in 6 dimensions, 20 points each, interleaved: k-means with k = 5 puts each blob in
    /// its own cluster, and the centres are the blob means (to float precision).
    @Test func findsHandMadeClusters() {
        let d = 6, blobs = 5, per = 20
        let noise = TestNoise.bytes(blobs * per * d, seed: 9)
        var centres: [[Float]] = []
        for b in 0..<blobs {
            var centre: [Float] = []
            for t in 0..<d { centre.append(Float((b * 7 + t * 3) % 11) * 50) }
            centres.append(centre)
        }
        // Points interleaved blob by blob (point i belongs to blob i % 5), each within ±2 of its centre.
        var points: [(blob: Int, vector: [Float])] = []
        for i in 0..<(blobs * per) {
            let b = i % blobs
            var vector: [Float] = []
            for t in 0..<d { vector.append(centres[b][t] + Float(noise[i * d + t]) / 64 - 2) }
            points.append((b, vector))
        }
        let clusters = KMeans(vectors: points.flatMap(\.vector), dimension: d, k: blobs, seed: 1)
        // Each found cluster holds exactly one blob's 20 points.
        let found = Set(clusters.members.map { Set($0.map { points[$0].blob }) })
        #expect(found == Set((0..<blobs).map { Set([$0]) }))
        #expect(clusters.members.allSatisfy { $0.count == per })
        for members in clusters.members {
            let j = clusters.assignments[members[0]]
            for t in 0..<d {
                let mean = members.map { Double(points[$0].vector[t]) }.reduce(0, +) / Double(per)
                #expect(abs(Double(clusters.centroids[j * d + t]) - mean) < 1e-3)
            }
        }
        // Inertia is the sum of squared distances to those means, computed by hand here.
        var inertia = 0.0
        for (i, point) in points.enumerated() {
            let j = clusters.assignments[i]
            for t in 0..<d { inertia += pow(Double(point.vector[t] - clusters.centroids[j * d + t]), 2) }
        }
        #expect(abs(inertia - clusters.inertia) < 1e-3 * inertia)
    }

    /// The frame choice takes one member of each cluster: with 3 blobs and k = 3, one point from each blob.
    @Test func choiceTakesOneMemberPerCluster() {
        let vectors: [Float] = [0, 0, 1, 0, 0, 1, 100, 100, 101, 100, 100, 101, -100, 50, -101, 50]
        let chosen = FrameExtraction.kmeansChoice(thumbnails: vectors, dimension: 2, count: 3, seed: 4)
        let blobOf = [0, 0, 0, 1, 1, 1, 2, 2]
        #expect(chosen.count == 3)
        #expect(Set(chosen.map { blobOf[$0] }) == [0, 1, 2])
        // Fewer samples than frames asked for: all of them.
        #expect(FrameExtraction.kmeansChoice(thumbnails: vectors, dimension: 2, count: 10, seed: 4) == Array(0..<8))
        // The same seed gives the same frames.
        #expect(FrameExtraction.kmeansChoice(thumbnails: vectors, dimension: 2, count: 3, seed: 4) == chosen)
    }

    /// Points that all coincide still give k clusters (none left empty) without trapping.
    @Test func identicalPointsGiveNoEmptyCluster() {
        let clusters = KMeans(vectors: [Float](repeating: 3, count: 10 * 4), dimension: 4, k: 3, seed: 0)
        #expect(clusters.members.filter { !$0.isEmpty }.count == 3)
        #expect(clusters.inertia == 0)
    }
}
