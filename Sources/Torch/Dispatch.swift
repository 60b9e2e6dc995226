import CTorch
import Synchronization

/// One argument to an ATen operator called by name (see `Torch.call`).
public enum OpArg {
    case tensor(Tensor)
    case optionalTensor(Tensor?)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case ints([Int])
    case doubles([Double])
    case tensors([Tensor])
    /// `Tensor?[]`, as `aten::index` takes.
    case optionalTensors([Tensor?])
    case string(String)
    case dtype(DType)
    case device(Device)
    case none
    /// The schema's default for this position (to skip ahead to a later argument).
    case `default`
}

/// A resolved operator handle; process-lifetime and immutable, hence Sendable.
struct OpHandle: @unchecked Sendable {
    let raw: ct_op
}

private let opCache = Mutex<[String: OpHandle]>([:])

/// Calls any ATen operator through libtorch's dispatcher, e.g.
/// `try Torch.call("aten::add", "Tensor", [.tensor(a), .tensor(b), .double(1)])`.
/// Trailing arguments not given take the schema's defaults. Autograd records the call as usual.
public enum Torch {
    public static func call(_ name: String, _ args: [OpArg], maxOutputs: Int = 16) throws(TorchError) -> [Tensor] {
        try call(name, "", args, maxOutputs: maxOutputs)
    }

    public static func call(_ name: String, _ overload: String, _ args: [OpArg], maxOutputs: Int = 16)
        throws(TorchError) -> [Tensor]
    {
        let op = try lookup(name, overload)
        return try invoke(op, name, args, maxOutputs: maxOutputs)
    }

    /// Calls an operator that returns exactly one tensor.
    public static func call1(_ name: String, _ args: [OpArg]) throws(TorchError) -> Tensor {
        try call1(name, "", args)
    }

    public static func call1(_ name: String, _ overload: String, _ args: [OpArg]) throws(TorchError) -> Tensor {
        let outs = try call(name, overload, args, maxOutputs: 4)
        guard let first = outs.first else {
            throw TorchError(.generic, "returned no tensor", op: name)
        }
        return first
    }

    /// The operator's schema text, for error messages and docs.
    public static func schema(_ name: String, _ overload: String = "") throws(TorchError) -> String {
        String(cString: ct_op_schema(try lookup(name, overload).raw))
    }

    static func lookup(_ name: String, _ overload: String) throws(TorchError) -> OpHandle {
        let key = name + "." + overload
        if let hit = opCache.withLock({ $0[key] }) { return hit }
        let raw = ct_op_lookup(name, overload)
        guard raw.ptr != nil else { throw TorchError.last(op: overload.isEmpty ? name : "\(name).\(overload)") }
        let handle = OpHandle(raw: raw)
        opCache.withLock { $0[key] = handle }
        return handle
    }

    private static func invoke(_ op: OpHandle, _ name: String, _ args: [OpArg], maxOutputs: Int)
        throws(TorchError) -> [Tensor]
    {
        // Lists and strings need stable C storage for the duration of the call.
        var allocations: [UnsafeMutableRawPointer] = []
        defer { allocations.forEach { $0.deallocate() } }
        func store<T>(_ values: [T]) -> UnsafePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
            p.initialize(from: values, count: values.count)
            allocations.append(UnsafeMutableRawPointer(p))
            return UnsafePointer(p)
        }
        var cargs = [ct_arg](repeating: ct_arg(), count: args.count)
        for (k, arg) in args.enumerated() {
            var a = ct_arg()
            switch arg {
            case .tensor(let t): a.tag = Int32(CT_ARG_TENSOR.rawValue); a.t = t.raw
            case .optionalTensor(let t):
                if let t { a.tag = Int32(CT_ARG_TENSOR.rawValue); a.t = t.raw } else { a.tag = Int32(CT_ARG_NONE.rawValue) }
            case .int(let i): a.tag = Int32(CT_ARG_INT.rawValue); a.i = Int64(i)
            case .double(let d): a.tag = Int32(CT_ARG_DOUBLE.rawValue); a.d = d
            case .bool(let b): a.tag = Int32(CT_ARG_BOOL.rawValue); a.i = b ? 1 : 0
            case .ints(let v): a.tag = Int32(CT_ARG_INT_LIST.rawValue); a.ints = store(v.map { Int64($0) }); a.len = Int64(v.count)
            case .doubles(let v): a.tag = Int32(CT_ARG_DOUBLE_LIST.rawValue); a.doubles = store(v); a.len = Int64(v.count)
            case .tensors(let v): a.tag = Int32(CT_ARG_TENSOR_LIST.rawValue); a.tensors = store(v.map(\.raw)); a.len = Int64(v.count)
            case .optionalTensors(let v):
                a.tag = Int32(CT_ARG_OPT_TENSOR_LIST.rawValue)
                a.tensors = store(v.map { $0?.raw ?? ct_tensor(ptr: nil) })
                a.len = Int64(v.count)
            case .string(let s):
                let bytes = Array(s.utf8CString)
                a.tag = Int32(CT_ARG_STRING.rawValue); a.s = store(bytes)
            case .dtype(let d): a.tag = Int32(CT_ARG_SCALAR_TYPE.rawValue); a.i = Int64(d.rawValue)
            case .device(let d): a.tag = Int32(CT_ARG_DEVICE.rawValue); a.device_type = d.typeCode; a.device_index = d.index
            case .none: a.tag = Int32(CT_ARG_NONE.rawValue)
            case .default: a.tag = Int32(CT_ARG_DEFAULT.rawValue)
            }
            cargs[k] = a
        }
        var outs = [ct_tensor](repeating: ct_tensor(ptr: nil), count: maxOutputs)
        var n: Int32 = 0
        let status = withExtendedLifetime(args) {
            ct_op_call(op.raw, cargs, Int32(cargs.count), &outs, Int32(maxOutputs), &n)
        }
        if status != 0 { throw TorchError.last(op: name) }
        return (0..<Int(n)).map { Tensor(adopting: outs[$0]) }
    }
}
