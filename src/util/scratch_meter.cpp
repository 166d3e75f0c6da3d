// The scratch meter (include/slimage/util/scratch_meter.h): bytes charged per
// file, so that removing a dir or renaming a blob away credits exactly what
// was charged for it. Writers charge in chunks (MiBs), so one mutex is cheap.
#include "slimage/util/scratch_meter.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "slimage/util/error.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

struct Meter {
  std::mutex mu;
  std::map<std::string, uint64_t, std::less<>> files;
  uint64_t in_use = 0;
  uint64_t peak = 0;
  std::optional<ScratchBudget> budget;
};

Meter& meter() {
  static Meter m;
  return m;
}

}  // namespace

void scratch_charge(const std::string& path, uint64_t bytes) {
  if (bytes == 0) return;
  Meter& m = meter();
  std::lock_guard lock(m.mu);
  if (m.budget && m.in_use + bytes > m.budget->bytes)
    fail(m.budget->name + " exceeded: " + human_bytes(m.in_use) + " of scratch in use, " + human_bytes(bytes) +
         " more would make " + std::to_string(m.in_use + bytes) + " bytes, over its " +
         std::to_string(m.budget->bytes) + "; " + m.budget->advice);
  m.files[path] += bytes;
  m.in_use += bytes;
  m.peak = std::max(m.peak, m.in_use);
}

void scratch_credit(const std::string& path, uint64_t bytes) {
  Meter& m = meter();
  std::lock_guard lock(m.mu);
  auto it = m.files.find(path);
  if (it == m.files.end()) return;
  uint64_t k = std::min(bytes, it->second);
  it->second -= k;
  m.in_use -= k;
}

void scratch_forget(const std::string& path) {
  Meter& m = meter();
  std::lock_guard lock(m.mu);
  auto it = m.files.find(path);
  if (it == m.files.end()) return;
  m.in_use -= it->second;
  m.files.erase(it);
}

void scratch_forget_tree(const std::string& dir) {
  Meter& m = meter();
  std::lock_guard lock(m.mu);
  const std::string prefix = dir + "/";
  auto it = m.files.lower_bound(prefix);
  while (it != m.files.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    m.in_use -= it->second;
    it = m.files.erase(it);
  }
}

uint64_t scratch_in_use() {
  std::lock_guard lock(meter().mu);
  return meter().in_use;
}

uint64_t scratch_peak() {
  std::lock_guard lock(meter().mu);
  return meter().peak;
}

void scratch_reset_peak() {
  Meter& m = meter();
  std::lock_guard lock(m.mu);
  m.peak = m.in_use;
}

void scratch_set_budget(std::optional<ScratchBudget> budget) {
  std::lock_guard lock(meter().mu);
  meter().budget = std::move(budget);
}

std::optional<ScratchBudget> scratch_budget() {
  std::lock_guard lock(meter().mu);
  return meter().budget;
}

}  // namespace slimage
