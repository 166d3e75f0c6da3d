// Plan pass (g): byte-identical kept files written once (docs/dedupe.md says
// why each case is safe).
//  Candidates: kept regular files of at least kMinBytes (after strip), not
//  already in a hardlink group, outside the dirs that hold mutable state
//  (etc, var, run, tmp, home, root — an in-place write to one name of a
//  hardlink would change the other). Grouped by emitted size, mode, owner
//  and xattrs; only groups of two or more are hashed (emitted_digest, in
//  parallel), so a unique size costs nothing.
//  Per group of identical files: the copy is the first path in the lowest
//  layer holding one. In another layer, a shared library whose $ORIGIN
//  neighbours are identical from both directories (check_origin) becomes a
//  relative symlink to the copy. What is left in each layer becomes hardlinks
//  to the first path left there (an ET_DYN named *.so* — shared library or
//  Python extension — only if check_origin passes too: one inode is one
//  loaded object). Executables are never
//  symlinked: their $ORIGIN is /proc/self/exe, which resolves links.
#include <tuple>

#include "dedupe.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/thread_pool.h"

namespace slimage::plan_detail {
namespace {

constexpr uint64_t kMinBytes = 4096;
const char* const kMutableDirs[] = {"etc/", "var/", "run/", "tmp/", "home/", "root/"};

bool in_mutable_dir(const std::string& path) {
  for (const char* d : kMutableDirs)
    if (path.starts_with(d)) return true;
  return false;
}

// "../../local/cuda/lib64/libx.so": `to` as seen from the directory `from_dir`.
std::string relative_target(const std::string& from_dir, const std::string& to) {
  auto a = from_dir.empty() ? std::vector<std::string>{} : split_any(from_dir, "/");
  auto c = split_any(to, "/");
  size_t common = 0;
  while (common < a.size() && common + 1 < c.size() && a[common] == c[common]) ++common;
  std::string s;
  for (size_t i = common; i < a.size(); ++i) s += "../";
  for (size_t i = common; i < c.size(); ++i) s += c[i] + (i + 1 < c.size() ? "/" : "");
  return s;
}

using MetaKey = std::tuple<uint64_t, uint32_t, uint32_t, uint32_t, std::string, std::string,
                           std::map<std::string, std::string>>;

// One group of identical files, node indexes in path order.
class GroupDecider {
 public:
  GroupDecider(DedupeContext& ctx, std::vector<size_t> members, std::string digest)
      : ctx_(ctx), b_(ctx.b), members_(std::move(members)), digest_(std::move(digest)) {}

  void decide() {
    std::map<uint32_t, std::vector<size_t>> by_layer;
    for (size_t m : members_) by_layer[node(m).layer].push_back(m);
    uint32_t lowest = by_layer.begin()->first;
    size_t copy = by_layer.begin()->second.front();
    for (auto& [layer, list] : by_layer) {
      std::vector<size_t> rest;
      for (size_t m : list) {
        if (m == copy) continue;
        if (layer != lowest && shared_library(m)) {
          OriginCheck check = origin(m, copy);
          if (check.safe) {
            link(m, copy, Action::LinkKind::Symlink,
                 "a shared library: the loader takes $ORIGIN from the path it opened, and " +
                     check.detail);
            continue;
          }
          note_refused(m, copy, check.detail);
        }
        rest.push_back(m);
      }
      size_t holder = copy;
      if (layer != lowest) {
        if (rest.empty()) continue;
        holder = rest.front();
        rest.erase(rest.begin());
      }
      for (size_t m : rest) {
        std::string why = "one inode, written once";
        if (loadable(m)) {
          OriginCheck check = origin(m, holder);
          if (!check.safe) {
            note_refused(m, holder, check.detail);
            continue;
          }
          why = "one inode is one loaded object, and " + check.detail;
        }
        link(m, holder, Action::LinkKind::Hardlink, why);
      }
    }
  }

 private:
  const Node& node(size_t i) const { return *b_.nodes[i]; }

  // Parsed once per group: the members' alloc sections are identical.
  void parse() {
    if (parsed_) return;
    parsed_ = true;
    if (!b_.elf[members_.front()]) return;
    const Node& n = node(members_.front());
    if (const ElfSummary* s = b_.fs.elf_summary(n)) {  // low-disk mode, a big ELF file
      info_ = s->info;
      if (info_ && info_->type == 3 && b_.profile.string_heuristic) strings_ = s->strings;
      return;
    }
    auto bytes = b_.fs.content(n);
    std::string error;
    info_ = parse_elf(bytes, &error);
    if (info_ && info_->type == 3 && b_.profile.string_heuristic)
      strings_ = library_name_strings(bytes, *info_);
    b_.fs.release(n);
  }
  bool shared_library(size_t m) {
    if (!b_.elf[m]) return false;
    parse();
    return info_ && is_shared_library(*info_, node(m).path);
  }
  // Anything dlopen may load (Python extension modules too): a hardlink makes
  // two paths one loaded object, so its $ORIGIN neighbours must match.
  bool loadable(size_t m) {
    if (!b_.elf[m]) return false;
    parse();
    const std::string base = basename_of(node(m).path);
    return info_ && info_->type == 3 &&
           (shared_library(m) || base.ends_with(".so") || base.find(".so.") != std::string::npos);
  }
    OriginCheck origin(size_t m, size_t copy) {
    return check_origin(ctx_, *info_, strings_, node(m).path, node(copy).path);
  }
  void note_refused(size_t m, size_t copy, const std::string& detail) {
    Action& a = b_.action(node(m).path);
    if (a.reason.find("; not deduplicated") == std::string::npos)
      a.add_reason("not deduplicated with " + node(copy).path + ": " + detail);
  }

  void link(size_t m, size_t copy, Action::LinkKind kind, const std::string& why) {
    Action& a = b_.action(node(m).path);
    const std::string& to = node(copy).path;
    uint64_t emitted = a.bytes_after;
    a.fate = Fate::Link;
    a.kind = ReasonKind::Dedupe;
    a.link = kind;
    bool symlink = kind == Action::LinkKind::Symlink;
    a.set_link(symlink ? relative_target(dirname_of(node(m).path), to) : to, to);
    a.bytes_after = symlink ? a.link_to().size() : 0;
    a.bytes_deduped = emitted - std::min(emitted, a.bytes_after);
    std::string where = symlink ? "in layer " + std::to_string(node(copy).layer) + ", below" : "in the same layer";
    a.reason = "identical to " + to + " (" + digest_.substr(0, 19) + "…, same owner, mode and xattrs) " +
               where + ": written as a " + (symlink ? "symlink to " + a.link_to() : std::string("hardlink to it")) +
               ", saves " + human_bytes(a.bytes_deduped) + "; safe: " + why;
  }

  DedupeContext& ctx_;
  PlanBuilder& b_;
  std::vector<size_t> members_;
  std::string digest_;
  bool parsed_ = false;
  std::optional<ElfInfo> info_;
  std::vector<std::string> strings_;
};

}  // namespace

void dedupe_pass(PlanBuilder& b) {
  if (!b.profile.dedupe || b.options.no_dedupe) return;
  std::set<std::string> hardlinked;  // names already sharing content: left as they are
  for (const Node* n : b.nodes)
    if (n->type == FileType::Hardlink) hardlinked.insert({n->path, n->link_target});
  std::map<MetaKey, std::vector<size_t>> by_meta;
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    if (n.type != FileType::Regular || hardlinked.count(n.path) || in_mutable_dir(n.path)) continue;
    const Action& a = b.action(n.path);
    if ((a.fate != Fate::Keep && a.fate != Fate::Strip) || a.bytes_after < kMinBytes) continue;
    if (a.kind == ReasonKind::PackageDb) continue;  // its new content is the plan's, not the file's
    by_meta[{a.bytes_after, n.mode, n.uid, n.gid, n.uname, n.gname, n.xattrs}].push_back(i);
  }
  std::vector<size_t> to_hash;
  for (auto& [key, list] : by_meta)
    if (list.size() > 1) to_hash.insert(to_hash.end(), list.begin(), list.end());
  std::vector<std::string> digests(to_hash.size());
  parallel_for(to_hash.size(), b.options.jobs ? b.options.jobs : kIoBoundJobs, [&](size_t k) {
    const Node& n = *b.nodes[to_hash[k]];
    digests[k] = emitted_digest(b.fs, n, b.action(n.path).fate, b.profile.strip);
  });
  DedupeContext ctx{b, {}};
  std::map<size_t, std::string> digest_by_index;
  for (size_t k = 0; k < to_hash.size(); ++k) {
    ctx.digest_of[b.nodes[to_hash[k]]->path] = digests[k];
    digest_by_index[to_hash[k]] = digests[k];
  }
  for (auto& [key, list] : by_meta) {
    if (list.size() < 2) continue;
    std::map<std::string, std::vector<size_t>> by_digest;  // members stay in path order
    for (size_t i : list) by_digest[digest_by_index[i]].push_back(i);
    for (auto& [digest, members] : by_digest)
      if (members.size() > 1) GroupDecider(ctx, members, digest).decide();
  }
}

}  // namespace slimage::plan_detail
