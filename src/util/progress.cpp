// The process-wide progress counter (see include/slimage/util/progress.h).
#include "slimage/util/progress.h"

#include <atomic>

namespace slimage {

static std::atomic<uint64_t> g_done{0};

void progress_add(uint64_t bytes) { g_done.fetch_add(bytes, std::memory_order_relaxed); }
uint64_t progress_done() { return g_done.load(std::memory_order_relaxed); }
void progress_reset() { g_done.store(0, std::memory_order_relaxed); }

}  // namespace slimage
