// Declarations only (see context.h): nothing of gloo/algorithm.h is used by the shim.
#pragma once
