// Pose files: Lightning Pose and DeepLabCut label and prediction CSVs, as one value type.

// MARK: - Row index flavours

/// How the rows of a pose table are identified in the file (the first column(s) of the CSV).
public enum RowIndexStyle: String, Sendable, Equatable, CaseIterable {
    /// One column holding the frame number (video predictions: `0, 1, 2, …`).
    case frameNumber
    /// One column holding an image path (`labeled-data/<video>/img0001.png`; legacy DLC, Lightning Pose).
    case imagePath
    /// DeepLabCut's 3-level row index: three columns `labeled-data`, `<video>`, `<image>`.
    case dlcThreeLevel
}

// MARK: - Pose table

/// A single-animal pose table as stored in Lightning Pose / DeepLabCut CSVs.
///
/// Columns are (keypoint, coordinate) pairs. Every keypoint has the same coordinate list, e.g.
/// `["x", "y", "likelihood"]` for predictions, `["x", "y"]` for labels, or the nine EKS output
/// columns. Values are float64, row-major (`rows × keypoints × coords`); `.nan` marks a missing value.
public struct PoseTable: Sendable, Equatable {
    /// The `scorer` header value (same for every column).
    public var scorer: String
    /// Keypoint (bodypart) names, in column order.
    public var keypoints: [String]
    /// Coordinate names per keypoint, in column order (e.g. `x`, `y`, `likelihood`).
    public var coords: [String]
    /// Row identifiers as text: frame numbers (`"0"`) or image paths (`"labeled-data/v/img1.png"`;
    /// for `.dlcThreeLevel` the three index cells joined with `/`).
    public var rowKeys: [String]
    /// How row identifiers are written.
    public var indexStyle: RowIndexStyle
    /// Values, row-major: `values[(row * keypoints.count + keypoint) * coords.count + coord]`.
    public var values: [Double]
    /// Trailing non-numeric columns (Lightning Pose's `set` column on labeled-frame predictions).
    public var extraColumns: [ExtraColumn]

    /// A trailing text column, kept verbatim so files round-trip.
    public struct ExtraColumn: Sendable, Equatable {
        /// The three header cells (scorer, bodyparts, coords rows), e.g. `["set", "", ""]`.
        public var header: [String]
        /// One cell per row.
        public var cells: [String]
        public init(header: [String], cells: [String]) {
            self.header = header
            self.cells = cells
        }
    }

    /// Creates a table; throws when the value count does not match the shape.
    public init(
        scorer: String, keypoints: [String], coords: [String], rowKeys: [String],
        indexStyle: RowIndexStyle = .frameNumber, values: [Double],
        extraColumns: [ExtraColumn] = []
    ) throws {
        let expected = rowKeys.count * keypoints.count * coords.count
        guard values.count == expected else {
            throw PoseFormatError(
                file: "<memory>", row: nil,
                message:
                    "table has \(values.count) values, expected \(rowKeys.count) rows × \(keypoints.count) keypoints × \(coords.count) coords = \(expected)"
            )
        }
        for column in extraColumns where column.cells.count != rowKeys.count {
            throw PoseFormatError(
                file: "<memory>", row: nil,
                message: "extra column '\(column.header.first ?? "")' has \(column.cells.count) cells for \(rowKeys.count) rows")
        }
        self.scorer = scorer
        self.keypoints = keypoints
        self.coords = coords
        self.rowKeys = rowKeys
        self.indexStyle = indexStyle
        self.values = values
        self.extraColumns = extraColumns
    }

    /// A prediction table (`x`, `y`, `likelihood` per keypoint) indexed by frame number 0..<frames,
    /// from per-keypoint arrays laid out `[frame * keypoints + keypoint]`.
    public static func predictions(
        scorer: String, keypoints: [String], x: [Double], y: [Double],
        likelihood: [Double]
    ) throws -> PoseTable {
        let k = keypoints.count
        guard k > 0, x.count == y.count, x.count == likelihood.count, x.count % k == 0 else {
            throw PoseFormatError(
                file: "<memory>", row: nil,
                message: "x/y/likelihood arrays (\(x.count), \(y.count), \(likelihood.count)) do not match \(k) keypoints")
        }
        let frames = x.count / k
        var values = [Double](repeating: .nan, count: frames * k * 3)
        for i in 0..<(frames * k) {
            values[i * 3] = x[i]
            values[i * 3 + 1] = y[i]
            values[i * 3 + 2] = likelihood[i]
        }
        return try PoseTable(
            scorer: scorer, keypoints: keypoints, coords: ["x", "y", "likelihood"],
            rowKeys: (0..<frames).map(String.init), indexStyle: .frameNumber,
            values: values)
    }

    // MARK: - Shape and access

    /// Number of rows (frames or labeled images).
    public var rowCount: Int { rowKeys.count }
    /// Number of numeric columns per row.
    public var columnsPerRow: Int { keypoints.count * coords.count }

    /// Index of a keypoint by name.
    public func keypointIndex(_ name: String) -> Int? { keypoints.firstIndex(of: name) }
    /// Index of a coordinate by name.
    public func coordIndex(_ name: String) -> Int? { coords.firstIndex(of: name) }

    /// The value at (row, keypoint, coord).
    @inlinable
    public func value(row: Int, keypoint: Int, coord: Int) -> Double {
        values[(row * keypoints.count + keypoint) * coords.count + coord]
    }

    /// Sets the value at (row, keypoint, coord).
    @inlinable
    public mutating func setValue(_ v: Double, row: Int, keypoint: Int, coord: Int) {
        values[(row * keypoints.count + keypoint) * coords.count + coord] = v
    }

    /// One column over all rows, e.g. `column(keypoint: "nose", coord: "x")`; nil if absent.
    public func column(keypoint: String, coord: String) -> [Double]? {
        guard let k = keypointIndex(keypoint), let c = coordIndex(coord) else { return nil }
        return column(keypoint: k, coord: c)
    }

    /// One column over all rows by index.
    public func column(keypoint: Int, coord: Int) -> [Double] {
        let stride = columnsPerRow
        let offset = keypoint * coords.count + coord
        return (0..<rowCount).map { values[$0 * stride + offset] }
    }

    /// Frame numbers when rows are indexed by integers; nil for image-path indices.
    public var frameNumbers: [Int]? {
        guard indexStyle == .frameNumber else { return nil }
        var result: [Int] = []
        result.reserveCapacity(rowCount)
        for key in rowKeys {
            guard let n = Int(key) else { return nil }
            result.append(n)
        }
        return result
    }
}

// MARK: - Errors

/// A problem reading or writing a pose file; names the file, the row (1-based line) and what is wrong.
public struct PoseFormatError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var row: Int?
    public var message: String
    public init(file: String, row: Int?, message: String) {
        self.file = file
        self.row = row
        self.message = message
    }
    public var description: String {
        if let row { return "\(file): line \(row): \(message)" }
        return "\(file): \(message)"
    }
}
