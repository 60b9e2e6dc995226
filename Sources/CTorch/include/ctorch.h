/*
 * ctorch: the pure-C surface of libtorch that Kinema's Swift code calls.
 *
 * Math ops go through libtorch's boxed dispatcher by operator name (ct_op_*), so this surface stays
 * small and builds unchanged against any libtorch 2.x, CPU or CUDA. Typed functions exist only for
 * what is not an operator: lifecycle, host copies, autograd, grad mode, devices, RNG and threads.
 *
 * Conventions:
 *   - A function returning ct_tensor returns .ptr == NULL exactly when it failed.
 *   - Other fallible functions return int32_t: CT_OK (0) or a ct_error_kind.
 *   - On failure, ct_last_error() holds libtorch's message (no C++ backtrace) for this thread;
 *     read it before the next call on the same thread.
 *   - No C++ exception ever crosses this boundary.
 */
#ifndef CTORCH_H
#define CTORCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CTORCH_ABI_VERSION 1

typedef struct { void *ptr; } ct_tensor;
typedef struct { const void *ptr; } ct_op;

typedef enum {
    CT_OK = 0,
    CT_ERR_GENERIC = 1,
    CT_ERR_OUT_OF_MEMORY = 2,
    CT_ERR_INDEX = 3,
    CT_ERR_VALUE = 4,
    CT_ERR_TYPE = 5,
    CT_ERR_NOT_IMPLEMENTED = 6,
} ct_error_kind;

/* Thread-local message and kind of the last failure on this thread. */
const char *ct_last_error(void);
int32_t ct_last_error_kind(void);

/* ---- lifecycle and metadata ---------------------------------------------------------------- */
void ct_tensor_free(ct_tensor t);
/* Number of tensor handles currently alive in the process (for leak tests). */
int64_t ct_tensor_live_count(void);
/* Handles created minus handles freed on the calling thread: exact for a synchronous test even while
   other threads create tensors. */
int64_t ct_tensor_live_count_thread(void);
/* A new handle to the same tensor (shares storage and autograd identity). */
ct_tensor ct_tensor_alias(ct_tensor t);
int32_t ct_tensor_defined(ct_tensor t);
int32_t ct_tensor_dim(ct_tensor t);
/* Writes up to cap sizes; returns the number of dimensions or -1 on failure. */
int32_t ct_tensor_sizes(ct_tensor t, int64_t *out, int32_t cap);
int32_t ct_tensor_strides(ct_tensor t, int64_t *out, int32_t cap);
int32_t ct_tensor_dtype(ct_tensor t);               /* c10::ScalarType code */
int32_t ct_tensor_device(ct_tensor t, int32_t *type, int32_t *index);
int64_t ct_tensor_numel(ct_tensor t);
/* The storage's version counter (bumped by every in-place write, as torch's `_version`); -1 on failure. */
int64_t ct_tensor_version(ct_tensor t);

/* ---- host data ------------------------------------------------------------------------------ */
/* Copies `data` (C-contiguous, dtype code) into a new CPU tensor. */
ct_tensor ct_tensor_from_data(const void *data, const int64_t *shape, int32_t ndim, int32_t dtype);
/* Copies the tensor (any device, any layout) into `dst`, which must hold exactly nbytes. */
int32_t ct_tensor_copy_to_host(ct_tensor t, void *dst, int64_t nbytes);
/* Raw pointer to CPU contiguous storage, or NULL (error) if not CPU/contiguous. Keep the tensor alive. */
void *ct_tensor_data_ptr(ct_tensor t);
int32_t ct_tensor_item_double(ct_tensor t, double *out);
int32_t ct_tensor_item_int64(ct_tensor t, int64_t *out);
/* Converts device and/or dtype (dtype < 0 keeps it; device_type < 0 keeps it). */
ct_tensor ct_tensor_to(ct_tensor t, int32_t device_type, int32_t device_index, int32_t dtype,
                       int32_t non_blocking, int32_t copy);

/* ---- autograd ------------------------------------------------------------------------------- */
int32_t ct_tensor_set_requires_grad(ct_tensor t, int32_t requires_grad);
int32_t ct_tensor_requires_grad(ct_tensor t);
int32_t ct_tensor_is_leaf(ct_tensor t);
/* The .grad of t; the result may be undefined (check ct_tensor_defined), NULL only on error. */
ct_tensor ct_tensor_grad(ct_tensor t);
/* Sets .grad (an undefined tensor in g resets it to None). */
int32_t ct_tensor_set_grad(ct_tensor t, ct_tensor g);
int32_t ct_tensor_reset_grad(ct_tensor t);
ct_tensor ct_tensor_detach(ct_tensor t);
/* Runs backward from `outputs` (grad_outputs may be NULL for scalar outputs). */
int32_t ct_autograd_backward(const ct_tensor *outputs, int32_t n, const ct_tensor *grad_outputs,
                             int32_t retain_graph, int32_t create_graph);
/* Sets grad mode for this thread and returns the previous value. */
int32_t ct_autograd_set_enabled(int32_t enabled);
int32_t ct_autograd_is_enabled(void);

/* ---- operators through the dispatcher ------------------------------------------------------- */
typedef enum {
    CT_ARG_DEFAULT = 0,      /* use the schema's default value */
    CT_ARG_NONE = 1,         /* None for an optional argument */
    CT_ARG_TENSOR = 2,
    CT_ARG_INT = 3,
    CT_ARG_DOUBLE = 4,
    CT_ARG_BOOL = 5,
    CT_ARG_INT_LIST = 6,
    CT_ARG_DOUBLE_LIST = 7,
    CT_ARG_TENSOR_LIST = 8,
    CT_ARG_OPT_TENSOR_LIST = 9, /* Tensor?[]: NULL handles are None */
    CT_ARG_STRING = 10,
    CT_ARG_SCALAR_TYPE = 11, /* i = c10::ScalarType code */
    CT_ARG_DEVICE = 12,      /* device_type, device_index */
} ct_arg_tag;

typedef struct {
    int32_t tag;
    int32_t device_type;
    int32_t device_index;
    int64_t i;
    double d;
    ct_tensor t;
    const int64_t *ints;
    const double *doubles;
    const ct_tensor *tensors;
    int64_t len;
    const char *s;
} ct_arg;

/* Finds an operator by name ("aten::conv2d") and overload ("" for none). NULL on failure. */
ct_op ct_op_lookup(const char *name, const char *overload);
/* The operator's schema as text (static storage owned by the op). */
const char *ct_op_schema(ct_op op);
/*
 * Calls the operator with `nargs` leading arguments (the rest take their defaults). Results that
 * are tensors (or tensor lists, or tuples of them) are written to outs[0..]; scalar results are
 * returned as 0-dim tensors. *nouts receives the count. Fails if more than max_outs results.
 */
int32_t ct_op_call(ct_op op, const ct_arg *args, int32_t nargs, ct_tensor *outs, int32_t max_outs,
                   int32_t *nouts);

/* ---- devices, RNG, threads, version ---------------------------------------------------------- */
/* dlopen()s libtorch_cuda.so from `libdir` so CUDA becomes available; 0 or an error (message set). */
int32_t ct_cuda_load(const char *libdir);
int32_t ct_cuda_is_available(void);
int32_t ct_cuda_device_count(void);
int32_t ct_cuda_synchronize(int32_t device_index);
int32_t ct_manual_seed(uint64_t seed);
/* Autocast on this thread for one device type (0 CPU, 1 CUDA), as torch.autocast's __enter__ and __exit__: enter turns
   it on computing in `dtype` (5 float16, 15 bfloat16) and writes whether it was on and the dtype it had (CT_OK, or
   an error, message set, when libtorch has no autocast for that device type); exit restores both and clears the cast
   cache when the outermost scope is left. */
int32_t ct_autocast_enter(int32_t device_type, int32_t dtype, int32_t *previous_enabled, int32_t *previous_dtype);
int32_t ct_autocast_exit(int32_t device_type, int32_t previous_enabled, int32_t previous_dtype);
/* The default CPU generator's state as a uint8 tensor, and restoring it. */
ct_tensor ct_rng_get_state(void);
int32_t ct_rng_set_state(ct_tensor state);
void ct_threads_set(int32_t n);
int32_t ct_threads_get(void);
/* Runs body(context, begin, end) over [0, n) split into one contiguous chunk per libtorch intra-op
   thread (an OpenMP region of libtorch's own runtime; a plain call with one thread or when nested),
   so host work can use the threads libtorch already owns instead of competing with them. body must
   not throw; CT_OK or an error (message set). */
int32_t ct_parallel_for(int64_t n, void (*body)(void *context, int64_t begin, int64_t end), void *context);
const char *ct_torch_version(void);
/* Full path of the loaded libtorch_cpu library ("" if unknown). */
const char *ct_libtorch_path(void);
int32_t ct_abi_version(void);

/* ---- process groups: data-parallel training over libtorch's c10d (ctorch_distributed.cpp) ----------------
 * A group is `world_size` processes that meet at rank 0's TCPStore (host:port) and then talk through
 * ProcessGroupGloo (CPU tensors; NCCL would need a CUDA build of the shim, not built here). Collectives must
 * be called in the same order on every rank. When one fails (a peer closed its connections, or nothing came
 * within the timeout), the error names the ranks that did not answer a roll call in the store (or rank 0, if
 * the store itself is gone): one line, never a hang past the timeout. Errors as everywhere: ct_last_error(). */
typedef struct { void *ptr; } ct_group;

/* Joins the group (rank 0 serves the store); returns .ptr == NULL on failure, e.g. "rank 1 of 2 did not join the
   group at host:port within 10 s". timeout_ms bounds the rendezvous and every collective. */
ct_group ct_group_join(const char *host, int32_t port, int32_t rank, int32_t world_size, int64_t timeout_ms);
void ct_group_free(ct_group g);
int32_t ct_group_rank(ct_group g);
int32_t ct_group_size(ct_group g);
/* Sums (average != 0: averages) each CPU tensor in place over the ranks, in flat buckets of at most bucket_bytes
   (consecutive tensors of one dtype, flattened into one buffer each, as DDP does). */
int32_t ct_group_all_reduce(ct_group g, const ct_tensor *tensors, int32_t n, int32_t average, int64_t bucket_bytes);
/* Overwrites each tensor with root's, in flat buckets as above. */
int32_t ct_group_broadcast(ct_group g, const ct_tensor *tensors, int32_t n, int32_t root, int64_t bucket_bytes);
int32_t ct_group_barrier(ct_group g);
/* Training-mode batch norm whose statistics are those of every rank's batch together (SyncBatchNorm), with its
   backward (two all-reduced per-channel gradient sums); running statistics updated in place like aten::batch_norm.
   weight, bias, running_mean, running_var may be NULL handles. */
ct_tensor ct_group_batch_norm(ct_group g, ct_tensor x, ct_tensor weight, ct_tensor bias, ct_tensor running_mean,
                              ct_tensor running_var, double momentum, double eps);

#ifdef __cplusplus
}
#endif
#endif
