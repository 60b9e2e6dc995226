// What can go wrong creating a project or extracting frames, each said in one line a scientist can act on.
import Foundation

/// Errors of `ProjectCreation`, `FrameExtraction`, `OutlierFrames`, `LabelMerge` and `ProjectIteration`. Each prints as one line naming the folder, file or option.
public enum ProjectSetupError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The project folder exists and holds something: a new project never goes over an old one.
    case folderNotEmpty(path: String)
    /// Videos that are not there (all of them, named).
    case missingVideos([String])
    /// Two videos with the same file stem would share one `labeled-data/<stem>` folder.
    case sameVideoStem(stem: String, videos: [String])
    /// A list option (`--keypoints`, `--views`) that is empty or repeats a name.
    case badNames(option: String, reason: String)
    /// A `--skeleton` edge that is not `a-b` with two different keypoints of the project.
    case badSkeletonEdge(edge: String, reason: String)
    /// PROJECT is not a project folder or config Kinema can read.
    case notAProject(path: String, reason: String)
    /// The project (or `--videos`) names no video to extract frames from.
    case noVideos(project: String, reason: String)
    /// An option value that cannot work.
    case badOption(option: String, reason: String)
    /// Writing the project failed (nothing is left behind).
    case writeFailed(path: String, reason: String)
    /// Extraction stopped after writing some frames of a video; those are kept.
    case stoppedPartWay(video: String, written: Int, of: Int, folder: String, reason: String)
    /// A prediction (or machine-label) file that does not fit the project or its video; nothing was written.
    case badPrediction(path: String, reason: String)
    /// A label file with keypoints the project does not have; nothing was changed.
    case unknownKeypoints(path: String, keypoints: [String], project: [String])
    /// `kinema merge` found machine-labelled frames that no one reviewed; nothing was changed.
    case unreviewedFrames(count: Int, examples: [String])

    public var description: String {
        switch self {
        case let .folderNotEmpty(path):
            return "\(path) already exists and is not empty: give a new folder (nothing was changed)"
        case let .missingVideos(videos):
            let noun = videos.count == 1 ? "video is" : "videos are"
            return "\(videos.count) \(noun) not there: \(videos.joined(separator: ", ")) (check the paths; nothing was created)"
        case let .sameVideoStem(stem, videos):
            return
                "\(videos.joined(separator: " and ")) have the same name '\(stem)': each video gets the folder labeled-data/<name>, so rename one (nothing was created)"
        case let .badNames(option, reason):
            return "\(option): \(reason)"
        case let .badSkeletonEdge(edge, reason):
            return "--skeleton '\(edge)': \(reason)"
        case let .notAProject(path, reason):
            return "\(path) is not a project: \(reason)"
        case let .noVideos(project, reason):
            return "\(project): no video to extract frames from (\(reason))"
        case let .badOption(option, reason):
            return "\(option): \(reason)"
        case let .writeFailed(path, reason):
            return "\(path): could not write (\(reason))"
        case let .stoppedPartWay(video, written, total, folder, reason):
            if written == 0 { return "\(video): no frame could be written (\(reason))" }
            return
                "\(video): stopped after \(written) of \(total) frames (\(reason)); the \(written) written to \(folder) are kept, run again to add more"
        case let .badPrediction(path, reason):
            return "\(path): \(reason) (nothing was written)"
        case let .unknownKeypoints(path, keypoints, project):
            let noun = keypoints.count == 1 ? "keypoint" : "keypoints"
            return
                "\(path): \(noun) \(keypoints.joined(separator: ", ")) not in the project (its keypoints: \(project.joined(separator: ", "))); nothing was changed"
        case let .unreviewedFrames(count, examples):
            let more = count > examples.count ? ", …" : ""
            return
                "\(count) frame\(count == 1 ? "" : "s") with machine labels \(count == 1 ? "has" : "have") not been reviewed (\(examples.joined(separator: ", "))\(more)): label \(count == 1 ? "it" : "them") with `kinema label`, or add --include-unreviewed to take the machine labels as they are, or --leave-unreviewed to merge without \(count == 1 ? "it" : "them"); nothing was changed"
        }
    }
}
