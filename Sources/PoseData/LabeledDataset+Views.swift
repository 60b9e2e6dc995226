// A multi-camera project's labels: one CSV per view, row n of every file the same instant (LP §1.1).
import Foundation

extension LabeledDataset {
    /// Reads each view's CSV with the single-view checks, then joins row n of every view into one frame: its images
    /// (one per view) and its keypoints view after view. The CSVs must have the same rows: the same count, and the
    /// same image file names (LP: `view0/img000039.png` and `view1/img000039.png` are one instant).
    static func loadViews(project: PoseProject, loadImage: (String) throws -> HostImage) throws -> LabeledDataset {
        let config = project.config, views = config.cameraViews
        guard project.labelFiles.count == views.count else {
            throw PoseDataError(
                file: config.configFile,
                message:
                    "data.csv_file lists \(project.labelFiles.count) label file(s) for \(views.count) views (\(views.joined(separator: ", ")))",
                hint: "give one label CSV per view, in view order")
        }
        var perView: [LabeledDataset] = []
        for file in project.labelFiles {
            var single = project
            single.labelFiles = [file]
            single.config.data.viewNames = nil
            perView.append(try load(project: single, loadImage: loadImage))
        }
        let first = perView[0]
        for (v, data) in perView.enumerated().dropFirst() {
            let file = project.labelFiles[v]
            if data.keypointNames != first.keypointNames {
                throw PoseDataError(
                    file: file, row: 2,
                    message: "view \(views[v]) names other keypoints than view \(views[0]) (\(project.labelFiles[0]))",
                    hint: "every view labels the same keypoints in the same order")
            }
            if data.count != first.count {
                throw PoseDataError(
                    file: file,
                    message:
                        "view \(views[v]) has \(data.count) labelled frames but view \(views[0]) has \(first.count) (\(project.labelFiles[0]))",
                    hint: "row n of every view's CSV is the same instant; give every view the same frames")
            }
            for (n, (a, b)) in zip(first.frames, data.frames).enumerated() {
                let nameA = (a.key as NSString).lastPathComponent, nameB = (b.key as NSString).lastPathComponent
                guard nameA == nameB else {
                    throw PoseDataError(
                        file: file, row: n + 4,
                        message: "row \(n + 1) is \(b.key) but row \(n + 1) of view \(views[0]) is \(a.key): not the same instant",
                        hint: "row n of every view's CSV is the same frame (same image file name); put the rows in the same order")
                }
            }
        }
        let frames = first.frames.indices.map { n in
            var frame = first.frames[n]
            frame.views = perView.map { $0.frames[n].image }
            frame.keypoints = perView.flatMap { $0.frames[n].keypoints }
            // The context model: each view's frames t−2…t+2 (found beside that view's image, or in its video).
            frame.context = config.isContextModel ? perView.flatMap { $0.frames[n].contextImages(view: 0) } : nil
            return frame
        }
        var dataset = LabeledDataset(keypointNames: first.keypointNames, frames: frames, scorer: first.scorer)
        dataset.viewNames = views
        let notes = zip(views, perView).compactMap { view, data in data.contextNote.map { "\(view): \($0)" } }
        if !notes.isEmpty { dataset.contextNote = notes.joined(separator: "; ") }
        return dataset
    }
}
