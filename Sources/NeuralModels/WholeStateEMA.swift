// The EMA of the original (timm-style ModelEmaV2, reference 3.6): every state_dict entry is averaged,
// BatchNorm running statistics included, not only the parameters.
import Torch
import TorchNN
import TorchOptim

extension ExponentialMovingAverage {
    /// One update of the whole state: `e ← decay·e + (1−decay)·m` for every entry of the store's state_dict
    /// (parameters and buffers). Integer buffers (`num_batches_tracked`) are mixed in float32 and truncated
    /// toward zero, as in the original (int tensor × Python float gives float32; `copy_` back truncates).
    ///
    /// TorchOptim's `update()` copies the buffers instead; the trainer calls this one.
    public func updateWholeState() throws {
        try withNoGrad {
            for (name, value) in store.stateDict() {
                guard let average = shadow[name] else { continue }
                if average.dtype.isFloatingPoint {
                    try average.mulInPlace(decay)
                    try average.addInPlace(value, alpha: 1 - decay)
                } else {
                    let mixed = try average.to(.float32) * decay + value.to(.float32) * (1 - decay)
                    try average.copyFrom(mixed)
                }
            }
        }
    }
}
