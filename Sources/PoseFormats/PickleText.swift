// pandas' column labels as PyTables pickles them into HDF5 attributes (read by PythonFormats' pickle machine),
// turned into the label text a CSV header shows.
import PythonFormats

extension PickleValue {
    /// A label as pandas prints it in a CSV header (strings as they are, numbers in Python's spelling).
    var labelText: String {
        switch self {
        case .none: return ""
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return d.description
        case .string(let s): return s
        case .list(let v), .tuple(let v): return "(" + v.map(\.labelText).joined(separator: ", ") + ")"
        case .dict: return "{…}"
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .global(let module, let name): return "\(module).\(name)"
        case .object, .persistent: return "<object>"
        }
    }
}
