// What can go wrong opening a project for labelling, serving it or saving a label, each in one line.
import Foundation

/// Errors of the labelling app. Each prints as one line naming the project, file or option; the server answers
/// the ones a request causes with their line and an HTTP status (`status`).
public enum LabellingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// PROJECT is not a folder or config Kinema can read.
    case notAProject(path: String, reason: String)
    /// The project has no extracted frames yet.
    case noFrames(project: String)
    /// A multi-camera project whose frames match no view (folders not named `<session>_<view>`): the first reason.
    case noViewFrames(project: String, reason: String)
    /// A label file whose keypoints are not the project's (labels would land in the wrong columns).
    case keypointsDiffer(file: String, missing: [String], extra: [String])
    /// A multi-camera project's label files do not hold the same instants row by row (training would refuse them).
    case viewsDiffer(file: String, reason: String)
    /// A frame of a multi-camera project whose instant lacks another view's image: its row could not be written
    /// into every view's CSV.
    case missingView(frame: String, views: String)
    /// A label file that cannot be read.
    case unreadableLabels(file: String, reason: String)
    /// A label file changed on disk since the app read it: saving would overwrite someone else's work.
    case changedOnDisk(file: String)
    /// Saving failed; the label file is as it was.
    case saveFailed(file: String, reason: String)
    /// A request named a path outside the project, or not one of its frames.
    case refusedPath(path: String, reason: String)
    /// A request without the session's token.
    case badToken
    /// A request whose content is not what the app sends.
    case badRequest(reason: String)
    /// The app's own page is missing (an executable moved without its resource folder).
    case missingAppFile(path: String)
    /// The server could not listen where asked.
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case let .notAProject(path, reason):
            return "\(path) is not a project: \(reason)"
        case let .noFrames(project):
            return
                "\(project): no frames to label in labeled-data/ (extract some first: kinema extract-frames \(project) --method kmeans --count 20)"
        case let .noViewFrames(project, reason):
            return "\(project): no frames to label in any camera view: \(reason)"
        case let .keypointsDiffer(file, missing, extra):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("it lacks \(missing.joined(separator: ", "))") }
            if !extra.isEmpty { parts.append("it has \(extra.joined(separator: ", ")) that the config does not list") }
            return
                "\(file): its keypoints are not the project's (\(parts.joined(separator: "; "))); fix the config or the file (nothing was changed)"
        case let .viewsDiffer(file, reason):
            return
                "\(file): \(reason): row n of every view's CSV must be the same instant (same image file name); put the rows in the same order (nothing was changed)"
        case let .missingView(frame, views):
            return
                "\(frame): this instant has no image in view \(views), so it cannot be labelled (every view's CSV needs its row); extract the same frame from that camera's video (kinema extract-frames) (nothing was saved)"
        case let .unreadableLabels(file, reason):
            return "\(file): cannot read the labels (\(reason)); nothing was changed"
        case let .changedOnDisk(file):
            return
                "\(file) was changed by another program since the app read it; restart `kinema label` to load it (nothing was overwritten)"
        case let .saveFailed(file, reason):
            return "\(file): the labels could not be saved (\(reason)); the file is as it was"
        case let .refusedPath(path, reason):
            return "'\(path)' refused: \(reason)"
        case .badToken:
            return "this session's token is missing or wrong: open the URL that `kinema label` printed"
        case let .badRequest(reason):
            return "bad request: \(reason)"
        case let .missingAppFile(path):
            return "\(path) is missing: keep the Kinema_Labelling.resources folder beside the kinema executable"
        case let .cannotListen(address, reason):
            return "cannot listen on \(address) (\(reason)); choose another --port or leave it out for a free one"
        }
    }

    /// The HTTP status a request that caused this error gets.
    var status: Int {
        switch self {
        case .badToken, .refusedPath: return 403
        case .badRequest: return 400
        case .changedOnDisk, .missingView: return 409
        default: return 500
        }
    }
}
