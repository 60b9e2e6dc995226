import ArgumentParser
import Foundation
import ProjectSetup

/// `kinema merge PROJECT`: end a refinement round (DeepLabCut's merge_datasets) and start the next iteration.
struct Merge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fold the refined outlier frames into CollectedData and start the project's next iteration.",
        discussion: """
            After `kinema outliers` and refining its frames in `kinema label` (saving a frame there writes it \
            into CollectedData), merge checks every machine-labelled frame of the current iteration \
            (labeled-data/<video>/machinelabels-iter<N>.csv): frames in CollectedData are refined; a frame whose \
            image was deleted is dropped; a frame no one reviewed stops the merge (nothing changes) unless \
            --include-unreviewed (its machine labels are added to CollectedData as they are) or \
            --leave-unreviewed (it stays unlabelled). Existing labels are never changed; CollectedData is backed \
            up (<file>.before-merge-iter<N>) before anything is added to it. In a multi-camera project each \
            view's frames are looked up in that view's CSV; --include-unreviewed is not available there (every \
            view's CSV must get the same rows).

            Then the project's iteration goes up by one (config.yaml `iteration:`, DeepLabCut's key; Kinema \
            configs gain it), so the next `kinema train PROJECT/config.yaml` writes its model under the new \
            iteration: dlc-models/iteration-<N>/ in DeepLabCut projects, models/iteration-<N>/ otherwise.

            Example:
              kinema merge reach
            """
    )

    @Argument(help: "The project folder (or its config.yaml).")
    var project: String

    @Flag(name: .customLong("include-unreviewed"), help: "Add frames no one reviewed with their machine labels as they are.")
    var includeUnreviewed = false

    @Flag(name: .customLong("leave-unreviewed"), help: "Merge without the frames no one reviewed (they stay unlabelled).")
    var leaveUnreviewed = false

    func validate() throws {
        guard !(includeUnreviewed && leaveUnreviewed) else {
            throw ValidationError("give --include-unreviewed or --leave-unreviewed, not both")
        }
    }

    func run() async throws {
        let opened = try FrameExtraction.openProject(project)
        var options = MergeOptions()
        options.includeUnreviewed = includeUnreviewed
        options.leaveUnreviewed = leaveUnreviewed
        let report = try LabelMerge.merge(project: opened, options: options)
        let reviewed = report.reviewed.values.reduce(0, +)
        let perVideo = report.reviewed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print(
            "iteration \(report.iteration): \(reviewed) refined frame\(reviewed == 1 ? "" : "s") in CollectedData\(perVideo.isEmpty ? "" : " (\(perVideo))")"
        )
        if !report.unreviewed.isEmpty {
            let what = report.addedUnreviewed ? "added with their machine labels" : "left unlabelled"
            print("  \(report.unreviewed.count) not reviewed, \(what): \(report.unreviewed.joined(separator: ", "))")
        }
        if !report.imageRemoved.isEmpty {
            print("  \(report.imageRemoved.count) dropped (image deleted): \(report.imageRemoved.joined(separator: ", "))")
        }
        for file in report.written {
            print("  wrote \(file)\(report.backups[file].map { " (previous: \($0))" } ?? "")")
        }
        print("iteration is now \(report.nextIteration) (\(opened.config)); next: kinema train \(ProjectCreate.shellWord(opened.config))")
    }
}
