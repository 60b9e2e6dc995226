// Reads 1-D NumPy `.npy` arrays (timestamps for the paw mode) as [Double], through PythonFormats' reader.
import Foundation
import PythonFormats

/// Timestamps from a `.npy` file: a 1-D numeric array (or an N×1 / 1×N one), any byte order or width.
public enum NumpyVector {
    public static func read(from url: URL) throws -> [Double] {
        do {
            let array = try NpyArray(contentsOf: url)
            let dims = array.shape
            guard dims.count == 1 || (dims.count == 2 && dims.contains(1)) else {
                throw SmoothingError("\(url.path): expected a 1-D array, found shape (\(dims.map(String.init).joined(separator: ", ")))")
            }
            guard array.dtype.kind != .bool, array.dtype.kind != .unicode else {
                throw SmoothingError("\(url.path): unsupported dtype \(array.dtype.descr); save timestamps as float64")
            }
            return try array.float64Values()
        } catch let error as PythonFormatError {
            throw SmoothingError(error.description)
        }
    }
}
