/*
 * Every function of include/ctorch.h that the shim implements, in one list: the loader (ctorch_loader.c) expands it
 * into its function table, the dlsym() calls and the trampolines. Adding a function to the shim = declaring it in
 * ctorch.h, implementing it in Sources/CTorchShim, and one line here.
 *
 *   CT_FN(return type, name, (parameters), (arguments), value returned when libtorch could not be loaded)
 *   CT_VOID(name, (parameters), (arguments))                          -- a no-op when libtorch could not be loaded
 *
 * The failure values are those the shim itself returns on failure (ctorch.h's conventions), so callers take their
 * existing error path and read ct_last_error(). Not listed (the loader implements them): ct_last_error,
 * ct_last_error_kind and ct_threads_set.
 */

/* lifecycle and metadata */
CT_VOID(ct_tensor_free, (ct_tensor t), (t))
CT_FN(int64_t, ct_tensor_live_count, (void), (), 0)
CT_FN(int64_t, ct_tensor_live_count_thread, (void), (), 0)
CT_FN(ct_tensor, ct_tensor_alias, (ct_tensor t), (t), CT_NULL_TENSOR)
CT_FN(int32_t, ct_tensor_defined, (ct_tensor t), (t), 0)
CT_FN(int32_t, ct_tensor_dim, (ct_tensor t), (t), -1)
CT_FN(int32_t, ct_tensor_sizes, (ct_tensor t, int64_t *out, int32_t cap), (t, out, cap), -1)
CT_FN(int32_t, ct_tensor_strides, (ct_tensor t, int64_t *out, int32_t cap), (t, out, cap), -1)
CT_FN(int32_t, ct_tensor_dtype, (ct_tensor t), (t), -1)
CT_FN(int32_t, ct_tensor_device, (ct_tensor t, int32_t *type, int32_t *index), (t, type, index), CT_ERR_GENERIC)
CT_FN(int64_t, ct_tensor_numel, (ct_tensor t), (t), -1)
CT_FN(int64_t, ct_tensor_version, (ct_tensor t), (t), -1)

/* host data */
CT_FN(ct_tensor, ct_tensor_from_data, (const void *data, const int64_t *shape, int32_t ndim, int32_t dtype),
      (data, shape, ndim, dtype), CT_NULL_TENSOR)
CT_FN(int32_t, ct_tensor_copy_to_host, (ct_tensor t, void *dst, int64_t nbytes), (t, dst, nbytes), CT_ERR_GENERIC)
CT_FN(void *, ct_tensor_data_ptr, (ct_tensor t), (t), NULL)
CT_FN(int32_t, ct_tensor_item_double, (ct_tensor t, double *out), (t, out), CT_ERR_GENERIC)
CT_FN(int32_t, ct_tensor_item_int64, (ct_tensor t, int64_t *out), (t, out), CT_ERR_GENERIC)
CT_FN(ct_tensor, ct_tensor_to,
      (ct_tensor t, int32_t device_type, int32_t device_index, int32_t dtype, int32_t non_blocking, int32_t copy),
      (t, device_type, device_index, dtype, non_blocking, copy), CT_NULL_TENSOR)

/* autograd */
CT_FN(int32_t, ct_tensor_set_requires_grad, (ct_tensor t, int32_t requires_grad), (t, requires_grad), CT_ERR_GENERIC)
CT_FN(int32_t, ct_tensor_requires_grad, (ct_tensor t), (t), 0)
CT_FN(int32_t, ct_tensor_is_leaf, (ct_tensor t), (t), 0)
CT_FN(ct_tensor, ct_tensor_grad, (ct_tensor t), (t), CT_NULL_TENSOR)
CT_FN(int32_t, ct_tensor_set_grad, (ct_tensor t, ct_tensor g), (t, g), CT_ERR_GENERIC)
CT_FN(int32_t, ct_tensor_reset_grad, (ct_tensor t), (t), CT_ERR_GENERIC)
CT_FN(ct_tensor, ct_tensor_detach, (ct_tensor t), (t), CT_NULL_TENSOR)
CT_FN(int32_t, ct_autograd_backward,
      (const ct_tensor *outputs, int32_t n, const ct_tensor *grad_outputs, int32_t retain_graph, int32_t create_graph),
      (outputs, n, grad_outputs, retain_graph, create_graph), CT_ERR_GENERIC)
CT_FN(int32_t, ct_autograd_set_enabled, (int32_t enabled), (enabled), 0)
CT_FN(int32_t, ct_autograd_is_enabled, (void), (), 0)

/* operators */
CT_FN(ct_op, ct_op_lookup, (const char *name, const char *overload), (name, overload), CT_NULL_OP)
CT_FN(const char *, ct_op_schema, (ct_op op), (op), "")
CT_FN(int32_t, ct_op_call, (ct_op op, const ct_arg *args, int32_t nargs, ct_tensor *outs, int32_t max_outs, int32_t *nouts),
      (op, args, nargs, outs, max_outs, nouts), CT_ERR_GENERIC)

/* devices, RNG, threads, version */
CT_FN(int32_t, ct_cuda_load, (const char *libdir), (libdir), CT_ERR_GENERIC)
CT_FN(int32_t, ct_cuda_is_available, (void), (), 0)
CT_FN(int32_t, ct_cuda_device_count, (void), (), 0)
CT_FN(int32_t, ct_cuda_synchronize, (int32_t device_index), (device_index), CT_ERR_GENERIC)
CT_FN(int32_t, ct_manual_seed, (uint64_t seed), (seed), CT_ERR_GENERIC)
CT_FN(int32_t, ct_autocast_enter, (int32_t device_type, int32_t dtype, int32_t *previous_enabled, int32_t *previous_dtype),
      (device_type, dtype, previous_enabled, previous_dtype), CT_ERR_GENERIC)
CT_FN(int32_t, ct_autocast_exit, (int32_t device_type, int32_t previous_enabled, int32_t previous_dtype),
      (device_type, previous_enabled, previous_dtype), CT_ERR_GENERIC)
CT_FN(ct_tensor, ct_rng_get_state, (void), (), CT_NULL_TENSOR)
CT_FN(int32_t, ct_rng_set_state, (ct_tensor state), (state), CT_ERR_GENERIC)
CT_FN(int32_t, ct_threads_get, (void), (), 0)
CT_FN(int32_t, ct_parallel_for, (int64_t n, void (*body)(void *context, int64_t begin, int64_t end), void *context),
      (n, body, context), CT_ERR_GENERIC)
CT_FN(const char *, ct_torch_version, (void), (), "")
CT_FN(const char *, ct_libtorch_path, (void), (), "")
CT_FN(int32_t, ct_abi_version, (void), (), 0)

/* process groups */
CT_FN(ct_group, ct_group_join, (const char *host, int32_t port, int32_t rank, int32_t world_size, int64_t timeout_ms),
      (host, port, rank, world_size, timeout_ms), CT_NULL_GROUP)
CT_VOID(ct_group_free, (ct_group g), (g))
CT_FN(int32_t, ct_group_rank, (ct_group g), (g), -1)
CT_FN(int32_t, ct_group_size, (ct_group g), (g), -1)
CT_FN(int32_t, ct_group_all_reduce, (ct_group g, const ct_tensor *tensors, int32_t n, int32_t average, int64_t bucket_bytes),
      (g, tensors, n, average, bucket_bytes), CT_ERR_GENERIC)
CT_FN(int32_t, ct_group_broadcast, (ct_group g, const ct_tensor *tensors, int32_t n, int32_t root, int64_t bucket_bytes),
      (g, tensors, n, root, bucket_bytes), CT_ERR_GENERIC)
CT_FN(int32_t, ct_group_barrier, (ct_group g), (g), CT_ERR_GENERIC)
CT_FN(ct_tensor, ct_group_batch_norm,
      (ct_group g, ct_tensor x, ct_tensor weight, ct_tensor bias, ct_tensor running_mean, ct_tensor running_var,
       double momentum, double eps),
      (g, x, weight, bias, running_mean, running_var, momentum, eps), CT_NULL_TENSOR)
