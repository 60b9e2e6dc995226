// ctorch: the C shim over libtorch (see include/ctorch.h for the contract).
//
// One translation unit for the tensor layer: it includes the heavy ATen headers once, and the pure-C header
// lets Swift import it without C++ interop (c10d's collectives are in ctorch_distributed.cpp, same error path:
// ctorch_internal.h). Builds as C++17 (libtorch <= 2.12) and C++20 (>= 2.13).
#include "ctorch.h"
#include "ctorch_internal.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/GradMode.h>
#include <c10/core/Stream.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace ctorch_detail {

thread_local std::string g_last_error;
thread_local int32_t g_last_kind = CT_OK;
std::atomic<int64_t> g_live{0};
thread_local int64_t g_live_thread = 0;

void set_error(int32_t kind, const char *message) {
    g_last_kind = kind;
    g_last_error = message ? message : "unknown error";
}

ct_tensor wrap(at::Tensor &&t) {
    auto *p = new at::Tensor(std::move(t));
    g_live.fetch_add(1, std::memory_order_relaxed);
    ++g_live_thread;
    return ct_tensor{p};
}

at::Tensor &unwrap(ct_tensor t) {
    if (!t.ptr) throw std::invalid_argument("null tensor handle");
    return *static_cast<at::Tensor *>(t.ptr);
}

} // namespace ctorch_detail

namespace {

using namespace ctorch_detail;

constexpr ct_tensor kNull{nullptr};

struct OpEntry {
    c10::OperatorHandle handle;
    std::string schema;
};

bool valid_dtype(int32_t code) {
    switch (static_cast<c10::ScalarType>(code)) {
    case at::kByte: case at::kChar: case at::kShort: case at::kInt: case at::kLong: case at::kHalf:
    case at::kFloat: case at::kDouble: case at::kBool: case at::kBFloat16:
        return true;
    default:
        return false;
    }
}

// Converts one C argument into the IValue the schema expects.
c10::IValue to_ivalue(const ct_arg &a, const c10::Argument &formal) {
    switch (a.tag) {
    case CT_ARG_NONE: return c10::IValue();
    case CT_ARG_TENSOR: return c10::IValue(unwrap(a.t));
    case CT_ARG_INT: return c10::IValue(a.i);
    case CT_ARG_DOUBLE: return c10::IValue(a.d);
    case CT_ARG_BOOL: return c10::IValue(a.i != 0);
    case CT_ARG_INT_LIST: return c10::IValue(std::vector<int64_t>(a.ints, a.ints + a.len));
    case CT_ARG_DOUBLE_LIST: return c10::IValue(std::vector<double>(a.doubles, a.doubles + a.len));
    case CT_ARG_TENSOR_LIST: {
        c10::List<at::Tensor> list;
        list.reserve(a.len);
        for (int64_t k = 0; k < a.len; ++k) list.push_back(unwrap(a.tensors[k]));
        return c10::IValue(list);
    }
    case CT_ARG_OPT_TENSOR_LIST: {
        c10::List<std::optional<at::Tensor>> list;
        list.reserve(a.len);
        for (int64_t k = 0; k < a.len; ++k) {
            if (a.tensors[k].ptr) list.push_back(std::optional<at::Tensor>(unwrap(a.tensors[k])));
            else list.push_back(std::optional<at::Tensor>());
        }
        return c10::IValue(list);
    }
    case CT_ARG_STRING: return c10::IValue(std::string(a.s ? a.s : ""));
    case CT_ARG_SCALAR_TYPE: return c10::IValue(static_cast<c10::ScalarType>(a.i));
    case CT_ARG_DEVICE:
        return c10::IValue(c10::Device(static_cast<c10::DeviceType>(a.device_type),
                                       static_cast<c10::DeviceIndex>(a.device_index)));
    default:
        throw std::invalid_argument("unknown argument tag for '" + formal.name() + "'");
    }
}

// Flattens one returned IValue into tensor handles.
void collect(const c10::IValue &v, std::vector<at::Tensor> &out) {
    if (v.isTensor()) out.push_back(v.toTensor());
    else if (v.isTensorList()) for (const at::Tensor &t : v.toTensorVector()) out.push_back(t);
    else if (v.isTuple()) for (const auto &e : v.toTupleRef().elements()) collect(e, out);
    else if (v.isNone()) out.push_back(at::Tensor());
    else if (v.isDouble()) out.push_back(at::scalar_tensor(v.toDouble(), at::kDouble));
    else if (v.isInt()) out.push_back(at::scalar_tensor(v.toInt(), at::kLong));
    else if (v.isBool()) out.push_back(at::scalar_tensor(v.toBool(), at::kBool));
    else if (v.isIntList()) {
        auto ints = v.toIntVector();
        out.push_back(at::tensor(ints, at::kLong));
    } else throw std::invalid_argument("operator returned a value ctorch cannot pass back: " + v.tagKind());
}

// Generator state APIs changed type across 2.x (TensorImpl pointer, later at::Tensor); accept both.
at::Tensor as_tensor(at::Tensor t) { return t; }
at::Tensor as_tensor(c10::intrusive_ptr<c10::TensorImpl> p) { return at::Tensor::wrap_tensor_impl(std::move(p)); }
template <typename G>
auto set_state_compat(G &gen, const at::Tensor &t, int) -> decltype(gen.set_state(t), void()) { gen.set_state(t); }
template <typename G>
void set_state_compat(G &gen, const at::Tensor &t, long) { gen.set_state(*t.unsafeGetTensorImpl()); }

} // namespace

extern "C" {

const char *ct_last_error(void) { return g_last_error.c_str(); }
int32_t ct_last_error_kind(void) { return g_last_kind; }

// ---- lifecycle and metadata ---------------------------------------------------------------------

void ct_tensor_free(ct_tensor t) {
    if (!t.ptr) return;
    delete static_cast<at::Tensor *>(t.ptr);
    g_live.fetch_sub(1, std::memory_order_relaxed);
    --g_live_thread;
}

int64_t ct_tensor_live_count(void) { return g_live.load(std::memory_order_relaxed); }
int64_t ct_tensor_live_count_thread(void) { return g_live_thread; }

ct_tensor ct_tensor_alias(ct_tensor t) {
    return guarded(kNull, [&] { return wrap(at::Tensor(unwrap(t))); });
}

int32_t ct_tensor_defined(ct_tensor t) { return t.ptr && unwrap(t).defined() ? 1 : 0; }

int32_t ct_tensor_dim(ct_tensor t) {
    return guarded<int32_t>(-1, [&] { return static_cast<int32_t>(unwrap(t).dim()); });
}

int32_t ct_tensor_sizes(ct_tensor t, int64_t *out, int32_t cap) {
    return guarded<int32_t>(-1, [&] {
        auto s = unwrap(t).sizes();
        for (size_t k = 0; k < s.size() && static_cast<int32_t>(k) < cap; ++k) out[k] = s[k];
        return static_cast<int32_t>(s.size());
    });
}

int32_t ct_tensor_strides(ct_tensor t, int64_t *out, int32_t cap) {
    return guarded<int32_t>(-1, [&] {
        auto s = unwrap(t).strides();
        for (size_t k = 0; k < s.size() && static_cast<int32_t>(k) < cap; ++k) out[k] = s[k];
        return static_cast<int32_t>(s.size());
    });
}

int32_t ct_tensor_dtype(ct_tensor t) {
    return guarded<int32_t>(-1, [&] { return static_cast<int32_t>(unwrap(t).scalar_type()); });
}

int32_t ct_tensor_device(ct_tensor t, int32_t *type, int32_t *index) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        auto d = unwrap(t).device();
        *type = static_cast<int32_t>(d.type());
        *index = d.has_index() ? d.index() : 0;
        return CT_OK;
    });
}

int64_t ct_tensor_numel(ct_tensor t) {
    return guarded<int64_t>(-1, [&] { return unwrap(t).numel(); });
}

int64_t ct_tensor_version(ct_tensor t) {
    return guarded<int64_t>(-1, [&] { return static_cast<int64_t>(unwrap(t)._version()); });
}

// ---- host data ----------------------------------------------------------------------------------

ct_tensor ct_tensor_from_data(const void *data, const int64_t *shape, int32_t ndim, int32_t dtype) {
    return guarded(kNull, [&] {
        if (!valid_dtype(dtype)) throw std::invalid_argument("unsupported dtype code " + std::to_string(dtype));
        std::vector<int64_t> sizes(shape, shape + ndim);
        auto options = at::TensorOptions().dtype(static_cast<c10::ScalarType>(dtype));
        // from_blob does not own the Swift buffer, so clone into libtorch-owned memory.
        return wrap(at::from_blob(const_cast<void *>(data), sizes, options).clone());
    });
}

int32_t ct_tensor_copy_to_host(ct_tensor t, void *dst, int64_t nbytes) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        at::Tensor c = unwrap(t).detach().to(at::kCPU).contiguous();
        if (static_cast<int64_t>(c.nbytes()) != nbytes)
            throw std::invalid_argument("host buffer holds " + std::to_string(nbytes) + " bytes but the tensor needs " +
                                        std::to_string(c.nbytes()));
        if (nbytes > 0) std::memcpy(dst, c.data_ptr(), static_cast<size_t>(nbytes));
        return CT_OK;
    });
}

void *ct_tensor_data_ptr(ct_tensor t) {
    return guarded<void *>(nullptr, [&]() -> void * {
        at::Tensor &x = unwrap(t);
        if (!x.device().is_cpu() || !x.is_contiguous())
            throw std::invalid_argument("data_ptr needs a contiguous CPU tensor");
        return x.data_ptr();
    });
}

int32_t ct_tensor_item_double(ct_tensor t, double *out) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        *out = unwrap(t).item<double>();
        return CT_OK;
    });
}

int32_t ct_tensor_item_int64(ct_tensor t, int64_t *out) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        *out = unwrap(t).item<int64_t>();
        return CT_OK;
    });
}

ct_tensor ct_tensor_to(ct_tensor t, int32_t device_type, int32_t device_index, int32_t dtype,
                       int32_t non_blocking, int32_t copy) {
    return guarded(kNull, [&] {
        at::Tensor &x = unwrap(t);
        c10::Device device = device_type < 0 ? x.device()
                                              : c10::Device(static_cast<c10::DeviceType>(device_type),
                                                            static_cast<c10::DeviceIndex>(device_index));
        c10::ScalarType st = dtype < 0 ? x.scalar_type() : static_cast<c10::ScalarType>(dtype);
        return wrap(x.to(device, st, non_blocking != 0, copy != 0));
    });
}

// ---- autograd -----------------------------------------------------------------------------------

int32_t ct_tensor_set_requires_grad(ct_tensor t, int32_t requires_grad) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        unwrap(t).set_requires_grad(requires_grad != 0);
        return CT_OK;
    });
}

int32_t ct_tensor_requires_grad(ct_tensor t) {
    return guarded<int32_t>(0, [&] { return unwrap(t).requires_grad() ? 1 : 0; });
}

int32_t ct_tensor_is_leaf(ct_tensor t) {
    return guarded<int32_t>(0, [&] { return unwrap(t).is_leaf() ? 1 : 0; });
}

ct_tensor ct_tensor_grad(ct_tensor t) {
    return guarded(kNull, [&] { return wrap(at::Tensor(unwrap(t).grad())); });
}

int32_t ct_tensor_set_grad(ct_tensor t, ct_tensor g) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        unwrap(t).mutable_grad() = unwrap(g);
        return CT_OK;
    });
}

int32_t ct_tensor_reset_grad(ct_tensor t) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        unwrap(t).mutable_grad().reset();
        return CT_OK;
    });
}

ct_tensor ct_tensor_detach(ct_tensor t) {
    return guarded(kNull, [&] { return wrap(unwrap(t).detach()); });
}

int32_t ct_autograd_backward(const ct_tensor *outputs, int32_t n, const ct_tensor *grad_outputs,
                             int32_t retain_graph, int32_t create_graph) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        std::vector<at::Tensor> outs, grads;
        for (int32_t k = 0; k < n; ++k) {
            outs.push_back(unwrap(outputs[k]));
            if (grad_outputs) grads.push_back(unwrap(grad_outputs[k]));
        }
        torch::autograd::backward(outs, grads, std::optional<bool>(retain_graph != 0), create_graph != 0);
        return CT_OK;
    });
}

int32_t ct_autograd_set_enabled(int32_t enabled) {
    bool previous = c10::GradMode::is_enabled();
    c10::GradMode::set_enabled(enabled != 0);
    return previous ? 1 : 0;
}

int32_t ct_autograd_is_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }

// ---- operators ----------------------------------------------------------------------------------

ct_op ct_op_lookup(const char *name, const char *overload) {
    return guarded(ct_op{nullptr}, [&] {
        auto handle = c10::Dispatcher::singleton().findSchemaOrThrow(name, overload ? overload : "");
        std::string schema = c10::toString(handle.schema());
        // Operator handles live as long as the process; entries are never freed.
        return ct_op{new OpEntry{handle, std::move(schema)}};
    });
}

const char *ct_op_schema(ct_op op) { return op.ptr ? static_cast<const OpEntry *>(op.ptr)->schema.c_str() : ""; }

int32_t ct_op_call(ct_op op, const ct_arg *args, int32_t nargs, ct_tensor *outs, int32_t max_outs,
                   int32_t *nouts) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        if (!op.ptr) throw std::invalid_argument("null operator handle");
        const auto *entry = static_cast<const OpEntry *>(op.ptr);
        const auto &formals = entry->handle.schema().arguments();
        if (static_cast<size_t>(nargs) > formals.size())
            throw std::invalid_argument(std::to_string(nargs) + " arguments given to " + entry->schema);
        torch::jit::Stack stack;
        stack.reserve(formals.size());
        for (size_t k = 0; k < formals.size(); ++k) {
            const auto &formal = formals[k];
            if (static_cast<int32_t>(k) < nargs && args[k].tag != CT_ARG_DEFAULT) {
                stack.push_back(to_ivalue(args[k], formal));
            } else if (formal.default_value()) {
                stack.push_back(*formal.default_value());
            } else {
                throw std::invalid_argument("argument '" + formal.name() + "' is required by " + entry->schema);
            }
        }
        entry->handle.callBoxed(&stack);
        std::vector<at::Tensor> results;
        for (const auto &v : stack) collect(v, results);
        if (static_cast<int32_t>(results.size()) > max_outs)
            throw std::invalid_argument(entry->schema + " returned " + std::to_string(results.size()) +
                                        " tensors, more than the " + std::to_string(max_outs) + " expected");
        for (size_t k = 0; k < results.size(); ++k) outs[k] = wrap(std::move(results[k]));
        *nouts = static_cast<int32_t>(results.size());
        return CT_OK;
    });
}

// ---- devices, RNG, threads ----------------------------------------------------------------------

int32_t ct_cuda_load(const char *libdir) {
    std::string path = std::string(libdir ? libdir : "") + "/libtorch_cuda.so";
    // RTLD_GLOBAL so that the CUDA kernels register with the dispatcher (tch-rs issue #177).
    if (!dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
        const char *why = dlerror();
        set_error(CT_ERR_GENERIC, why ? why : "dlopen failed");
        return CT_ERR_GENERIC;
    }
    return CT_OK;
}

int32_t ct_cuda_is_available(void) { return ct_cuda_device_count() > 0 ? 1 : 0; }

int32_t ct_cuda_device_count(void) {
    return guarded<int32_t>(0, [&] {
        if (!c10::impl::hasDeviceGuardImpl(c10::DeviceType::CUDA)) return 0;
        return static_cast<int32_t>(c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->deviceCount());
    });
}

int32_t ct_cuda_synchronize(int32_t device_index) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        if (!c10::impl::hasDeviceGuardImpl(c10::DeviceType::CUDA)) throw std::runtime_error("CUDA is not available");
        auto *impl = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
        impl->getStream(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device_index))).synchronize();
        return CT_OK;
    });
}

int32_t ct_manual_seed(uint64_t seed) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        torch::manual_seed(seed);
        return CT_OK;
    });
}

int32_t ct_autocast_enter(int32_t device_type, int32_t dtype, int32_t *previous_enabled, int32_t *previous_dtype) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        const auto type = static_cast<c10::DeviceType>(device_type);
        if (!at::autocast::is_autocast_available(type)) {
            throw std::runtime_error("libtorch has no autocast for " + c10::DeviceTypeName(type, true));
        }
        *previous_enabled = at::autocast::is_autocast_enabled(type) ? 1 : 0;
        *previous_dtype = static_cast<int32_t>(at::autocast::get_autocast_dtype(type));
        at::autocast::set_autocast_dtype(type, static_cast<c10::ScalarType>(dtype));
        at::autocast::set_autocast_enabled(type, true);
        at::autocast::increment_nesting();
        return CT_OK;
    });
}

int32_t ct_autocast_exit(int32_t device_type, int32_t previous_enabled, int32_t previous_dtype) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        const auto type = static_cast<c10::DeviceType>(device_type);
        at::autocast::set_autocast_enabled(type, previous_enabled != 0);
        at::autocast::set_autocast_dtype(type, static_cast<c10::ScalarType>(previous_dtype));
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
        return CT_OK;
    });
}

ct_tensor ct_rng_get_state(void) {
    return guarded(kNull, [&] {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        return wrap(as_tensor(gen.get_state()));
    });
}

int32_t ct_rng_set_state(ct_tensor state) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        set_state_compat(gen, unwrap(state), 0);
        return CT_OK;
    });
}

void ct_threads_set(int32_t n) {
    if (n > 0) at::set_num_threads(n);
}

int32_t ct_threads_get(void) { return at::get_num_threads(); }

namespace {
// libtorch's CPU kernels run on GNU OpenMP. at::parallel_for is a header template whose
// `#pragma omp parallel` would need this file built with -fopenmp and linked to an OpenMP runtime,
// which could be a second one beside the copy libtorch bundles. Instead the region is opened
// through the runtime libtorch itself loaded (GOMP_parallel is what compilers emit for the pragma;
// LLVM's and Intel's runtimes export it too), found from libtorch's own handle.
using gomp_parallel_fn = void (*)(void (*)(void *), void *, unsigned, unsigned);
using omp_int_fn = int (*)(void);
struct OpenMP {
    gomp_parallel_fn parallel = nullptr;
    omp_int_fn thread_num = nullptr, num_threads = nullptr;
    OpenMP() {
        Dl_info info;
        if (!dladdr(reinterpret_cast<void *>(&at::get_num_threads), &info) || !info.dli_fname) return;
        void *torch = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        if (!torch) return;
        parallel = reinterpret_cast<gomp_parallel_fn>(dlsym(torch, "GOMP_parallel"));
        thread_num = reinterpret_cast<omp_int_fn>(dlsym(torch, "omp_get_thread_num"));
        num_threads = reinterpret_cast<omp_int_fn>(dlsym(torch, "omp_get_num_threads"));
        if (!thread_num || !num_threads) parallel = nullptr;
    }
};
const OpenMP &openmp() {
    static const OpenMP instance;
    return instance;
}
struct ParallelJob {
    int64_t n;
    void (*body)(void *, int64_t, int64_t);
    void *context;
};
void run_chunk(void *data) {
    auto *job = static_cast<ParallelJob *>(data);
    const int64_t threads = openmp().num_threads(), id = openmp().thread_num();
    const int64_t chunk = (job->n + threads - 1) / threads;
    const int64_t begin = id * chunk, end = std::min(job->n, begin + chunk);
    if (begin < end) job->body(job->context, begin, end);
}
} // namespace

int32_t ct_parallel_for(int64_t n, void (*body)(void *context, int64_t begin, int64_t end), void *context) {
    return guarded<int32_t>(CT_ERR_GENERIC, [&] {
        if (n <= 0) return CT_OK;
        const int64_t threads = std::min<int64_t>(at::get_num_threads(), n);
        if (threads <= 1 || at::in_parallel_region() || !openmp().parallel) {
            body(context, 0, n);  // one thread, a nested call, or no OpenMP runtime: a plain call
            return CT_OK;
        }
        ParallelJob job{n, body, context};
        openmp().parallel(run_chunk, &job, static_cast<unsigned>(threads), 0);
        return CT_OK;
    });
}

const char *ct_torch_version(void) { return TORCH_VERSION; }

const char *ct_libtorch_path(void) {
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&at::get_num_threads), &info) && info.dli_fname) return info.dli_fname;
    return "";
}

int32_t ct_abi_version(void) { return CTORCH_ABI_VERSION; }

} // extern "C"
