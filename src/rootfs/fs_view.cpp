// Path normalization and symlink resolution inside a root
// (see include/slimage/rootfs/fs_view.h). Resolution is the chroot's: an
// absolute link target restarts at the root and '..' never leaves it.
#include "slimage/rootfs/fs_view.h"
#include "slimage/rootfs/releasing_writer.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <set>

#include "slimage/util/io.h"

namespace slimage {

XattrSet::XattrSet(const Map& map) {
  if (map.empty()) return;
  static std::mutex mu;
  static auto* pool = new std::set<Map>();  // never freed: handles are copied freely
  std::lock_guard lock(mu);
  map_ = &*pool->insert(map).first;
}

const XattrSet::Map& XattrSet::map() const {
  static const Map kEmpty;
  return map_ ? *map_ : kEmpty;
}

static std::deque<std::string> split(std::string_view path) {
  std::deque<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// One pass, one allocation: it runs on every node's path (Plan::find, joins),
// and a path can be thousands of components deep.
std::string normalize_path(std::string_view path) {
  std::string s;
  s.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {  // drop the last component; at the root, stay there
      size_t slash = s.rfind('/');
      s.resize(slash == std::string::npos ? 0 : slash);
      continue;
    }
    if (!s.empty()) s += '/';
    s += part;
  }
  return s;
}

// One pass over the bytes, no call per component: it runs on every node's
// path, and "d/d/d/…" has a component every two bytes.
bool is_normalized(std::string_view path) {
  if (path.empty()) return true;
  size_t start = 0;  // where the current component begins
  for (size_t i = 0; i <= path.size(); i++) {
    if (i < path.size() && path[i] != '/') continue;
    size_t length = i - start;
    if (length == 0) return false;  // leading, trailing or doubled '/'
    if (path[start] == '.' && (length == 1 || (length == 2 && path[start + 1] == '.'))) return false;
    start = i + 1;
  }
  return true;
}

std::string join_path(std::string_view dir, std::string_view rel) {
  if (!rel.empty() && rel[0] == '/') return normalize_path(rel);
  std::string s(dir);
  s += '/';
  s += rel;
  return normalize_path(s);
}

std::string dirname_of(std::string_view p) {
  auto slash = p.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(p.substr(0, slash));
}

std::string basename_of(std::string_view p) {
  auto slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

// Walks components one by one; `chain` collects each symlink followed. The
// real path so far is one string grown and cut at component ends (not rebuilt
// per component), so a walk costs its lookups, not depth squared.
static const Node* walk(const FsView& fs, std::string_view path, bool follow_last,
                        std::string* resolved, std::vector<std::string>* chain) {
  std::deque<std::string> todo = split(path);
  std::string here;           // the real path so far
  std::vector<size_t> cuts;   // here.size() before each component was added
  int hops = 0;
  const Node* node = fs.lookup("");
  auto push = [&](const std::string& part) {
    cuts.push_back(here.size());
    if (!here.empty()) here += '/';
    here += part;
  };
  auto pop = [&] {
    here.resize(cuts.back());
    cuts.pop_back();
  };
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!cuts.empty()) pop();
      node = fs.lookup(here);
      continue;
    }
    if (node && node->type != FileType::Directory) node = nullptr;
    push(part);
    node = fs.lookup(here);
    if (!node) {
      for (auto& rest : todo) push(rest);
      if (resolved) *resolved = normalize_path(here);
      return nullptr;
    }
    if (node->type == FileType::Symlink && (follow_last || !todo.empty())) {
      if (++hops > 40) {
        if (resolved) *resolved = here;
        return nullptr;
      }
      if (chain) chain->push_back(here);
      auto target = split(node->link_target);
      pop();
      if (!node->link_target.empty() && node->link_target[0] == '/') here.clear(), cuts.clear();
      for (auto it = target.rbegin(); it != target.rend(); ++it) todo.push_front(*it);
      node = fs.lookup(here);
    }
  }
  if (resolved) *resolved = here;
  return node;
}

uint64_t FsView::next_content_id() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

const Node* FsView::resolve(std::string_view path, bool follow_last, std::string* resolved) const {
  return walk(*this, path, follow_last, resolved, nullptr);
}

std::vector<std::string> FsView::symlink_chain(std::string_view path) const {
  std::vector<std::string> chain;
  walk(*this, path, true, nullptr, &chain);
  return chain;
}

ReleasingWriter::ReleasingWriter(const FsView& fs, const Node& node, std::span<const uint8_t> content,
                                 Writer& out, uint64_t step)
    : fs_(fs), node_(node), content_(content), out_(out), step_(step) {}

void ReleasingWriter::write(const void* data, size_t n) {
  auto* p = static_cast<const uint8_t*>(data);
  const uint8_t* begin = content_.data();
  const bool input = !content_.empty() && p >= begin && p < begin + content_.size();
  for (size_t done = 0; done < n;) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(step_, n - done));
    out_.write(p + done, k);
    done += k;
    if (!input) continue;
    high_ = std::max<uint64_t>(high_, static_cast<uint64_t>(p + done - begin));
    if (high_ - released_ >= step_) {
      fs_.release_range(node_, released_, high_ - released_);
      released_ = high_;
    }
  }
}

void write_content(const FsView& fs, const Node& node, Writer& out, uint64_t step) {
  auto bytes = fs.content(node);
  for (uint64_t done = 0; done < bytes.size(); done += step) {
    uint64_t n = std::min<uint64_t>(step, bytes.size() - done);
    out.write(bytes.data() + done, n);
    fs.release_range(node, done, n);
  }
  fs.release(node);
}

}  // namespace slimage
