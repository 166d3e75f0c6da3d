// ActionMap (include/slimage/plan/plan.h): the plan's actions as a sorted
// vector, keys in an arena of blocks that never move.
#include <algorithm>
#include <stdexcept>

#include "slimage/plan/plan.h"

namespace slimage {

namespace {

constexpr size_t kBlockBytes = size_t{1} << 20;

// What README's per-entry figures say (64-bit: the reason and the link slot
// are a std::string and a pointer).
static_assert(sizeof(void*) != 8 || sizeof(Action) <= 72);

bool entry_before(const ActionMap::Entry& e, std::string_view path) { return e.first < path; }

}  // namespace

ActionMap& ActionMap::operator=(const ActionMap& other) {
  if (this == &other) return *this;
  entries_.clear();
  blocks_.clear();
  next_ = nullptr;
  left_ = 0;
  size_t bytes = 0;
  for (const Entry& e : other.entries_) bytes += e.first.size();
  reserve(other.entries_.size(), bytes);
  for (const Entry& e : other.entries_) entries_.push_back({intern(e.first), e.second});
  return *this;
}

void ActionMap::reserve(size_t entries, size_t path_bytes) {
  entries_.reserve(entries);
  if (path_bytes > left_) {
    blocks_.push_back(std::make_unique<char[]>(path_bytes));
    next_ = blocks_.back().get();
    left_ = path_bytes;
  }
}

std::string_view ActionMap::intern(std::string_view path) {
  if (path.size() > left_) {
    size_t size = std::max(path.size(), kBlockBytes);
    blocks_.push_back(std::make_unique<char[]>(size));
    next_ = blocks_.back().get();
    left_ = size;
  }
  std::copy(path.begin(), path.end(), next_);
  std::string_view kept(next_, path.size());
  next_ += path.size();
  left_ -= path.size();
  return kept;
}

std::pair<ActionMap::iterator, bool> ActionMap::emplace(std::string_view path, Action action) {
  // In path order (build_plan), each new path goes last: no search, no move.
  iterator at = entries_.empty() || entries_.back().first < path
                    ? entries_.end()
                    : std::lower_bound(entries_.begin(), entries_.end(), path, entry_before);
  if (at != entries_.end() && at->first == path) return {at, false};
  return {entries_.insert(at, Entry{intern(path), std::move(action)}), true};
}

ActionMap::iterator ActionMap::find(std::string_view path) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path, entry_before);
  return it != entries_.end() && it->first == path ? it : entries_.end();
}

ActionMap::const_iterator ActionMap::find(std::string_view path) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path, entry_before);
  return it != entries_.end() && it->first == path ? it : entries_.end();
}

Action& ActionMap::at(std::string_view path) {
  auto it = find(path);
  if (it == end()) throw std::out_of_range("no plan action for " + std::string(path));
  return it->second;
}

const Action& ActionMap::at(std::string_view path) const {
  auto it = find(path);
  if (it == end()) throw std::out_of_range("no plan action for " + std::string(path));
  return it->second;
}

}  // namespace slimage
