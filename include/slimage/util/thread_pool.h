// Parallel loops over independent items (layers, files). No pool is kept:
// each parallel_for starts its threads and joins them before returning. The
// first exception thrown by any item is rethrown on the calling thread after
// all workers stop.
#pragma once
#include <cstddef>
#include <functional>

namespace slimage {

// Runs fn(i) for i in [0, n) on up to `jobs` threads (0 = hardware cores).
void parallel_for(size_t n, unsigned jobs, const std::function<void(size_t)>& fn);
unsigned default_jobs();

// Threads for loops whose items mostly wait on the disk (reading the heads of
// scratch files written around the page cache): more than the cores, so that
// several reads are in flight.
constexpr unsigned kIoBoundJobs = 8;

}  // namespace slimage
