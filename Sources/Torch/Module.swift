// Tensors over libtorch: Tensor, DType, Device, TorchError, ops, autograd.
