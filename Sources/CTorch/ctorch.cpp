// The libtorch shim; see include/ctorch.h.
