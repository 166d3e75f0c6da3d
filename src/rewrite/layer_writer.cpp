// Writing the slimmed layers (see include/slimage/rewrite/layer_writer.h).
// Bytes flow: tar writer -> diff_id hash -> encoder -> digest hash -> file.
#include "slimage/rewrite/layer_writer.h"

#include <cstdlib>
#include <deque>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "layer_meta.h"
#include "slimage/rootfs/releasing_writer.h"
#include "slimage/util/direct_writer.h"
#include "slimage/util/hash.h"
#include "slimage/util/progress.h"
#include "slimage/util/file.h"

namespace slimage {

namespace {

Fate fate_of(const Plan& plan, const std::string& path) {
  const Action* a = plan.find(path);
  return a ? a->fate : Fate::Keep;
}

TarType tar_type(FileType t) {
  switch (t) {
    case FileType::Directory: return TarType::Directory;
    case FileType::Symlink: return TarType::Symlink;
    case FileType::Hardlink: return TarType::Hardlink;
    case FileType::CharDevice: return TarType::CharDevice;
    case FileType::BlockDevice: return TarType::BlockDevice;
    case FileType::Fifo: return TarType::Fifo;
    default: return TarType::Regular;
  }
}

// What one output layer holds, before sorting.
struct Item {
  std::string_view path;  // a node's own path, or a marker name its LayerJob holds
  const Node* node = nullptr;      // nullptr for a whiteout marker
  // --layers keep: the header this layer (or, for a parent it does not
  // declare, the image as of this layer) gave a directory or a whiteout;
  // nullptr where none did (squash: the merged view is the truth).
  const TarEntry* own = nullptr;
};

TarEntry entry_for(const Item& item, const WriteOptions& o) {
  const Node& n = *item.node;
  TarEntry e;
  e.path = n.path;
  e.type = tar_type(n.type);
  if (e.type == TarType::Hardlink) e.type = TarType::Regular;  // decided per layer
  // A directory's metadata in the merged view may come from an upper layer.
  if (item.own && n.type == FileType::Directory) {
    const TarEntry& m = *item.own;
    e.mode = m.mode & 07777;
    e.uid = m.uid, e.gid = m.gid, e.uname = m.uname, e.gname = m.gname;
    e.mtime = m.mtime, e.mtime_nsec = m.mtime_nsec;
    e.xattrs = m.xattrs;
  } else {
    e.mode = n.mode;
    e.uid = n.uid, e.gid = n.gid, e.uname = n.uname, e.gname = n.gname;
    e.mtime = n.mtime, e.mtime_nsec = n.mtime_nsec;
    e.xattrs = n.xattrs;
  }
  if (o.source_date_epoch && e.mtime > *o.source_date_epoch) {
    e.mtime = *o.source_date_epoch;
    e.mtime_nsec = 0;
  }
  if (n.type == FileType::Symlink) e.link_target = n.link_target;
  e.dev_major = n.dev_major, e.dev_minor = n.dev_minor;
  return e;
}

// A whiteout or opaque marker with the header its layer gave it (mode 0000
// stays 0000).
TarEntry whiteout_for(const Item& item, const WriteOptions& o) {
  TarEntry e;
  if (item.own) {
    const TarEntry& m = *item.own;
    e.mode = m.mode & 07777;
    e.uid = m.uid, e.gid = m.gid, e.uname = m.uname, e.gname = m.gname;
    e.mtime = m.mtime, e.mtime_nsec = m.mtime_nsec;
    e.xattrs = m.xattrs;
  }
  e.path = std::string(item.path);
  e.type = TarType::Regular;
  if (o.source_date_epoch && e.mtime > *o.source_date_epoch) {
    e.mtime = *o.source_date_epoch;
    e.mtime_nsec = 0;
  }
  return e;
}

// Forwards content bytes into the current tar entry.
class TarDataWriter : public Writer {
 public:
  explicit TarDataWriter(TarWriter& tar) : tar_(tar) {}
  void write(const void* data, size_t n) override {
    tar_.write_data(data, n);
    counter_.done.fetch_add(n, std::memory_order_relaxed);
  }

 private:
  TarWriter& tar_;
  ByteCounter& counter_ = current_progress();  // the run's, whichever thread writes
};

// A deduplicated file (plan/dedupe_pass.cpp): a hardlink to its copy, or a
// symlink (mode 0777, the file's owner, no xattrs) to the lower layer's copy.
void write_dedupe_link(TarWriter& tar, TarEntry e, const Action& a) {
  e.size = 0;
  e.link_target = a.link_to();
  if (a.link == Action::LinkKind::Symlink) {
    e.type = TarType::Symlink;
    e.mode = 0777;
    e.xattrs.clear();
  } else {
    e.type = TarType::Hardlink;
  }
  tar.add(e);
}

// Paths of the entries in reused layers so far: whiteouts over them are needed.
class ReusedPaths {
 public:
  void add(std::string_view p) { paths_.insert(p); }  // views a LayerEntry's path
  bool has_at_or_under(const std::string& p) const {
    if (p.empty()) return !paths_.empty();
    auto it = paths_.lower_bound(p);
    if (it != paths_.end() && *it == p) return true;
    it = paths_.lower_bound(p + "/");
    return it != paths_.end() && it->compare(0, p.size() + 1, p + "/") == 0;
  }
  bool has_under(const std::string& p) const {
    if (p.empty()) return !paths_.empty();
    auto it = paths_.lower_bound(p + "/");
    return it != paths_.end() && it->compare(0, p.size() + 1, p + "/") == 0;
  }

 private:
  std::set<std::string_view, std::less<>> paths_;
};

// A layer no action touches is the input blob, whatever it holds. Its
// whiteouts and opaque markers only hide what lower layers held, and a
// rewritten lower layer holds only what the merged view shows, so they stay
// right. Entries the merge skipped (hostile paths) are never passed on.
bool layer_reusable(const SpilledLayer& layer, const Plan& plan, const WriteOptions& o) {
  if (o.recompress_other_encodings &&
      compression_from_media_type(layer.descriptor.media_type) != o.encoder.compression)
    return false;
  if (layer.pax_global_header) return false;  // read one way by containerd, refused by umoci
  for (auto& e : layer.entries) {
    // A name a careless extractor would place outside the root ("/x", "a/../x"),
    // a hardlink target likewise, a name written through a symlink, an entry
    // the merge skipped: written again as the merge read it, never passed on.
    if (!e.verbatim) return false;
    switch (e.kind) {
      case LayerEntry::Kind::Skipped: return false;
      case LayerEntry::Kind::Whiteout: continue;
      case LayerEntry::Kind::Opaque:  // a dropped directory must not come back
        if (!e.path.empty() && fate_of(plan, e.path) == Fate::Drop) return false;
        continue;
      case LayerEntry::Kind::File: break;
    }
    if (fate_of(plan, e.path) != Fate::Keep) return false;
    if (plan.gpu_prune(e.path)) return false;  // --cuda-arch rewrites it
    if (plan.replacement(e.path)) return false;  // a package database edited
  }
  return true;
}

std::string layer_media_type(const WriteOptions& o) {
  using namespace media_type;
  switch (o.encoder.compression) {
    case Compression::Gzip: return std::string(o.docker_media_types ? kDockerLayerGzip : kOciLayerGzip);
    case Compression::Zstd: return std::string(kOciLayerZstd);
    default: return std::string(o.docker_media_types ? kDockerLayer : kOciLayer);
  }
}

// Writes one layer's items (sorted here) to a blob in the staging dir.
// Values view node paths. Only contents that more than one name shows (a
// Hardlink node's, see SharedContents) are ever keys: a file alone in its
// group needs no entry, and a layer of a million files no map of them.
using GroupMap = std::unordered_map<uint64_t, std::string_view>;
uint64_t group_key(const Node& n) { return (uint64_t(n.data_layer) << 48) ^ n.data_offset; }
// The group keys of every Hardlink node: the contents shown under two names or more.
using SharedContents = std::unordered_set<uint64_t>;
SharedContents shared_contents(const MergedFs& fs) {
  SharedContents shared;
  fs.for_each([&](const Node& n) {
    if (n.type == FileType::Hardlink) shared.insert(group_key(n));
  });
  return shared;
}

// Everything that determines a rewritten layer's bytes (LayerCache key).
std::string fingerprint(const MergedFs& fs, const Plan& plan, const std::vector<Item>& items,
                        const WriteOptions& o, const GroupMap& linked) {
  Sha256 h;
  auto add = [&](std::string_view s) {
    uint64_t n = s.size();
    h.update(&n, sizeof n);
    h.update(s.data(), s.size());
  };
  add("slimage " SLIMAGE_VERSION " layer v2");
  add(encoder_identity(o.encoder) + " " + strip_mode_name(o.strip) + " " + std::to_string(o.source_date_epoch.value_or(-1)) +
      " " + std::to_string(o.encoder.gzip_chunk));
  for (auto& item : items) {
    add(item.path);
    const TarEntry e = item.node ? entry_for(item, o) : whiteout_for(item, o);
    add(std::to_string(int(e.type)) + " " + std::to_string(e.mode) + " " + std::to_string(e.uid) +
        " " + std::to_string(e.gid) + " " + e.uname + " " + e.gname + " " +
        std::to_string(e.mtime) + "." + std::to_string(e.mtime_nsec) + " " +
        std::to_string(e.dev_major) + "," + std::to_string(e.dev_minor));
    for (auto& [k, v] : e.xattrs) add(k + "=" + v);
    if (!item.node) continue;
    const Node& n = *item.node;
    add(std::string(fate_name(fate_of(plan, n.path))) +
        (plan.gpu_prune(n.path) ? " gpu " + plan.gpu.describe() : ""));
    add(n.link_target);
    if (const Action* a = plan.find(n.path); a && a->fate == Fate::Link) add("dedupe " + a->link_to());
    if (const std::string* r = plan.replacement(n.path)) add("replaced " + sha256_digest(*r));
    if (n.is_file()) {
      add(fs.layers()[n.data_layer]->diff_id + "@" + std::to_string(n.data_offset) + "+" +
          std::to_string(n.size));
      auto it = linked.find(group_key(n));
      add(it == linked.end() ? "" : it->second);
    }
  }
  return h.hex();
}

// The plan's kept bytes of these items, as the write stage's total counts
// them: skipped on the progress line (util/progress.h) when they need not be
// written (a layer reused, or taken from the cache).
uint64_t planned_bytes(const Plan& plan, const std::vector<Item>& items) {
  uint64_t bytes = 0;
  for (auto& item : items)
    if (const Action* a = item.node ? plan.find(item.node->path) : nullptr; a && a->fate != Fate::Drop)
      bytes += a->bytes_after;
  return bytes;
}

// What write_layer puts in the tar for one item (its items sorted by path).
enum class Body { Marker, Plain, Dedupe, Replaced, Hardlink, Content };

// `group_first` maps each hardlink group to the path that carries its
// content, and gets this item's group if it is the first: a Content item
// reads its node's bytes, a Hardlink item names `*link_to`.
Body body_of(const Plan& plan, const Item& item, const SharedContents& shared, GroupMap& group_first,
             std::string_view* link_to) {
  if (!item.node) return Body::Marker;
  const Node& n = *item.node;
  if (!n.is_file()) return Body::Plain;
  if (const Action* a = plan.find(n.path); a && a->fate == Fate::Link) return Body::Dedupe;
  if (plan.replacement(n.path)) return Body::Replaced;  // its own content: never in a hardlink group
  if (!shared.count(group_key(n))) return Body::Content;  // alone in its group
  auto [it, first] = group_first.emplace(group_key(n), n.path);
  if (first) return Body::Content;
  *link_to = it->second;
  return Body::Hardlink;
}

// The nodes whose content write_layer reads, in the order it reads them.
std::vector<const Node*> content_read(const Plan& plan, const std::vector<Item>& sorted_items,
                                      const SharedContents& shared, GroupMap linked) {
  std::vector<const Node*> nodes;
  std::string_view link_to;
  for (auto& item : sorted_items)
    if (body_of(plan, item, shared, linked, &link_to) == Body::Content) nodes.push_back(item.node);
  return nodes;
}

void sort_items(std::vector<Item>& items) {
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.path < b.path; });
}

// `linked`: content already in a reused lower layer, by hardlink group; a
// member here becomes a hardlink to it, as runtimes resolve link targets in
// the root being built.
LayerOutput write_layer(const MergedFs& fs, const Plan& plan, std::vector<Item> items,
                        const WriteOptions& o, const std::string& staging_dir, GroupMap linked,
                        const SharedContents& shared) {
  sort_items(items);
  std::string key;
  std::optional<LayerCache::Claim> claim;
  if (o.cache) {
    key = fingerprint(fs, plan, items, o, linked);
    claim.emplace(*o.cache, key);
    if (auto hit = o.cache->find(key)) {
      hit->fingerprint = key;
      hit->from_cache = true;
      progress_skip(planned_bytes(plan, items));
      return *hit;
    }
  }
  // Low-disk mode: this layer's kept content streamed from its input layer
  // where it comes in order, else refilled now and punched once staged.
  std::vector<const Node*> reads;
  std::unique_ptr<HoleStream> stream;
  if (o.content.stream || o.content.before || o.content.after) reads = content_read(plan, items, shared, linked);
  if (o.content.stream)
    stream = o.content.stream(reads, [&plan](const Node& n) { return copied_plain(plan, n); });
  if (o.content.before) o.content.before(stream ? stream->rest() : reads);
  // No name: a SIGKILL or crash mid-write leaves nothing in the staging dir.
  auto staged_file = std::make_shared<ScratchFile>(staging_dir);
  const std::string& staged = staged_file->path();
  // Around the page cache: nothing reads the layer before the sink takes it
  // (linked into place where it shares the filesystem).
  DirectWriter file(staged, staged_file->name(), /*all_cold=*/true, /*durable=*/true,
                    /*scratch=*/!o.staging_at_destination);
  HashingWriter digest_hash(&file);
  std::unique_ptr<Writer> encoder;
  Writer* tar_out = &digest_hash;
  if (o.encoder.compression != Compression::None) {
    encoder = open_encoder(digest_hash, o.encoder);
    tar_out = encoder.get();
  }
  HashingWriter diff_hash(tar_out);
  TarWriter tar(diff_hash);
  TarDataWriter data(tar);
  // First path (in sort order) of each hardlink group carries the content.
  GroupMap& group_first = linked;
  LayerOutput out;
  uint64_t since_trim = 0;
  for (auto& item : items) {
    out.entries++;
    if (!item.node) {
      tar.add(whiteout_for(item, o));
      continue;
    }
    const Node& n = *item.node;
    TarEntry e = entry_for(item, o);
    std::string_view link_to;
    switch (body_of(plan, item, shared, group_first, &link_to)) {
      case Body::Marker:
      case Body::Plain:
        tar.add(e);
        continue;
      case Body::Dedupe:
        write_dedupe_link(tar, e, *plan.find(n.path));  // the copy it names comes earlier in this layer, or below
        continue;
      case Body::Replaced: {
        const std::string& r = *plan.replacement(n.path);
        e.size = r.size();
        tar.add(e);
        data.write(r.data(), r.size());
        continue;
      }
      case Body::Hardlink:
        e.type = TarType::Hardlink;
        e.link_target = std::string(link_to);
        e.size = 0;
        tar.add(e);
        continue;
      case Body::Content: break;
    }
    if (stream && stream->serves(n)) {
      e.size = n.size;
      tar.add(e);
      stream->copy(n, data);
      continue;
    }
    auto bytes = fs.content(n);
    std::optional<StripResult> stripped;
    if (fate_of(plan, n.path) == Fate::Strip) {
      std::string why, error;
      if (auto info = parse_elf(bytes, &error)) stripped = plan_strip(bytes, *info, o.strip, &why);
    }
    e.size = stripped ? stripped->output_size : bytes.size();
    tar.add(e);
    if (const GpuLibrary* gpu = plan.gpu_prune(n.path)) {
      // Pruned (and maybe stripped): the verifier re-reads what goes out.
      FatbinVerifier verify(data, bytes, gpu->scan, gpu->prune, plan.gpu, n.path);
      ReleasingWriter bounded(fs, n, bytes, verify);  // a 1 GB library is never resident whole
      write_stripped_patched(bytes, stripped ? &*stripped : nullptr, gpu->prune.patches, bounded);
      verify.finish();
    } else if (stripped) {
      ReleasingWriter bounded(fs, n, bytes, data);
      write_stripped(bytes, *stripped, bounded);
    } else if (!bytes.empty()) {
      write_content(fs, n, data);  // in steps: a multi-GB library never resident whole
    }
    fs.release(n);
    // Pages the kernel mapped around our reads (neighbours we skip) would
    // otherwise stay resident: drop them every so often.
    if ((since_trim += bytes.size()) > (64 << 20)) {
      fs.trim();
      since_trim = 0;
    }
  }
  if (stream) stream->finish();  // each re-decoded layer to its end: its diff_id as pass 1 saw it
  tar.finish();
  if (o.content.after) o.content.after(reads);
  out.descriptor.media_type = layer_media_type(o);
  out.descriptor.digest = digest_hash.digest();
  out.descriptor.size = static_cast<int64_t>(digest_hash.bytes());
  out.diff_id = diff_hash.digest();
  out.uncompressed_size = diff_hash.bytes();
  out.staged_file = std::move(staged_file);
  out.staged_path = out.staged_file->path();
  out.fingerprint = key;
  if (o.cache) o.cache->store(key, out);
  return out;
}

// "usr/lib/x.so" -> "usr/lib", "x" -> "": dirname_of as a view of `path`.
std::string_view parent_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return path.substr(0, slash == std::string_view::npos ? 0 : slash);
}

// A parent no layer up to this one declares: what the merge (and a runtime)
// creates for it.
const TarEntry& implicit_dir() {
  static const TarEntry e = [] {
    TarEntry d;
    d.type = TarType::Directory;
    d.mode = 0755;
    return d;
  }();
  return e;
}

// Adds the parents of every item that the layer does not already hold. With
// `meta` (--layers keep), every directory takes the header layer `layer`
// gives it, or the image had at that layer.
void add_parents(const MergedFs& fs, std::vector<Item>& items, LayerMeta* meta, size_t layer) {
  // Views of the items' paths (and of their prefixes): nothing is copied.
  std::unordered_set<std::string_view> have;
  have.reserve(items.size());
  for (auto& i : items) have.insert(i.path);
  std::vector<Item> extra;
  for (auto& i : items) {
    std::string_view dir = parent_of(i.path);
    while (!dir.empty() && have.insert(dir).second) {
      if (const Node* d = fs.lookup(dir); d && d->type == FileType::Directory)
        extra.push_back({d->path, d});
      dir = parent_of(dir);
    }
  }
  items.insert(items.end(), extra.begin(), extra.end());
  if (!meta) return;
  for (auto& i : items) {
    if (!i.node || i.node->type != FileType::Directory) continue;
    const TarEntry* own = meta->dir_as_of(layer, i.path);
    i.own = own ? own : &implicit_dir();
  }
}

}  // namespace

std::optional<int64_t> source_date_epoch_from_env() {
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  long long t = std::strtoll(v, &end, 10);
  if (*end != '\0' || t < 0) fail("SOURCE_DATE_EPOCH: not a number of seconds: " + std::string(v));
  return t;
}

namespace {

// One output layer, decided before any is written: a reused input layer, or
// the items a rewritten one holds and the hardlink groups lower layers carry.
struct LayerJob {
  size_t source_index = 0;
  bool reused = false;
  uint64_t reused_bytes = 0;  // reused: planned_bytes() of what it shows (skipped on the progress line)
  std::vector<Item> items;
  GroupMap linked;
  // The names of its whiteout and opaque items (Item::path views them; a
  // moved deque keeps its elements where they are).
  std::deque<std::string> markers;
};

struct LayerJobs {
  std::vector<LayerJob> jobs;
  SharedContents shared;  // the hardlink groups (write_layer's group_first keys)
};

LayerJobs plan_layers(const MergedFs& fs, const Plan& plan, const WriteOptions& options) {
  LayerJobs out;
  std::vector<LayerJob>& jobs = out.jobs;
  out.shared = shared_contents(fs);
  const SharedContents& shared = out.shared;
  if (options.layers == LayerMode::Squash) {
    LayerJob job;
    fs.for_each([&](const Node& n) {
      if (!n.path.empty() && fate_of(plan, n.path) != Fate::Drop) job.items.push_back({n.path, &n});
    });
    add_parents(fs, job.items, nullptr, 0);
    jobs.push_back(std::move(job));
    return out;
  }
  const auto& layers = fs.layers();
  // Whether each layer is passed on as is; the others get their items: what
  // the merged view shows from them.
  std::vector<char> reusable(layers.size());
  size_t last_marker = 0;  // 1 + the highest layer holding a whiteout or opaque marker
  for (size_t i = 0; i < layers.size(); i++) {
    reusable[i] = layer_reusable(*layers[i], plan, options);
    for (auto& e : layers[i]->entries)
      if (e.kind == LayerEntry::Kind::Whiteout || e.kind == LayerEntry::Kind::Opaque) last_marker = i + 1;
  }
  std::vector<std::vector<Item>> own(layers.size());
  std::vector<uint64_t> reused_bytes(layers.size());  // planned_bytes() of a reused layer's items
  fs.for_each([&](const Node& n) {
    if (n.path.empty() || n.layer >= layers.size()) return;
    const Action* a = plan.find(n.path);
    if (a && a->fate == Fate::Drop) return;
    if (!reusable[n.layer]) own[n.layer].push_back({n.path, &n});
    else if (a) reused_bytes[n.layer] += a->bytes_after;
  });
  ReusedPaths reused;     // wanted only below a layer with markers
  GroupMap reused_files;  // content lower output layers carry, by hardlink group
  LayerMeta meta(fs);
  for (size_t i = 0; i < layers.size(); i++) {
    const SpilledLayer& layer = *layers[i];
    if (reusable[i]) {
      LayerJob job;
      job.source_index = i;
      job.reused = true;
      job.reused_bytes = reused_bytes[i];
      for (auto& e : layer.entries) {
        if (e.kind != LayerEntry::Kind::File) continue;  // a marker holds nothing
        if (i + 1 < last_marker) reused.add(e.path);
        if (shared.empty()) continue;
        const Node* n = fs.lookup(e.path);
        if (n && n->is_file() && shared.count(group_key(*n)) && fs.entry_visible(i, e)) {
          auto [it, added] = reused_files.emplace(group_key(*n), n->path);
          if (!added && n->path < it->second) it->second = n->path;
        }
      }
      jobs.push_back(std::move(job));
      continue;
    }
    LayerJob job;
    std::vector<Item>& items = job.items;
    items = std::move(own[i]);
    // Whiteouts only where a reused lower layer still holds what they hide.
    for (auto& e : layer.entries) {
      if (e.kind == LayerEntry::Kind::Whiteout && reused.has_at_or_under(e.path)) {
        job.markers.push_back(join_path(dirname_of(e.path), std::string(kWhiteoutPrefix) + basename_of(e.path)));
        items.push_back({job.markers.back(), nullptr, e.tar.get()});
      }
      if (e.kind == LayerEntry::Kind::Opaque && reused.has_under(e.path)) {
        job.markers.push_back(join_path(e.path, std::string(kOpaqueWhiteout)));
        items.push_back({job.markers.back(), nullptr, e.tar.get()});
      }
    }
    if (items.empty()) continue;  // emptied layer: dropped
    add_parents(fs, items, &meta, i);
    // Content this layer carries (its first name in sort order, as write_layer
    // picks it): an upper layer's hardlink to it stays a hardlink, as in the
    // input, rather than carrying the bytes again.
    GroupMap carried;
    for (auto& item : items) {
      if (!item.node || !item.node->is_file() || !shared.count(group_key(*item.node)) ||
          reused_files.count(group_key(*item.node)))
        continue;
      if (const Action* a = plan.find(item.node->path); a && a->fate == Fate::Link) continue;
      auto [it, added] = carried.emplace(group_key(*item.node), item.path);
      if (!added && item.path < it->second) it->second = item.path;
    }
    job.source_index = i;
    job.linked = reused_files;
    reused_files.insert(carried.begin(), carried.end());
    jobs.push_back(std::move(job));
  }
  return out;
}

}  // namespace

std::vector<LayerOutput> write_layers(const MergedFs& fs, const Plan& plan,
                                      const WriteOptions& options, const std::string& staging_dir) {
  std::vector<LayerOutput> outputs;
  LayerJobs planned = plan_layers(fs, plan, options);
  for (LayerJob& job : planned.jobs) {
    const SpilledLayer& layer = *fs.layers()[job.source_index];
    if (job.reused) {
      progress_skip(job.reused_bytes);
      LayerOutput out;
      out.reused = true;
      out.source_index = job.source_index;
      out.descriptor = layer.descriptor;
      out.diff_id = layer.diff_id;
      out.uncompressed_size = layer.tar_size;
      out.entries = layer.entries.size();
      outputs.push_back(std::move(out));
      continue;
    }
    LayerOutput out = write_layer(fs, plan, std::move(job.items), options, staging_dir, std::move(job.linked),
                                  planned.shared);
    out.source_index = job.source_index;
    if (options.staged) options.staged(out);
    outputs.push_back(std::move(out));
  }
  return outputs;
}

std::vector<LayerReads> layer_reads(const MergedFs& fs, const Plan& plan, const WriteOptions& options) {
  std::vector<LayerReads> reads;
  LayerJobs planned = plan_layers(fs, plan, options);
  for (LayerJob& job : planned.jobs) {
    LayerReads r;
    r.source_index = job.source_index;
    r.reused = job.reused;
    if (!job.reused) {
      sort_items(job.items);
      r.content = content_read(plan, job.items, planned.shared, std::move(job.linked));
    }
    reads.push_back(std::move(r));
  }
  return reads;
}

bool copied_plain(const Plan& plan, const Node& node) {
  return fate_of(plan, node.path) != Fate::Strip && !plan.gpu_prune(node.path);
}

}  // namespace slimage
