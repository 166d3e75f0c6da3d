// Bytes done by the running stage, counted from any thread; the CLI's
// progress line (src/cli/session.cpp) reads it. One counter per process:
// stages run one at a time.
#pragma once
#include <cstdint>

namespace slimage {

void progress_add(uint64_t bytes);
uint64_t progress_done();
void progress_reset();

}  // namespace slimage
