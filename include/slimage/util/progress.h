// Bytes done by the running stage, counted from any thread; the CLI's
// progress line (src/cli/session.cpp) reads it. One counter per process:
// when a batch runs several images at once (--parallel), their stages add
// to and reset the same counter, so the line is a rough rate, not exact.
#pragma once
#include <cstdint>

namespace slimage {

void progress_add(uint64_t bytes);
uint64_t progress_done();
void progress_reset();

}  // namespace slimage
