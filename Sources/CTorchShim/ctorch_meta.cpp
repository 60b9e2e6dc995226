// Shape-only kernels for libtorch's meta device. libtorch computes a meta tensor's shape for most operators in C++,
// but a few only in Python (torch/_meta_registrations.py: convolution, batch norm, relu, …), so without these a
// network cannot run on meta. Kinema's tests run the pose workflows on meta to prove that every tensor is made on its model's
// device (an op mixing meta and CPU tensors fails, as one mixing CUDA and CPU tensors does).
#include <ATen/ATen.h>
#include <ATen/core/stack.h>
#include <torch/library.h>

#include <vector>

namespace {

std::vector<int64_t> ints(const c10::IValue &value) {
    std::vector<int64_t> out;
    for (const auto &e : value.toListRef()) out.push_back(e.isInt() ? e.toInt() : e.toSymInt().guard_int(__FILE__, __LINE__));
    return out;
}

int64_t integer(const c10::IValue &value) {
    return value.isInt() ? value.toInt() : value.toSymInt().guard_int(__FILE__, __LINE__);
}

// convolution_overrideable(input, weight, bias?, stride, padding, dilation, transposed, output_padding, groups)
void meta_convolution(const c10::OperatorHandle &, torch::jit::Stack *stack) {
    auto args = torch::jit::last(*stack, 9);
    const at::Tensor input = args[0].toTensor(), weight = args[1].toTensor();
    const auto stride = ints(args[3]), padding = ints(args[4]), dilation = ints(args[5]), extra = ints(args[7]);
    const bool transposed = args[6].toBool();
    const int64_t groups = integer(args[8]);
    const size_t n = static_cast<size_t>(weight.dim() - 2);
    auto at = [](const std::vector<int64_t> &v, size_t i) { return v.size() == 1 ? v[0] : v[i]; };
    std::vector<int64_t> shape{input.size(0), transposed ? weight.size(1) * groups : weight.size(0)};
    for (size_t d = 0; d < n; ++d) {
        const int64_t in = input.size(static_cast<int64_t>(d + 2)), k = weight.size(static_cast<int64_t>(d + 2));
        const int64_t s = at(stride, d), p = at(padding, d), dil = at(dilation, d);
        shape.push_back(transposed ? (in - 1) * s - 2 * p + dil * (k - 1) + at(extra, d) + 1
                                   : (in + 2 * p - dil * (k - 1) - 1) / s + 1);
    }
    at::Tensor out = at::empty(shape, input.options());
    torch::jit::drop(*stack, 9);
    torch::jit::push(*stack, out);
}

// convolution_backward_overrideable(grad_output, input, weight, stride, padding, dilation, transposed,
// output_padding, groups, output_mask) -> (grad_input, grad_weight, grad_bias)
void meta_convolution_backward(const c10::OperatorHandle &, torch::jit::Stack *stack) {
    auto args = torch::jit::last(*stack, 10);
    const at::Tensor input = args[1].toTensor(), weight = args[2].toTensor();
    const bool transposed = args[6].toBool();
    const int64_t groups = integer(args[8]);
    std::vector<bool> mask;
    for (const auto &e : args[9].toListRef()) mask.push_back(e.toBool());
    const int64_t channels = transposed ? weight.size(1) * groups : weight.size(0);
    at::Tensor gi = mask[0] ? at::empty_like(input) : at::Tensor();
    at::Tensor gw = mask[1] ? at::empty_like(weight) : at::Tensor();
    at::Tensor gb = mask[2] ? at::empty({channels}, weight.options()) : at::Tensor();
    torch::jit::drop(*stack, 10);
    torch::jit::push(*stack, gi, gw, gb);
}

// An operator whose first output has its first argument's shape (and dtype, or bool for a test).
template <int Arguments, bool Boolean>
void meta_like_first(const c10::OperatorHandle &, torch::jit::Stack *stack) {
    const at::Tensor self = torch::jit::peek(*stack, 0, Arguments).toTensor();
    at::Tensor out = Boolean ? at::empty_like(self, self.options().dtype(at::kBool)) : at::empty_like(self);
    torch::jit::drop(*stack, Arguments);
    torch::jit::push(*stack, out);
}

// native_batch_norm(input, weight?, bias?, running_mean?, running_var?, training, momentum, eps)
// -> (output, save_mean, save_invstd)
void meta_batch_norm(const c10::OperatorHandle &, torch::jit::Stack *stack) {
    const at::Tensor input = torch::jit::peek(*stack, 0, 8).toTensor();
    const int64_t channels = input.dim() > 1 ? input.size(1) : 1;
    auto stats = input.options().dtype(input.scalar_type() == at::kDouble ? at::kDouble : at::kFloat);
    at::Tensor out = at::empty_like(input), mean = at::empty({channels}, stats), invstd = at::empty({channels}, stats);
    torch::jit::drop(*stack, 8);
    torch::jit::push(*stack, out, mean, invstd);
}

// native_batch_norm_backward(grad_out, input, weight?, running_mean?, running_var?, save_mean?, save_invstd?, train,
// eps, output_mask) -> (grad_input, grad_weight, grad_bias)
void meta_batch_norm_backward(const c10::OperatorHandle &, torch::jit::Stack *stack) {
    auto args = torch::jit::last(*stack, 10);
    const at::Tensor input = args[1].toTensor();
    const int64_t channels = input.dim() > 1 ? input.size(1) : 1;
    std::vector<bool> mask;
    for (const auto &e : args[9].toListRef()) mask.push_back(e.toBool());
    auto options = args[2].isTensor() ? args[2].toTensor().options() : input.options();
    at::Tensor gi = mask[0] ? at::empty_like(input) : at::Tensor();
    at::Tensor gw = mask[1] ? at::empty({channels}, options) : at::Tensor();
    at::Tensor gb = mask[2] ? at::empty({channels}, options) : at::Tensor();
    torch::jit::drop(*stack, 10);
    torch::jit::push(*stack, gi, gw, gb);
}

// index_select(self, dim, index)
void meta_index_select(const c10::OperatorHandle &, torch::jit::Stack *stack) {
    auto args = torch::jit::last(*stack, 3);
    const at::Tensor self = args[0].toTensor(), index = args[2].toTensor();
    auto shape = self.sizes().vec();
    if (!shape.empty()) {
        int64_t dim = args[1].toInt();
        if (dim < 0) dim += static_cast<int64_t>(shape.size());
        shape[static_cast<size_t>(dim)] = index.numel();
    }
    at::Tensor out = at::empty(shape, self.options());
    torch::jit::drop(*stack, 3);
    torch::jit::push(*stack, out);
}

// where.self(condition, self, other): the three shapes broadcast
void meta_where(const c10::OperatorHandle &, torch::jit::Stack *stack) {
    auto args = torch::jit::last(*stack, 3);
    const at::Tensor c = args[0].toTensor(), a = args[1].toTensor(), b = args[2].toTensor();
    const auto shape = at::infer_size(at::infer_size(c.sizes(), a.sizes()), b.sizes());
    at::Tensor out = at::empty(shape, a.options().dtype(at::result_type(a, b)));
    torch::jit::drop(*stack, 3);
    torch::jit::push(*stack, out);
}

// A logical operator on two tensors: bool, their shapes broadcast.
void meta_logical(const c10::OperatorHandle &, torch::jit::Stack *stack) {
    auto args = torch::jit::last(*stack, 2);
    const at::Tensor a = args[0].toTensor(), b = args[1].toTensor();
    at::Tensor out = at::empty(at::infer_size(a.sizes(), b.sizes()), a.options().dtype(at::kBool));
    torch::jit::drop(*stack, 2);
    torch::jit::push(*stack, out);
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, Meta, m) {
    m.impl("logical_or", torch::CppFunction::makeFromBoxedFunction<&meta_logical>());
    m.impl("logical_and", torch::CppFunction::makeFromBoxedFunction<&meta_logical>());
    m.impl("logical_not", torch::CppFunction::makeFromBoxedFunction<&meta_like_first<1, true>>());
    m.impl("index_select", torch::CppFunction::makeFromBoxedFunction<&meta_index_select>());
    m.impl("where.self", torch::CppFunction::makeFromBoxedFunction<&meta_where>());
    m.impl("masked_fill.Scalar", torch::CppFunction::makeFromBoxedFunction<&meta_like_first<3, false>>());
    m.impl("masked_fill.Tensor", torch::CppFunction::makeFromBoxedFunction<&meta_like_first<3, false>>());
    m.impl("abs", torch::CppFunction::makeFromBoxedFunction<&meta_like_first<1, false>>());
    m.impl("relu", torch::CppFunction::makeFromBoxedFunction<&meta_like_first<1, false>>());
    m.impl("isnan", torch::CppFunction::makeFromBoxedFunction<&meta_like_first<1, true>>());
    m.impl("native_batch_norm", torch::CppFunction::makeFromBoxedFunction<&meta_batch_norm>());
    m.impl("native_batch_norm_backward", torch::CppFunction::makeFromBoxedFunction<&meta_batch_norm_backward>());
    m.impl("convolution_overrideable", torch::CppFunction::makeFromBoxedFunction<&meta_convolution>());
    m.impl("convolution_backward_overrideable", torch::CppFunction::makeFromBoxedFunction<&meta_convolution_backward>());
}
