// Checks that Package.swift declares exactly what each target imports, and draws the target graph.
//
//   swift package dump-package | swift scripts/lint/package-check.swift check    # exit 1 on a mismatch
//   swift package dump-package | swift scripts/lint/package-check.swift diagram  # Mermaid graph for the docs
//
// Swift lets a target import any module its dependencies bring along, so an undeclared import compiles
// until someone removes the dependency that happened to bring it; a declared but never imported
// dependency only slows builds and hides the real structure. Both are errors here.
import Foundation

/// Modules that come with the toolchain or the system: never declared in Package.swift.
let systemModules: Set<String> = [
    "Foundation", "FoundationEssentials", "Glibc", "Musl", "Darwin", "Dispatch", "Synchronization",
    "Testing", "XCTest", "_Concurrency", "os", "FoundationNetworking",
]
/// Dependencies that are linked for their side effects and imported by no source file.
let linkOnly: [String: Set<String>] = [
    // C: CTorch's loader gives kinema's wait policy back (process_start.h) once libtorch has read it.
    "CTorch": ["CProcessStart"]
]

struct Target {
    var name: String
    var kind: String
    var directory: String
    var dependencies: [String]
}

func readTargets() throws -> [Target] {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard let package = try JSONSerialization.jsonObject(with: data) as? [String: Any],
        let targets = package["targets"] as? [[String: Any]]
    else {
        throw NSError(
            domain: "package-check", code: 1, userInfo: [NSLocalizedDescriptionKey: "stdin is not `swift package dump-package` output"])
    }
    return targets.map { t in
        let name = t["name"] as? String ?? "?"
        let kind = t["type"] as? String ?? "regular"
        let directory = t["path"] as? String ?? ((kind == "test" ? "Tests/" : "Sources/") + name)
        let dependencies = (t["dependencies"] as? [[String: Any]] ?? []).compactMap { dependency -> String? in
            for key in ["byName", "target", "product"] {
                if let parts = dependency[key] as? [Any], let first = parts.first as? String { return first }
            }
            return nil
        }
        return Target(name: name, kind: kind, directory: directory, dependencies: dependencies)
    }
}

/// Modules imported by the Swift files below a folder (`import X`, `@testable import X`, `import struct X.Y`).
func imports(in directory: String) -> Set<String> {
    var found: Set<String> = []
    guard let files = FileManager.default.enumerator(atPath: directory) else { return found }
    for case let file as String in files where file.hasSuffix(".swift") {
        guard let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else { continue }
        // Imports stand at the start of a line; indented text is code or a string (e.g. a Python script).
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix(" ") {
            var words = line.split(separator: " ").map(String.init)
            while let first = words.first,
                first.hasPrefix("@") || ["public", "internal", "package", "private", "fileprivate"].contains(first)
            {
                words.removeFirst()
            }
            guard words.count >= 2, words[0] == "import" else { continue }
            let path =
                words.count >= 3 && ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(words[1])
                ? words[2] : words[1]
            found.insert(String(path.split(separator: ".").first ?? ""))
        }
    }
    return found
}

let mode = CommandLine.arguments.dropFirst().first ?? "check"
let targets = try readTargets()
let names = Set(targets.map(\.name))

switch mode {
case "check":
    var problems: [String] = []
    for target in targets where target.kind != "system" {
        let imported = imports(in: target.directory).subtracting(systemModules).subtracting([target.name])
        let declared = Set(target.dependencies)
        for module in imported.subtracting(declared).sorted() {
            problems.append("\(target.name) imports \(module) but does not declare it in Package.swift")
        }
        for module in declared.subtracting(imported).subtracting(linkOnly[target.name] ?? []).sorted() {
            problems.append("\(target.name) declares \(module) but no file of it imports it")
        }
    }
    for line in problems { print("package-check: " + line) }
    print("package-check: \(targets.count) targets, \(problems.count) problem(s)")
    exit(problems.isEmpty ? 0 : 1)
case "diagram":
    // The product's own targets (tests left out), each edge drawn only where no longer
    // path says the same (a transitive reduction), so the picture shows what builds on what.
    let product = targets.filter { $0.kind != "test" && !$0.directory.hasPrefix("Tests/") }
    let shown = Set(product.map(\.name))
    var edges: [String: Set<String>] = [:]
    for target in product { edges[target.name] = Set(target.dependencies.filter { shown.contains($0) }) }
    func reachable(from start: String, skipping direct: String) -> Set<String> {
        var seen: Set<String> = [], stack = Array(edges[start, default: []].subtracting([direct]))
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack.append(contentsOf: edges[next, default: []]) }
        }
        return seen
    }
    print("```mermaid")
    print("graph BT")
    for target in product {
        for dependency in target.dependencies where shown.contains(dependency) {
            if !reachable(from: target.name, skipping: dependency).contains(dependency) {
                print("  \(target.name) --> \(dependency)")
            }
        }
    }
    print("```")
default:
    print("usage: swift package dump-package | swift scripts/lint/package-check.swift check|diagram")
    exit(2)
}
