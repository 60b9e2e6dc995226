// Small projects to label, built in a temporary folder from two real frames of LP's mirror-mouse example, and a
// server started on a free port.
import Foundation
import KinemaTestSupport
import Labelling
import PoseData

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

enum Fixture {
    /// Two real frames (396 × 406 grey PNGs) of the mirror-mouse example.
    static let frames = ["img00.png", "img01.png"].map { TestFiles.data.appendingPathComponent("mirror-mouse-example/labeled-data/\($0)") }

    /// A Kinema/LP project: keypoints nose, paw, tail (skeleton nose-paw, paw-tail), the two frames as
    /// `labeled-data/vid/img00.png`, `img01.png`.
    static func kinemaProject(_ name: String) throws -> URL {
        let root = try TestFiles.temporaryDirectory(name)
        try """
        data:
          data_dir: .
          video_dir: videos
          csv_file: CollectedData.csv
          keypoint_names: [nose, paw, tail]
          skeleton: [[nose, paw], [paw, tail]]
        """.write(to: root.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        try addFrames(to: root, video: "vid")
        return root
    }

    /// A DeepLabCut project (scorer `Ana`, bodyparts snout, leftear, rightear, tailbase: those of the pandas-written
    /// fixtures) with the frames of video `trial1` named as in those fixtures.
    static func deepLabCutProject(_ name: String) throws -> URL {
        let root = try TestFiles.temporaryDirectory(name)
        try """
        Task: reach
        scorer: Ana
        date: Dec7
        multianimalproject: false
        bodyparts:
        - snout
        - leftear
        - rightear
        - tailbase
        skeleton:
        - - snout
          - tailbase
        iteration: 0
        """.write(to: root.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        try addFrames(to: root, video: "trial1", names: ["img003.png", "img017.png"])
        return root
    }

    static func addFrames(to root: URL, video: String, names: [String] = ["img00.png", "img01.png"]) throws {
        let folder = root.appendingPathComponent("labeled-data/\(video)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (source, name) in zip(frames, names) { try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent(name)) }
    }

    static func remove(_ url: URL) { try? FileManager.default.removeItem(at: url) }
}

/// A server running in a task, on a free port of 127.0.0.1.
struct RunningServer {
    var url: String
    var base: String
    var token: String
    var task: Task<Void, any Error>

    static func start(_ store: LabelStore) async throws -> RunningServer {
        let server = LabelServer(store: store)
        let (urls, continuation) = AsyncStream<String>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await server.run(host: "127.0.0.1", port: 0, handleSignals: false) { continuation.yield($0) }
        }
        for await url in urls {
            let base = String(url[..<url.range(of: "/?token=")!.lowerBound])
            return RunningServer(url: url, base: base, token: server.token, task: task)
        }
        _ = try await task.value
        throw CancellationError()
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// One HTTP exchange through URLSession: status and body.
func http(_ method: String, _ url: String, token: String? = nil, body: Data? = nil) async throws -> (status: Int, body: Data) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.httpBody = body
    if let token { request.setValue(token, forHTTPHeaderField: "X-Kinema-Token") }
    let (data, response) = try await exchange(request, within: 20)
    return ((response as? HTTPURLResponse)?.statusCode ?? -1, data)
}

/// One request that answers or fails within `seconds`, whatever the peer does: our own timer resumes the caller and
/// cancels the request, so a peer that never answers (a stuck chromedriver) fails the test instead of hanging it.
func exchange(_ request: URLRequest, within seconds: Double) async throws -> (Data, URLResponse) {
    let once = Once()
    let what = "\(request.httpMethod ?? "GET") \(request.url?.path ?? "")"
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            let task = boundedSession.dataTask(with: request) { data, response, error in
                if let data, let response {
                    once.finish(.success((data, response)))
                } else {
                    once.finish(.failure(ExchangeFailure("\(what): \(error.map { "\($0)" } ?? "no answer")")))
                }
            }
            once.start(continuation) { task.cancel() }
            task.resume()
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                once.finish(.failure(ExchangeFailure("\(what): no answer within \(Int(seconds)) s")))
            }
        }
    } onCancel: {
        once.finish(.failure(CancellationError()))
    }
}

private let boundedSession: URLSession = {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 30
    configuration.timeoutIntervalForResource = 60
    return URLSession(configuration: configuration)
}()

/// Resumes the caller once, with whichever comes first (the answer, the timer, cancellation), then cancels the
/// request. Cancellation may come before `start`: the result then waits for the continuation.
private final class Once: @unchecked Sendable {
    typealias Answer = Result<(Data, URLResponse), any Error>
    private let lock = NSLock()
    private var continuation: CheckedContinuation<(Data, URLResponse), any Error>?
    private var cancel: (@Sendable () -> Void)?
    private var answer: Answer?

    func start(_ continuation: CheckedContinuation<(Data, URLResponse), any Error>, cancel: @escaping @Sendable () -> Void) {
        let early: Answer? = lock.withLock {
            if answer == nil {
                self.continuation = continuation
                self.cancel = cancel
            }
            return answer
        }
        if let early {
            cancel()
            continuation.resume(with: early)
        }
    }

    func finish(_ result: Answer) {
        let (waiting, cancel): (CheckedContinuation<(Data, URLResponse), any Error>?, (@Sendable () -> Void)?) = lock.withLock {
            guard answer == nil else { return (nil, nil) }
            answer = result
            defer { continuation = nil; self.cancel = nil }
            return (continuation, self.cancel)
        }
        waiting?.resume(with: result)
        cancel?()
    }
}

struct ExchangeFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Fixture {
    /// A two-camera project (views top and bot, one CSV per view, 11 keypoints) from PoseData's synthetic scene:
    /// `labeled-data/top/img000<i>.png` and `labeled-data/bot/img000<i>.png` for i = 0, 1, 2, with no labels yet and
    /// view bot's img0002.png missing.
    static func twoViewProject(_ name: String) throws -> URL {
        let root = try TestFiles.temporaryDirectory(name)
        _ = try SyntheticProject.writeTwoViews(to: root.path, labeledFrames: 3, videoFrames: 2)
        for file in ["top.csv", "bot.csv", "labeled-data/bot/img0002.png"] {
            try FileManager.default.removeItem(at: root.appendingPathComponent(file))
        }
        return root
    }
}
