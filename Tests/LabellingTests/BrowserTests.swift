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
        try await WebDriver.session(driver: Self.driver!, chromium: Self.chromium!) { browser in
            try await Self.label(browser, server: server, root: root)
        }
    }

    @Test(
        "Two cameras: click 2 keypoints into each view of an instant; each view's CSV holds its own, to 0.5 px",
        .enabled(
            if: chromium != nil && driver != nil, "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"),
        .timeLimit(.minutes(2)))
    func labelsTwoViewsInBrowser() async throws {
        let root = try Fixture.twoViewProject("browser-views")
        defer { Fixture.remove(root) }
        let server = try await RunningServer.start(try LabelStore(project: LabelProject.open(root.path)))
        defer { Task { await server.stop() } }
        try await WebDriver.session(driver: Self.driver!, chromium: Self.chromium!) { browser in
            try await browser.open(server.url)
            try await browser.waitUntil("kinema.idle() && kinema.state.frame === 0 && kinema.state.panes.length === 2")
            // The instant missing in view bot is said on the page.
            let said = try await browser.run("return document.getElementById('unmatched').textContent") as? String
            #expect(said?.contains("img0002.png: only in view top, missing in bot") == true, "\(said ?? "")")
            // Keypoints 0 and 1 in view top, then in view bot (a click in a view labels that view).
            let top: [[Double]] = [[10.25, 20.5], [30, 40]], bot: [[Double]] = [[50, 12.75], [8, 55]]
            for point in top { try await browser.click(at: try await browser.client(point, pane: 0)) }
            try await browser.waitUntil("kinema.idle() && kinema.state.active === 0 && kinema.state.current === 2")
            for point in bot { try await browser.click(at: try await browser.client(point, pane: 1)) }
            try await browser.waitUntil("kinema.idle() && kinema.state.active === 1 && kinema.state.current === 2")
            try await browser.press("1")
            try await browser.waitUntil("kinema.state.active === 0")
            if let path = ProcessInfo.processInfo.environment["KINEMA_LABEL_VIEWS_SCREENSHOT"] {
                try await browser.screenshot().write(to: URL(fileURLWithPath: path))
            }

            for (file, key, want) in [("top.csv", "labeled-data/top/img0000.png", top), ("bot.csv", "labeled-data/bot/img0000.png", bot)] {
                let table = try PoseTable.read(from: root.appendingPathComponent(file))
                #expect(table.rowKeys == [key], "\(file)")
                for (k, point) in want.enumerated() {
                    let x = table.values[2 * k], y = table.values[2 * k + 1]
                    #expect(abs(x - point[0]) <= 0.5 && abs(y - point[1]) <= 0.5, "\(file) keypoint \(k): (\(x), \(y)), wanted \(point)")
                }
                #expect(table.values.dropFirst(4).allSatisfy { $0.isNaN }, "\(file): the other keypoints are not labelled")
            }
        }
    }

    static func label(_ browser: WebDriver, server: RunningServer, root: URL) async throws {
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
            // A smaller window keeps the PNG in the docs under 200 KB; the page refits on resize.
            let width = try await browser.run("return document.getElementById('view').clientWidth") as? Int ?? 0
            _ = try await browser.call("POST", browser.session + "/window/rect", ["width": 1000, "height": 760])
            try await browser.waitUntil(
                "(c => c.clientWidth !== \(width) && c.width === c.clientWidth)(document.getElementById('view'))")
            try await browser.screenshot().write(to: URL(fileURLWithPath: path))
        }
        // Without the token: 403, in the browser as for any client.
        #expect(try await http("GET", server.base + "/").status == 403)
        try await browser.open(server.base + "/api/project")
        #expect((try await browser.run("return document.body.innerText") as? String)?.contains("token is missing or wrong") == true)
    }
}

/// A minimal W3C WebDriver client: one chromedriver process, one headless Chromium session. Nothing in it can hang a
/// test: every command answers within 30 s (`exchange`), every wait is a bounded poll, and `session` always ends the
/// browser and chromedriver, killing them when they do not go.
final class WebDriver: @unchecked Sendable {
    static let arrowRight = "\u{E014}"
    let process: Process
    let base: String
    var session = ""
    var browserProcess: pid_t = 0

    private init(process: Process, base: String) {
        self.process = process
        self.base = base
    }

    /// Runs `body` with a fresh browser, which is ended afterwards whatever happens.
    static func session(driver: String, chromium: String, _ body: (WebDriver) async throws -> Void) async throws {
        let browser = try await start(driver: driver, chromium: chromium)
        do {
            try await body(browser)
        } catch {
            await browser.quit()
            throw error
        }
        await browser.quit()
    }

    private static func start(driver: String, chromium: String) async throws -> WebDriver {
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: driver)
        process.arguments = ["--port=\(port)"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let client = WebDriver(process: process, base: "http://127.0.0.1:\(port)")
        do {
            let deadline = Date().addingTimeInterval(20)
            while true {
                do {
                    _ = try await client.call("GET", "/status", within: 2)
                    break
                } catch {
                    guard process.isRunning else { throw Failure("chromedriver exited at start (status \(process.terminationStatus))") }
                    guard Date() < deadline else { throw Failure("chromedriver did not answer on port \(port) within 20 s: \(error)") }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let options: [String: Any] = [
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900",
                    "--force-device-scale-factor=1", "--disable-crash-reporter",
                ],
            ]
            let capabilities: [String: Any] = [
                "browserName": "chrome", "goog:chromeOptions": options,
                // A page or script that never finishes is an error after these, not a 300 s wait.
                "timeouts": ["pageLoad": 20_000, "script": 10_000, "implicit": 0],
            ]
            let answer = try await client.call("POST", "/session", ["capabilities": ["alwaysMatch": capabilities]], within: 60)
            guard let id = (answer as? [String: Any])?["sessionId"] as? String else { throw Failure("no session: \(answer)") }
            client.session = "/session/\(id)"
            let found = ((answer as? [String: Any])?["capabilities"] as? [String: Any])?["goog:processID"] as? Int
            client.browserProcess = pid_t(found ?? 0)
        } catch {
            await client.quit()
            throw error
        }
        return client
    }

    /// Ends the session (Chromium quits), then chromedriver; whatever does not go within a few seconds is killed.
    func quit() async {
        var ended = false
        if !session.isEmpty { ended = (try? await call("DELETE", session, within: 10)) != nil }
        if !ended, browserProcess > 0, Self.isChromium(browserProcess) { kill(browserProcess, SIGKILL) }
        if process.isRunning { process.terminate() }
        for _ in 0..<50 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Whether `pid` is still a Chromium process (not a number the system has since given to another program).
    private static func isChromium(_ pid: pid_t) -> Bool {
        let command = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))).map { String(decoding: $0, as: UTF8.self) }
        return command?.contains("chrom") == true
    }

    // MARK: - Commands

    func open(_ url: String) async throws { _ = try await call("POST", session + "/url", ["url": url]) }
    func reload() async throws { _ = try await call("POST", session + "/refresh", [:]) }

    @discardableResult
    func run(_ script: String, _ arguments: [Any] = []) async throws -> Any {
        try await call("POST", session + "/execute/sync", ["script": script, "args": arguments])
    }

    /// Polls `condition` (a JavaScript expression) until it is true; fails after 20 s with the page's status line.
    func waitUntil(_ condition: String) async throws {
        let deadline = Date().addingTimeInterval(20)
        while (try await run("return !!(window.kinema && (\(condition)))")) as? Bool != true {
            guard Date() < deadline else {
                let status = (try? await run("return document.getElementById('status').textContent")) ?? "nothing"
                throw Failure("waited 20 s for \(condition); the page says: \(status)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The viewport position of an image point, rounded to whole pixels (WebDriver moves the pointer by pixels).
    /// `pane`: the camera view's pane in a multi-camera project (default: the one being labelled).
    func client(_ point: [Double], pane: Int? = nil) async throws -> (Int, Int) {
        let xy = try await run("return kinema.imageToClient(...arguments)", point + (pane.map { [Double($0)] } ?? [])) as? [Double] ?? []
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

    /// One WebDriver command: its `value`, or the driver's error as a test failure; no answer within `seconds` is one too.
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil, within seconds: Double = 30) async throws -> Any {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let port = Int(base.split(separator: ":").last!)!
        let (status, answer) = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.exchange(method, path, port: port, body: data, within: seconds) })
            }
        }
        let json = try? JSONSerialization.jsonObject(with: answer, options: .fragmentsAllowed) as? [String: Any]
        let value = json?["value"] ?? NSNull()
        guard status == 200 else { throw Failure("WebDriver \(method) \(path): \(value)") }
        return value
    }

    /// HTTP/1.1 over a plain socket. Not URLSession: Linux Foundation's parser rejects chromedriver's headers, which
    /// have no space after the colon (`Content-Length:251`), with "Failed writing header".
    static func exchange(_ method: String, _ path: String, port: Int, body: Data?, within seconds: Double) throws -> (Int, Data) {
        let what = "WebDriver \(method) \(path)"
        let deadline = Date().addingTimeInterval(seconds)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("\(what): no socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw Failure("\(what): cannot connect to port \(port)") }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        request += "Content-Type: application/json\r\nContent-Length: \(body?.count ?? 0)\r\n\r\n"
        var out = Data(request.utf8) + (body ?? Data())
        while !out.isEmpty {
            try wait(fd, for: Int16(POLLOUT), until: deadline, what)
            let sent = out.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure("\(what): the connection closed while sending") }
            out.removeFirst(sent)
        }
        // Read until the body is complete (Content-Length) or the driver closes the connection.
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = received.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                let lines = head.components(separatedBy: "\r\n")
                let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? -1
                let length = lines.dropFirst().compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first
                let body = received[end.upperBound...]
                if let length, body.count >= length { return (status, Data(body.prefix(length))) }
            }
            try wait(fd, for: Int16(POLLIN), until: deadline, what)
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received.append(contentsOf: buffer[0..<count])
        }
        guard let end = received.range(of: Data("\r\n\r\n".utf8)) else { throw Failure("\(what): no answer") }
        let status = String(decoding: received[..<end.lowerBound], as: UTF8.self).split(separator: " ").dropFirst().first
        return (status.flatMap { Int($0) } ?? -1, Data(received[end.upperBound...]))
    }

    /// Waits until `fd` is ready for `events`, or throws once `deadline` has passed.
    private static func wait(_ fd: Int32, for events: Int16, until deadline: Date, _ what: String) throws {
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw Failure("\(what): no answer within the time allowed") }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(left, 1) * 1000) + 1)
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw Failure("\(what): poll failed (errno \(errno))") }
        }
    }

    /// A TCP port nobody listens on now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let port = LoopbackPort.free()
        guard port > 0 else { throw Failure("no free port") }
        return port
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
