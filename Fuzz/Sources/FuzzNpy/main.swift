// NumPy .npy arrays (Sensorium folders, EKS timestamps): the header, then every typed read of the values.
import FuzzSupport
import PythonFormats

let input = InputFile(extension: "npy")
fuzz(seeds: {
    [
        ("float32.npy", try NpyArray(float32: [1, 2.5, -3, .nan], shape: [2, 2]).npyBytes()),
        ("float64.npy", try NpyArray(float64: [0.5, 1e300, -2], shape: [3]).npyBytes()),
        ("int64.npy", try NpyArray(int64: [1, -2, 3, 4, 5, 6], shape: [1, 2, 3]).npyBytes()),
        ("int32.npy", try NpyArray(int32: [7, 8], shape: [2, 1]).npyBytes()),
        ("uint8.npy", try NpyArray(uint8: [0, 255], shape: [2]).npyBytes()),
        ("bool.npy", try NpyArray(bool: [true, false, true], shape: [3]).npyBytes()),
        ("strings.npy", try NpyArray(strings: ["mouse", "é"], shape: [2]).npyBytes()),
        (
            "fortran.npy",
            try NpyArray(dtype: .float32, shape: [2, 2], fortranOrder: true, bytes: Array(repeating: 0, count: 16)).npyBytes()
        ),
    ]
}) { bytes in
    guard let array = try? NpyArray(contentsOf: input.write(bytes)) else { return }
    _ = try? array.float32Values()
    _ = try? array.float64Values()
    _ = try? array.int64Values()
    _ = try? array.boolValues()
    _ = try? array.stringValues()
}
