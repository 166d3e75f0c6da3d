// codec_floor_bench: the codec floor scripts/bench.sh compares slimage with —
// the same libraries slimage uses (ISA-L inflate and libzstd to decode;
// libdeflate members or multi-threaded libzstd to encode), as a standalone
// pass on all cores with nothing else in the way.
//   codec_floor_bench inflate [--jobs N] LAYER...
//       decodes every compressed layer blob (gzip, zstd or plain), N layers at
//       once (a gzip stream inflates on one core only)
//   codec_floor_bench deflate --compression gzip|zstd [--level L] [--jobs N] FILE...
//       encodes each uncompressed FILE with slimage's encoder on N workers
// Prints one line: "<mode> <input bytes> <output bytes> <seconds>". Output is
// counted, never written. Nothing asserts on it.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "slimage/layer/compression.h"
#include "slimage/util/error.h"
#include "slimage/util/io.h"
#include "slimage/util/thread_pool.h"

using namespace slimage;

namespace {

// Counts what it is given and keeps nothing: the codec's output size.
class CountingWriter : public slimage::Writer {
 public:
  void write(const void*, size_t n) override { count_ += n; }
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
};

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: codec_floor_bench inflate|deflate [--compression C] [--level L] [--jobs N] FILE...\n");
    return 2;
  }
  const std::string mode = argv[1];
  EncoderOptions options;
  unsigned jobs = default_jobs();
  std::vector<std::string> files;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--compression" && i + 1 < argc) options.compression = parse_compression(argv[++i]);
    else if (a == "--level" && i + 1 < argc) options.level = std::atoi(argv[++i]);
    else if (a == "--jobs" && i + 1 < argc) jobs = static_cast<unsigned>(std::atoi(argv[++i]));
    else files.push_back(a);
  }
  options.jobs = jobs;
  std::atomic<uint64_t> in_bytes{0}, out_bytes{0};
  const auto start = std::chrono::steady_clock::now();
  if (mode == "inflate") {
    parallel_for(files.size(), jobs, [&](size_t i) {
      in_bytes += std::filesystem::file_size(files[i]);
      auto decoder = open_decoder(std::make_unique<FileReader>(files[i]));
      CountingWriter sink;
      out_bytes += copy_stream(*decoder, sink);
    });
  } else if (mode == "deflate") {
    for (const auto& f : files) {
      FileReader in(f);
      CountingWriter sink;
      auto encoder = open_encoder(sink, options);
      in_bytes += copy_stream(in, *encoder);
      encoder->finish();
      out_bytes += sink.count();
    }
  } else {
    std::fprintf(stderr, "codec_floor_bench: unknown mode '%s'\n", mode.c_str());
    return 2;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s %llu %llu %.3f\n", mode.c_str(), static_cast<unsigned long long>(in_bytes.load()),
              static_cast<unsigned long long>(out_bytes.load()), s);
} catch (const std::exception& e) {
  std::fprintf(stderr, "codec_floor_bench: %s\n", e.what());
  return 1;
}
