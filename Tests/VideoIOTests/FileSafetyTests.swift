// Writing outputs safely (issue #11): names near the 255-byte limit, Foundation and POSIX errors in words,
// and where a cut recording breaks.
import Foundation
import KinemaFiles
import Testing
import VideoIO

@Suite struct FileSafetyTests {
    /// A destination name of 250 bytes: the temporary name beside it must still be a legal name (≤ 255 bytes).
    @Test func outputsWithLongNamesAreWritten() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let name = String(repeating: "é", count: 100) + String(repeating: "x", count: 46) + ".csv"  // 250 bytes
        #expect(name.utf8.count == 250)
        let path = folder + "/" + name
        let temporary = URL(fileURLWithPath: AtomicFile.temporaryPath(for: path))
        #expect(temporary.lastPathComponent.utf8.count <= 255 && temporary.deletingLastPathComponent().path == folder)
        #expect(AtomicFile.temporaryPath(for: folder + "/short.csv").hasPrefix(folder + "/.short.csv."))
        try AtomicFile.write("a,b\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a,b\n")
        // Two long names that share their first 100 bytes get different temporary names.
        let other = AtomicFile.temporaryPath(
            for: folder + "/" + String(repeating: "é", count: 100) + String(repeating: "y", count: 46) + ".csv")
        #expect(other.split(separator: ".").dropLast(3) != temporary.path.split(separator: ".").dropLast(3))

        // The video writer uses the same temporary names.
        let video = folder + "/" + String(repeating: "v", count: 246) + ".mp4"
        let writer = try VideoWriter(path: video, width: 16, height: 16, framesPerSecond: 10)
        try writer.write(Frame(width: 16, height: 16, channels: 3, pixels: [UInt8](repeating: 90, count: 16 * 16 * 3)))
        try writer.finish()
        #expect(try VideoReader(path: video).frameCount == 1)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                == [video, path].map { ($0 as NSString).lastPathComponent }.sorted())
    }

    /// Foundation's and the system's errors in words, never `NSCocoaErrorDomain Code=… UserInfo=…`.
    @Test func fileProblemsAreDescribedInWords() throws {
        let cases: [(any Error, String)] = [
            (CocoaError(.fileWriteNoPermission), "permission denied"),
            (CocoaError(.fileReadNoSuchFile), "no such file or folder"),
            (NSError(domain: NSCocoaErrorDomain, code: CocoaError.fileWriteOutOfSpace.rawValue), "the disk is full"),
            (CocoaError(.fileWriteVolumeReadOnly), "read-only file system"),
            (POSIXError(.ENOSPC), "the disk is full"),
            (POSIXError(.ENAMETOOLONG), "the file name is too long"),
            (NSError(domain: NSPOSIXErrorDomain, code: Int(EROFS)), "read-only file system"),
            (
                NSError(
                    domain: NSCocoaErrorDomain, code: CocoaError.fileWriteUnknown.rawValue,
                    userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES))]), "permission denied"
            ),
        ]
        for (error, words) in cases {
            let text = FileProblem.describe(error)
            #expect(text.hasPrefix(words), "\(error) → \(text)")
            #expect(!text.contains("Domain") && !text.contains("UserInfo") && !text.contains("\n"), "\(text)")
        }
        // A real one from Foundation: writing into a folder that does not exist; `sentence` names the file.
        let missing = "/nonexistent-kinema-folder/out.csv"
        do {
            try Data("x".utf8).write(to: URL(fileURLWithPath: missing))
            Issue.record("wrote into a missing folder")
        } catch {
            #expect(FileProblem.describe(error) == "no such file or folder", "\(error)")
            #expect(FileProblem.sentence(error) == "\(missing): no such file or folder", "\(error)")
        }
        // Kinema's own errors print as they are.
        #expect(FileProblem.describe(VideoError.fileNotFound(path: "a.mp4")) == "a.mp4: no such file (check the path)")
        // AtomicFile's own message says it in words too.
        let blocker = try Fixtures.temporaryFolder() + "/plain-file"
        try AtomicFile.write("x", to: blocker)
        #expect {
            try AtomicFile.write("y", to: blocker + "/inside.csv")
        } throws: { error in
            "\(error)".contains("cannot write \(blocker)/inside.csv: ") && !"\(error)".contains("Domain")
        }
    }

    /// Where a cut recording breaks, in frames and seconds (`kinema video info`'s `cut off` line).
    @Test func cutOffIsSaidInFramesAndSeconds() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.longGOP.get()))
        let path = try Fixtures.temporaryFolder() + "/cut.mp4"
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let info = try VideoReader(path: path).info
        let n = info.frameCount
        try #require(info.damage != nil && n > 0)
        let seconds = (Double(n) / Fixtures.fps * 1000).rounded() / 1000
        let time = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        let listed = info.containerFrameCount > n ? " of the \(info.containerFrameCount) the container header lists" : ""
        #expect(
            info.cutOff(decodable: n)
                == "at frame \(n) (\(time) s)\(listed): frames 0-\(n - 1) decode, the rest of the recording is missing")
        #expect(info.summary.contains("\ncut off     at frame \(n) (\(time) s)"), "\(info.summary)")
        #expect(info.cutOff(decodable: 0).hasPrefix("at frame 0 (0 s)") && info.cutOff(decodable: 0).contains("no frame decodes"))
        // An intact file has no such line.
        #expect(!(try VideoReader(path: try Fixtures.longGOP.get()).info.summary.contains("cut off")))
    }
}
