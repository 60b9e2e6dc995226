// The labelling app's HTTP server: the page, a project's frames and their labels, on loopback, behind a token.
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Serves one project to the browser. The API is four calls, each needing the session's token (as `token=` in
/// the query or the `X-Kinema-Token` header; anything else gets 403):
/// `GET /api/project` (keypoints, skeleton, colours, videos, their frames and which are labelled; in a multi-camera
/// project also the views, each instant's frame per view, and what did not match up), `GET /api/image?frame=F`
/// (the PNG), `GET /api/labels?frame=F` (saved and machine labels) and `PUT /api/labels?frame=F` (`{"points":
/// [[x, y] or null, ...]}`, saved at once). `GET /?token=` is the page; its script and style sheet hold no data and
/// are served to anyone. A frame `F` must be one of the project's frames and stay inside it once links are followed.
public struct LabelServer: Sendable {
    public let store: LabelStore
    /// The session's secret: 128 random bits as 32 hex digits.
    public let token: String

    public init(store: LabelStore, token: String = LabelServer.newToken()) {
        self.store = store
        self.token = token
    }

    /// A new random token from the system's generator (getrandom).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let word = String(UInt32.random(in: 0...UInt32.max, using: &generator), radix: 16)
            return String(repeating: "0", count: 8 - word.count) + word
        }.joined()
    }

    /// Listens on `host:port` (0: a free port) and serves until the task is cancelled, or, with `handleSignals`,
    /// until Ctrl-C; `ready` gets the page's URL (with the token) once the socket listens.
    public func run(host: String, port: Int, handleSignals: Bool, ready: @escaping @Sendable (String) async -> Void)
        async throws(LabellingError)
    {
        let web = try Self.webFiles()
        var logger = Logger(label: "kinema-label")
        logger.logLevel = .critical  // the terminal shows the URL and the app's own lines, not the server's
        let server = self
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let body = request.method == .put ? Array((try? await request.collectBody(upTo: 1 << 20))?.readableBytesView ?? []) : []
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            let reply = await server.respond(
                method: request.method.rawValue, path: request.uri.path, query: query,
                headerToken: request.headers[.init("X-Kinema-Token")!], body: body, web: web)
            var headers = HTTPFields()
            headers[.contentType] = reply.type
            headers[.cacheControl] = "no-store"
            headers[.init("X-Content-Type-Options")!] = "nosniff"
            headers[.init("Referrer-Policy")!] = "no-referrer"
            headers[.init("Content-Security-Policy")!] = "default-src 'self'"
            return Response(
                status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        let app = Application(
            responder: responder, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                let shownHost = host.contains(":") ? "[\(host)]" : host
                await ready("http://\(shownHost):\(bound)/?token=\(server.token)")
            }, logger: logger)
        do {
            if handleSignals { try await app.runService() } else { try await app.run() }
        } catch is CancellationError {
        } catch {
            // NIO says e.g. "bind(descriptor:ptr:bytes:): Address already in use (errno: 98)": keep the words.
            var reason = "\(error)"
            if let colon = reason.range(of: "): ") { reason = String(reason[colon.upperBound...]) }
            throw .cannotListen(address: "\(host):\(port)", reason: reason)
        }
    }

    // MARK: - Requests

    /// An answer: status, content type, bytes.
    struct Reply {
        var status: Int
        var type: String
        var body: [UInt8]

        static func json(_ value: some Encodable) -> Reply {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return Reply(status: 200, type: "application/json", body: Array((try? encoder.encode(value)) ?? Data()))
        }
        static func error(_ error: LabellingError) -> Reply {
            Reply(status: error.status, type: "text/plain; charset=utf-8", body: Array((error.description + "\n").utf8))
        }
    }

    /// Everything the server does, as one function of the request (the HTTP layer only converts).
    func respond(
        method: String, path: String, query: [String: String], headerToken: String?, body: [UInt8], web: WebFiles
    ) async -> Reply {
        switch (method, path) {
        case ("GET", "/app.js"): return Reply(status: 200, type: "text/javascript; charset=utf-8", body: web.script)
        case ("GET", "/style.css"): return Reply(status: 200, type: "text/css; charset=utf-8", body: web.style)
        default: break
        }
        guard Self.same(headerToken ?? query["token"] ?? "", token) else { return .error(.badToken) }
        let frame = query["frame"] ?? ""
        do throws(LabellingError) {
            switch (method, path) {
            case ("GET", "/"), ("GET", "/index.html"):
                return Reply(status: 200, type: "text/html; charset=utf-8", body: web.page)
            case ("GET", "/api/project"):
                return .json(await projectInfo())
            case ("GET", "/api/image"):
                let file = try store.project.frameFile(frame)
                guard let data = FileManager.default.contents(atPath: file) else {
                    return Reply(status: 404, type: "text/plain; charset=utf-8", body: Array("\(frame): no such frame\n".utf8))
                }
                return Reply(status: 200, type: "image/png", body: Array(data))
            case ("GET", "/api/labels"):
                let saved = try await store.labels(frame: frame)
                let machine = try await store.machineLabels(frame: frame)
                return .json(FrameLabels(frame: frame, points: saved, machine: machine))
            case ("PUT", "/api/labels"):
                let sent: SentLabels
                do { sent = try JSONDecoder().decode(SentLabels.self, from: Data(body)) } catch {
                    throw .badRequest(reason: "the body is not {\"points\": [[x, y] or null, ...]}")
                }
                try await store.save(frame: frame, points: sent.points)
                return .json(Saved(frame: frame))
            default:
                return Reply(status: 404, type: "text/plain; charset=utf-8", body: Array("\(method) \(path): no such page\n".utf8))
            }
        } catch {
            return .error(error)
        }
    }

    /// Compares in time independent of where the strings differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    // MARK: - Messages

    struct ProjectInfo: Encodable {
        struct Video: Encodable {
            var name: String
            var frames: [String]
            /// Per frame: has it a row in the label file?
            var labelled: [Bool]
            /// Multi-camera projects: per instant, each view's frame (null where that view lacks it); else empty.
            var views: [[String?]]
        }
        var name: String
        var layout: LabelProject.Layout
        var labelFiles: [String]
        var keypoints: [String]
        var skeleton: [[Int]]
        var colours: [Int]
        var videos: [Video]
        /// Multi-camera projects: the view names and one line per frame or folder that does not match up.
        var views: [String]
        var unmatched: [String]
    }

    struct FrameLabels: Encodable {
        var frame: String
        var points: FramePoints?
        var machine: FramePoints?
    }

    struct SentLabels: Decodable {
        var points: FramePoints
    }

    struct Saved: Encodable {
        var frame: String
    }

    func projectInfo() async -> ProjectInfo {
        let project = store.project
        let labelled = await store.labelledFrames()
        return ProjectInfo(
            name: project.name, layout: project.layout,
            labelFiles: project.labelFiles.map { $0.hasPrefix(project.root + "/") ? String($0.dropFirst(project.root.count + 1)) : $0 },
            keypoints: project.keypoints, skeleton: project.skeleton, colours: project.colours,
            videos: zip(project.videos, labelled).map {
                ProjectInfo.Video(name: $0.name, frames: $0.frames, labelled: $1, views: $0.views)
            }, views: project.cameraViews, unmatched: project.unmatched)
    }

    // MARK: - The page

    /// The page, its script and its style sheet (SwiftPM resources of this target, read once).
    struct WebFiles: Sendable {
        var page: [UInt8]
        var script: [UInt8]
        var style: [UInt8]
    }

    static func webFiles() throws(LabellingError) -> WebFiles {
        // The resource bundle sits beside the executable; Bundle.module also knows the build folder.
        let beside = Bundle.main.bundleURL.appendingPathComponent("Kinema_Labelling.resources")
        let bundle = FileManager.default.fileExists(atPath: beside.path) ? Bundle(url: beside) ?? Bundle.module : Bundle.module
        let folder = (bundle.resourceURL ?? bundle.bundleURL).appendingPathComponent("Web")
        func read(_ name: String) throws(LabellingError) -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                throw .missingAppFile(path: folder.appendingPathComponent(name).path)
            }
            return Array(data)
        }
        return WebFiles(page: try read("index.html"), script: try read("app.js"), style: try read("style.css"))
    }
}
