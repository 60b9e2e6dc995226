/// Shorthand for a one-result operator call.
@inline(__always)
func op(_ name: String, _ overload: String, _ args: [OpArg]) throws(TorchError) -> Tensor {
    try Torch.call1(name, overload, args)
}

@inline(__always)
func op(_ name: String, _ args: [OpArg]) throws(TorchError) -> Tensor {
    try Torch.call1(name, "", args)
}

// MARK: - Broadcasting arithmetic operators

extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) throws(TorchError) -> Tensor {
        try op("aten::add", "Tensor", [.tensor(lhs), .tensor(rhs)])
    }
    public static func + (lhs: Tensor, rhs: Double) throws(TorchError) -> Tensor {
        try op("aten::add", "Scalar", [.tensor(lhs), .double(rhs)])
    }
    public static func + (lhs: Double, rhs: Tensor) throws(TorchError) -> Tensor { try rhs + lhs }

    public static func - (lhs: Tensor, rhs: Tensor) throws(TorchError) -> Tensor {
        try op("aten::sub", "Tensor", [.tensor(lhs), .tensor(rhs)])
    }
    public static func - (lhs: Tensor, rhs: Double) throws(TorchError) -> Tensor {
        try op("aten::sub", "Scalar", [.tensor(lhs), .double(rhs)])
    }
    public static func - (lhs: Double, rhs: Tensor) throws(TorchError) -> Tensor {
        try op("aten::rsub", "Scalar", [.tensor(rhs), .double(lhs)])
    }
    public static prefix func - (x: Tensor) throws(TorchError) -> Tensor { try op("aten::neg", [.tensor(x)]) }

    public static func * (lhs: Tensor, rhs: Tensor) throws(TorchError) -> Tensor {
        try op("aten::mul", "Tensor", [.tensor(lhs), .tensor(rhs)])
    }
    public static func * (lhs: Tensor, rhs: Double) throws(TorchError) -> Tensor {
        try op("aten::mul", "Scalar", [.tensor(lhs), .double(rhs)])
    }
    public static func * (lhs: Double, rhs: Tensor) throws(TorchError) -> Tensor { try rhs * lhs }

    public static func / (lhs: Tensor, rhs: Tensor) throws(TorchError) -> Tensor {
        try op("aten::div", "Tensor", [.tensor(lhs), .tensor(rhs)])
    }
    public static func / (lhs: Tensor, rhs: Double) throws(TorchError) -> Tensor {
        try op("aten::div", "Scalar", [.tensor(lhs), .double(rhs)])
    }
    public static func / (lhs: Double, rhs: Tensor) throws(TorchError) -> Tensor { try rhs.reciprocal() * lhs }
}

// MARK: - Element-wise functions

extension Tensor {
    private func unary(_ name: String) throws(TorchError) -> Tensor { try op(name, [.tensor(self)]) }

    public func abs() throws(TorchError) -> Tensor { try unary("aten::abs") }
    public func sqrt() throws(TorchError) -> Tensor { try unary("aten::sqrt") }
    public func rsqrt() throws(TorchError) -> Tensor { try unary("aten::rsqrt") }
    public func exp() throws(TorchError) -> Tensor { try unary("aten::exp") }
    public func log() throws(TorchError) -> Tensor { try unary("aten::log") }
    public func log1p() throws(TorchError) -> Tensor { try unary("aten::log1p") }
    public func sin() throws(TorchError) -> Tensor { try unary("aten::sin") }
    public func cos() throws(TorchError) -> Tensor { try unary("aten::cos") }
    public func sign() throws(TorchError) -> Tensor { try unary("aten::sign") }
    public func floor() throws(TorchError) -> Tensor { try unary("aten::floor") }
    public func ceil() throws(TorchError) -> Tensor { try unary("aten::ceil") }
    public func round() throws(TorchError) -> Tensor { try unary("aten::round") }
    public func reciprocal() throws(TorchError) -> Tensor { try unary("aten::reciprocal") }
    public func square() throws(TorchError) -> Tensor { try self * self }
    public func isNaN() throws(TorchError) -> Tensor { try unary("aten::isnan") }
    public func logicalNot() throws(TorchError) -> Tensor { try unary("aten::logical_not") }

    public func pow(_ exponent: Double) throws(TorchError) -> Tensor {
        try op("aten::pow", "Tensor_Scalar", [.tensor(self), .double(exponent)])
    }
    public func pow(_ exponent: Tensor) throws(TorchError) -> Tensor {
        try op("aten::pow", "Tensor_Tensor", [.tensor(self), .tensor(exponent)])
    }

    /// Limits values to [min, max]; either bound may be nil.
    public func clamp(min: Double? = nil, max: Double? = nil) throws(TorchError) -> Tensor {
        try op("aten::clamp", [.tensor(self), min.map { .double($0) } ?? .none, max.map { .double($0) } ?? .none])
    }
    public func maximum(_ other: Tensor) throws(TorchError) -> Tensor { try op("aten::maximum", [.tensor(self), .tensor(other)]) }
    public func minimum(_ other: Tensor) throws(TorchError) -> Tensor { try op("aten::minimum", [.tensor(self), .tensor(other)]) }
    public func logicalAnd(_ other: Tensor) throws(TorchError) -> Tensor { try op("aten::logical_and", [.tensor(self), .tensor(other)]) }
    public func logicalOr(_ other: Tensor) throws(TorchError) -> Tensor { try op("aten::logical_or", [.tensor(self), .tensor(other)]) }

    /// Replaces NaN (and infinities) by finite values.
    public func nanToNum(_ nan: Double = 0) throws(TorchError) -> Tensor {
        try op("aten::nan_to_num", [.tensor(self), .double(nan)])
    }

    /// Matrix product with NumPy broadcasting rules (Python's `@`).
    public func matmul(_ other: Tensor) throws(TorchError) -> Tensor { try op("aten::matmul", [.tensor(self), .tensor(other)]) }
}

/// `condition ? a : b`, element-wise with broadcasting.
public func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws(TorchError) -> Tensor {
    try op("aten::where", "self", [.tensor(condition), .tensor(a), .tensor(b)])
}

/// Einstein summation, e.g. `einsum("bij,bjk->bik", [a, b])`.
public func einsum(_ equation: String, _ operands: [Tensor]) throws(TorchError) -> Tensor {
    try op("aten::einsum", [.string(equation), .tensors(operands)])
}

// MARK: - Comparisons (element-wise, returning bool tensors)

extension Tensor {
    private func compare(_ name: String, _ other: Tensor) throws(TorchError) -> Tensor {
        try op(name, "Tensor", [.tensor(self), .tensor(other)])
    }
    private func compare(_ name: String, _ other: Double) throws(TorchError) -> Tensor {
        try op(name, "Scalar", [.tensor(self), .double(other)])
    }

    public func eq(_ other: Tensor) throws(TorchError) -> Tensor { try compare("aten::eq", other) }
    public func eq(_ other: Double) throws(TorchError) -> Tensor { try compare("aten::eq", other) }
    public func ne(_ other: Tensor) throws(TorchError) -> Tensor { try compare("aten::ne", other) }
    public func ne(_ other: Double) throws(TorchError) -> Tensor { try compare("aten::ne", other) }
    public func lt(_ other: Tensor) throws(TorchError) -> Tensor { try compare("aten::lt", other) }
    public func lt(_ other: Double) throws(TorchError) -> Tensor { try compare("aten::lt", other) }
    public func le(_ other: Tensor) throws(TorchError) -> Tensor { try compare("aten::le", other) }
    public func le(_ other: Double) throws(TorchError) -> Tensor { try compare("aten::le", other) }
    public func gt(_ other: Tensor) throws(TorchError) -> Tensor { try compare("aten::gt", other) }
    public func gt(_ other: Double) throws(TorchError) -> Tensor { try compare("aten::gt", other) }
    public func ge(_ other: Tensor) throws(TorchError) -> Tensor { try compare("aten::ge", other) }
    public func ge(_ other: Double) throws(TorchError) -> Tensor { try compare("aten::ge", other) }
}

// MARK: - In-place updates (for optimizers and buffers; run them under `withNoGrad` on parameters)

extension Tensor {
    /// self += alpha * other
    public func addInPlace(_ other: Tensor, alpha: Double = 1) throws(TorchError) {
        _ = try op("aten::add_", "Tensor", [.tensor(self), .tensor(other), .double(alpha)])
    }
    public func addInPlace(_ value: Double) throws(TorchError) {
        _ = try op("aten::add_", "Scalar", [.tensor(self), scalarArg(value)])
    }
    public func mulInPlace(_ factor: Double) throws(TorchError) {
        _ = try op("aten::mul_", "Scalar", [.tensor(self), .double(factor)])
    }
    public func mulInPlace(_ other: Tensor) throws(TorchError) {
        _ = try op("aten::mul_", "Tensor", [.tensor(self), .tensor(other)])
    }
    public func divInPlace(_ other: Tensor) throws(TorchError) {
        _ = try op("aten::div_", "Tensor", [.tensor(self), .tensor(other)])
    }
    /// self += value * a * b
    public func addcmulInPlace(_ a: Tensor, _ b: Tensor, value: Double = 1) throws(TorchError) {
        _ = try op("aten::addcmul_", [.tensor(self), .tensor(a), .tensor(b), .double(value)])
    }
    /// self += value * a / b
    public func addcdivInPlace(_ a: Tensor, _ b: Tensor, value: Double = 1) throws(TorchError) {
        _ = try op("aten::addcdiv_", [.tensor(self), .tensor(a), .tensor(b), .double(value)])
    }
    /// self += weight * (end - self)
    public func lerpInPlace(_ end: Tensor, weight: Double) throws(TorchError) {
        _ = try op("aten::lerp_", "Scalar", [.tensor(self), .tensor(end), .double(weight)])
    }
    /// Copies `source` into self (broadcasting, converting dtype and device).
    public func copyFrom(_ source: Tensor) throws(TorchError) {
        _ = try op("aten::copy_", [.tensor(self), .tensor(source)])
    }
    public func zeroInPlace() throws(TorchError) { _ = try op("aten::zero_", [.tensor(self)]) }
    public func fillInPlace(_ value: Double) throws(TorchError) {
        _ = try op("aten::fill_", "Scalar", [.tensor(self), scalarArg(value)])
    }

    /// An integer Scalar for integer tensors (libtorch will not add a float in place to an int tensor).
    func scalarArg(_ value: Double) -> OpArg {
        !dtype.isFloatingPoint && value.rounded() == value ? .int(Int(value)) : .double(value)
    }
    public func clampInPlace(min: Double? = nil, max: Double? = nil) throws(TorchError) {
        _ = try op("aten::clamp_", [.tensor(self), min.map { .double($0) } ?? .none, max.map { .double($0) } ?? .none])
    }
    /// Fills with samples from U(low, high), using libtorch's seeded generator.
    public func uniformInPlace(_ low: Double, _ high: Double) throws(TorchError) {
        _ = try op("aten::uniform_", [.tensor(self), .double(low), .double(high)])
    }
    /// Fills with samples from N(mean, std²).
    public func normalInPlace(mean: Double = 0, std: Double = 1) throws(TorchError) {
        _ = try op("aten::normal_", [.tensor(self), .double(mean), .double(std)])
    }
}
