// Low-disk mode's two passes (include/slimage/rootfs/sparse_spill.h): the
// spill policy (what content pass 1 writes), and the refill (pass 2).
#include "slimage/rootfs/sparse_spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "slimage/layer/compression.h"
#include "slimage/layer/tar.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/read_ahead.h"
#include "slimage/util/scratch_meter.h"
#include "slimage/util/strings.h"
#include "slimage/util/thread_pool.h"
#include "sparse_filter.h"

namespace slimage {

namespace {

// Paths some pass reads whatever their size: configuration, Python (sources
// and bytecode are scanned for imports), package databases and the Debian
// copyright files the SBOM takes licenses from, loader and gconv config.
bool analysis_reads(std::string_view path) {
  while (path.starts_with("./")) path.remove_prefix(2);
  while (path.starts_with("/")) path.remove_prefix(1);
  for (std::string_view dir : {"etc/", "var/lib/dpkg/", "var/lib/rpm/", "usr/lib/sysimage/", "lib/apk/db/",
                               "var/lib/pacman/", "var/lib/apt/"})
    if (path.starts_with(dir)) return true;
  for (std::string_view ext : {".py", ".pyc", ".pth", ".pyi", ".cfg", ".ini", ".json", ".txt", ".conf",
                               ".cnf", ".sh"})
    if (path.ends_with(ext)) return true;
  if (path.find(".dist-info/") != std::string_view::npos || path.find(".egg-info/") != std::string_view::npos)
    return true;
  if ((path.starts_with("usr/share/doc/") && path.ends_with("/copyright")) || path.ends_with("/gconv-modules"))
    return true;
  return path.find("ld.so") != std::string_view::npos || path.ends_with("os-release");
}

// Hashes every byte read through it (the tar parser's skips included).
class HashingReader : public Reader {
 public:
  explicit HashingReader(Reader& in) : in_(in) {}
  size_t read(void* buf, size_t n) override {
    size_t k = in_.read(buf, n);
    hash_.write(buf, k);
    return k;
  }
  std::string digest() { return hash_.digest(); }
  uint64_t bytes() const { return hash_.bytes(); }

 private:
  Reader& in_;
  HashingWriter hash_;
};

// A big file pass 1 gives the summarizer rather than the tar: ELF by its
// first bytes, at a path no text reader looks at.
bool summarized_kind(std::string_view path, std::string_view head) {
  return head.size() >= 4 && head.substr(0, 4) == std::string_view("\x7f" "ELF", 4) && !analysis_reads(path);
}

const Hole* hole_at(const SpilledLayer& layer, uint64_t offset) {
  if (!layer.holes) return nullptr;
  auto it = layer.holes->by_offset.find(offset);
  return it == layer.holes->by_offset.end() ? nullptr : &it->second;
}

// A second decode read to its end (the rest drained through `hashed`): the
// layer's diff_id and size as pass 1 saw them.
void check_redecoded(const SpilledLayer& layer, const std::string& where, HashingReader& hashed) {
  char rest[65536];
  while (hashed.read(rest, sizeof rest)) {
  }
  const std::string diff_id = hashed.digest();  // once: digest() finalizes
  if (diff_id != layer.diff_id || hashed.bytes() != layer.tar_size)
    fail(where + ": decodes to " + diff_id + " (" + std::to_string(hashed.bytes()) + " bytes), the first decode to " +
         layer.diff_id + " (" + std::to_string(layer.tar_size) + " bytes)");
}

void pwrite_all(int fd, const std::string& path, const char* p, size_t n, uint64_t off) {
  scratch_charge(path, n);  // first: over a --scratch-budget it throws, nothing written
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail(path + ": write: " + std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
}

// Re-decodes one layer and writes the content at `offsets` into its holes.
uint64_t refill_layer(Source& source, const SpilledLayer& layer, const std::set<uint64_t>& offsets) {
  const std::string where = layer.where() + ": re-decoded for low-disk mode";
  int fd = ::open(layer.tar_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(where + ": " + layer.tar_path + ": " + std::strerror(errno));
  uint64_t written = 0;
  try {
    // The blob's digest is checked by the source as it streams; the decode
    // limit is the size pass 1 measured.
    auto decoder = open_decoder(source.open_blob(layer.descriptor), layer.tar_size);
    HashingReader hashed(*decoder);
    TarReader tar(hashed);
    TarEntry entry;
    std::vector<char> buf(1 << 20);
    while (tar.next(entry)) {
      if (entry.type != TarType::Regular || !offsets.count(entry.data_offset)) continue;
      const Hole* hole = hole_at(layer, entry.data_offset);
      HashingWriter check;
      uint64_t at = entry.data_offset;
      for (size_t k; (k = tar.read_data(buf.data(), buf.size())) > 0; at += k) {
        check.write(buf.data(), k);
        pwrite_all(fd, layer.tar_path, buf.data(), k, at);
      }
      written += at - entry.data_offset;
      if (!hole || check.bytes() != hole->size || check.digest() != hole->digest)  // digest() once
        fail(where + ": " + entry.path + ": content differs from the first decode");
    }
    check_redecoded(layer, where, hashed);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) fail(where + ": " + layer.tar_path + ": close: " + std::strerror(errno));
  for (uint64_t offset : offsets) hole_at(layer, offset)->filled.store(true, std::memory_order_release);
  return written;
}

}  // namespace

HoleGap hole_gap(uint64_t begin, uint64_t size) {
  constexpr uint64_t kBlock = 4096;
  uint64_t first = (begin + kBlock - 1) / kBlock * kBlock, last = (begin + size) / kBlock * kBlock;
  return first < last ? HoleGap{first, last} : HoleGap{first, first};
}

bool sparse_keeps_content(std::string_view path, uint64_t size, std::string_view head) {
  if (size <= kSparseKeepMax || analysis_reads(path)) return true;
  if (head.size() >= 4 && head.substr(0, 4) == std::string_view("\x7f" "ELF", 4)) return true;
  return head.size() >= 2 && head[0] == '#' && head[1] == '!';
}

void SparseFilter::candidate(std::string path, uint64_t begin, uint64_t size) {
  if (size == 0 || begin < pos_) return;
  path_ = std::move(path);
  begin_ = begin;
  end_ = begin + size;
  head_.clear();
  state_ = State::Probing;
}

void SparseFilter::decide() {
  const bool elf = summarize_ && end_ - begin_ > kSummarizeMin && summarized_kind(path_, head_);
  if (!elf && sparse_keeps_content(path_, end_ - begin_, head_)) {
    state_ = State::Keep;
    out_.write(head_.data(), head_.size());
    return;
  }
  state_ = elf ? State::Elf : State::Hole;
  gap_ = hole_gap(begin_, end_ - begin_);
  hash_ = std::make_unique<HashingWriter>();
  hash_->write(head_.data(), head_.size());
  pass_hole(head_.data(), head_.size(), begin_);
  if (state_ != State::Elf) return;
  elf_copy_ = std::make_unique<ElfCopy>(dir_, end_ - begin_);
  elf_copy_->write(head_.data(), head_.size());
}

// Buffered (no cold range): the summarizer reads it back at once.
ElfCopy::ElfCopy(const std::string& dir, uint64_t size)
    : file_(dir), out_(file_.path(), file_.name()), size_(size) {}

namespace {
constexpr uint64_t kBlock = 4096;
// What library_name_strings reads before a ".so": the name, and the byte before it.
constexpr uint64_t kLookback = kLibraryNameMax + 5;
}  // namespace

void ElfCopy::find_containers(uint64_t end) {
  while (scan_ + 16 <= end) {
    if (scan_ < at_) {  // inside a container already found: past it
      scan_ = at_;
      continue;
    }
    if (uint64_t size = fatbin_container_at(reinterpret_cast<const uint8_t*>(pending_.data()) + (scan_ - at_),
                                            size_ - scan_)) {
      // Its header stays: a C string before it ends there, as in the file.
      HoleGap gap = hole_gap(scan_ + 16, size - 16);
      if (gap.begin < gap.end) containers_.push_back({gap.begin, gap.end});
      scan_ = (scan_ + size + 7) / 8 * 8;
    } else {
      scan_ += 8;
    }
  }
}

void ElfCopy::keep(uint64_t begin, uint64_t end) {
  begin = begin / kBlock * kBlock, end = (end + kBlock - 1) / kBlock * kBlock;
  if (!keeps_.empty() && begin <= keeps_.back().second)
    keeps_.back().second = std::max(keeps_.back().second, end);
  else
    keeps_.push_back({begin, end});
}

void ElfCopy::find_strings(uint64_t end) {
  const char* base = pending_.data();
  for (;;) {
    if (open_) {
      const void* nul = nul_ < end ? std::memchr(base + (nul_ - at_), 0, end - nul_) : nullptr;
      if (!nul) {
        nul_ = end;
        return;
      }
      uint64_t n = at_ + (static_cast<const char*>(nul) - base);
      keep(open_from_, n + 1);
      open_ = false;
      hit_ = n + 1;  // a ".so" before the NUL has this window
      continue;
    }
    if (hit_ + 3 > end) return;
    std::string_view rest(base + (hit_ - at_), end - hit_);
    size_t k = rest.find(".so");
    if (k == std::string_view::npos) {
      hit_ = end - 2;  // a ".so" may straddle the next write
      return;
    }
    uint64_t h = hit_ + k;
    open_ = true, open_from_ = h > kLookback ? h - kLookback : 0, nul_ = h + 3;
  }
}

void ElfCopy::write(const char* p, size_t n) {
  pending_.append(p, n);
  const uint64_t end = at_ + pending_.size();
  find_containers(end);
  find_strings(end);
  // Settled below: every container header before scan_, every window but an open one, and
  // no later ".so" reaches back past hit_ - kLookback.
  uint64_t settled = std::min({scan_, end, hit_ > kLookback ? hit_ - kLookback : 0});
  if (open_) settled = std::min(settled, open_from_);
  emit(settled / kBlock * kBlock);
}

void ElfCopy::emit(uint64_t until) {
  if (until <= at_) return;
  const char* p = pending_.data();
  uint64_t at = at_;
  while (at < until) {
    while (next_container_ < containers_.size() && containers_[next_container_].second <= at) ++next_container_;
    while (next_keep_ < keeps_.size() && keeps_[next_keep_].second <= at) ++next_keep_;
    const FileRange* c = next_container_ < containers_.size() ? &containers_[next_container_] : nullptr;
    const FileRange* w = next_keep_ < keeps_.size() ? &keeps_[next_keep_] : nullptr;
    uint64_t stop = until;
    bool skip = false;
    if (c && at >= c->first) {
      stop = std::min(stop, c->second);
      if (w && at >= w->first)
        stop = std::min(stop, w->second);  // a window: written
      else
        skip = true, stop = w ? std::min(stop, w->first) : stop;
    } else if (c) {
      stop = std::min(stop, c->first);
    }
    if (skip) {
      out_.skip(stop - at);
      if (!zeroed_.empty() && zeroed_.back().second == at)
        zeroed_.back().second = stop;
      else
        zeroed_.push_back({at, stop});
    } else {
      out_.write(p, stop - at);
    }
    p += stop - at, at = stop;
  }
  pending_.erase(0, at - at_);
  at_ = at;
}

void ElfCopy::finish() {
  const uint64_t end = at_ + pending_.size();
  find_containers(end);
  find_strings(end);
  if (open_) keep(open_from_, end), open_ = false;  // no NUL to the end: the scan reads to it
  emit(end);
  out_.finish();
}

// A hole's bytes [at, at + n): its partial blocks are written (the file
// system allocates them with their neighbours anyway), its whole blocks skipped.
void SparseFilter::pass_hole(const char* p, size_t n, uint64_t at) {
  while (n > 0) {
    bool inside = at >= gap_.begin && at < gap_.end;
    uint64_t until = inside ? gap_.end : at < gap_.begin ? gap_.begin : end_;
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, until - at));
    if (inside)
      out_.skip(k);
    else
      out_.write(p, k);
    p += k, n -= k, at += k;
  }
}

void SparseFilter::write(const void* data, size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    if (state_ == State::None || pos_ < begin_) {
      size_t k = state_ == State::None ? n : static_cast<size_t>(std::min<uint64_t>(n, begin_ - pos_));
      out_.write(p, k);
      p += k, n -= k, pos_ += k;
      continue;
    }
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    if (state_ == State::Probing) {
      k = std::min<size_t>(k, 4 - head_.size());
      head_.append(p, k);
    } else if (state_ == State::Keep) {
      out_.write(p, k);
    } else {
      hash_->write(p, k);
      if (state_ == State::Elf) elf_copy_->write(p, k);
      pass_hole(p, k, pos_);
    }
    p += k, n -= k, pos_ += k;
    // decide() writes or skips the head at its own place (the out's position is begin_).
    if (state_ == State::Probing && (head_.size() == 4 || pos_ == end_)) decide();
    if (state_ != State::Probing && pos_ == end_) close_entry();
  }
}

void SparseFilter::close_entry() {
  std::shared_ptr<const ElfSummary> summary;
  bool refetch = false;
  if (state_ == State::Elf) {
    elf_copy_->finish();
    {
      MappedFile mapped(elf_copy_->file().path());
      summary = summarize_(mapped.bytes(), elf_copy_->zeroed());
    }
    // Declined: copied into the tar now, or, where the copy lacks its fat
    // binaries, a hole re-decoded whole before the plan (refetch_holes).
    refetch = !summary && !elf_copy_->zeroed().empty();
    uint64_t& files = summary ? holes_->summarized_files : refetch ? holes_->refetch_files : holes_->declined_files;
    uint64_t& bytes = summary ? holes_->summarized_bytes : refetch ? holes_->refetch_bytes : holes_->declined_bytes;
    files++, bytes += end_ - begin_;
    if (!summary && !refetch) write_back(elf_copy_->file(), gap_.begin - begin_, gap_.end - gap_.begin);
    elf_copy_.reset();  // its bytes go now
  }
  if (state_ == State::Hole || summary || refetch) {
    Hole& h = holes_->by_offset[begin_];
    h.digest = hash_->digest();
    h.size = end_ - begin_;
    h.elf = std::move(summary);
    h.refetch = refetch;
    holes_->bytes += gap_.end - gap_.begin;
  }
  hash_.reset();
  state_ = State::None;
}

SparseFilter::~SparseFilter() {
  if (tar_fd_ >= 0) ::close(tar_fd_);
}

void SparseFilter::finish() {
  out_.finish();
  if (tar_fd_ < 0) return;
  int fd = std::exchange(tar_fd_, -1);
  if (::close(fd) != 0) fail(where_ + ": " + tar_path_ + ": close: " + std::strerror(errno));
}

// A declined ELF file into its hole in the tar, through a descriptor of its
// own: the DirectWriter skipped that range and never writes inside it.
void SparseFilter::write_back(const ScratchFile& file, uint64_t from, uint64_t size) {
  if (size == 0) return;
  if (tar_fd_ < 0) tar_fd_ = ::open(tar_path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (tar_fd_ < 0) fail(where_ + ": " + tar_path_ + ": " + std::strerror(errno));
  std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size, 1 << 20)));
  for (uint64_t done = 0; done < size;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
    ssize_t got = ::pread(file.fd(), buf.data(), want, static_cast<off_t>(from + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail(where_ + ": " + file.name() + ": read: " + (got < 0 ? std::strerror(errno) : "short"));
    pwrite_all(tar_fd_, tar_path_, buf.data(), static_cast<size_t>(got), begin_ + from + done);
    done += static_cast<uint64_t>(got);
  }
}

uint64_t normal_scratch_estimate(const ImageManifest& image) {
  uint64_t compressed = 0;
  for (auto& d : image.layers) compressed += static_cast<uint64_t>(std::max<int64_t>(d.size, 0));
  return compressed;
}

uint64_t low_disk_scratch_estimate(const ImageManifest& image) { return normal_scratch_estimate(image) / 10; }

ScratchMode choose_scratch_mode(const ImageManifest& image, std::optional<uint64_t> budget,
                                uint64_t free_bytes) {
  ScratchMode mode;
  const uint64_t normal = normal_scratch_estimate(image), low = low_disk_scratch_estimate(image);
  if (!budget && free_bytes >= normal) {
    mode.need = normal;
    mode.need_why = "the layers' compressed size; decoded they are larger";
    return mode;
  }
  mode.low_disk = true;
  mode.budget = budget.value_or(0);
  // A budget the meter enforces: free space beyond it is never needed.
  mode.reason = budget ? "--scratch-budget " + std::to_string(*budget)
                       : "automatic: " + human_bytes(free_bytes) + " free, a normal run needs " +
                             human_bytes(normal);
  mode.need = mode.budget ? std::min(low, mode.budget) : low;
  mode.need_why = mode.need < low ? "low-disk mode: --scratch-budget"
                                  : "low-disk mode: a tenth of the layers' compressed size for headers and "
                                    "the files the analysis reads";
  return mode;
}

namespace {

// The unfilled holes `nodes` show, each once: offsets by layer, and their bytes.
struct Unfilled {
  std::vector<std::set<uint64_t>> by_layer;
  uint64_t bytes = 0;
};

Unfilled unfilled_holes(const MergedFs& fs, const std::vector<const Node*>& nodes) {
  const auto& layers = fs.layers();
  Unfilled u;
  u.by_layer.resize(layers.size());
  for (const Node* n : nodes) {
    if (!n->is_file() || n->size == 0 || n->data_layer >= layers.size()) continue;
    const Hole* hole = hole_at(*layers[n->data_layer], n->data_offset);
    if (hole && !hole->filled.load(std::memory_order_acquire) && u.by_layer[n->data_layer].insert(n->data_offset).second)
      u.bytes += hole->size;
  }
  return u;
}

}  // namespace

uint64_t refill_nodes(Source& source, const MergedFs& fs, const std::vector<const Node*>& nodes, unsigned jobs,
                      const std::function<void(uint64_t bytes)>& before) {
  const auto& layers = fs.layers();
  Unfilled wanted = unfilled_holes(fs, nodes);
  if (before) before(wanted.bytes);
  std::vector<size_t> todo;
  for (size_t i = 0; i < layers.size(); i++)
    if (!wanted.by_layer[i].empty()) todo.push_back(i);
  std::vector<uint64_t> written(todo.size());
  parallel_for(todo.size(), jobs, [&](size_t k) {
    written[k] = refill_layer(source, *layers[todo[k]], wanted.by_layer[todo[k]]);
  });
  uint64_t total = 0;
  for (uint64_t w : written) total += w;
  return total;
}

uint64_t refetch_holes(Source& source, const MergedFs& fs, unsigned jobs) {
  const auto& layers = fs.layers();
  std::vector<const Node*> nodes;
  fs.for_each([&](const Node& n) {
    if (!n.is_file() || n.data_layer >= layers.size()) return;
    const Hole* hole = hole_at(*layers[n.data_layer], n.data_offset);
    if (hole && hole->refetch) nodes.push_back(&n);
  });
  return nodes.empty() ? 0 : refill_nodes(source, fs, nodes, jobs);
}

uint64_t unfilled_bytes(const MergedFs& fs, const std::vector<const Node*>& nodes) {
  return unfilled_holes(fs, nodes).bytes;
}

std::vector<bool> select_streamed(const std::vector<const Node*>& reads,
                                  const std::function<bool(const Node&)>& is_hole,
                                  const std::function<bool(const Node&)>& plain, size_t max_layers) {
  std::vector<bool> candidate(reads.size()), streamed(reads.size());
  std::map<size_t, uint64_t> hole_bytes;  // per input layer
  for (size_t i = 0; i < reads.size(); i++) {
    const Node& n = *reads[i];
    candidate[i] = n.is_file() && n.size > 0 && is_hole(n) && plain(n);
    if (candidate[i]) hole_bytes[n.data_layer] += n.size;
  }
  // The layers worth a decode: most hole bytes first, then the lower layer.
  std::vector<std::pair<uint64_t, size_t>> by_bytes;
  for (auto [layer, bytes] : hole_bytes) by_bytes.push_back({bytes, layer});
  std::sort(by_bytes.begin(), by_bytes.end(),
            [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::map<size_t, uint64_t> next;  // per streamed input layer: the least offset still ahead of its decode
  for (size_t k = 0; k < by_bytes.size() && k < max_layers; k++) next[by_bytes[k].second] = 0;
  for (size_t i = 0; i < reads.size(); i++) {
    const Node& n = *reads[i];
    if (!candidate[i]) continue;
    auto at = next.find(n.data_layer);
    if (at == next.end()) continue;                // past max_layers: refilled
    if (n.data_offset < at->second) continue;  // behind the decode: refilled
    at->second = n.data_offset + n.size;
    streamed[i] = true;
  }
  return streamed;
}

// One input layer decoded forward for HoleStream, with pass 1's checks.
struct HoleStream::Decode {
  Decode(Source& source, const SpilledLayer& l)
      : layer(l),
        where(l.where() + ": re-decoded for low-disk mode"),
        decoder(read_ahead(open_decoder(read_ahead(source.open_blob(l.descriptor)), l.tar_size))),
        hashed(*decoder),
        tar(hashed) {}
  const SpilledLayer& layer;
  const std::string where;
  std::unique_ptr<Reader> decoder;
  HashingReader hashed;
  TarReader tar;
  std::vector<char> buf = std::vector<char>(1 << 20);  // one file's bytes on their way out
};

std::vector<bool> streamed_reads(const MergedFs& fs, const std::vector<const Node*>& reads,
                                 const std::function<bool(const Node&)>& plain) {
  return select_streamed(reads, [&fs](const Node& n) { return fs.unspilled_digest(n) != nullptr; }, plain);
}

HoleStream::HoleStream(Source& source, const MergedFs& fs, const std::vector<const Node*>& reads,
                       const std::function<bool(const Node&)>& plain)
    : source_(source), fs_(fs) {
  std::vector<bool> streamed = streamed_reads(fs, reads, plain);
  for (size_t i = 0; i < reads.size(); i++) {
    if (!streamed[i]) {
      rest_.push_back(reads[i]);
      continue;
    }
    streamed_.insert(reads[i]);
    bytes_ += reads[i]->size;
  }
}

HoleStream::~HoleStream() = default;

bool HoleStream::serves(const Node& node) const { return streamed_.count(&node) > 0; }

void HoleStream::copy(const Node& node, Writer& out) {
  const SpilledLayer& layer = *fs_.layers().at(node.data_layer);
  auto& decode = open_[node.data_layer];
  if (!decode) decode = std::make_unique<Decode>(source_, layer);
  const Hole* hole = hole_at(layer, node.data_offset);
  if (!hole) fail(decode->where + ": " + node.path + ": internal error: not a hole");
  TarEntry entry;
  for (;;) {
    if (!decode->tar.next(entry))
      fail(decode->where + ": " + node.path + ": not found at offset " + std::to_string(node.data_offset) +
           " where the first decode had it");
    if (entry.data_offset > node.data_offset)
      fail(decode->where + ": " + node.path + ": internal error: streamed out of order");
    if (entry.data_offset == node.data_offset && entry.type == TarType::Regular) break;
  }
  HashingWriter check;
  std::vector<char>& buf = decode->buf;
  for (size_t k; (k = decode->tar.read_data(buf.data(), buf.size())) > 0;) {
    check.write(buf.data(), k);
    out.write(buf.data(), k);
  }
  if (check.bytes() != hole->size || check.bytes() != node.size || check.digest() != hole->digest)
    fail(decode->where + ": " + entry.path + ": content differs from the first decode");
}

void HoleStream::finish() {
  for (auto& [index, decode] : open_) check_redecoded(decode->layer, decode->where, decode->hashed);
  open_.clear();
}

LowDiskEstimate estimate_low_disk(const MergedFs& fs, const std::vector<std::vector<const Node*>>& written,
                                  const ElfSummarizer& summarize) {
  LowDiskEstimate e;
  const auto& layers = fs.layers();
  std::vector<std::set<uint64_t>> holes(layers.size());
  for (size_t i = 0; i < layers.size(); i++) {
    const SpilledLayer& l = *layers[i];
    e.spilled_bytes += l.tar_size;
    auto bytes = l.map.bytes();
    // Each 4-byte peek maps the kernel's fault-around window (up to 64 KiB)
    // of page cache: thousands of big files would hold hundreds of MB of
    // RSS (692 MB on the torch image), so the pages go every 64 peeks.
    uint64_t peeks = 0;
    for (const LayerEntry& entry : l.entries) {
      // The merge keeps the header of exactly these (LayerEntry).
      if (entry.type != TarType::Regular || entry.size <= kSparseKeepMax || !entry.tar ||
          entry.tar->data_offset + 4 > bytes.size())
        continue;
      const TarEntry& t = *entry.tar;
      if (++peeks % 64 == 0) fs.trim();
      std::string_view head(reinterpret_cast<const char*>(bytes.data()) + t.data_offset, 4);
      if (summarize && t.size > kSummarizeMin && summarized_kind(t.path, head)) {
        if (t.data_offset + t.size > bytes.size()) continue;
        bool hole = summarize(bytes.subspan(t.data_offset, t.size), {}) != nullptr;
        fs.trim();  // the pages the summarizer read
        if (!hole) continue;
      } else if (sparse_keeps_content(t.path, t.size, head)) {
        continue;
      }
      HoleGap gap = hole_gap(t.data_offset, t.size);
      e.unspilled_bytes += gap.end - gap.begin;
      holes[i].insert(t.data_offset);
    }
    fs.trim();
  }
  e.spilled_bytes -= e.unspilled_bytes;
  auto is_hole = [&](const Node& n) { return n.data_layer < layers.size() && holes[n.data_layer].count(n.data_offset); };
  // Strip and GPU pruning rewrite ELFs, which the summarizer declines: every hole is a plain copy.
  auto plain = [](const Node&) { return true; };
  for (const std::vector<const Node*>& nodes : written) {
    std::vector<bool> streamed = select_streamed(nodes, is_hole, plain);
    std::set<std::pair<size_t, uint64_t>> counted;  // one layer refills each hole once
    uint64_t bytes = 0;
    for (size_t i = 0; i < nodes.size(); i++) {
      const Node* n = nodes[i];
      if (!n->is_file() || !is_hole(*n)) continue;
      if (streamed[i]) {
        e.streamed_bytes += n->size;
        continue;
      }
      if (counted.insert({n->data_layer, n->data_offset}).second) bytes += n->size;
    }
    e.refill_bytes += bytes;
    e.refill_peak_bytes = std::max(e.refill_peak_bytes, bytes);
  }
  return e;
}

uint64_t release_refilled(const MergedFs& fs, const std::vector<const Node*>* only) {
  const auto& layers = fs.layers();
  std::set<std::pair<size_t, uint64_t>> chosen;  // (data_layer, data_offset) of `only`
  if (only)
    for (const Node* n : *only) chosen.insert({n->data_layer, n->data_offset});
  auto refilled = [&](const Node& n) {
    if (!n.is_file() || n.data_layer >= layers.size()) return false;
    if (only && !chosen.count({n.data_layer, n.data_offset})) return false;
    const Hole* hole = hole_at(*layers[n.data_layer], n.data_offset);
    return hole && hole->filled.load(std::memory_order_acquire) && !hole->refetch;
  };
  std::vector<const Hole*> holes;
  fs.for_each([&](const Node& n) {
    if (refilled(n)) holes.push_back(hole_at(*layers[n.data_layer], n.data_offset));
  });
  if (holes.empty()) return 0;
  uint64_t freed = fs.discard(refilled);
  for (const Hole* h : holes) h->filled.store(false, std::memory_order_release);
  return freed;
}

}  // namespace slimage
