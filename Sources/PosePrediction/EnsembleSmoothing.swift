// How an ensemble's predictions are smoothed, decided once from the project's config, and the EKS step itself on
// the members' tables in memory (the Smoothing library, the same entry points `kinema smooth` runs).
import Foundation
import PoseData
import PoseFormats
import Smoothing

/// The camera set-up of a project, which picks the EKS mode.
public enum EnsembleViews: Sendable, Equatable {
    /// One camera: `kinema smooth singlecam`.
    case singleCamera
    /// Several views in one image (LP's `mirrored_column_matches`; columns `<keypoint>_<view>`):
    /// `kinema smooth mirrored-multicam`, on `keypoints` (the matched body parts, without the view suffix).
    case mirrored(views: [String], keypoints: [String])
    /// One video per camera, named `<session>_<view>` (LP's `view_names`): `kinema smooth multicam`.
    case multiCamera(views: [String])

    /// The set-up `config` describes for a model with `keypoints` (its label columns, in order): mirrored when
    /// `data.mirrored_column_matches` lists two or more views, separate cameras when `data.view_names` lists two or
    /// more without it, else one camera. A config that cannot be smoothed is one line naming the key.
    public init(config: PoseConfig, keypoints: [String]) throws(PoseDataError) {
        let file = config.configFile.isEmpty ? "config" : config.configFile
        let groups = config.mirroredColumnMatches
        let named = config.viewNames ?? []
        if groups.count >= 2, config.cameraViews.isEmpty {
            let key = "data.mirrored_column_matches"
            guard groups.allSatisfy({ $0.count == groups[0].count && !$0.isEmpty }),
                groups.joined().allSatisfy({ keypoints.indices.contains($0) })
            else {
                throw PoseDataError(
                    file: file, message: "\(key) must list the same number of keypoint indices (0…\(keypoints.count - 1)) for every view",
                    hint: "e.g. [[0, 1, 2], [3, 4, 5]]")
            }
            if !named.isEmpty, named.count != groups.count {
                throw PoseDataError(
                    file: file, message: "data.view_names names \(named.count) views but \(key) lists \(groups.count)",
                    hint: "give one name per view")
            }
            // Each view's columns are `<keypoint>_<view>`: the view is the suffix, the keypoint the rest (EKS's naming).
            let views = named.isEmpty ? groups.map { Self.suffix(of: keypoints[$0[0]]) ?? "" } : named
            var bodyParts: [String] = []
            for (v, group) in groups.enumerated() {
                let parts = group.map { index -> String? in
                    let name = keypoints[index]
                    return name.hasSuffix("_" + views[v]) ? String(name.dropLast(views[v].count + 1)) : nil
                }
                guard !views[v].isEmpty, parts.allSatisfy({ $0 != nil && !$0!.isEmpty }) else {
                    throw PoseDataError(
                        file: file,
                        message:
                            "\(key) view \(v) has keypoints not named <keypoint>_<view> (\(group.map { keypoints[$0] }.joined(separator: ", ")))",
                        hint:
                            "EKS pairs the views by name: rename the keypoints (e.g. nose_top, nose_bot) or name the views in data.view_names"
                    )
                }
                if v == 0 {
                    bodyParts = parts.map { $0! }
                } else if parts.map({ $0! }) != bodyParts {
                    throw PoseDataError(
                        file: file, message: "\(key) view \(v) lists \(parts.map { $0! }) but view 0 lists \(bodyParts)",
                        hint: "list the same body parts in the same order for every view")
                }
            }
            guard Set(views).count == views.count else {
                throw PoseDataError(
                    file: file, message: "\(key): two views have the same name (\(views))", hint: "name the views in data.view_names")
            }
            self = .mirrored(views: views, keypoints: bodyParts)
        } else if named.count >= 2 {
            for a in named {
                for b in named where a != b && b.contains(a) {
                    throw PoseDataError(
                        file: file, message: "data.view_names: '\(a)' is part of '\(b)'; EKS finds a camera's files by its name",
                        hint: "rename the views so that no name contains another")
                }
            }
            self = .multiCamera(views: named)
        } else {
            self = .singleCamera
        }
    }

    /// `paw_top` → `top`.
    static func suffix(of name: String) -> String? {
        guard let cut = name.lastIndex(of: "_"), name.index(after: cut) < name.endIndex else { return nil }
        return String(name[name.index(after: cut)...])
    }

    /// The views' names (none for one camera).
    public var views: [String] {
        switch self {
        case .singleCamera: []
        case .mirrored(let views, _), .multiCamera(let views): views
        }
    }

    /// In words, for the log: `single camera`, `mirrored views top, bot`, `cameras top, side`.
    public var description: String {
        switch self {
        case .singleCamera: "single camera"
        case .mirrored(let views, let parts): "mirrored views \(views.joined(separator: ", ")) (\(parts.count) body parts)"
        case .multiCamera(let views): "cameras \(views.joined(separator: ", ")) (one video per camera: <session>_<view>)"
        }
    }

    /// The `kinema smooth` mode that gives the same result from the members' CSVs.
    public var smoothingMode: SmoothingJob.Mode {
        switch self {
        case .singleCamera: .singleCamera
        case .mirrored(let views, _): .mirrored(cameras: views)
        case .multiCamera(let views): .multiCamera(cameras: views)
        }
    }

    /// Smooths one recording: `members[view][member]` are the members' tables of each view's video (one view
    /// for a single camera or a mirrored image), `names` the matching file names (for error messages). Returns
    /// the result and its output tables, one per video (`<stem>.csv` each): the EKS package's columns.
    public func smooth(members: [[PoseTable]], names: [[String]], options: SmoothingOptions) throws -> (
        result: SmoothingResult, tables: [PoseTable]
    ) {
        switch self {
        case .singleCamera:
            let ensemble = try EnsembleMembers(tables: members[0], names: names[0])
            let result = try EnsembleKalmanSmoother.singleCamera(ensemble, options: options)
            return (result, [try result.table(view: 0)])
        case .mirrored(let views, let parts):
            let ensembles = try EnsembleMembers.mirroredViews(tables: members[0], names: names[0], keypoints: parts, cameras: views)
            let result = try EnsembleKalmanSmoother.multiView(ensembles, viewNames: views, options: options)
            return (result, [try result.mirroredTable()])
        case .multiCamera(let views):
            let ensembles = try zip(members, names).map { try EnsembleMembers(tables: $0, names: $1) }
            let result = try EnsembleKalmanSmoother.multiView(ensembles, viewNames: views, options: options)
            return (result, try views.indices.map { try result.table(view: $0) })
        }
    }
}
