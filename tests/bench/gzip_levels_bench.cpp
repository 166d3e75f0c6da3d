// gzip_levels_bench: for each gzip encoder slimage could use (zlib,
// libdeflate, ISA-L igzip) and each of its levels, compresses the given files
// as independent 1 MiB members (the layout slimage writes) on one thread and
// prints MB/s (of thread CPU time) and ratio, so the per-level choice in gzip_encoder.cpp rests on
// numbers from this machine and real layer content. Nothing asserts on it.
//   cmake --build build --target gzip_levels_bench
//   build/gzip_levels_bench [--max-mib N] FILE...   (first N MiB of the files, in order)
// e.g. 8 MiB slices of the big CUDA libraries, or a decompressed base layer.
#include <isa-l.h>
#include <libdeflate.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <ctime>
#include <vector>

namespace {

constexpr size_t kChunk = 1 << 20;

size_t zlib_member(int level, const std::string& in, std::string& out) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  out.resize(deflateBound(&zs, in.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  size_t n = out.size() - zs.avail_out;
  deflateEnd(&zs);
  crc32(0, reinterpret_cast<const Bytef*>(in.data()), static_cast<uInt>(in.size()));
  return n + 18;
}

size_t libdeflate_member(libdeflate_compressor* c, const std::string& in, std::string& out) {
  out.resize(libdeflate_gzip_compress_bound(c, in.size()));
  return libdeflate_gzip_compress(c, in.data(), in.size(), out.data(), out.size());
}

size_t igzip_member(int level, std::vector<uint8_t>& level_buf, const std::string& in,
                    std::string& out) {
  out.resize(in.size() + in.size() / 16 + 1024);
  isal_zstream st;
  isal_deflate_init(&st);
  st.level = static_cast<uint32_t>(level);
  st.level_buf = level_buf.empty() ? nullptr : level_buf.data();
  st.level_buf_size = static_cast<uint32_t>(level_buf.size());
  st.end_of_stream = 1;
  st.flush = NO_FLUSH;
  st.gzip_flag = IGZIP_GZIP_NO_HDR;
  st.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
  st.avail_in = static_cast<uint32_t>(in.size());
  st.next_out = reinterpret_cast<uint8_t*>(out.data());
  st.avail_out = static_cast<uint32_t>(out.size());
  isal_deflate(&st);
  return out.size() - st.avail_out + 10;
}

void row(const char* codec, int level, const std::vector<std::string>& chunks, size_t total,
         const std::function<size_t(const std::string&, std::string&)>& member) {
  std::string out;
  size_t compressed = 0;
  // Thread CPU time, not wall: on a shared machine the wall clock measures the neighbours.
  timespec a, b;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  for (const auto& c : chunks) compressed += member(c, out);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  double s = double(b.tv_sec - a.tv_sec) + double(b.tv_nsec - a.tv_nsec) / 1e9;
  std::printf("%-10s %2d %8.1f %7.4f %12zu\n", codec, level, total / 1e6 / s,
              double(compressed) / double(total), compressed);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  size_t max_bytes = size_t{256} << 20;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--max-mib" && i + 1 < argc) max_bytes = std::strtoull(argv[++i], nullptr, 10) << 20;
    else files.push_back(a);
  }
  std::string all;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), {});
    all += s.substr(0, max_bytes - all.size());
    if (all.size() >= max_bytes) break;
  }
  std::vector<std::string> chunks;
  for (size_t p = 0; p < all.size(); p += kChunk) chunks.push_back(all.substr(p, kChunk));
  std::printf("# %zu bytes in %zu members of 1 MiB, one thread, MB/s of CPU time\n", all.size(), chunks.size());
  std::printf("%-10s %2s %8s %7s %12s\n", "codec", "lv", "MB/s", "ratio", "bytes");
  static const uint32_t kIsalBuf[] = {0, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
                                      ISAL_DEF_LVL3_DEFAULT};
  for (int level = 0; level <= 3; ++level) {
    std::vector<uint8_t> buf(kIsalBuf[level]);
    row("igzip", level, chunks, all.size(),
        [&](const std::string& in, std::string& out) { return igzip_member(level, buf, in, out); });
  }
  for (int level = 1; level <= 12; ++level) {
    libdeflate_compressor* c = libdeflate_alloc_compressor(level);
    row("libdeflate", level, chunks, all.size(),
        [&](const std::string& in, std::string& out) { return libdeflate_member(c, in, out); });
    libdeflate_free_compressor(c);
  }
  for (int level = 1; level <= 9; ++level)
    row("zlib", level, chunks, all.size(),
        [&](const std::string& in, std::string& out) { return zlib_member(level, in, out); });
}
