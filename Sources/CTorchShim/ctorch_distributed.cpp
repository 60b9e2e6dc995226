// ctorch's data-parallel section: libtorch's own c10d (TCPStore rendezvous, ProcessGroupGloo collectives on CPU
// tensors) behind the pure-C functions of ctorch.h's "process groups" section. Same error path as ctorch.cpp
// (`guarded`, ctorch_internal.h). NCCL (ProcessGroupNCCL) needs a CUDA build of the shim and is not built here.
#include "ctorch.h"
#include "ctorch_internal.h"

#define USE_C10D_GLOO 1  // the wheel's libtorch_cpu has Gloo; its headers are declared in gloo-declarations/
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace ctorch_detail;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Group {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::Backend> backend;
    std::string host;
    int port = 0, rank = 0, size = 1;
    milliseconds timeout{0};
};

Group &group_of(ct_group g) {
    if (!g.ptr) throw std::invalid_argument("null process group handle");
    return *static_cast<Group *>(g.ptr);
}

std::string seconds(milliseconds t) {
    std::ostringstream s;
    s << t.count() / 1000.0 << " s";
    return s.str();
}

std::string rank_list(const std::vector<int> &ranks) {
    std::ostringstream s;
    s << (ranks.size() == 1 ? "rank " : "ranks ");
    for (size_t i = 0; i < ranks.size(); ++i) s << (i ? ", " : "") << ranks[i];
    return s.str();
}

// Which ranks have set `prefix<r>` in the store before `deadline` (polls: a store wait would throw without naming).
std::vector<int> missing_after(Group &g, const std::string &prefix, Clock::time_point deadline) {
    std::vector<int> missing;
    for (;;) {
        missing.clear();
        for (int r = 0; r < g.size; ++r)
            if (!g.store->check({prefix + std::to_string(r)})) missing.push_back(r);
        if (missing.empty() || Clock::now() >= deadline) return missing;
        std::this_thread::sleep_for(milliseconds(20));
    }
}

// A collective failed (a peer closed its connections or did not answer in time). Every rank that is still alive
// answers a roll call in the store, so the error names the ranks that did not: a clean line instead of a hang.
[[noreturn]] void fail_naming_ranks(Group &g, const char *what, const std::string &cause) {
    std::string line = std::string(what) + " failed on rank " + std::to_string(g.rank) + " of " + std::to_string(g.size);
    std::vector<int> missing;
    try {
        g.store->set("kinema/alive/" + std::to_string(g.rank), std::string("1"));
        missing = missing_after(g, "kinema/alive/", Clock::now() + std::min(g.timeout, milliseconds(30000)));
    } catch (const std::exception &) {
        throw std::runtime_error(
            line + ": rank 0, which holds the group's store at " + g.host + ":" + std::to_string(g.port) +
            ", did not answer (it stopped or hangs; its own output says why)");
    }
    if (!missing.empty()) {
        throw std::runtime_error(
            line + ": " + rank_list(missing) + " did not answer within " + seconds(g.timeout) +
            " (stopped or hangs; its own output says why)");
    }
    throw std::runtime_error(line + ": " + cause);
}

void run(Group &g, const char *what, const c10::intrusive_ptr<c10d::Work> &work) {
    try {
        work->wait();
    } catch (const c10::Error &e) {
        fail_naming_ranks(g, what, e.what_without_backtrace());
    } catch (const std::exception &e) {
        fail_naming_ranks(g, what, e.what());
    }
}

// Flat buckets of at most `bucket_bytes` (consecutive tensors of one dtype), as DDP reduces its gradients.
std::vector<std::vector<at::Tensor>> buckets(const std::vector<at::Tensor> &tensors, int64_t bucket_bytes) {
    std::vector<std::vector<at::Tensor>> out;
    int64_t bytes = 0;
    for (const at::Tensor &t : tensors) {
        int64_t n = t.numel() * static_cast<int64_t>(t.element_size());
        if (out.empty() || bytes + n > bucket_bytes || out.back().front().scalar_type() != t.scalar_type()) {
            out.emplace_back();
            bytes = 0;
        }
        out.back().push_back(t);
        bytes += n;
    }
    return out;
}

at::Tensor flatten(const std::vector<at::Tensor> &bucket) {
    if (bucket.size() == 1) return bucket.front().reshape({-1}).clone();
    std::vector<at::Tensor> flat;
    flat.reserve(bucket.size());
    for (const at::Tensor &t : bucket) flat.push_back(t.reshape({-1}));
    return at::cat(flat);
}

void unflatten(const at::Tensor &flat, std::vector<at::Tensor> &bucket) {
    int64_t offset = 0;
    for (at::Tensor &t : bucket) {
        t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
        offset += t.numel();
    }
}

std::vector<at::Tensor> tensor_list(const ct_tensor *tensors, int32_t n) {
    std::vector<at::Tensor> list;
    list.reserve(n);
    for (int32_t k = 0; k < n; ++k) {
        at::Tensor &t = unwrap(tensors[k]);
        if (!t.defined()) throw std::invalid_argument("tensor " + std::to_string(k) + " of the list is undefined");
        list.push_back(t);
    }
    return list;
}

void all_reduce_sum(Group &g, at::Tensor &flat, const char *what) {
    std::vector<at::Tensor> one{flat};
    run(g, what, g.backend->allreduce(one, c10d::AllreduceOptions{}));
}

// SyncBatchNorm: batch statistics over every rank's samples. Forward all-reduces the per-channel sum and count,
// then the sum of squared deviations from the global mean (two passes, as accurate as one process's kernel);
// backward all-reduces the two per-channel gradient sums the input gradient needs. The weight and bias gradients
// stay local: the trainer's gradient all-reduce sums them with every other parameter's.
struct SyncBatchNorm : torch::autograd::Function<SyncBatchNorm> {
    static at::Tensor forward(
        torch::autograd::AutogradContext *ctx, const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias,
        at::Tensor running_mean, at::Tensor running_var, double momentum, double eps, int64_t group) {
        Group &g = *reinterpret_cast<Group *>(group);
        const int64_t channels = x.size(1);
        std::vector<int64_t> dims{0}, view(x.dim(), 1);
        for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
        view[1] = channels;
        const double local = static_cast<double>(x.numel() / std::max<int64_t>(channels, 1));
        at::Tensor stats = at::cat({x.sum(dims), at::full({1}, local, x.options())});
        all_reduce_sum(g, stats, "batch norm statistics");
        const double count = stats[channels].item<double>();
        at::Tensor mean = stats.narrow(0, 0, channels) / count;
        at::Tensor xmu = x - mean.view(view);
        at::Tensor squares = xmu.square().sum(dims);
        all_reduce_sum(g, squares, "batch norm statistics");
        at::Tensor var = squares / count;
        at::Tensor invstd = (var + eps).rsqrt();
        at::Tensor y = xmu * invstd.view(view);
        if (weight.defined()) y = y * weight.view(view);
        if (bias.defined()) y = y + bias.view(view);
        if (running_mean.defined()) {
            at::NoGradGuard no_grad;
            running_mean.mul_(1 - momentum).add_(mean, momentum);
            running_var.mul_(1 - momentum).add_(var * (count / std::max(count - 1, 1.0)), momentum);
        }
        ctx->save_for_backward({xmu, invstd, weight});
        ctx->saved_data["count"] = count;
        ctx->saved_data["group"] = group;
        ctx->saved_data["affine_bias"] = bias.defined();
        return y;
    }

    static torch::autograd::variable_list backward(
        torch::autograd::AutogradContext *ctx, torch::autograd::variable_list grads) {
        Group &g = *reinterpret_cast<Group *>(ctx->saved_data["group"].toInt());
        const double count = ctx->saved_data["count"].toDouble();
        auto saved = ctx->get_saved_variables();
        at::Tensor xmu = saved[0], invstd = saved[1], weight = saved[2];
        at::Tensor dy = grads[0];
        const int64_t channels = xmu.size(1);
        std::vector<int64_t> dims{0}, view(xmu.dim(), 1);
        for (int64_t d = 2; d < xmu.dim(); ++d) dims.push_back(d);
        view[1] = channels;
        at::Tensor sum_dy = dy.sum(dims), sum_dy_xmu = (dy * xmu).sum(dims);
        at::Tensor grad_weight = weight.defined() ? sum_dy_xmu * invstd : at::Tensor();
        at::Tensor grad_bias = ctx->saved_data["affine_bias"].toBool() ? sum_dy.clone() : at::Tensor();
        at::Tensor sums = at::cat({sum_dy, sum_dy_xmu});
        all_reduce_sum(g, sums, "batch norm gradients");
        at::Tensor mean_dy = sums.narrow(0, 0, channels) / count, mean_dy_xmu = sums.narrow(0, channels, channels) / count;
        at::Tensor scale = weight.defined() ? invstd * weight : invstd;
        at::Tensor dx = (dy - mean_dy.view(view) - xmu * (invstd.square() * mean_dy_xmu).view(view)) * scale.view(view);
        return {dx, grad_weight, grad_bias, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

} // namespace

extern "C" {

ct_group ct_group_join(const char *host, int32_t port, int32_t rank, int32_t world_size, int64_t timeout_ms) {
    return guarded(ct_group{nullptr}, [&] {
        if (world_size < 1 || rank < 0 || rank >= world_size)
            throw std::invalid_argument(
                "rank " + std::to_string(rank) + " is not in a group of " + std::to_string(world_size) + " process(es)");
        if (port < 1 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is not a TCP port");
        auto g = std::make_unique<Group>();
        g->host = host ? host : "";
        g->port = port;
        g->rank = rank;
        g->size = world_size;
        g->timeout = milliseconds(std::max<int64_t>(timeout_ms, 1));
        c10d::TCPStoreOptions options;
        options.port = static_cast<uint16_t>(port);
        options.isServer = rank == 0;
        options.numWorkers = world_size;
        options.waitWorkers = false;  // the roll call below names who is missing
        options.timeout = g->timeout;
        const std::string where = g->host + ":" + std::to_string(port);
        try {
            g->store = c10::make_intrusive<c10d::TCPStore>(g->host, options);
        } catch (const c10::Error &e) {
            throw std::runtime_error(
                rank == 0 ? "rank 0 could not serve the group's store on " + where + ": " + e.what_without_backtrace()
                          : "rank " + std::to_string(rank) + " could not reach rank 0 at " + where + " within " +
                                seconds(g->timeout) + " (is rank 0 running there?): " + e.what_without_backtrace());
        }
        g->store->set("kinema/joined/" + std::to_string(rank), std::string("1"));
        auto missing = missing_after(*g, "kinema/joined/", Clock::now() + g->timeout);
        if (!missing.empty())
            throw std::runtime_error(
                rank_list(missing) + " of " + std::to_string(world_size) + " did not join the group at " + where +
                " within " + seconds(g->timeout));
        auto gloo = c10d::ProcessGroupGloo::Options::create_default(g->timeout);
        // GLOO_SOCKET_IFNAME picks the network interface(s), as in PyTorch.
        if (const char *names = std::getenv("GLOO_SOCKET_IFNAME"); names && *names) {
            gloo->devices.clear();
            std::stringstream list(names);
            for (std::string name; std::getline(list, name, ',');)
                if (!name.empty()) gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
        }
        g->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, rank, world_size, gloo);
        return ct_group{g.release()};
    });
}

void ct_group_free(ct_group g) { delete static_cast<Group *>(g.ptr); }

int32_t ct_group_rank(ct_group g) { return g.ptr ? static_cast<Group *>(g.ptr)->rank : -1; }

int32_t ct_group_size(ct_group g) { return g.ptr ? static_cast<Group *>(g.ptr)->size : -1; }

int32_t ct_group_all_reduce(ct_group g, const ct_tensor *tensors, int32_t n, int32_t average, int64_t bucket_bytes) {
    return guarded(int32_t(CT_ERR_GENERIC), [&] {
        Group &group = group_of(g);
        auto list = tensor_list(tensors, n);
        at::NoGradGuard no_grad;
        for (auto &bucket : buckets(list, std::max<int64_t>(bucket_bytes, 1))) {
            at::Tensor flat = flatten(bucket);
            all_reduce_sum(group, flat, "all-reduce");
            if (average) flat.div_(group.size);
            unflatten(flat, bucket);
        }
        return int32_t(CT_OK);
    });
}

int32_t ct_group_broadcast(ct_group g, const ct_tensor *tensors, int32_t n, int32_t root, int64_t bucket_bytes) {
    return guarded(int32_t(CT_ERR_GENERIC), [&] {
        Group &group = group_of(g);
        if (root < 0 || root >= group.size) throw std::invalid_argument("root rank " + std::to_string(root) + " is not in the group");
        auto list = tensor_list(tensors, n);
        at::NoGradGuard no_grad;
        for (auto &bucket : buckets(list, std::max<int64_t>(bucket_bytes, 1))) {
            std::vector<at::Tensor> one{flatten(bucket)};
            c10d::BroadcastOptions options;
            options.rootRank = root;
            run(group, "broadcast", group.backend->broadcast(one, options));
            unflatten(one.front(), bucket);
        }
        return int32_t(CT_OK);
    });
}

int32_t ct_group_barrier(ct_group g) {
    return guarded(int32_t(CT_ERR_GENERIC), [&] {
        Group &group = group_of(g);
        run(group, "barrier", group.backend->barrier(c10d::BarrierOptions{}));
        return int32_t(CT_OK);
    });
}

ct_tensor ct_group_batch_norm(
    ct_group g, ct_tensor x, ct_tensor weight, ct_tensor bias, ct_tensor running_mean, ct_tensor running_var,
    double momentum, double eps) {
    return guarded(ct_tensor{nullptr}, [&] {
        Group &group = group_of(g);
        auto optional = [](ct_tensor t) { return t.ptr ? unwrap(t) : at::Tensor(); };
        at::Tensor input = unwrap(x);
        if (input.dim() < 2) throw std::invalid_argument("batch norm needs a batch × channels (× …) input");
        return wrap(SyncBatchNorm::apply(
            input, optional(weight), optional(bias), optional(running_mean), optional(running_var), momentum, eps,
            reinterpret_cast<int64_t>(&group)));
    });
}

} // extern "C"
