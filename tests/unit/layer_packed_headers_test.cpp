// PackedHeaders: every TarEntry field comes back as it went in, records
// larger than a block get their own, and a released block is an error.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "slimage/layer/packed_headers.h"
#include "slimage/util/error.h"

using namespace slimage;

namespace {

TarEntry full_entry(int i) {
  TarEntry e;
  e.path = "usr/lib/x86_64-linux-gnu/lib" + std::to_string(i) + ".so";
  e.type = i % 2 ? TarType::Hardlink : TarType::Regular;
  e.mode = 04755 + static_cast<uint32_t>(i % 3);
  e.uid = 1000 + static_cast<uint32_t>(i), e.gid = 2000 + static_cast<uint32_t>(i);
  e.uname = "user" + std::to_string(i % 2);
  e.gname = "";
  e.mtime = -1 - i;  // before the epoch
  e.mtime_nsec = 999999999;
  e.size = (uint64_t{1} << 40) + static_cast<uint64_t>(i);
  e.link_target = i % 2 ? "usr/lib/target" : "";
  e.dev_major = 7, e.dev_minor = static_cast<uint32_t>(i);
  e.xattrs["security.capability"] = std::string("\x01\x00\x00\x02\x00", 5);  // NUL inside
  e.xattrs["user.empty"] = "";
  e.ignored_xattrs = {"security.selinux", "user.x"};
  e.header_offset = 512 * static_cast<uint64_t>(i);
  e.data_offset = e.header_offset + 1536;
  return e;
}

void check_same(const TarEntry& a, const TarEntry& b) {
  CHECK(a.path == b.path);
  CHECK(a.type == b.type);
  CHECK(a.mode == b.mode);
  CHECK(a.uid == b.uid);
  CHECK(a.gid == b.gid);
  CHECK(a.uname == b.uname);
  CHECK(a.gname == b.gname);
  CHECK(a.mtime == b.mtime);
  CHECK(a.mtime_nsec == b.mtime_nsec);
  CHECK(a.size == b.size);
  CHECK(a.link_target == b.link_target);
  CHECK(a.dev_major == b.dev_major);
  CHECK(a.dev_minor == b.dev_minor);
  CHECK(a.xattrs == b.xattrs);
  CHECK(a.ignored_xattrs == b.ignored_xattrs);
  CHECK(a.header_offset == b.header_offset);
  CHECK(a.data_offset == b.data_offset);
}

}  // namespace

TEST_CASE("packed headers: every field round-trips, across blocks") {
  PackedHeaders h;
  std::vector<PackedHeaders::Ref> refs;
  // Enough entries (over 300 bytes each) to fill more than one 4 MiB block.
  for (int i = 0; i < 20000; ++i) {
    TarEntry e = full_entry(i);
    e.path += std::string(200, 'p');
    refs.push_back(h.add(e));
  }
  CHECK(h.mapped_bytes() >= 2 * PackedHeaders::kBlockBytes);
  for (int i : {0, 1, 9999, 19999}) {
    TarEntry want = full_entry(i);
    want.path += std::string(200, 'p');
    check_same(h.get(refs[static_cast<size_t>(i)]), want);
  }
  CHECK((refs.back() >> 32) > 0);
}

TEST_CASE("packed headers: a record over the block size gets a block of its own") {
  PackedHeaders h;
  TarEntry small = full_entry(1);
  TarEntry big = full_entry(2);
  big.xattrs["user.big"] = std::string(PackedHeaders::kBlockBytes + 3, 'v');
  PackedHeaders::Ref a = h.add(small), b = h.add(big), c = h.add(small);
  check_same(h.get(a), small);
  check_same(h.get(b), big);
  check_same(h.get(c), small);
  CHECK((b >> 32) == 1);
  CHECK((b & 0xffffffffu) == 0);
  CHECK((c >> 32) == 2);
}

TEST_CASE("packed headers: an empty entry round-trips") {
  PackedHeaders h;
  TarEntry e;
  check_same(h.get(h.add(e)), e);
}

TEST_CASE("packed headers: release_before unmaps the blocks before a ref, not its own") {
  PackedHeaders h;
  TarEntry big = full_entry(3);
  big.path = std::string(PackedHeaders::kBlockBytes, 'a');  // one block each
  PackedHeaders::Ref r0 = h.add(big), r1 = h.add(big), r2 = h.add(big);
  uint64_t before = h.mapped_bytes();
  h.release_before(r2);
  CHECK(h.mapped_bytes() < before);
  check_same(h.get(r2), big);
  std::string err;
  try {
    h.get(r1);
  } catch (const Error& e) {
    err = e.what();
  }
  CHECK(err == "tar headers: block 1 was released");
  h.release_before(r0);  // behind what is released already: nothing to do
  check_same(h.get(r2), big);
}
