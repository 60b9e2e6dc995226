import ArgumentParser
import Foundation
import Labelling

/// `kinema label PROJECT`: the labelling web app, on this machine only, behind a per-session token.
struct LabelFrames: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Label a project's frames in the browser: a local web app that saves every change at once.",
        discussion: """
            Serves the frames in labeled-data/ (written by `kinema extract-frames`) to a browser page on this \
            machine: click to place the keypoints in order, drag to move them, keys for the rest (the page lists \
            them: arrows or a/d for frames, w/s for keypoints, v for not visible, z to undo, wheel to zoom, right \
            drag to pan). Each change is written at once, atomically, to the project's labels: CollectedData.csv \
            (Kinema/LP layout) or labeled-data/<video>/CollectedData_<scorer>.csv and .h5 (DeepLabCut). Before the \
            first change of a session, each label file is copied to label-backups/<start time>/.

            Multi-camera projects (data.view_names with one csv_file per view): the page shows the views of one \
            instant side by side (labeled-data/<session>_<view>/img<index>.png of the same session and index, as \
            `kinema extract-frames` writes them); click in a view to label it (keys 1-4 pick a view). Each view's \
            labels go to its own CSV, and every view's CSV gets the same rows in the same order, as training \
            needs. An instant missing in some view is listed at start and on the page, and cannot be labelled \
            until that camera's frame is extracted.

            Frames with machine labels (labeled-data/<video>/machinelabels-iter<N>.csv, from `kinema outliers`) \
            and no human label yet show them as dashed points to move; Enter keeps them as they are.

            The server listens on 127.0.0.1 (this machine only) and needs the random token printed in its URL: \
            other users of the machine cannot read frames or write labels without it. Stop it with Ctrl-C.

            Examples:
              kinema label reach
              kinema label reach-dlc --port 8765 --no-browser
            """
    )

    @Argument(help: "The project folder (or its config.yaml).")
    var project: String

    @Option(help: "The port to listen on (default: a free one).")
    var port: Int = 0

    @Option(help: "The address to listen on. Anything but 127.0.0.1 or ::1 lets other machines reach the page (the token still guards it).")
    var host = "127.0.0.1"

    @Flag(name: .customLong("no-browser"), help: "Print the URL without opening a browser.")
    var noBrowser = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): give a port from 1 to 65535 (or leave it out)") }
    }

    func run() async throws {
        let opened = try LabelProject.open(project)
        let frames = opened.videos.reduce(0) { $0 + $1.frames.count }
        guard frames > 0 else {
            if let reason = opened.unmatched.first { throw LabellingError.noViewFrames(project: project, reason: reason) }
            throw LabellingError.noFrames(project: project)
        }
        let store = try LabelStore(project: opened)
        let server = LabelServer(store: store)
        let labelled = await store.labelledFrames().joined().filter { $0 }.count
        let noBrowser = noBrowser
        let files = opened.labelFiles.map { ($0 as NSString).lastPathComponent }
        try await server.run(host: host, port: port, handleSignals: true) { url in
            let count = opened.videos.count
            let folders =
                opened.cameraViews.isEmpty
                ? "\(count) video folder\(count == 1 ? "" : "s")"
                : "\(count) session\(count == 1 ? "" : "s") of \(opened.cameraViews.count) views (\(opened.cameraViews.joined(separator: ", ")))"
            let what = opened.cameraViews.isEmpty ? "frames" : "instants"
            let shown = opened.cameraViews.isEmpty ? Set(files).sorted() : files
            var lines = ["\(opened.name): \(frames) \(what) in \(folders), \(labelled) labelled"]
            if !opened.unmatched.isEmpty {
                lines.append("\(opened.unmatched.count) not matched across views (shown on the page too):")
                lines += opened.unmatched.prefix(10).map { "  " + $0 }
                if opened.unmatched.count > 10 { lines.append("  … and \(opened.unmatched.count - 10) more") }
            }
            lines += [
                "labels are saved to \(shown.joined(separator: ", ")) after every change", "open \(url)", "(Ctrl-C stops the server)",
            ]
            // Written at once, unbuffered: the URL must show now, also when the output goes to a pipe or a file.
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            if !noBrowser { Self.openBrowser(url) }
        }
    }

    /// Opens `url` in the desktop's browser (xdg-open, or macOS's open); says so when there is none.
    static func openBrowser(_ url: String) {
        let opener = ["/usr/bin/xdg-open", "/usr/bin/open"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let opener else {
            print("no browser opener (xdg-open) found: open the URL above yourself")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opener)
        process.arguments = [url]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        if (try? process.run()) == nil { print("could not start \(opener): open the URL above yourself") }
    }
}
