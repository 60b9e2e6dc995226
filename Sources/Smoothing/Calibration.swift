// Anipose camera calibration (TOML): a small reader for the subset anipose writes, and the
// pinhole camera model with OpenCV distortion used by EKS (projection, Jacobian, undistortion).
import Foundation

// MARK: - Camera

/// One calibrated camera (anipose format): intrinsics, OpenCV distortion, world→camera pose.
public struct CalibratedCamera: Sendable, Equatable {
    public var name: String
    /// 3×3 intrinsics, row-major.
    public var matrix: [Double]
    /// OpenCV distortion coefficients k1,k2,p1,p2,k3,k4,k5,k6,s1,s2,s3,s4,tx,ty (zero-padded to 14).
    public var distortions: [Double]
    /// Rodrigues rotation vector.
    public var rotation: [Double]
    public var translation: [Double]

    public init(name: String, matrix: [Double], distortions: [Double], rotation: [Double], translation: [Double]) {
        self.name = name
        self.matrix = matrix
        self.distortions = distortions + Array(repeating: 0, count: max(0, 14 - distortions.count))
        self.rotation = rotation
        self.translation = translation
    }

    /// Rotation matrix from the Rodrigues vector (the package's formula, incl. the small-angle branch).
    public var rotationMatrix: [Double] {
        let r = rotation
        let theta = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).squareRoot()
        if theta < 1e-12 {
            return [1, -r[2], r[1], r[2], 1, -r[0], -r[1], r[0], 1]
        }
        let k = r.map { $0 / theta }
        let K = [0, -k[2], k[1], k[2], 0, -k[0], -k[1], k[0], 0]
        var K2 = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for l in 0..<3 { K2[i * 3 + j] += K[i * 3 + l] * K[l * 3 + j] } } }
        let s = sin(theta), c = cos(theta)
        return (0..<9).map { ($0 % 4 == 0 ? 1 : 0) + s * K[$0] + (1 - c) * K2[$0] }
    }

    /// Projects world point z to pixels (u, v) and writes the 2×3 Jacobian into `jacobian`.
    func project(
        _ z: UnsafePointer<Double>, rotation R: [Double], _ uv: UnsafeMutablePointer<Double>,
        jacobian J: UnsafeMutablePointer<Double>
    ) {
        // Camera coordinates with derivatives: dXc/dz = R.
        var X = Dual3(0), Y = Dual3(0), Z = Dual3(0)
        for j in 0..<3 {
            let zj = Dual3.variable(z[j], j)
            X = X + zj * R[j]; Y = Y + zj * R[3 + j]; Z = Z + zj * R[6 + j]
        }
        X = X + translation[0]; Y = Y + translation[1]; Z = Z + translation[2]
        let x = X / Z, y = Y / Z
        let d = distortions
        // Terms with zero coefficients (most calibrations have k1, k2, p1, p2 at most) are skipped:
        // they would add exact zeros, so the result is the same to the bit.
        let higher = d[4] != 0 || d[5] != 0 || d[6] != 0 || d[7] != 0
        let prism = d[8] != 0 || d[9] != 0 || d[10] != 0 || d[11] != 0
        let r2 = x * x + y * y
        var radial = Dual3(1) + r2 * d[0], r4 = Dual3(0)
        if d[1] != 0 || higher || prism {
            r4 = r2 * r2
            radial = radial + r4 * d[1]
        }
        if higher {
            let r6 = r4 * r2, r8 = r4 * r4, r10 = r8 * r2, r12 = r6 * r6
            radial = radial + r6 * d[4] + r8 * d[5] + r10 * d[6] + r12 * d[7]
        }
        var xd = x * radial + x * y * (2 * d[2]) + (r2 + x * x * 2) * d[3]
        var yd = y * radial + (r2 + y * y * 2) * d[2] + x * y * (2 * d[3])
        if prism {
            xd = xd + r2 * d[8] + r4 * d[9]
            yd = yd + r2 * d[10] + r4 * d[11]
        }
        let u = xd * matrix[0] + yd * matrix[1] + matrix[2]
        let v = yd * matrix[4] + matrix[5]
        uv[0] = u.value; uv[1] = v.value
        J[0] = u.d0; J[1] = u.d1; J[2] = u.d2
        J[3] = v.d0; J[4] = v.d1; J[5] = v.d2
    }

    /// Undistorts a pixel to normalised coordinates with OpenCV's fixed-point scheme (5 iterations).
    func undistort(_ u: Double, _ v: Double) -> (Double, Double) {
        let fx = matrix[0], fy = matrix[4], cx = matrix[2], cy = matrix[5]
        let d = distortions
        let x0 = (u - cx) / fx, y0 = (v - cy) / fy
        var x = x0, y = y0
        for _ in 0..<5 {
            let r2 = x * x + y * y
            let icd = (1 + ((d[7] * r2 + d[6]) * r2 + d[5]) * r2) / (1 + ((d[4] * r2 + d[1]) * r2 + d[0]) * r2)
            let dx = 2 * d[2] * x * y + d[3] * (r2 + 2 * x * x) + d[8] * r2 + d[9] * r2 * r2
            let dy = d[2] * (r2 + 2 * y * y) + 2 * d[3] * x * y + d[10] * r2 + d[11] * r2 * r2
            x = (x0 - dx) * icd
            y = (y0 - dy) * icd
        }
        return (x, y)
    }

    /// The 3×4 extrinsic matrix [R | t].
    var extrinsic: [Double] {
        let R = rotationMatrix
        return [R[0], R[1], R[2], translation[0], R[3], R[4], R[5], translation[1], R[6], R[7], R[8], translation[2]]
    }
}

// MARK: - Dual numbers (value + gradient in 3 variables)

struct Dual3 {
    var value: Double, d0: Double, d1: Double, d2: Double
    init(_ v: Double) { value = v; d0 = 0; d1 = 0; d2 = 0 }
    init(_ v: Double, _ a: Double, _ b: Double, _ c: Double) { value = v; d0 = a; d1 = b; d2 = c }
    static func variable(_ v: Double, _ i: Int) -> Dual3 { Dual3(v, i == 0 ? 1 : 0, i == 1 ? 1 : 0, i == 2 ? 1 : 0) }
    static func + (a: Dual3, b: Dual3) -> Dual3 { Dual3(a.value + b.value, a.d0 + b.d0, a.d1 + b.d1, a.d2 + b.d2) }
    static func + (a: Dual3, b: Double) -> Dual3 { Dual3(a.value + b, a.d0, a.d1, a.d2) }
    static func * (a: Dual3, b: Dual3) -> Dual3 {
        Dual3(a.value * b.value, a.d0 * b.value + a.value * b.d0, a.d1 * b.value + a.value * b.d1, a.d2 * b.value + a.value * b.d2)
    }
    static func * (a: Dual3, b: Double) -> Dual3 { Dual3(a.value * b, a.d0 * b, a.d1 * b, a.d2 * b) }
    static func / (a: Dual3, b: Dual3) -> Dual3 {
        let q = a.value / b.value
        return Dual3(q, (a.d0 - q * b.d0) / b.value, (a.d1 - q * b.d1) / b.value, (a.d2 - q * b.d2) / b.value)
    }
}

// MARK: - Calibration file

/// An anipose calibration: cameras in the order of their TOML table keys (`cam_0`, `cam_1`, …).
public struct CameraCalibration: Sendable, Equatable {
    public var cameras: [CalibratedCamera]

    public init(cameras: [CalibratedCamera]) { self.cameras = cameras }

    /// Reads an anipose `calibration.toml`.
    public static func read(from url: URL) throws -> CameraCalibration {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw SmoothingError("\(url.path): cannot read the calibration file")
        }
        return try parse(text, fileName: url.path)
    }

    /// Parses anipose TOML text; every camera table needs name, matrix, distortions, rotation, translation.
    public static func parse(_ text: String, fileName: String = "<toml>") throws -> CameraCalibration {
        let tables = try MiniTOML.parse(text, fileName: fileName)
        var cameras: [CalibratedCamera] = []
        for key in tables.keys.sorted() where key != "metadata" && !key.isEmpty {
            let table = tables[key] ?? [:]
            func numbers(_ field: String, count: Int?) throws -> [Double] {
                guard let value = table[field] else {
                    throw SmoothingError("\(fileName): camera table [\(key)] has no '\(field)'")
                }
                let flat = value.flattenedNumbers
                guard let flat, count.map({ flat.count == $0 }) ?? !flat.isEmpty else {
                    throw SmoothingError("\(fileName): [\(key)] \(field) must hold \(count.map(String.init) ?? "some") numbers")
                }
                return flat
            }
            let name: String
            if case .string(let s)? = table["name"] { name = s } else { name = key }
            cameras.append(
                CalibratedCamera(
                    name: name, matrix: try numbers("matrix", count: 9),
                    distortions: try numbers("distortions", count: nil),
                    rotation: try numbers("rotation", count: 3),
                    translation: try numbers("translation", count: 3)))
        }
        guard cameras.count >= 2 else {
            throw SmoothingError("\(fileName): found \(cameras.count) camera table(s); calibrated smoothing needs at least 2")
        }
        return CameraCalibration(cameras: cameras)
    }
}

// MARK: - Minimal TOML (anipose subset)

/// Values of the TOML subset anipose writes: strings, numbers, booleans, nested arrays.
enum TOMLValue: Equatable {
    case string(String), number(Double), bool(Bool), array([TOMLValue])

    var flattenedNumbers: [Double]? {
        switch self {
        case .number(let v): return [v]
        case .array(let items):
            var out: [Double] = []
            for item in items { guard let n = item.flattenedNumbers else { return nil }; out += n }
            return out
        default: return nil
        }
    }
}

/// Reads `[table]` headers and `key = value` lines (values may span lines while brackets are open).
enum MiniTOML {
    static func parse(_ text: String, fileName: String) throws -> [String: [String: TOMLValue]] {
        var tables: [String: [String: TOMLValue]] = ["": [:]]
        var current = ""
        var pending = "", pendingLine = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && line.isEmpty { continue }
            if pending.isEmpty && line.hasPrefix("[") && !line.contains("=") {
                guard line.hasSuffix("]") else { throw SmoothingError("\(fileName): line \(index + 1): bad table header '\(line)'") }
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                tables[current] = tables[current] ?? [:]
                continue
            }
            if pending.isEmpty { pendingLine = index + 1 }
            pending += (pending.isEmpty ? "" : " ") + line
            let opens = pending.filter { $0 == "[" }.count, closes = pending.filter { $0 == "]" }.count
            if opens > closes { continue }
            guard let eq = pending.firstIndex(of: "=") else {
                throw SmoothingError("\(fileName): line \(pendingLine): expected 'key = value', found '\(pending)'")
            }
            let key = pending[..<eq].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            var scanner = Substring(pending[pending.index(after: eq)...])
            let value = try parseValue(&scanner, fileName: fileName, line: pendingLine)
            tables[current, default: [:]][key] = value
            pending = ""
        }
        guard pending.isEmpty else { throw SmoothingError("\(fileName): line \(pendingLine): unterminated array") }
        return tables
    }

    private static func stripComment(_ line: String) -> String {
        var inString = false
        for (i, ch) in line.enumerated() {
            if ch == "\"" { inString.toggle() }
            if ch == "#" && !inString { return String(line.prefix(i)) }
        }
        return line
    }

    private static func parseValue(_ s: inout Substring, fileName: String, line: Int) throws -> TOMLValue {
        s = s.drop { $0 == " " || $0 == "\t" }
        guard let first = s.first else { throw SmoothingError("\(fileName): line \(line): missing value") }
        if first == "[" {
            s = s.dropFirst()
            var items: [TOMLValue] = []
            while true {
                s = s.drop { $0 == " " || $0 == "\t" || $0 == "," }
                if s.first == "]" { s = s.dropFirst(); break }
                guard !s.isEmpty else { throw SmoothingError("\(fileName): line \(line): unterminated array") }
                items.append(try parseValue(&s, fileName: fileName, line: line))
            }
            return .array(items)
        }
        if first == "\"" || first == "'" {
            let body = s.dropFirst()
            guard let end = body.firstIndex(of: first) else { throw SmoothingError("\(fileName): line \(line): unterminated string") }
            s = body[body.index(after: end)...]
            return .string(String(body[..<end]))
        }
        let token = s.prefix { $0 != "," && $0 != "]" && $0 != " " && $0 != "\t" }
        s = s.dropFirst(token.count)
        if token == "true" { return .bool(true) }
        if token == "false" { return .bool(false) }
        guard let v = Double(token.replacingOccurrences(of: "_", with: "")) else {
            throw SmoothingError("\(fileName): line \(line): cannot read value '\(token)'")
        }
        return .number(v)
    }
}
