import ArgumentParser

/// `kinema info`: what Kinema runs on.
struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show libtorch, devices, threads and FFmpeg versions.")
    func run() async throws {
        print("kinema")
    }
}
