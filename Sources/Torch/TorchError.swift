import CTorch

/// An error raised by libtorch (or by Kinema's use of it), naming the operation that failed.
///
/// ```swift
/// do { _ = try a.matmul(b) } catch { print(error) }  // "aten::matmul: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"
/// ```
public struct TorchError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The category of a failure, so callers can react (e.g. shrink the batch on `.outOfMemory`).
    public enum Kind: Sendable, Equatable {
        case generic, outOfMemory, index, value, type, notImplemented, invalidArgument, unavailable
    }

    public let kind: Kind
    public let message: String
    /// The operation that failed, e.g. `aten::conv2d` or `Tensor.toArray`.
    public let op: String

    public init(_ kind: Kind, _ message: String, op: String) {
        self.kind = kind
        self.message = message
        self.op = op
    }

    public var description: String { "\(op): \(message)" }

    /// Reads the shim's thread-local error; call right after the failing C call, with no `await` between.
    static func last(op: String) -> TorchError {
        let kind: Kind
        switch ct_last_error_kind() {
        case Int32(CT_ERR_OUT_OF_MEMORY.rawValue): kind = .outOfMemory
        case Int32(CT_ERR_INDEX.rawValue): kind = .index
        case Int32(CT_ERR_VALUE.rawValue): kind = .value
        case Int32(CT_ERR_TYPE.rawValue): kind = .type
        case Int32(CT_ERR_NOT_IMPLEMENTED.rawValue): kind = .notImplemented
        default: kind = .generic
        }
        return TorchError(kind, String(cString: ct_last_error()), op: op)
    }
}

/// Throws the shim's last error when a status-returning call failed.
@inline(__always)
func check(_ status: Int32, _ op: @autoclosure () -> String) throws(TorchError) {
    if status != 0 { throw TorchError.last(op: op()) }
}

/// Adopts a returned handle, or throws the shim's last error when it is NULL.
@inline(__always)
func adopt(_ raw: ct_tensor, _ op: @autoclosure () -> String) throws(TorchError) -> Tensor {
    guard raw.ptr != nil else { throw TorchError.last(op: op()) }
    return Tensor(adopting: raw)
}
