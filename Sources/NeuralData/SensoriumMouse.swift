// One Sensorium 2023 recording folder ("mouse"): validated on open, trials streamed from disk.
import Foundation
import PythonFormats

// MARK: - Errors

/// A problem with a Sensorium data folder; names the path and what to do about it.
public struct SensoriumError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

// MARK: - Tiers

/// The tier names of `meta/trials/tiers.npy`.
public enum SensoriumTier {
    public static let train = "train"
    public static let oracle = "oracle"
    public static let liveTestMain = "live_test_main"
    public static let finalTestMain = "final_test_main"
    public static let liveTestBonus = "live_test_bonus"
    public static let finalTestBonus = "final_test_bonus"
    public static let none = "none"
}

// MARK: - One trial

/// One trial cut to its valid length `L` (NaN padding removed), all arrays float32, row-major.
public struct SensoriumTrial: Sendable {
    /// Trial id (the file name without `.npy`).
    public var id: Int
    /// Tier of the trial.
    public var tier: String
    /// Valid number of frames.
    public var length: Int
    /// Video frame size.
    public var height: Int, width: Int
    /// Video, time-major: `video[(t * height + y) * width + x]`, pixel values 0…255.
    public var video: [Float]
    /// Responses `(N, L)`: `responses[n * length + t]`.
    public var responses: [Float]
    /// Behaviour `(2, L)`: row 0 pupil dilation, row 1 running speed.
    public var behavior: [Float]
    /// Pupil centre `(2, L)`: row 0 horizontal, row 1 vertical.
    public var pupilCenter: [Float]

    /// Number of neurons.
    public var neuronCount: Int { length == 0 ? 0 : responses.count / length }
    /// Whether the responses carry labels (not all zero, as hidden test tiers are).
    public var isLabelled: Bool { responses.contains { $0 != 0 } }

    public init(
        id: Int, tier: String, length: Int, height: Int, width: Int, video: [Float],
        responses: [Float], behavior: [Float], pupilCenter: [Float]
    ) {
        self.id = id
        self.tier = tier
        self.length = length
        self.height = height
        self.width = width
        self.video = video
        self.responses = responses
        self.behavior = behavior
        self.pupilCenter = pupilCenter
    }
}

// MARK: - One mouse

/// A Sensorium 2023 recording folder (`<mouse>/data/…`, `<mouse>/meta/…`).
///
/// Opening reads only the metadata and the headers of trial 0; `loadTrial(_:)` reads one trial's
/// four files from disk, so any number of mice can be used without holding their data in memory.
public struct SensoriumMouse: Sendable {
    /// The folder.
    public let folder: URL
    /// Folder name (the session id, e.g. `dynamic29515-10-12-Video-…`).
    public var name: String { folder.lastPathComponent }
    /// Tier of each trial, indexed by trial id.
    public let tiers: [String]
    /// Neuron ids, in response-row order.
    public let unitIDs: [Int64]
    /// Neuron positions `(N, 3)` in microns when `cell_motor_coordinates.npy` exists.
    public let coordinates: [Float]?
    /// Video frame height and width.
    public let height: Int, width: Int
    /// Common padded length `T_pad` of trial 0's arrays.
    public let paddedLength: Int

    /// Number of trials.
    public var trialCount: Int { tiers.count }
    /// Number of neurons.
    public var neuronCount: Int { unitIDs.count }

    static let dataFolders = ["videos", "responses", "behavior", "pupil_center"]

    /// Opens and validates a mouse folder: required files present, one file per trial in every data
    /// folder, shapes of trial 0 consistent with the metadata.
    public init(folder: URL) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else {
            throw SensoriumError(
                path: folder.path, message: "data folder not found (expected a Sensorium 2023 mouse folder with data/ and meta/)")
        }
        self.folder = folder
        let tiersURL = folder.appendingPathComponent("meta/trials/tiers.npy")
        guard fm.fileExists(atPath: tiersURL.path) else {
            throw SensoriumError(path: tiersURL.path, message: "missing tiers file (every mouse folder needs meta/trials/tiers.npy)")
        }
        tiers = try NpyArray(contentsOf: tiersURL).stringValues()
        let unitsURL = folder.appendingPathComponent("meta/neurons/unit_ids.npy")
        guard fm.fileExists(atPath: unitsURL.path) else {
            throw SensoriumError(path: unitsURL.path, message: "missing neuron ids (meta/neurons/unit_ids.npy)")
        }
        unitIDs = try NpyArray(contentsOf: unitsURL).int64Values()

        // Every data folder holds exactly the files 0.npy … (n-1).npy.
        for sub in Self.dataFolders {
            let dir = folder.appendingPathComponent("data/\(sub)")
            guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else {
                throw SensoriumError(path: dir.path, message: "missing data folder data/\(sub)")
            }
            let ids = Set(names.filter { $0.hasSuffix(".npy") }.compactMap { Int($0.dropLast(4)) })
            guard ids.count == tiers.count else {
                throw SensoriumError(
                    path: dir.path,
                    message:
                        "\(ids.count) trial files but tiers.npy lists \(tiers.count) trials; the folder is incomplete or from another session"
                )
            }
            if let missing = (0..<tiers.count).first(where: { !ids.contains($0) }) {
                throw SensoriumError(path: dir.path, message: "trial file \(missing).npy is missing (ids must run 0..<\(tiers.count))")
            }
        }

        let coordsURL = folder.appendingPathComponent("meta/neurons/cell_motor_coordinates.npy")
        if fm.fileExists(atPath: coordsURL.path) {
            let coords = try NpyArray(contentsOf: coordsURL)
            guard coords.shape == [unitIDs.count, 3] else {
                throw SensoriumError(path: coordsURL.path, message: "shape \(coords.shape), expected (\(unitIDs.count), 3)")
            }
            coordinates = try coords.float32Values()
        } else {
            coordinates = nil
        }

        guard !tiers.isEmpty else {
            throw SensoriumError(path: tiersURL.path, message: "tiers.npy lists no trials")
        }
        let video = try NpyHeader.read(contentsOf: folder.appendingPathComponent("data/videos/0.npy"))
        guard video.shape.count == 3 else {
            throw SensoriumError(
                path: folder.appendingPathComponent("data/videos/0.npy").path,
                message: "video shape \(video.shape), expected (height, width, frames)")
        }
        height = video.shape[0]
        width = video.shape[1]
        paddedLength = video.shape[2]
    }

    /// Trial ids whose tier is one of `tiers`, ascending.
    public func trialIDs(inTiers wanted: Set<String>) -> [Int] {
        tiers.indices.filter { wanted.contains(tiers[$0]) }
    }

    /// URL of one trial's file in a data sub-folder (`videos`, `responses`, `behavior`, `pupil_center`, or extra ones such as `rates`).
    public func fileURL(_ sub: String, trial: Int) -> URL {
        folder.appendingPathComponent("data/\(sub)/\(trial).npy")
    }

    // MARK: Loading trials

    /// Reads one trial from disk, checks its shapes and cuts it to its valid length.
    ///
    /// The valid length is the index of the first NaN of video pixel (0,0); behaviour, pupil centre and
    /// (labelled) responses must not end earlier.
    public func loadTrial(_ id: Int) throws -> SensoriumTrial {
        guard tiers.indices.contains(id) else {
            throw SensoriumError(path: folder.path, message: "trial \(id) does not exist (\(trialCount) trials)")
        }
        let videoURL = fileURL("videos", trial: id)
        let videoArray = try NpyArray(contentsOf: videoURL)
        guard videoArray.shape.count == 3, videoArray.shape[0] == height, videoArray.shape[1] == width else {
            throw SensoriumError(
                path: videoURL.path, message: "video shape \(videoArray.shape), expected (\(height), \(width), frames) like trial 0")
        }
        let padded = videoArray.shape[2]
        let raw = try videoArray.float32Values()
        // Valid length from pixel (0, 0): raw[t] for t < padded.
        var length = padded
        for t in 0..<padded where raw[t].isNaN { length = t; break }

        let responses = try loadRows("responses", trial: id, rows: neuronCount, padded: padded, length: length)
        let behavior = try loadRows("behavior", trial: id, rows: 2, padded: padded, length: length)
        let pupil = try loadRows("pupil_center", trial: id, rows: 2, padded: padded, length: length)

        // (H, W, T) → time-major (T, H, W) cut to L.
        var video = [Float](repeating: 0, count: length * height * width)
        let plane = height * width
        for p in 0..<plane {
            let source = p * padded
            for t in 0..<length { video[t * plane + p] = raw[source + t] }
        }
        return SensoriumTrial(
            id: id, tier: tiers[id], length: length, height: height, width: width, video: video,
            responses: responses, behavior: behavior, pupilCenter: pupil)
    }

    /// Reads a `(rows, padded)` array and keeps the first `length` columns.
    public func loadRows(_ sub: String, trial: Int, rows: Int, padded: Int, length: Int) throws -> [Float] {
        let url = fileURL(sub, trial: trial)
        let array = try NpyArray(contentsOf: url)
        guard array.shape == [rows, padded] else {
            throw SensoriumError(
                path: url.path,
                message:
                    "shape \(array.shape), expected (\(rows), \(padded)) to match \(rows == neuronCount ? "unit_ids.npy and " : "")the video's \(padded) frames"
            )
        }
        let values = try array.float32Values()
        // Hidden labels may be all NaN: treat them like the all-zero hidden responses.
        if length > 0, (0..<length).allSatisfy({ values[$0].isNaN }), sub == "responses" {
            return [Float](repeating: 0, count: rows * length)
        }
        // Row 0 decides the array's own length; it must cover all valid video frames.
        if let firstNaN = (0..<length).first(where: { values[$0].isNaN }) {
            throw SensoriumError(
                path: url.path,
                message:
                    "row 0 ends (NaN) at frame \(firstNaN) but the video has \(length) valid frames; arrays of one trial must have the same length"
            )
        }
        var out = [Float](repeating: 0, count: rows * length)
        for r in 0..<rows {
            for t in 0..<length { out[r * length + t] = values[r * padded + t] }
        }
        return out
    }
}
