// Many mice at once, and the per-frame statistics of `meta/statistics`.
import Foundation
import PythonFormats

// MARK: - Statistics

/// One statistic of `meta/statistics/<key>/all/<stat>.npy`, e.g. the per-frame response std.
///
/// Organisers' statistics are computed per frame index, so they carry a trailing time axis; a
/// statistic without one (shape `(N,)`) is broadcast over time.
public struct FrameStatistic: Sendable {
    /// Leading shape (e.g. `[N]` for responses, `[36, 64]` for videos).
    public var channelShape: [Int]
    /// Length of the time axis, or nil when the statistic has none.
    public var frames: Int?
    /// Values, row-major over `channelShape + [frames]` (or `channelShape`).
    public var values: [Float]

    /// Number of channels (product of the leading shape).
    public var channels: Int { channelShape.reduce(1, *) }

    /// Values for the first `length` frames, `(channels, length)` row-major; frames beyond the
    /// statistic's own time axis repeat its last frame.
    public func sliced(toFrames length: Int) -> [Float] {
        var out = [Float](repeating: 0, count: channels * length)
        for c in 0..<channels {
            for t in 0..<length {
                if let frames, frames > 0 {
                    out[c * length + t] = values[c * frames + min(t, frames - 1)]
                } else {
                    out[c * length + t] = values[c]
                }
            }
        }
        return out
    }
}

extension SensoriumMouse {
    /// Reads `meta/statistics/<key>/all/<stat>.npy` (`key`: videos, responses, behavior,
    /// pupil_center; `stat`: mean, std, min, max, median).
    public func statistic(_ key: String, _ stat: String) throws -> FrameStatistic {
        let url = folder.appendingPathComponent("meta/statistics/\(key)/all/\(stat).npy")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw SensoriumError(path: url.path, message: "statistic not found (expected meta/statistics/\(key)/all/\(stat).npy)")
        }
        let array = try NpyArray(contentsOf: url)
        let leading: [Int]
        switch key {
        case "videos": leading = [height, width]
        case "responses": leading = [neuronCount]
        default: leading = [2]
        }
        if array.shape == leading {
            return FrameStatistic(channelShape: leading, frames: nil, values: try array.float32Values())
        }
        guard array.shape.count == leading.count + 1, Array(array.shape.dropLast()) == leading else {
            throw SensoriumError(
                path: url.path, message: "shape \(array.shape), expected \(leading) or \(leading + [paddedLength]) (per-frame)")
        }
        return FrameStatistic(channelShape: leading, frames: array.shape.last, values: try array.float32Values())
    }
}

// MARK: - Data set of many mice

/// Several mouse folders used together (e.g. the ten Sensorium 2023 sessions).
public struct SensoriumDataset: Sendable {
    /// The mice, in the order given (sorted by folder name when found by scanning a root folder).
    public let mice: [SensoriumMouse]

    /// Opens the given mouse folders.
    public init(mouseFolders: [URL]) throws {
        guard !mouseFolders.isEmpty else {
            throw SensoriumError(path: "<none>", message: "no mouse folders given")
        }
        mice = try mouseFolders.map { try SensoriumMouse(folder: $0) }
    }

    /// Opens `root` as one mouse folder if it has `meta/trials/tiers.npy`, otherwise every sub-folder
    /// that does (sorted by name).
    public init(root: URL) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw SensoriumError(path: root.path, message: "data folder not found")
        }
        if fm.fileExists(atPath: root.appendingPathComponent("meta/trials/tiers.npy").path) {
            try self.init(mouseFolders: [root])
            return
        }
        let names = (try? fm.contentsOfDirectory(atPath: root.path)) ?? []
        let folders = names.sorted().map { root.appendingPathComponent($0) }.filter {
            fm.fileExists(atPath: $0.appendingPathComponent("meta/trials/tiers.npy").path)
                || fm.fileExists(atPath: $0.appendingPathComponent("data").path)
        }
        guard !folders.isEmpty else {
            throw SensoriumError(path: root.path, message: "no Sensorium mouse folders inside (each needs data/ and meta/trials/tiers.npy)")
        }
        try self.init(mouseFolders: folders)
    }

    /// The mouse with this folder name.
    public func mouse(named name: String) -> SensoriumMouse? { mice.first { $0.name == name } }
}
