// SpillCache (include/slimage/rootfs/spill_cache.h): one decode per layer digest per batch
// run; waiters block on a condition variable until the decoding job is done.
#include "slimage/rootfs/spill_cache.h"

namespace slimage {

std::unique_ptr<SpilledLayer> SpillCache::copy_of(const SpilledLayer& layer,
                                                  const Descriptor& descriptor,
                                                  const std::string& diff_id) const {
  // The same digest means the same bytes, so the same diff_id; the check
  // keeps spill_layer's message for an image whose config disagrees.
  if (!diff_id.empty() && layer.diff_id != diff_id)
    fail(layer.where() + ": diff_id mismatch: config says " + diff_id + ", layer decodes to " +
         layer.diff_id);
  auto out = std::make_unique<SpilledLayer>();
  out->descriptor = descriptor;
  out->diff_id = layer.diff_id;
  out->file = layer.file;  // the descriptor stays open while any job maps it
  out->tar_path = layer.tar_path;
  out->tar_size = layer.tar_size;
  out->entries = layer.entries;
  out->headers = layer.headers;
  out->map = MappedFile(layer.tar_path);
  return out;
}

std::unique_ptr<SpilledLayer> SpillCache::get(Source& source, const Descriptor& descriptor,
                                              const std::string& diff_id, bool* shared) {
  std::shared_ptr<Slot> slot;
  size_t index = 0;
  {
    std::unique_lock lock(mu_);
    for (;;) {
      auto it = slots_.find(descriptor.digest);
      if (it == slots_.end()) break;
      if (it->second->ready) {
        std::shared_ptr<Slot> ready = it->second;
        lock.unlock();
        reused_++;
        if (shared) *shared = true;
        return copy_of(*ready->layer, descriptor, diff_id);
      }
      cv_.wait(lock);  // another job is decoding it; it may also fail and drop the slot
    }
    slot = std::make_shared<Slot>();
    slots_[descriptor.digest] = slot;
    index = next_index_++;
  }
  std::unique_ptr<SpilledLayer> decoded;
  try {
    decoded = spill_layer(source, descriptor, diff_id, dir_, index);
  } catch (...) {
    std::lock_guard lock(mu_);
    slots_.erase(descriptor.digest);
    cv_.notify_all();
    throw;
  }
  decoded_++;
  if (shared) *shared = false;
  // The job gets its own copy; the slot keeps the pristine entries.
  auto mine = copy_of(*decoded, descriptor, "");
  decoded->map = MappedFile();  // the slot needs only the path and entries
  {
    std::lock_guard lock(mu_);
    slot->layer = std::move(decoded);
    slot->ready = true;
  }
  cv_.notify_all();
  return mine;
}

}  // namespace slimage
