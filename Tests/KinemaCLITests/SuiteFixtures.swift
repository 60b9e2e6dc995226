// What suites that build one expensive fixture (a trained model, test videos) share: the visible reason a fixture
// cannot be built here, and the removal of its folder when the test process exits (no single test may remove it).
import Foundation
import Synchronization

/// A reason a test cannot run here, printed visibly.
struct Skip: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The suite fixture, or nil after printing why it cannot be built here; other failures are thrown.
func suiteFixture<Fixture>(_ shared: Result<Fixture, any Error>) throws -> Fixture? {
    switch shared {
    case .success(let fixture): return fixture
    case .failure(let error as Skip):
        print("skipped: \(error)")
        return nil
    case .failure(let error): throw error
    }
}

/// Folders removed at exit; atexit takes a C function, which cannot capture, hence the global.
private let foldersRemovedAtExit = Mutex<[String]>([])

/// Removes `folder` when the test process exits.
func removeAtExit(_ folder: URL) {
    foldersRemovedAtExit.withLock { folders in
        if folders.isEmpty {
            atexit { foldersRemovedAtExit.withLock { for path in $0 { try? FileManager.default.removeItem(atPath: path) } } }
        }
        folders.append(folder.path)
    }
}
