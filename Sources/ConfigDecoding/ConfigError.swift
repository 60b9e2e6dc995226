// The one error of config reading (`FILE:LINE: what is wrong`), "did you mean" suggestions, and range checks.

/// A problem with a config file, as one line a scientist can act on: `FILE:LINE: message`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The config file ("" when the config was built in code).
    public var file: String
    /// 1-based line of the key at fault; nil when the value is not from the file (a default, or set in code).
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        guard !file.isEmpty else { return message }
        return line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
    }
}

// MARK: - Suggestions

/// Levenshtein edit distance between two strings (case-insensitive).
public func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

/// The candidate closest to `key`, if it is close enough to be a plausible typo.
public func closestKey(to key: String, among candidates: [String]) -> String? {
    let scored = candidates.sorted().map { ($0, editDistance(key, $0)) }.sorted { $0.1 < $1.1 }
    guard let best = scored.first else { return nil }
    if best.1 <= max(3, key.count / 2) { return best.0 }
    // A key that contains (or is contained in) a valid key is also a likely mistake.
    return candidates.sorted().first { $0.contains(key.lowercased()) || key.lowercased().contains($0) }
}

/// `unknown key 'a.b'; did you mean 'a.c'?` (or the valid keys when none is close).
func unknownKeyMessage(_ key: String, prefix: String, valid: [String]) -> String {
    let full = prefix.isEmpty ? key : prefix + "." + key
    if let close = closestKey(to: key, among: valid) {
        return "unknown key '\(full)'; did you mean '\(prefix.isEmpty ? close : prefix + "." + close)'?"
    }
    let list = valid.sorted().joined(separator: ", ")
    return "unknown key '\(full)'; remove it" + (valid.count <= 12 ? " (valid here: \(list))" : "")
}

// MARK: - Range checks

/// Range checks of one config section, each stated once next to its key: a failure names the key's full path and,
/// when the value came from the file, its line (`FILE:LINE: training.train_prob must be in (0, 1], found 1.5`).
public struct ConfigChecks: Sendable {
    let file: String
    /// Dotted path of the section ("" at the top).
    let prefix: String
    /// The section as written in the file (for lines); nil when checking a value built in code.
    let node: ConfigNode?

    init(file: String, prefix: String, node: ConfigNode?) {
        self.file = file
        self.prefix = prefix
        self.node = node
    }

    /// Checks of a value built in code (`validate()`): messages name the key, without file and line.
    public static let standalone = ConfigChecks(file: "", prefix: "", node: nil)

    /// The key's full dotted path (`training.train_prob`).
    public func path(_ key: some CodingKey) -> String {
        prefix.isEmpty ? yamlKey(key) : prefix + "." + yamlKey(key)
    }

    /// The checks of a nested section (`image_resize_dims` inside `data`).
    public func section(_ key: some CodingKey) -> ConfigChecks {
        ConfigChecks(file: file, prefix: path(key), node: node?[yamlKey(key)])
    }

    /// An error about `key`, at its line when the file sets it (else at the section's line).
    public func error(_ key: some CodingKey, _ message: String) -> ConfigError {
        let line = node?.entry(yamlKey(key))?.line ?? node.map(\.line)
        return ConfigError(file: file, line: line == 0 ? nil : line, message: path(key) + " " + message)
    }

    /// Throws `KEY RULE, found VALUE` unless `ok(value)`.
    public func require<V>(_ key: some CodingKey, _ value: V, _ rule: String, _ ok: (V) -> Bool) throws {
        guard !ok(value) else { return }
        let found = value is String ? "'\(value)'" : "\(value)"
        throw error(key, rule + ", found " + found)
    }
}

/// A config section: decoded by `ConfigDecoder` with absent keys taking the values of `init()` (so each key's
/// default is stated once, on its property), then range-checked by `check`.
public protocol ConfigSection: Codable {
    init()
    /// Range checks of this section's own keys (nested sections check theirs).
    func check(_ checks: ConfigChecks) throws
}

extension ConfigSection {
    public func check(_ checks: ConfigChecks) throws {}

    /// Runs `check` on a value built in code (no file, no lines); a failure becomes the module's own error.
    public func checkStandalone(_ wrap: (String) -> any Error) throws {
        do { try check(.standalone) } catch let error as ConfigError { throw wrap(error.message) }
    }
}

/// A key by its YAML name, for checks of a nested section's keys.
public struct ConfigKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// Keys of this type are YAML keys exactly as spelled (DeepLabCut's `Task`, `TrainingFraction`), not snake-cased.
public protocol VerbatimCodingKey: CodingKey {}

/// The YAML name of a coding key: `trainBatchSize` → `train_batch_size`, verbatim keys as they are.
func yamlKey(_ key: some CodingKey) -> String {
    key is any VerbatimCodingKey || key is ConfigKey ? key.stringValue : snakeCase(key.stringValue)
}

/// `trainBatchSize` → `train_batch_size` (keys already in snake case are unchanged).
func snakeCase(_ name: String) -> String {
    guard name.contains(where: \.isUppercase) else { return name }
    var out = ""
    for c in name {
        if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
    }
    return out
}
