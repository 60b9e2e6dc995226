// Writing the synthetic data set to disk in the Sensorium 2023 folder layout, plus ground truth.
import Foundation
import PythonFormats

extension SyntheticGenerator {
    /// What one written trial was.
    struct TrialPlan {
        var tier: String
        var clip: Int
        var frames: Int
        var labelled: Bool
    }

    /// Writes every mouse under `root/<mouse name>/`; `progress(done, total)` is called after each trial.
    /// Returns the mouse folders.
    @discardableResult
    public func write(to root: URL, progress: (Int, Int) -> Void = { _, _ in }) throws -> [URL] {
        let c = config
        let total = c.trialsPerMouse * c.neuronCounts.count
        var done = 0
        var folders: [URL] = []
        for (mouse, neuronCount) in c.neuronCounts.enumerated() {
            let folder = root.appendingPathComponent(Self.mouseName(mouse))
            try writeMouse(index: mouse, neuronCount: neuronCount, folder: folder) {
                done += 1
                progress(done, total)
            }
            folders.append(folder)
        }
        return folders
    }

    private func writeMouse(index: Int, neuronCount: Int, folder: URL, trialDone: () -> Void) throws {
        let c = config
        var rng = SeededRandom(seed: c.seed &* 1_000_003 &+ UInt64(index))
        let neurons = makeNeurons(count: neuronCount, rng: &rng)
        let padded = c.effectivePaddedFrames
        let h = c.height, w = c.width, plane = h * w

        // Plan trials: unique train clips, repeated oracle / live-test clips, in shuffled id order.
        var plans: [TrialPlan] = []
        var clip = 0
        for _ in 0..<c.trainTrials {
            plans.append(TrialPlan(tier: SensoriumTier.train, clip: clip, frames: c.frames, labelled: true)); clip += 1
        }
        if c.longTrialFrames > 0 {
            plans.append(TrialPlan(tier: SensoriumTier.train, clip: clip, frames: c.longTrialFrames, labelled: true)); clip += 1
        }
        for _ in 0..<c.oracleClips {
            for _ in 0..<c.oracleRepeats {
                plans.append(TrialPlan(tier: SensoriumTier.oracle, clip: clip, frames: c.frames, labelled: true))
            }
            clip += 1
        }
        for _ in 0..<c.liveTestClips {
            for _ in 0..<c.liveTestRepeats {
                plans.append(TrialPlan(tier: SensoriumTier.liveTestMain, clip: clip, frames: c.frames, labelled: false))
            }
            clip += 1
        }
        plans = rng.permutation(plans.count).map { plans[$0] }

        var clips: [Int: [Float]] = [:]
        var stats = StatisticsAccumulator(padded: padded, plane: plane, neurons: neuronCount)
        for (id, plan) in plans.enumerated() {
            let video: [Float]
            if let cached = clips[plan.clip] {
                video = cached
            } else {
                video = makeClip(frames: plan.frames, rng: &rng)
                clips[plan.clip] = video
            }
            let (behavior, pupil) = makeBehaviour(frames: plan.frames, rng: &rng)
            let speed = Array(behavior[plan.frames...])
            let lambda = rates(neurons: neurons, clip: video, speed: speed, frames: plan.frames)
            let counts = lambda.map { plan.labelled ? Float(rng.poisson($0)) : 0 }

            // File layouts: video (H, W, T_pad) time last; the rest (rows, T_pad); NaN padding.
            var videoFile = [Float](repeating: .nan, count: plane * padded)
            for t in 0..<plan.frames { for p in 0..<plane { videoFile[p * padded + t] = video[t * plane + p] } }
            let responseFile = Self.padRows(counts, rows: neuronCount, frames: plan.frames, padded: padded)
            let rateFile = Self.padRows(lambda.map(Float.init), rows: neuronCount, frames: plan.frames, padded: padded)
            let behaviorFile = Self.padRows(behavior.map(Float.init), rows: 2, frames: plan.frames, padded: padded)
            let pupilFile = Self.padRows(pupil.map(Float.init), rows: 2, frames: plan.frames, padded: padded)
            let data = folder.appendingPathComponent("data")
            try NpyArray(float32: videoFile, shape: [h, w, padded]).write(to: data.appendingPathComponent("videos/\(id).npy"))
            try NpyArray(float32: responseFile, shape: [neuronCount, padded]).write(to: data.appendingPathComponent("responses/\(id).npy"))
            try NpyArray(float32: behaviorFile, shape: [2, padded]).write(to: data.appendingPathComponent("behavior/\(id).npy"))
            try NpyArray(float32: pupilFile, shape: [2, padded]).write(to: data.appendingPathComponent("pupil_center/\(id).npy"))
            try NpyArray(float32: rateFile, shape: [neuronCount, padded]).write(to: data.appendingPathComponent("rates/\(id).npy"))
            if plan.tier == SensoriumTier.train {
                stats.add(video: videoFile, responses: responseFile, behavior: behaviorFile, pupil: pupilFile)
            }
            trialDone()
        }

        // Metadata.
        let meta = folder.appendingPathComponent("meta")
        try NpyArray(strings: plans.map(\.tier), shape: [plans.count]).write(to: meta.appendingPathComponent("trials/tiers.npy"))
        try NpyArray(int64: (1...neuronCount).map(Int64.init), shape: [neuronCount]).write(
            to: meta.appendingPathComponent("neurons/unit_ids.npy"))
        var coordinates: [Float] = []
        for n in 0..<neuronCount {
            coordinates += [Float(20 * neurons.centers[n].x), Float(20 * neurons.centers[n].y), Float(rng.uniform(200, 400))]
        }
        try NpyArray(float32: coordinates, shape: [neuronCount, 3]).write(
            to: meta.appendingPathComponent("neurons/cell_motor_coordinates.npy"))
        try stats.write(to: meta.appendingPathComponent("statistics"), height: h, width: w, neurons: neuronCount)

        // Ground truth, ignored by real-data loaders.
        let truth = meta.appendingPathComponent("ground_truth")
        try NpyArray(float32: neurons.receptiveFields, shape: [neuronCount, h, w]).write(
            to: truth.appendingPathComponent("receptive_fields.npy"))
        try NpyArray(float64: neurons.centers.flatMap { [$0.x, $0.y] }, shape: [neuronCount, 2]).write(
            to: truth.appendingPathComponent("centers.npy"))
        for (name, values) in [
            ("sigma", neurons.sigmas), ("sign", neurons.signs), ("scale", neurons.scale), ("gain", neurons.gain),
            ("offset", neurons.offset), ("beta", neurons.beta), ("drive_std", neurons.driveStd),
        ] {
            try NpyArray(float64: values, shape: [neuronCount]).write(to: truth.appendingPathComponent("\(name).npy"))
        }
        try NpyArray(float64: neurons.temporalKernel, shape: [8]).write(to: truth.appendingPathComponent("temporal_kernel.npy"))
        try NpyArray(int64: plans.map { Int64($0.clip) }, shape: [plans.count]).write(to: truth.appendingPathComponent("clip_ids.npy"))
    }

    static func padRows(_ values: [Float], rows: Int, frames: Int, padded: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: rows * padded)
        for r in 0..<rows { for t in 0..<frames { out[r * padded + t] = values[r * frames + t] } }
        return out
    }
}

// MARK: - Per-frame statistics over train trials

/// Collects train-tier arrays and writes NaN-aware per-frame mean/std/min/max/median (section 1.4).
struct StatisticsAccumulator {
    let padded: Int, plane: Int, neurons: Int
    var videos: [[Float]] = [], responses: [[Float]] = [], behavior: [[Float]] = [], pupil: [[Float]] = []

    mutating func add(video: [Float], responses r: [Float], behavior b: [Float], pupil p: [Float]) {
        videos.append(video)
        responses.append(r)
        behavior.append(b)
        pupil.append(p)
    }

    func write(to folder: URL, height: Int, width: Int, neurons: Int) throws {
        for (key, arrays, shape) in [
            ("videos", videos, [height, width, padded]), ("responses", responses, [neurons, padded]),
            ("behavior", behavior, [2, padded]), ("pupil_center", pupil, [2, padded]),
        ] {
            let count = shape.reduce(1, *)
            var stats = [[Float]](repeating: [Float](repeating: .nan, count: count), count: 5)
            var column: [Float] = []
            for i in 0..<count {
                column.removeAll(keepingCapacity: true)
                for a in arrays where !a[i].isNaN { column.append(a[i]) }
                guard !column.isEmpty else { continue }
                column.sort()
                let n = Double(column.count)
                let mean = column.reduce(0.0) { $0 + Double($1) } / n
                let variance = column.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
                let mid = column.count / 2
                let median = column.count % 2 == 1 ? column[mid] : (column[mid - 1] + column[mid]) / 2
                stats[0][i] = Float(mean)
                stats[1][i] = Float(variance.squareRoot())
                stats[2][i] = column[0]
                stats[3][i] = column[column.count - 1]
                stats[4][i] = median
            }
            for (s, name) in ["mean", "std", "min", "max", "median"].enumerated() {
                try NpyArray(float32: stats[s], shape: shape).write(to: folder.appendingPathComponent("\(key)/all/\(name).npy"))
            }
        }
    }
}
