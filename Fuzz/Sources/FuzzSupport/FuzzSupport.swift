// The libFuzzer driver for Swift executables, and the file each input is written to for readers that take a path.
//
// SwiftPM gives every executable its own `main`, so the targets are linked with libFuzzer's `fuzzer_no_main`
// runtime and start it themselves through `LLVMFuzzerRunDriver` (`scripts/fuzz/run.sh` passes the flags).
import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// libFuzzer calls a C function, which cannot capture; the one body of this process is kept here.
nonisolated(unsafe) private var fuzzBody: ([UInt8]) -> Void = { _ in }

/// Runs libFuzzer over `body` with the process's arguments (`-runs=`, `-max_total_time=`, corpus folders …).
/// `body` must return normally for every input: a reader's thrown error is the expected outcome of bad input,
/// a trap or a sanitizer report is a finding. With `KINEMA_FUZZ_SEEDS=DIR` set, `seeds` (inputs built with
/// Kinema's own writers) are written to DIR instead, for the seed corpus.
public func fuzz(seeds: () throws -> [(name: String, bytes: [UInt8])] = { [] }, _ body: @escaping ([UInt8]) -> Void)
    -> Never
{
    if let folder = ProcessInfo.processInfo.environment["KINEMA_FUZZ_SEEDS"] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for seed in try seeds() {
                try Data(seed.bytes).write(to: URL(fileURLWithPath: folder).appendingPathComponent(seed.name))
            }
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("cannot write the seeds to \(folder): \(error)\n".utf8))
            exit(1)
        }
    }
    fuzzBody = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(
        LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            fuzzBody(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
}

/// One input file per process (under $TMPDIR, named for the reader, e.g. `input.csv`), rewritten for each input.
public struct InputFile: Sendable {
    public let url: URL

    public init(extension ext: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kinema-fuzz-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        url = folder.appendingPathComponent("input." + ext)
    }

    /// Writes `bytes` as the file's whole content; a failure here is the machine's, not the reader's.
    public func write(_ bytes: [UInt8]) -> URL {
        do { try Data(bytes).write(to: url) } catch { fatalError("cannot write the fuzz input \(url.path): \(error)") }
        return url
    }
}
