// k-means for choosing varied frames (DeepLabCut's extract_frames and outlier thinning): small dense vectors,
// k-means++ seeding, Lloyd iterations, best of a few seeded restarts.

/// Clusters of equal-length `Float` vectors.
public struct KMeans: Sendable {
    /// The cluster of each vector, `0..<k`.
    public var assignments: [Int]
    /// Cluster centres, `k × dimension`, row-major.
    public var centroids: [Float]
    /// Sum of squared distances of the vectors to their centres.
    public var inertia: Double
    public var k: Int

    /// Clusters `vectors` (`count × dimension`, row-major) into `k` groups. Deterministic for a given `seed`.
    /// - Parameters:
    ///   - restarts: independent k-means++ starts; the one with the least inertia is kept (scikit-learn's n_init).
    ///   - maxIterations: Lloyd steps per start (DeepLabCut asks MiniBatchKMeans for 50).
    /// - Precondition: `1 ≤ k ≤ count`.
    public init(vectors: [Float], dimension: Int, k: Int, seed: UInt64, restarts: Int = 3, maxIterations: Int = 50) {
        let count = dimension > 0 ? vectors.count / dimension : 0
        precondition(k >= 1 && k <= count && vectors.count == count * dimension, "k-means needs 1 ≤ k ≤ vectors")
        var random = SeededGenerator(seed: seed)
        var best: (assignments: [Int], centroids: [Float], inertia: Double)? = nil
        for _ in 0..<max(1, restarts) {
            let run = Self.lloyd(vectors: vectors, dimension: dimension, count: count, k: k, maxIterations: maxIterations, random: &random)
            if best == nil || run.inertia < best!.inertia { best = run }
        }
        assignments = best!.assignments
        centroids = best!.centroids
        inertia = best!.inertia
        self.k = k
    }

    /// Members of each cluster (indices into the vectors), in ascending order.
    public var members: [[Int]] {
        var groups = Array(repeating: [Int](), count: k)
        for (i, cluster) in assignments.enumerated() { groups[cluster].append(i) }
        return groups
    }

    /// Squared distance between row `i` of `v` and row `j` of `c` (unchecked pointers: this is the inner loop).
    private static func distance(_ v: [Float], _ i: Int, _ c: [Float], _ j: Int, _ d: Int) -> Float {
        v.withUnsafeBufferPointer { v in
            c.withUnsafeBufferPointer { c in
                var sum: Float = 0
                let a = v.baseAddress! + i * d, b = c.baseAddress! + j * d
                for t in 0..<d {
                    let e = a[t] - b[t]
                    sum += e * e
                }
                return sum
            }
        }
    }

    private static func lloyd(
        vectors: [Float], dimension d: Int, count n: Int, k: Int, maxIterations: Int, random: inout SeededGenerator
    ) -> (assignments: [Int], centroids: [Float], inertia: Double) {
        // k-means++: each next centre drawn with probability proportional to the squared distance to the nearest one.
        var centroids = [Float](repeating: 0, count: k * d)
        let first = Int.random(in: 0..<n, using: &random)
        for t in 0..<d { centroids[t] = vectors[first * d + t] }
        var nearest = (0..<n).map { distance(vectors, $0, centroids, 0, d) }
        for j in 1..<max(k, 1) {
            let total = nearest.reduce(0.0) { $0 + Double($1) }
            var chosen = Int.random(in: 0..<n, using: &random)  // all points coincide with a centre: any will do
            if total > 0 {
                var target = Double.random(in: 0..<total, using: &random)
                for i in 0..<n {
                    target -= Double(nearest[i])
                    if target < 0 { chosen = i; break }
                }
            }
            for t in 0..<d { centroids[j * d + t] = vectors[chosen * d + t] }
            for i in 0..<n { nearest[i] = min(nearest[i], distance(vectors, i, centroids, j, d)) }
        }

        var assignments = [Int](repeating: -1, count: n)
        var inertia = 0.0
        for _ in 0..<max(1, maxIterations) {
            var changed = false
            inertia = 0
            for i in 0..<n {
                var bestCluster = 0, bestDistance = Float.infinity
                for j in 0..<k {
                    let e = distance(vectors, i, centroids, j, d)
                    if e < bestDistance { bestDistance = e; bestCluster = j }
                }
                if assignments[i] != bestCluster { assignments[i] = bestCluster; changed = true }
                inertia += Double(bestDistance)
            }
            if !changed { break }
            // New centres: the means; an empty cluster takes the point farthest from its centre, so none stays empty.
            var sums = [Double](repeating: 0, count: k * d), sizes = [Int](repeating: 0, count: k)
            for i in 0..<n {
                sizes[assignments[i]] += 1
                for t in 0..<d { sums[assignments[i] * d + t] += Double(vectors[i * d + t]) }
            }
            for j in 0..<k where sizes[j] > 0 {
                for t in 0..<d { centroids[j * d + t] = Float(sums[j * d + t] / Double(sizes[j])) }
            }
            for j in 0..<k where sizes[j] == 0 {
                var far = 0, farDistance: Float = -1
                for i in 0..<n where sizes[assignments[i]] > 1 {
                    let e = distance(vectors, i, centroids, assignments[i], d)
                    if e > farDistance { farDistance = e; far = i }
                }
                sizes[assignments[far]] -= 1
                sizes[j] = 1
                assignments[far] = j
                for t in 0..<d { centroids[j * d + t] = vectors[far * d + t] }
            }
        }
        return (assignments, centroids, inertia)
    }
}

/// SplitMix64: a small, fast, seeded generator, so that a `--seed` gives the same frames on every machine.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
