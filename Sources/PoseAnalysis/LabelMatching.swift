// Which labelled frames a prediction covers: a video prediction's frame n is `labeled-data/<video>/img<n>.png` of the
// video whose name starts its file name (`<stem>.csv`, DeepLabCut's `<stem><scorer>.csv`, `<stem>_filtered.csv`); an
// image-folder prediction names its images.
import Foundation
import PoseFormats

public enum LabelMatching {
    /// Pairs of (prediction row, label row) for the labelled frames the prediction has. `predictionFile` is the
    /// prediction's path (its name says which video it is), `labelsFile` names the labels in messages.
    public static func rows(prediction: PoseTable, predictionFile: URL, labels: PoseTable, labelsFile: String) throws
        -> [(prediction: Int, label: Int)]
    {
        guard prediction.indexStyle == .frameNumber, let frames = prediction.frameNumbers else {
            // Images: the same image path, or at least the same `<folder>/<image>`.
            let byKey = Dictionary(prediction.rowKeys.enumerated().map { (tail($0.element), $0.offset) }, uniquingKeysWith: { a, _ in a })
            let pairs = labels.rowKeys.enumerated().compactMap { l in byKey[tail(l.element)].map { (prediction: $0, label: l.offset) } }
            guard !pairs.isEmpty else {
                throw PoseAnalysisError("\(labelsFile): none of its labelled images is in the prediction \(predictionFile.path)")
            }
            return pairs
        }
        let stem = predictionFile.deletingPathExtension().lastPathComponent
        let videos = Set(labels.rowKeys.compactMap { folderAndFrame($0)?.folder })
        guard let video = videos.filter({ stem == $0 || stem.hasPrefix($0) }).max(by: { $0.count < $1.count }) else {
            throw PoseAnalysisError(
                "\(labelsFile): its labels are for the videos \(videos.sorted().joined(separator: ", ")), and the prediction \(predictionFile.lastPathComponent) is named after none of them (a video prediction is <video>.csv)"
            )
        }
        let rowOfFrame = Dictionary(frames.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let pairs: [(prediction: Int, label: Int)] = labels.rowKeys.enumerated().compactMap { l in
            guard let (folder, frame) = folderAndFrame(l.element), folder == video, let row = rowOfFrame[frame] else { return nil }
            return (row, l.offset)
        }
        guard !pairs.isEmpty else {
            throw PoseAnalysisError("\(labelsFile): no labelled frame of \(video) is among the \(frames.count) predicted frames")
        }
        return pairs
    }

    /// `labeled-data/<video>/img00123.png` → (`<video>`, 123).
    static func folderAndFrame(_ key: String) -> (folder: String, frame: Int)? {
        let parts = key.split(separator: "/")
        guard parts.count >= 2 else { return nil }
        let name = (String(parts[parts.count - 1]) as NSString).deletingPathExtension
        let digits = name.reversed().prefix { $0.isNumber }
        guard !digits.isEmpty, let frame = Int(String(digits.reversed())) else { return nil }
        return (String(parts[parts.count - 2]), frame)
    }

    private static func tail(_ key: String) -> String { key.split(separator: "/").suffix(2).joined(separator: "/") }
}
