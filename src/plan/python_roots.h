// Internal to src/plan: the roots the Python library scan adds to the walk
// (python_loads.cpp; the scanner is include/slimage/plan/python_loads.h).
#pragma once
#include <vector>

#include "plan_internal.h"

namespace slimage::plan_detail {

// Libraries that kept Python files load by name, and what
// ctypes.util.find_library runs (ldconfig, ld.so.cache; gcc, ld, objdump
// for a name the cache lacks), as roots whose reason names the file and line.
// Empty when the profile's python_library_scan is off.
std::vector<Root> python_load_roots(PlanBuilder& b, const ImageRuntime& runtime);

}  // namespace slimage::plan_detail
