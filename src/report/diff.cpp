// Image diff over two merged views (see include/slimage/report/diff.h).
// Both views list every node sorted by path, so one merge walk pairs them.
// Content is compared byte for byte only when sizes match (no hashing: each
// file is read once on each side, and released right after).
#include "slimage/report/diff.h"

#include <algorithm>
#include <cstring>

#include "slimage/util/strings.h"

namespace slimage {

namespace {

std::vector<const Node*> all_nodes(const FsView& fs) {
  std::vector<const Node*> out;
  fs.for_each([&](const Node& n) { out.push_back(&n); });
  return out;
}

uint64_t content_bytes(const Node& n) { return n.is_file() ? n.size : 0; }

bool same_content(const FsView& a, const Node& x, const FsView& b, const Node& y) {
  if (x.size != y.size) return false;
  auto ca = a.content(x);
  auto cb = b.content(y);
  bool same = ca.size() == cb.size() && (ca.empty() || std::memcmp(ca.data(), cb.data(), ca.size()) == 0);
  a.release(x), b.release(y);
  return same;
}

std::vector<std::string> changed_fields(const FsView& a, const Node& x, const FsView& b, const Node& y) {
  std::vector<std::string> f;
  if (x.type != y.type) f.push_back("type");
  if (x.is_file() && y.is_file() && !same_content(a, x, b, y)) f.push_back("content");
  if ((x.type == FileType::Symlink || x.type == FileType::Hardlink) && x.type == y.type &&
      x.link_target != y.link_target)
    f.push_back("link");
  if (x.mode != y.mode) f.push_back("mode");
  if (x.uid != y.uid || x.gid != y.gid) f.push_back("owner");
  if (x.mtime != y.mtime || x.mtime_nsec != y.mtime_nsec) f.push_back("mtime");
  if (x.xattrs != y.xattrs) f.push_back("xattrs");
  if (x.dev_major != y.dev_major || x.dev_minor != y.dev_minor) f.push_back("device");
  return f;
}

void count(DiffCount& c, const FileChange& ch) {
  c.files++, c.bytes_a += ch.bytes_a, c.bytes_b += ch.bytes_b;
}

void count_layer(std::vector<DiffCount>& by_layer, uint32_t layer, const FileChange& ch) {
  if (layer < by_layer.size()) count(by_layer[layer], ch);
}

nlohmann::json count_json(const DiffCount& c) {
  return {{"files", c.files}, {"bytes_a", c.bytes_a}, {"bytes_b", c.bytes_b}};
}

nlohmann::json layers_json(const std::vector<DiffCount>& first, const char* first_name,
                           const std::vector<DiffCount>& changed) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < first.size(); i++)
    out.push_back({{"layer", i}, {first_name, count_json(first[i])}, {"changed", count_json(changed[i])}});
  return out;
}

}  // namespace

const char* change_kind_name(FileChange::Kind kind) {
  switch (kind) {
    case FileChange::Kind::Added: return "added";
    case FileChange::Kind::Removed: return "removed";
    case FileChange::Kind::Changed: return "changed";
  }
  return "?";
}

ImageDiff diff_views(const FsView& a, size_t layers_a, const FsView& b, size_t layers_b) {
  ImageDiff d;
  d.removed_by_layer_a.resize(layers_a), d.changed_by_layer_a.resize(layers_a);
  d.added_by_layer_b.resize(layers_b), d.changed_by_layer_b.resize(layers_b);
  auto na = all_nodes(a), nb = all_nodes(b);
  size_t i = 0, j = 0;
  while (i < na.size() || j < nb.size()) {
    int order = i == na.size() ? 1 : j == nb.size() ? -1 : na[i]->path.compare(nb[j]->path);
    FileChange ch;
    if (order < 0) {
      const Node& x = *na[i++];
      ch = {FileChange::Kind::Removed, x.path, {}, content_bytes(x), 0, x.layer, 0};
      count(d.removed, ch), count_layer(d.removed_by_layer_a, x.layer, ch);
    } else if (order > 0) {
      const Node& y = *nb[j++];
      ch = {FileChange::Kind::Added, y.path, {}, 0, content_bytes(y), 0, y.layer};
      count(d.added, ch), count_layer(d.added_by_layer_b, y.layer, ch);
    } else {
      const Node& x = *na[i++];
      const Node& y = *nb[j++];
      auto fields = changed_fields(a, x, b, y);
      if (fields.empty()) continue;
      ch = {FileChange::Kind::Changed, x.path, fields, content_bytes(x), content_bytes(y), x.layer, y.layer};
      count(d.changed, ch);
      count_layer(d.changed_by_layer_a, x.layer, ch), count_layer(d.changed_by_layer_b, y.layer, ch);
    }
    d.changes.push_back(std::move(ch));
  }
  return d;
}

nlohmann::json diff_json(const ImageDiff& d) {
  nlohmann::json files = nlohmann::json::array();
  for (auto& ch : d.changes) {
    nlohmann::json f = {{"path", "/" + ch.path}, {"change", change_kind_name(ch.kind)}};
    if (ch.kind != FileChange::Kind::Added) f["bytes_a"] = ch.bytes_a, f["layer_a"] = ch.layer_a;
    if (ch.kind != FileChange::Kind::Removed) f["bytes_b"] = ch.bytes_b, f["layer_b"] = ch.layer_b;
    if (ch.kind == FileChange::Kind::Changed) f["fields"] = ch.fields;
    files.push_back(f);
  }
  return {{"totals", {{"added", count_json(d.added)}, {"removed", count_json(d.removed)}, {"changed", count_json(d.changed)}}},
          {"layers_a", layers_json(d.removed_by_layer_a, "removed", d.changed_by_layer_a)},
          {"layers_b", layers_json(d.added_by_layer_b, "added", d.changed_by_layer_b)},
          {"files", files}};
}

std::string diff_text(const ImageDiff& d, const std::vector<std::string>& names_a,
                      const std::vector<std::string>& names_b) {
  std::string out;
  for (auto& ch : d.changes) {
    if (ch.kind == FileChange::Kind::Added)
      out += "+ /" + ch.path + " (" + human_bytes(ch.bytes_b) + ")\n";
    else if (ch.kind == FileChange::Kind::Removed)
      out += "- /" + ch.path + " (" + human_bytes(ch.bytes_a) + ")\n";
    else {
      std::string fields;
      for (auto& f : ch.fields) fields += (fields.empty() ? "" : ",") + f;
      out += "~ /" + ch.path + " (" + fields + ")\n";
    }
  }
  auto line = [](const char* what, const DiffCount& c, uint64_t bytes) {
    return std::string(what) + std::to_string(c.files) + " entries, " + human_bytes(bytes) + "\n";
  };
  for (size_t i = 0; i < d.removed_by_layer_a.size(); i++)
    out += "A layer " + std::to_string(i) + " " + (i < names_a.size() ? names_a[i] : "") + ": " +
           std::to_string(d.removed_by_layer_a[i].files) + " removed (" + human_bytes(d.removed_by_layer_a[i].bytes_a) +
           "), " + std::to_string(d.changed_by_layer_a[i].files) + " changed\n";
  for (size_t i = 0; i < d.added_by_layer_b.size(); i++)
    out += "B layer " + std::to_string(i) + " " + (i < names_b.size() ? names_b[i] : "") + ": " +
           std::to_string(d.added_by_layer_b[i].files) + " added (" + human_bytes(d.added_by_layer_b[i].bytes_b) +
           "), " + std::to_string(d.changed_by_layer_b[i].files) + " changed\n";
  out += line("added:   ", d.added, d.added.bytes_b);
  out += line("removed: ", d.removed, d.removed.bytes_a);
  out += "changed: " + std::to_string(d.changed.files) + " entries, " + human_bytes(d.changed.bytes_a) + " -> " +
         human_bytes(d.changed.bytes_b) + "\n";
  return out;
}

}  // namespace slimage
