// PackedHeaders (include/slimage/layer/packed_headers.h). A record is the
// fixed fields, then the path, the link target, each xattr (name length,
// value length, name, value) and each ignored xattr name (length, name),
// 8-byte aligned.
#include "slimage/layer/packed_headers.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>

#include "slimage/util/error.h"

namespace slimage {

namespace {

static_assert(std::is_trivially_copyable_v<InternedString>, "packed by value: the pool never frees");

struct Fixed {
  uint64_t size, header_offset, data_offset;
  int64_t mtime;
  InternedString uname, gname;
  uint32_t mode, uid, gid, mtime_nsec, dev_major, dev_minor;
  uint32_t path_len, link_len, xattr_count, ignored_count;
  TarType type;
};

size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }

class Out {
 public:
  explicit Out(char* p) : p_(p) {}
  void put(const void* d, size_t n) {
    if (n) std::memcpy(p_, d, n);
    p_ += n;
  }
  void put_u32(uint32_t v) { put(&v, sizeof v); }

 private:
  char* p_;
};

class In {
 public:
  explicit In(const char* p) : p_(p) {}
  std::string str(size_t n) {
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  uint32_t u32() {
    uint32_t v;
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  void get(void* d, size_t n) {
    std::memcpy(d, p_, n);
    p_ += n;
  }

 private:
  const char* p_;
};

}  // namespace

PackedHeaders::~PackedHeaders() {
  for (Block& b : blocks_)
    if (b.data) munmap(b.data, b.size);
}

void PackedHeaders::release_before(Ref ref) {
  for (size_t end = std::min<size_t>(ref >> 32, blocks_.size()); released_ < end; ++released_) {
    munmap(blocks_[released_].data, blocks_[released_].size);
    blocks_[released_].data = nullptr;
  }
}

char* PackedHeaders::reserve(size_t n, Ref* ref) {
  if (blocks_.empty() || blocks_.back().size - blocks_.back().used < n) {
    size_t size = std::max(kBlockBytes, align8(n));
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("tar headers: cannot map " + std::to_string(size) + " bytes: " + std::strerror(errno));
    blocks_.push_back({static_cast<char*>(p), size, 0});
  }
  Block& b = blocks_.back();
  *ref = (static_cast<uint64_t>(blocks_.size() - 1) << 32) | b.used;
  char* at = b.data + b.used;
  b.used += align8(n);
  return at;
}

PackedHeaders::Ref PackedHeaders::add(const TarEntry& e) {
  Fixed f{e.size, e.header_offset, e.data_offset, e.mtime, e.uname, e.gname,
          e.mode, e.uid, e.gid, e.mtime_nsec, e.dev_major, e.dev_minor,
          static_cast<uint32_t>(e.path.size()), static_cast<uint32_t>(e.link_target.size()),
          static_cast<uint32_t>(e.xattrs.size()), static_cast<uint32_t>(e.ignored_xattrs.size()), e.type};
  size_t n = sizeof f + e.path.size() + e.link_target.size();
  for (const auto& [k, v] : e.xattrs) n += 8 + k.size() + v.size();
  for (const auto& k : e.ignored_xattrs) n += 4 + k.size();
  Ref ref;
  Out out(reserve(n, &ref));
  out.put(&f, sizeof f);
  out.put(e.path.data(), e.path.size());
  out.put(e.link_target.data(), e.link_target.size());
  for (const auto& [k, v] : e.xattrs) {
    out.put_u32(static_cast<uint32_t>(k.size()));
    out.put_u32(static_cast<uint32_t>(v.size()));
    out.put(k.data(), k.size());
    out.put(v.data(), v.size());
  }
  for (const auto& k : e.ignored_xattrs) {
    out.put_u32(static_cast<uint32_t>(k.size()));
    out.put(k.data(), k.size());
  }
  return ref;
}

TarEntry PackedHeaders::get(Ref ref) const {
  const Block& b = blocks_.at(ref >> 32);
  if (!b.data) fail("tar headers: block " + std::to_string(ref >> 32) + " was released");
  In in(b.data + (ref & 0xffffffffu));
  Fixed f;
  in.get(&f, sizeof f);
  TarEntry e;
  e.size = f.size, e.header_offset = f.header_offset, e.data_offset = f.data_offset;
  e.mtime = f.mtime, e.uname = f.uname, e.gname = f.gname;
  e.mode = f.mode, e.uid = f.uid, e.gid = f.gid, e.mtime_nsec = f.mtime_nsec;
  e.dev_major = f.dev_major, e.dev_minor = f.dev_minor, e.type = f.type;
  e.path = in.str(f.path_len);
  e.link_target = in.str(f.link_len);
  for (uint32_t i = 0; i < f.xattr_count; ++i) {
    uint32_t k = in.u32(), v = in.u32();
    std::string name = in.str(k);
    e.xattrs.emplace(std::move(name), in.str(v));
  }
  for (uint32_t i = 0; i < f.ignored_count; ++i) e.ignored_xattrs.push_back(in.str(in.u32()));
  return e;
}

uint64_t PackedHeaders::mapped_bytes() const {
  uint64_t n = 0;
  for (const Block& b : blocks_)
    if (b.data) n += b.size;
  return n;
}

}  // namespace slimage
