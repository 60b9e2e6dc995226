import OrderedCollections
import Torch

/// Every parameter and buffer of a model, under dotted names equal to PyTorch's `state_dict` keys
/// (`backbone.layer1.0.conv1.weight`), so weights from torchvision, Lightning Pose or DeepLabCut load by name.
///
/// Layers register their tensors through a ``ParameterPath``:
/// ```swift
/// let store = ParameterStore()
/// let conv = try Conv(store.root / "backbone" / "conv1", dims: 2, 3, 64, kernel: [7], stride: [2], padding: [3], bias: false)
/// // store.parameters.keys == ["backbone.conv1.weight"]
/// ```
/// Tensors are created on the store's device and updated in place afterwards (optimizers, loading), so layers
/// can keep references to them.
public final class ParameterStore {
    public let device: Device
    /// Element type of new parameters and of the float buffers layers register (float64 for exact gradient checks).
    public let dtype: DType
    /// Trainable tensors (`requiresGrad`), in registration order.
    public private(set) var parameters: OrderedDictionary<String, Tensor> = [:]
    /// Non-trainable state (BatchNorm statistics, ...), in registration order.
    public private(set) var buffers: OrderedDictionary<String, Tensor> = [:]
    private var frozen: Set<String> = []

    public init(device: Device = .cpu, dtype: DType = .float32) {
        (self.device, self.dtype) = (device, dtype)
    }

    public var root: ParameterPath { ParameterPath(store: self, components: []) }

    // MARK: - Registration

    /// Registers a parameter initialised by `initializer` (run without autograd), and returns it.
    public func parameter(_ name: String, shape: [Int], dtype: DType? = nil, _ initializer: Initializer) throws -> Tensor {
        guard parameters[name] == nil, buffers[name] == nil else { throw NNError.duplicateName(name) }
        let t = try Tensor.zeros(shape, dtype: dtype ?? self.dtype, device: device)
        try withNoGrad { try initializer.fill(t) }
        try t.requiresGrad(true)
        parameters[name] = t
        return t
    }

    /// Registers a buffer holding `tensor` (moved to the store's device) and returns the stored tensor.
    public func buffer(_ name: String, _ tensor: Tensor) throws -> Tensor {
        guard parameters[name] == nil, buffers[name] == nil else { throw NNError.duplicateName(name) }
        let t = tensor.device == device ? tensor : try tensor.to(device)
        buffers[name] = t
        return t
    }

    // MARK: - Training views

    /// Parameters that an optimizer should update (not frozen).
    public var trainable: [(name: String, tensor: Tensor)] {
        parameters.compactMap { frozen.contains($0.key) ? nil : ($0.key, $0.value) }
    }

    /// Stops training every parameter whose name starts with `prefix` (e.g. a backbone during warm-up).
    public func freeze(prefix: String) throws {
        for (name, t) in parameters where name.hasPrefix(prefix) {
            frozen.insert(name)
            try t.requiresGrad(false)
        }
    }

    public func unfreeze(prefix: String) throws {
        for (name, t) in parameters where name.hasPrefix(prefix) {
            frozen.remove(name)
            try t.requiresGrad(true)
        }
    }

    /// Clears every gradient (PyTorch 2's `zero_grad(set_to_none=True)`).
    public func zeroGrad() throws {
        for t in parameters.values { try t.setGrad(nil) }
    }

    /// Number of scalars in all parameters.
    public var parameterCount: Int { parameters.values.reduce(0) { $0 + $1.count } }

    // MARK: - State dict

    /// Parameters then buffers, by name (the tensors themselves, not copies).
    public func stateDict() -> OrderedDictionary<String, Tensor> {
        var all = parameters
        for (k, v) in buffers { all[k] = v }
        return all
    }

    /// Copies tensors into the registered ones by name (converting dtype and device).
    /// - Parameter strict: throw if anything is missing, unexpected or of the wrong shape.
    /// - Returns: what matched and what did not, for a clear report to the user.
    @discardableResult
    public func load(_ tensors: [String: Tensor], strict: Bool = true) throws -> LoadReport {
        var report = LoadReport()
        let own = stateDict()
        for (name, target) in own {
            guard let source = tensors[name] else { report.missing.append(name); continue }
            guard source.shape == target.shape else {
                report.shapeMismatches.append("\(name): file \(source.shape), model \(target.shape)")
                continue
            }
            try withNoGrad { try target.copyFrom(source) }
            report.loaded.append(name)
        }
        report.unexpected = tensors.keys.filter { own[$0] == nil }.sorted()
        if strict, !report.isExact { throw NNError.loadMismatch(report) }
        return report
    }
}

/// What `ParameterStore.load` matched.
public struct LoadReport: Sendable, CustomStringConvertible {
    public var loaded: [String] = []
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var shapeMismatches: [String] = []

    public var isExact: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty }

    public var description: String {
        var lines = ["loaded \(loaded.count) tensors"]
        func list(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            let shown = items.prefix(8).joined(separator: ", ")
            lines.append("\(title) (\(items.count)): \(shown)\(items.count > 8 ? ", ..." : "")")
        }
        list("missing from the file", missing)
        list("in the file but not in the model", unexpected)
        list("shape mismatches", shapeMismatches)
        return lines.joined(separator: "; ")
    }
}

/// A dotted location in a ``ParameterStore``: `store.root / "layer1" / 0 / "conv1"`.
public struct ParameterPath {
    public let store: ParameterStore
    public let components: [String]

    public static func / (path: ParameterPath, name: String) -> ParameterPath {
        ParameterPath(store: path.store, components: path.components + [name])
    }

    public static func / (path: ParameterPath, index: Int) -> ParameterPath { path / String(index) }

    /// The full dotted name of `leaf` under this path.
    public func name(_ leaf: String) -> String { (components + [leaf]).joined(separator: ".") }

    public func parameter(_ leaf: String, shape: [Int], _ initializer: Initializer) throws -> Tensor {
        try store.parameter(name(leaf), shape: shape, initializer)
    }

    public func buffer(_ leaf: String, _ tensor: Tensor) throws -> Tensor { try store.buffer(name(leaf), tensor) }
}

/// Errors from building or loading models.
public enum NNError: Error, CustomStringConvertible {
    case duplicateName(String)
    case loadMismatch(LoadReport)
    case badFile(path: String, reason: String)
    case badConfig(String)

    public var description: String {
        switch self {
        case .duplicateName(let n): "the parameter name '\(n)' is registered twice"
        case .loadMismatch(let r): "the weights do not match the model: \(r)"
        case .badFile(let path, let reason): "\(path): \(reason)"
        case .badConfig(let m): m
        }
    }
}
