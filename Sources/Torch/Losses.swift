// MARK: - Loss functions (as torch.nn.functional)

/// How a loss reduces its per-element values.
public enum Reduction: Int, Sendable { case none = 0, mean = 1, sum = 2 }

public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws(TorchError) -> Tensor {
    try op("aten::mse_loss", [.tensor(input), .tensor(target), .int(reduction.rawValue)])
}

public func l1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws(TorchError) -> Tensor {
    try op("aten::l1_loss", [.tensor(input), .tensor(target), .int(reduction.rawValue)])
}

public func smoothL1Loss(_ input: Tensor, _ target: Tensor, beta: Double = 1, reduction: Reduction = .mean) throws(TorchError) -> Tensor {
    try op("aten::smooth_l1_loss", [.tensor(input), .tensor(target), .int(reduction.rawValue), .double(beta)])
}

public func binaryCrossEntropyWithLogits(
    _ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, posWeight: Tensor? = nil,
    reduction: Reduction = .mean
) throws(TorchError) -> Tensor {
    try op(
        "aten::binary_cross_entropy_with_logits",
        [
            .tensor(logits), .tensor(target), .optionalTensor(weight), .optionalTensor(posWeight), .int(reduction.rawValue),
        ])
}

/// Cross-entropy of logits (N, C, ...) against class indices (N, ...).
public func crossEntropy(
    _ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean,
    ignoreIndex: Int = -100, labelSmoothing: Double = 0
) throws(TorchError) -> Tensor {
    try op(
        "aten::cross_entropy_loss",
        [
            .tensor(logits), .tensor(target), .optionalTensor(weight), .int(reduction.rawValue), .int(ignoreIndex), .double(labelSmoothing),
        ])
}

public func nllLoss(_ logProbs: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws(TorchError) -> Tensor {
    try op("aten::nll_loss", [.tensor(logProbs), .tensor(target), .none, .int(reduction.rawValue), .int(-100)])
}

/// Poisson negative log-likelihood, as `F.poisson_nll_loss` (`logInput: false` takes rates).
public func poissonNLLLoss(
    _ input: Tensor, _ target: Tensor, logInput: Bool = true, full: Bool = false, eps: Double = 1e-8,
    reduction: Reduction = .mean
) throws(TorchError) -> Tensor {
    try op(
        "aten::poisson_nll_loss", [.tensor(input), .tensor(target), .bool(logInput), .bool(full), .double(eps), .int(reduction.rawValue)])
}
