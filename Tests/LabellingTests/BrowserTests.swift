// The labelling app in a real browser: Debian's headless Chromium driven through chromedriver (W3C WebDriver).
import Foundation
import KinemaTestSupport
import Labelling
import PoseFormats
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Label app in headless Chromium", .serialized)
struct BrowserTests {
    static let chromium = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(TestFiles.tool).first
    static let driver = TestFiles.tool("chromedriver")

    @Test(
        "Click 3 keypoints on 2 frames, drag one, mark one not visible, reload: the CSV holds them to 0.5 px",
        .enabled(
            if: chromium != nil && driver != nil, "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"),
        .timeLimit(.minutes(2)))
    func labelsInBrowser() async throws {
        let root = try Fixture.kinemaProject("browser")
        defer { Fixture.remove(root) }
        let server = try await RunningServer.start(try LabelStore(project: LabelProject.open(root.path)))
        defer { Task { await server.stop() } }
        let browser = try await WebDriver.start(driver: Self.driver!, chromium: Self.chromium!)
        defer { browser.quit() }

        try await browser.open(server.url)
        try await browser.waitUntil("kinema.idle() && kinema.state.frame === 0")
        // Frame img00: nose, paw, tail by clicking (each click places the selected keypoint and selects the next).
        let first: [[Double]] = [[100, 120], [200, 150], [300, 250]]
        for point in first { try await browser.click(at: try await browser.client(point)) }
        try await browser.waitUntil("kinema.idle() && kinema.state.points.every(p => p)")
        // Drag the paw to (220.5, 170.25).
        let paw: [Double] = [220.5, 170.25]
        try await browser.drag(from: try await browser.client(first[1]), to: try await browser.client(paw))
        try await browser.waitUntil("kinema.idle()")
        // Next frame (→), three more clicks; the tail, selected last, is then marked not visible (v).
        try await browser.press(WebDriver.arrowRight)
        try await browser.waitUntil("kinema.idle() && kinema.state.frame === 1")
        let second: [[Double]] = [[50.25, 60.75], [150, 160], [250, 360]]
        for point in second { try await browser.click(at: try await browser.client(point)) }
        try await browser.waitUntil("kinema.idle() && kinema.state.current === 2 && kinema.state.points[2] !== null")
        try await browser.press("v")
        try await browser.waitUntil("kinema.idle() && kinema.state.points[2] === null")

        try await browser.reload()
        try await browser.waitUntil("kinema.idle()")
        let shown = try await browser.run("return [kinema.state.frame, kinema.state.points]") as? [Any]
        #expect(shown?.first as? Int == 0)  // every frame labelled: the page opens the first

        let table = try PoseTable.read(from: root.appendingPathComponent("CollectedData.csv"))
        #expect(table.rowKeys == ["labeled-data/vid/img00.png", "labeled-data/vid/img01.png"])
        let expected: [[Double]?] = [first[0], paw, first[2], second[0], second[1], nil]
        for (i, want) in expected.enumerated() {
            let x = table.values[2 * i], y = table.values[2 * i + 1]
            if let want {
                #expect(
                    abs(x - want[0]) <= 0.5 && abs(y - want[1]) <= 0.5, "keypoint \(i % 3) of frame \(i / 3): (\(x), \(y)), wanted \(want)")
            } else {
                #expect(x.isNaN && y.isNaN, "frame 1's tail is marked not visible")
            }
        }
        // What the reloaded page shows is what was saved.
        let points = (shown?.last as? [Any])?.map { $0 as? [Double] }
        #expect(points?[1] == [table.values[2], table.values[3]])

        if let path = ProcessInfo.processInfo.environment["KINEMA_LABEL_SCREENSHOT"] {
            try await browser.run("document.querySelector('#keypoints li:nth-child(2)').click()")
            try await browser.screenshot().write(to: URL(fileURLWithPath: path))
        }
        // Without the token: 403, in the browser as for any client.
        #expect(try await http("GET", server.base + "/").status == 403)
        try await browser.open(server.base + "/api/project")
        #expect((try await browser.run("return document.body.innerText") as? String)?.contains("token is missing or wrong") == true)
    }
}

/// A minimal W3C WebDriver client over URLSession: one chromedriver process, one headless Chromium session.
final class WebDriver: @unchecked Sendable {
    static let arrowRight = "\u{E014}"
    let process: Process
    let base: String
    var session = ""

    private init(process: Process, base: String) {
        self.process = process
        self.base = base
    }

    static func start(driver: String, chromium: String) async throws -> WebDriver {
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: driver)
        process.arguments = ["--port=\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let client = WebDriver(process: process, base: "http://127.0.0.1:\(port)")
        let deadline = Date().addingTimeInterval(20)
        while (try? await client.call("GET", "/status")) == nil {
            guard Date() < deadline else { client.quit(); throw Failure("chromedriver did not answer on port \(port) within 20 s") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let options: [String: Any] = [
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900",
                "--force-device-scale-factor=1",
            ],
        ]
        let answer = try await client.call(
            "POST", "/session", ["capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": options]]])
        guard let id = (answer as? [String: Any])?["sessionId"] as? String else { client.quit(); throw Failure("no session: \(answer)") }
        client.session = "/session/\(id)"
        return client
    }

    func quit() {
        if !session.isEmpty {
            let semaphore = DispatchSemaphore(value: 0)
            var request = URLRequest(url: URL(string: base + session)!)
            request.httpMethod = "DELETE"
            URLSession.shared.dataTask(with: request) { _, _, _ in semaphore.signal() }.resume()
            _ = semaphore.wait(timeout: .now() + 10)
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    // MARK: - Commands

    func open(_ url: String) async throws { _ = try await call("POST", session + "/url", ["url": url]) }
    func reload() async throws { _ = try await call("POST", session + "/refresh", [:]) }

    @discardableResult
    func run(_ script: String, _ arguments: [Any] = []) async throws -> Any {
        try await call("POST", session + "/execute/sync", ["script": script, "args": arguments])
    }

    /// Polls `condition` (a JavaScript expression) until it is true; fails after 15 s with the page's status line.
    func waitUntil(_ condition: String) async throws {
        let deadline = Date().addingTimeInterval(15)
        while (try await run("return !!(window.kinema && (\(condition)))")) as? Bool != true {
            guard Date() < deadline else {
                let status = try await run("return document.getElementById('status').textContent")
                throw Failure("waited 15 s for \(condition); the page says: \(status)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The viewport position of an image point, rounded to whole pixels (WebDriver moves the pointer by pixels).
    func client(_ point: [Double]) async throws -> (Int, Int) {
        let xy = try await run("return kinema.imageToClient(arguments[0], arguments[1])", point) as? [Double] ?? []
        return (Int(xy[0].rounded()), Int(xy[1].rounded()))
    }

    func click(at point: (Int, Int)) async throws {
        try await pointer([move(point), ["type": "pointerDown", "button": 0], ["type": "pointerUp", "button": 0]])
    }

    func drag(from: (Int, Int), to: (Int, Int)) async throws {
        let halfway = ((from.0 + to.0) / 2, (from.1 + to.1) / 2)
        try await pointer([
            move(from), ["type": "pointerDown", "button": 0], move(halfway, duration: 100), move(to, duration: 100),
            ["type": "pointerUp", "button": 0],
        ])
    }

    func press(_ key: String) async throws {
        _ = try await call(
            "POST", session + "/actions",
            [
                "actions": [
                    ["type": "key", "id": "keyboard", "actions": [["type": "keyDown", "value": key], ["type": "keyUp", "value": key]]]
                ]
            ])
    }

    func screenshot() async throws -> Data {
        guard let text = try await call("GET", session + "/screenshot") as? String, let data = Data(base64Encoded: text) else {
            throw Failure("no screenshot")
        }
        return data
    }

    private func move(_ point: (Int, Int), duration: Int = 0) -> [String: Any] {
        ["type": "pointerMove", "origin": "viewport", "x": point.0, "y": point.1, "duration": duration]
    }

    private func pointer(_ actions: [[String: Any]]) async throws {
        _ = try await call(
            "POST", session + "/actions",
            ["actions": [["type": "pointer", "id": "mouse", "parameters": ["pointerType": "mouse"], "actions": actions]]])
    }

    /// One WebDriver command: its `value`, or the driver's error as a test failure.
    private func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed) as? [String: Any]
        let value = json?["value"] ?? NSNull()
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw Failure("\(method) \(path): \(value)") }
        return value
    }

    /// A TCP port nobody listens on now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
