import Foundation
import KinemaTestSupport
import Labelling
import PoseFormats
import Testing

@Suite("Label server: the token, the path checks and the API through real HTTP on a free port", .serialized)
struct LabelServerTests {
    @Test("Every call without the session's token gets 403; the page's script and style are public")
    func requiresToken() async throws {
        let root = try Fixture.kinemaProject("server-token")
        defer { Fixture.remove(root) }
        let server = try await RunningServer.start(try LabelStore(project: LabelProject.open(root.path)))
        defer { Task { await server.stop() } }
        #expect(server.url.hasPrefix("http://127.0.0.1:"))
        #expect(server.token.count == 32 && server.token.allSatisfy(\.isHexDigit))

        let frame = "labeled-data/vid/img00.png"
        for path in ["/", "/api/project", "/api/image?frame=\(frame)", "/api/labels?frame=\(frame)", "/nowhere"] {
            #expect(try await http("GET", server.base + path).status == 403, "\(path) without a token")
            #expect(
                try await http("GET", server.base + path, token: (server.token.first == "0" ? "1" : "0") + server.token.dropFirst()).status
                    == 403, "\(path) with a wrong token")
        }
        let put = try await http("PUT", server.base + "/api/labels?frame=\(frame)", body: Data(#"{"points":[null,null,null]}"#.utf8))
        #expect(put.status == 403)
        #expect(String(decoding: put.body, as: UTF8.self).contains("token is missing or wrong"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("CollectedData.csv").path))

        #expect(try await http("GET", server.url).status == 200)  // the printed URL
        #expect(try await http("GET", server.base + "/api/project?token=\(server.token)").status == 200)
        #expect(try await http("GET", server.base + "/app.js").status == 200)
        #expect(try await http("GET", server.base + "/style.css").status == 200)
    }

    @Test("Frames outside the project, or not its frames, are refused with 403: '..', absolute paths, symbolic links out")
    func refusesPaths() async throws {
        let root = try Fixture.kinemaProject("server-paths")
        let outside = try TestFiles.temporaryDirectory("server-paths-outside")
        defer { Fixture.remove(root); Fixture.remove(outside) }
        try Data("secret".utf8).write(to: outside.appendingPathComponent("secret.png"))
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("labeled-data/vid/img02.png"), withDestinationURL: outside.appendingPathComponent("secret.png"))
        let server = try await RunningServer.start(try LabelStore(project: LabelProject.open(root.path)))
        defer { Task { await server.stop() } }

        for frame in ["../config.yaml", "labeled-data/vid/../../config.yaml", "/etc/passwd", "config.yaml", "labeled-data/vid/img02.png"] {
            let encoded = frame.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let image = try await http("GET", server.base + "/api/image?frame=\(encoded)", token: server.token)
            #expect(image.status == 403, "\(frame)")
            #expect(!String(decoding: image.body, as: UTF8.self).contains("secret"))
            let put = try await http(
                "PUT", server.base + "/api/labels?frame=\(encoded)", token: server.token, body: Data(#"{"points":[null,null,null]}"#.utf8))
            #expect(put.status == 403, "\(frame)")
        }
        let image = try await http("GET", server.base + "/api/image?frame=labeled-data/vid/img01.png", token: server.token)
        #expect(image.status == 200)
        #expect(image.body == (try Data(contentsOf: root.appendingPathComponent("labeled-data/vid/img01.png"))))
    }

    @Test("PUT saves a frame into CollectedData.csv at once; GET returns it; bad bodies are 400 and change nothing")
    func savesThroughHTTP() async throws {
        let root = try Fixture.kinemaProject("server-save")
        defer { Fixture.remove(root) }
        let server = try await RunningServer.start(try LabelStore(project: LabelProject.open(root.path)))
        defer { Task { await server.stop() } }
        let labels = server.base + "/api/labels?frame=labeled-data%2Fvid%2Fimg01.png"
        let put = try await http("PUT", labels, token: server.token, body: Data(#"{"points":[[12.5,40.25],null,[3,4]]}"#.utf8))
        #expect(put.status == 200)
        let table = try PoseTable.read(from: root.appendingPathComponent("CollectedData.csv"))
        #expect(table.rowKeys == ["labeled-data/vid/img01.png"])
        #expect(table.values.map { $0.isNaN ? -1 : $0 } == [12.5, 40.25, -1, -1, 3, 4])

        let got = try await http("GET", labels, token: server.token)
        let json = try JSONSerialization.jsonObject(with: got.body) as? [String: Any]
        #expect((json?["points"] as? [Any])?.count == 3)
        #expect(((json?["points"] as? [Any])?[0] as? [Double]) == [12.5, 40.25])

        let before = try Data(contentsOf: root.appendingPathComponent("CollectedData.csv"))
        for body in [#"{"points":[[1,2]]}"#, "not json", #"{"points":[[1,2,3],null,null]}"#] {
            #expect(try await http("PUT", labels, token: server.token, body: Data(body.utf8)).status == 400, "\(body)")
        }
        #expect(try Data(contentsOf: root.appendingPathComponent("CollectedData.csv")) == before)

        let info = try await http("GET", server.base + "/api/project", token: server.token)
        let project = try JSONSerialization.jsonObject(with: info.body) as? [String: Any]
        #expect(project?["keypoints"] as? [String] == ["nose", "paw", "tail"])
        let videos = project?["videos"] as? [[String: Any]]
        #expect(videos?.first?["labelled"] as? [Bool] == [false, true])
    }

    @Test("A port already in use is one line naming the address")
    func portInUse() async throws {
        let root = try Fixture.kinemaProject("server-port")
        defer { Fixture.remove(root) }
        let store = try LabelStore(project: LabelProject.open(root.path))
        let first = try await RunningServer.start(store)
        defer { Task { await first.stop() } }
        let port = Int(first.base.split(separator: ":").last!)!
        do {
            try await LabelServer(store: store).run(host: "127.0.0.1", port: port, handleSignals: false) { _ in }
            Issue.record("a second server listened on the same port")
        } catch {
            #expect(error.description.hasPrefix("cannot listen on 127.0.0.1:\(port) ("))
            #expect(error.description.contains("in use"))
        }
    }
}
