// The run-time proof of a fat binary prune (FatbinVerifier in
// include/slimage/elf/fatbin_prune.h): a path apart from the patch builder.
// It sees the bytes as they are written, re-parses each changed container
// from them and compares entry by entry with the original file: the kept
// entries, in order, byte for byte; nothing but zeros after the shrunk
// container; every listed GPU that had runnable code still has some, and
// still has every cubin it loads.
#include <algorithm>
#include <cstring>

#include "slimage/elf/fatbin_prune.h"
#include "slimage/util/error.h"

#include "slimage/util/strings.h"

namespace slimage {

namespace {

// Checks one written container (`written` is exactly c.size bytes that now
// sit at c.offset). Returns "" or what is wrong.
std::string check_container(std::span<const uint8_t> original, const FatbinContainer& c,
                            const std::vector<char>& keep, const GpuSelection& sel,
                            std::span<const uint8_t> written) {
  if (written.size() != c.size) return "written size " + std::to_string(written.size());
  bool be = original[c.offset] == 0xBA;
  FatbinContainer now;
  std::string error;
  if (!parse_fatbin_container(written, 0, written.size(), be, now, &error)) return "does not parse: " + error;
  std::vector<const FatbinEntry*> expected;
  for (size_t i = 0; i < c.entries.size(); ++i)
    if (keep[i]) expected.push_back(&c.entries[i]);
  if (now.entries.size() != expected.size())
    return std::to_string(now.entries.size()) + " entries written, " + std::to_string(expected.size()) +
           " kept";
  for (size_t i = 0; i < expected.size(); ++i) {
    const FatbinEntry& want = *expected[i];
    const FatbinEntry& got = now.entries[i];
    if (got.size() != want.size() ||
        std::memcmp(written.data() + got.offset, original.data() + want.offset, want.size()) != 0)
      return "entry " + std::to_string(i) + " (" + want.label() + ") differs from the original at " +
             hex_offset(want.offset);
  }
  for (uint64_t at = now.size; at < written.size(); ++at)
    if (written[at] != 0) return "non-zero byte after the container at +" + hex_offset(at);
  if (std::memcmp(written.data(), original.data() + c.offset, 8) != 0)
    return "container header changed beyond its size";
  for (auto& g : sel.targets) {
    bool before = std::any_of(c.entries.begin(), c.entries.end(),
                              [&](const FatbinEntry& e) { return runs_on(e, g.sm); });
    bool after = std::any_of(now.entries.begin(), now.entries.end(),
                             [&](const FatbinEntry& e) { return runs_on(e, g.sm); });
    if (before && !after) return g.name() + " has no runnable code left";
    // The written entries are the kept ones (above), so a cubin the GPU
    // loads must be among them.
    for (size_t i = 0; i < c.entries.size(); ++i)
      if (c.entries[i].is_cubin() && runs_on(c.entries[i], g.sm) && !keep[i])
        return g.name() + " loads entry " + std::to_string(i) + " (" + c.entries[i].label() +
               "), which was removed";
  }
  return "";
}

}  // namespace

FatbinVerifier::FatbinVerifier(Writer& out, std::span<const uint8_t> original, const FatbinScan& scan,
                               const FatbinPrune& prune, const GpuSelection& selection, std::string where)
    : out_(out), original_(original), scan_(scan), prune_(prune), selection_(selection),
      where_(std::move(where)) {
  for (size_t i = 0; i < scan.containers.size() && i < prune.keep.size(); ++i) {
    auto& k = prune.keep[i];
    if (std::find(k.begin(), k.end(), 0) != k.end()) pending_.push_back(i);
  }
}

void FatbinVerifier::write(const void* data, size_t n) {
  out_.write(data, n);
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t start = pos_, end = pos_ + n;
  pos_ = end;
  while (next_ < pending_.size()) {
    const FatbinContainer& c = scan_.containers[pending_[next_]];
    uint64_t cb = c.offset + buffer_.size(), ce = c.offset + c.size;
    if (cb >= end) return;
    if (cb < start) fail(where_ + ": fat binary verification: bytes at " + hex_offset(cb) + " were never written");
    uint64_t take = std::min(ce, end) - cb;
    buffer_.append(reinterpret_cast<const char*>(p + (cb - start)), take);
    if (buffer_.size() < c.size) return;
    check(pending_[next_]);
    buffer_.clear();
    buffer_.shrink_to_fit();
    ++next_;
  }
}

void FatbinVerifier::check(size_t index) {
  const FatbinContainer& c = scan_.containers[index];
  std::span<const uint8_t> written(reinterpret_cast<const uint8_t*>(buffer_.data()), buffer_.size());
  std::string bad = check_container(original_, c, prune_.keep[index], selection_, written);
  if (!bad.empty())
    fail(where_ + ": fat binary verification failed: container at " + hex_offset(c.offset) + " (" + c.section +
         "): " + bad);
}

void FatbinVerifier::finish() {
  if (next_ < pending_.size())
    fail(where_ + ": fat binary verification failed: container at " +
         hex_offset(scan_.containers[pending_[next_]].offset) + " was not written whole");
}

void verify_fatbin_prune(std::span<const uint8_t> original, const FatbinScan& scan,
                         const FatbinPrune& prune, const GpuSelection& selection,
                         std::span<const uint8_t> written, const std::string& where) {
  struct Null : Writer {
    void write(const void*, size_t) override {}
  } null;
  FatbinVerifier v(null, original, scan, prune, selection, where);
  v.write(written.data(), written.size());
  v.finish();
}

}  // namespace slimage
