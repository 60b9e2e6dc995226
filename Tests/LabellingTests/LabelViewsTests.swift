import Foundation
import KinemaTestSupport
import Labelling
import PoseData
import PoseFormats
import Testing

/// A multi-camera project (data.view_names, one CSV per view): frames grouped by instant, each view's labels in its
/// own CSV with the same rows in the same order, read back by the training loader.
@Suite("Label app on a two-camera project: instants, one CSV per view, read back by LabeledDataset", .serialized)
struct LabelViewsTests {
    static let keypoints = SyntheticAnimalScene.keypointNames

    /// Distinct points per view and frame, keypoint 3 not visible; quarter pixels are exact in the CSV.
    static func points(_ base: Double) -> FramePoints {
        keypoints.indices.map { k in k == 3 ? nil : [base + Double(k) * 2.25, base / 2 + Double(k) * 1.5] }
    }

    static func body(_ points: FramePoints) -> Data {
        Data(("{\"points\":[" + points.map { p in p.map { "[\($0[0]),\($0[1])]" } ?? "null" }.joined(separator: ",") + "]}").utf8)
    }

    static func flat(_ points: FramePoints) -> [Double] { points.flatMap { $0 ?? [.nan, .nan] } }

    static func same(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 }
    }

    @Test("Frames are grouped by instant across views; a frame missing in one view is said, at start and in /api/project")
    func groupsInstants() async throws {
        let root = try Fixture.twoViewProject("views-instants")
        defer { Fixture.remove(root) }
        let project = try LabelProject.open(root.path)
        #expect(project.cameraViews == ["top", "bot"])
        #expect(project.labelFiles.map { ($0 as NSString).lastPathComponent } == ["top.csv", "bot.csv"])
        #expect(project.videos.count == 1 && project.videos[0].name == "")
        let top = (0..<3).map { "labeled-data/top/img000\($0).png" }, bot = (0..<2).map { "labeled-data/bot/img000\($0).png" }
        #expect(project.videos[0].frames == top)
        #expect(project.videos[0].views == [[top[0], bot[0]], [top[1], bot[1]], [top[2], nil]])
        #expect(
            project.unmatched == ["img0002.png: only in view top, missing in bot (extract it from that camera's video before labelling it)"]
        )

        let server = try await RunningServer.start(try LabelStore(project: project))
        defer { Task { await server.stop() } }
        let info = try await http("GET", server.base + "/api/project", token: server.token)
        let json = try JSONSerialization.jsonObject(with: info.body) as? [String: Any]
        #expect(json?["views"] as? [String] == ["top", "bot"])
        #expect((json?["unmatched"] as? [String])?.first?.contains("missing in bot") == true)
        #expect(json?["labelFiles"] as? [String] == ["top.csv", "bot.csv"])
        let video = (json?["videos"] as? [[String: Any]])?.first
        let views = video?["views"] as? [[Any]]
        #expect(views?.count == 3 && views?[0] as? [String] == [top[0], bot[0]])
        #expect(views?[2][0] as? String == top[2] && views?[2][1] is NSNull)
        #expect(video?["labelled"] as? [Bool] == [false, false, false])
    }

    @Test("PUT both views of two instants: each view's CSV holds its labels, the same rows in order; training reads them back")
    func savesEachViewToItsCSV() async throws {
        let root = try Fixture.twoViewProject("views-save")
        defer { Fixture.remove(root) }
        let server = try await RunningServer.start(try LabelStore(project: LabelProject.open(root.path)))
        defer { Task { await server.stop() } }
        func put(_ frame: String, _ points: FramePoints) async throws -> (status: Int, body: Data) {
            let encoded = frame.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            return try await http("PUT", server.base + "/api/labels?frame=\(encoded)", token: server.token, body: Self.body(points))
        }
        let topCSV = root.appendingPathComponent("top.csv"), botCSV = root.appendingPathComponent("bot.csv")

        // The first save of an instant gives every view's CSV its row (NaN in the views not labelled yet).
        let top1 = Self.points(30), bot1 = Self.points(10), bot0 = Self.points(20), top0 = Self.points(2.5)
        #expect(try await put("labeled-data/top/img0001.png", top1).status == 200)
        var top = try PoseTable.read(from: topCSV), bot = try PoseTable.read(from: botCSV)
        #expect(top.rowKeys == ["labeled-data/top/img0001.png"] && bot.rowKeys == ["labeled-data/bot/img0001.png"])
        #expect(Self.same(top.values, Self.flat(top1)) && bot.values.allSatisfy(\.isNaN))

        // The other view, then an earlier instant (bot first this time): it goes before, in both files.
        #expect(try await put("labeled-data/bot/img0001.png", bot1).status == 200)
        #expect(try await put("labeled-data/bot/img0000.png", bot0).status == 200)
        #expect(try await put("labeled-data/top/img0000.png", top0).status == 200)
        top = try PoseTable.read(from: topCSV)
        bot = try PoseTable.read(from: botCSV)
        #expect(top.rowKeys == ["labeled-data/top/img0000.png", "labeled-data/top/img0001.png"])
        #expect(bot.rowKeys == ["labeled-data/bot/img0000.png", "labeled-data/bot/img0001.png"])
        #expect(Self.same(top.values, Self.flat(top0) + Self.flat(top1)))
        #expect(Self.same(bot.values, Self.flat(bot0) + Self.flat(bot1)))
        // LP's layout: three header lines with the project's keypoints, x and y; image-path row keys.
        for file in [topCSV, botCSV] {
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.count == 5)
            #expect(lines[0] == "scorer" + String(repeating: ",kinema", count: 2 * Self.keypoints.count))
            #expect(lines[1] == "bodyparts," + Self.keypoints.map { "\($0),\($0)" }.joined(separator: ","))
            #expect(lines[2] == "coords" + String(repeating: ",x,y", count: Self.keypoints.count))
        }

        // An instant without bot's image cannot get a row in bot.csv: refused, nothing written.
        let before = try [Data(contentsOf: topCSV), Data(contentsOf: botCSV)]
        let refused = try await put("labeled-data/top/img0002.png", top0)
        #expect(refused.status == 409)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("no image in view bot"))
        #expect(try [Data(contentsOf: topCSV), Data(contentsOf: botCSV)] == before)

        // What the page reads back.
        let got = try await http("GET", server.base + "/api/labels?frame=labeled-data%2Fbot%2Fimg0000.png", token: server.token)
        let json = try JSONSerialization.jsonObject(with: got.body) as? [String: Any]
        #expect((json?["points"] as? [Any])?.first as? [Double] == bot0[0])
        let info = try JSONSerialization.jsonObject(with: try await http("GET", server.base + "/api/project", token: server.token).body)
        #expect(((info as? [String: Any])?["videos"] as? [[String: Any]])?.first?["labelled"] as? [Bool] == [true, true, false])

        // The training loader: two instants, keypoints view after view, each view's own coordinates.
        let dataset = try LabeledDataset.load(project: PoseProject.load(configPath: root.appendingPathComponent("config.yaml").path))
        #expect(dataset.viewNames == ["top", "bot"] && dataset.count == 2 && dataset.keypointNames == Self.keypoints)
        #expect(Self.same(dataset.frames[0].keypoints, Self.flat(top0) + Self.flat(bot0)))
        #expect(Self.same(dataset.frames[1].keypoints, Self.flat(top1) + Self.flat(bot1)))
        #expect(dataset.frames.allSatisfy { $0.views?.count == 2 })
    }

    @Test("Folders that name no view are said, not silently dropped")
    func foldersNamingNoView() throws {
        let root = try Fixture.twoViewProject("views-unnamed")
        defer { Fixture.remove(root) }
        for (from, to) in [("top", "cam1"), ("bot", "cam2")] {
            try FileManager.default.moveItem(
                at: root.appendingPathComponent("labeled-data/\(from)"), to: root.appendingPathComponent("labeled-data/\(to)"))
        }
        let project = try LabelProject.open(root.path)
        #expect(project.videos.isEmpty)
        #expect(
            project.unmatched == [
                "labeled-data/cam1/: 3 frame(s) left out: the folder's name holds none of the views top, bot (or several); name it <session>_<view>",
                "labeled-data/cam2/: 2 frame(s) left out: the folder's name holds none of the views top, bot (or several); name it <session>_<view>",
            ])
        #expect(
            LabellingError.noViewFrames(project: "rig", reason: project.unmatched[0]).description
                == "rig: no frames to label in any camera view: \(project.unmatched[0])")
    }

    @Test("View CSVs that do not hold the same instants row by row are refused at start, in one line; nothing is written")
    func mismatchedViewsAreRefused() async throws {
        let root = try Fixture.twoViewProject("views-mismatch")
        defer { Fixture.remove(root) }
        func write(_ file: String, _ keys: [String]) throws {
            let table = try PoseTable(
                scorer: "ana", keypoints: Self.keypoints, coords: ["x", "y"], rowKeys: keys, indexStyle: .imagePath,
                values: [Double](repeating: 5, count: keys.count * 2 * Self.keypoints.count))
            try table.write(to: root.appendingPathComponent(file))
        }
        try write("top.csv", ["labeled-data/top/img0000.png"])
        do {
            _ = try LabelStore(project: LabelProject.open(root.path))
            Issue.record("a bot.csv missing the top view's row was accepted")
        } catch {
            let line = "\(error)"
            #expect(line.contains("bot.csv: view bot has 0 labelled frames but view top has 1 ("), "\(line)")
            #expect(
                line.hasSuffix(
                    "top.csv): row n of every view's CSV must be the same instant (same image file name); put the rows in the same order (nothing was changed)"
                ), "\(line)")
        }
        try write("bot.csv", ["labeled-data/bot/img0001.png"])
        let before = try Data(contentsOf: root.appendingPathComponent("bot.csv"))
        do {
            _ = try LabelStore(project: LabelProject.open(root.path))
            Issue.record("rows of different instants were accepted")
        } catch {
            #expect(
                "\(error)".contains("row 1 is labeled-data/bot/img0001.png but row 1 of view top is labeled-data/top/img0000.png"),
                "\(error)")
        }
        #expect(try Data(contentsOf: root.appendingPathComponent("bot.csv")) == before)
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("label-backups").path))

        // The same instants, in the same order: accepted, and shown labelled.
        try write("bot.csv", ["labeled-data/bot/img0000.png"])
        let store = try LabelStore(project: LabelProject.open(root.path))
        #expect(store.project.scorer == "ana")
        #expect(await store.labelledFrames() == [[true, false, false]])
    }
}
