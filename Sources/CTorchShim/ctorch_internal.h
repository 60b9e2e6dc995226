// What the shim's translation units share: the one error path (`guarded`) and tensor handles. Not part of the C
// contract (include/ctorch.h); C++ only.
#pragma once

#include "ctorch.h"

#include <ATen/ATen.h>

#include <exception>
#include <new>
#include <stdexcept>

namespace ctorch_detail {

void set_error(int32_t kind, const char *message);
ct_tensor wrap(at::Tensor &&t);
at::Tensor &unwrap(ct_tensor t);

// Runs `body`; on any exception records the message and kind and returns `fail`.
template <typename R, typename F>
R guarded(R fail, F &&body) {
    try {
        return body();
    } catch (const c10::OutOfMemoryError &e) {
        set_error(CT_ERR_OUT_OF_MEMORY, e.what_without_backtrace());
    } catch (const c10::IndexError &e) {
        set_error(CT_ERR_INDEX, e.what_without_backtrace());
    } catch (const c10::ValueError &e) {
        set_error(CT_ERR_VALUE, e.what_without_backtrace());
    } catch (const c10::TypeError &e) {
        set_error(CT_ERR_TYPE, e.what_without_backtrace());
    } catch (const c10::NotImplementedError &e) {
        set_error(CT_ERR_NOT_IMPLEMENTED, e.what_without_backtrace());
    } catch (const c10::Error &e) {
        set_error(CT_ERR_GENERIC, e.what_without_backtrace());
    } catch (const std::bad_alloc &e) {
        set_error(CT_ERR_OUT_OF_MEMORY, e.what());
    } catch (const std::exception &e) {
        set_error(CT_ERR_GENERIC, e.what());
    } catch (...) {
        set_error(CT_ERR_GENERIC, "unknown C++ exception");
    }
    return fail;
}

} // namespace ctorch_detail
