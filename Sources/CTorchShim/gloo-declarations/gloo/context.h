// Declarations only, no code. PyPI's torch wheel ships c10d's headers but not Gloo's, and
// torch/csrc/distributed/c10d/ProcessGroupGloo.hpp includes five Gloo headers. The shim (ctorch_distributed.cpp)
// constructs c10d::ProcessGroupGloo and then calls it only through c10d::Backend's virtual functions, so all it
// needs from Gloo are the names the class's declaration mentions: its members hold Gloo objects through
// std::shared_ptr, so the class's layout does not depend on them. Gloo's code is the copy inside libtorch_cpu.
// When a libtorch ships Gloo's own headers they are found first (these are searched last, -idirafter).
// Here: the name and the one method ProcessGroupGloo.hpp's inline code mentions.
#pragma once
#include <chrono>

namespace gloo {
class Context {
  public:
    void setTimeout(std::chrono::milliseconds timeout);
};
}  // namespace gloo
