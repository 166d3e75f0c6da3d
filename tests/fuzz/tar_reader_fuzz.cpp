// libFuzzer target: arbitrary bytes through open_decoder (gzip/zstd/plain,
// 16 MiB output cap) and TarReader. Hostile input may only ever raise
// slimage::Error. Every entry's metadata is then written back with TarWriter
// and re-read: a difference is a writer/reader disagreement and traps.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "slimage/layer/compression.h"
#include "slimage/layer/tar.h"
#include "slimage/util/error.h"
#include "slimage/util/io.h"

using namespace slimage;

namespace {

void round_trip(const std::vector<TarEntry>& entries) {
  StringWriter out;
  TarWriter writer(out);
  for (TarEntry e : entries) {
    e.size = 0;  // metadata only; content is covered by the reader above
    writer.add(e);
  }
  writer.finish();
  MemoryReader in(out.str());
  TarReader reader(in);
  TarEntry got;
  for (const TarEntry& want : entries) {
    if (!reader.next(got)) __builtin_trap();
    std::string path = want.path;
    if (want.type == TarType::Directory && (path.empty() || path.back() != '/')) path += '/';
    const bool device = want.type == TarType::CharDevice || want.type == TarType::BlockDevice;
    if (got.path != path || got.type != want.type || got.mode != want.mode ||
        got.uid != want.uid || got.gid != want.gid || got.uname != want.uname ||
        got.gname != want.gname || got.mtime != want.mtime ||
        got.mtime_nsec != want.mtime_nsec || got.link_target != want.link_target ||
        got.xattrs != want.xattrs ||
        (device && (got.dev_major != want.dev_major || got.dev_minor != want.dev_minor)))
      __builtin_trap();
  }
  if (reader.next(got)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<TarEntry> entries;
  try {
    auto in = open_decoder(std::make_unique<MemoryReader>(std::span<const uint8_t>(data, size)),
                           16 << 20);
    TarLimits limits;
    limits.max_pax_header = 256 << 10;
    limits.max_path = 4096;
    TarReader reader(*in, limits);
    TarEntry e;
    char buf[8192];
    while (entries.size() < 1000 && reader.next(e)) {
      if (e.header_offset > e.data_offset || e.data_offset > reader.offset()) __builtin_trap();
      if (entries.size() % 2 == 0)  // the other half is skipped by next()
        while (reader.read_data(buf, sizeof buf) > 0) {
        }
      entries.push_back(e);
    }
  } catch (const Error&) {
  }
  try {
    round_trip(entries);
  } catch (const Error&) {
    // The writer refuses what it cannot store (an xattr name with NUL).
  }
  return 0;
}
