// Layer codecs: round trips, determinism across job counts, interop with the
// gzip/zstd command-line tools, the decompression-bomb guard and corrupt input.
#include <libdeflate.h>
#include <zstd.h>

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "slimage/layer/compression.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/io.h"
#include "test_skip.h"

using namespace slimage;

namespace {

// Compressible but not trivial: a mix of text-like runs and pseudo-random bytes.
std::string sample_data(size_t n, uint32_t seed = 1) {
  std::string s;
  s.reserve(n);
  uint32_t x = seed;
  while (s.size() < n) {
    x = x * 1103515245u + 12345u;
    if ((x >> 16) % 4 == 0) {
      s += "usr/lib/x86_64-linux-gnu/libexample.so." + std::to_string(x % 97) + "\n";
    } else {
      s += static_cast<char>(x >> 24);
    }
  }
  s.resize(n);
  return s;
}

std::string encode(const std::string& data, EncoderOptions options, size_t write_size = 70000) {
  StringWriter sink;
  auto enc = open_encoder(sink, options);
  for (size_t pos = 0; pos < data.size(); pos += write_size)
    enc->write(data.data() + pos, std::min(write_size, data.size() - pos));
  enc->finish();
  return sink.str();
}

std::string decode(const std::string& compressed, uint64_t max_output = UINT64_MAX,
                   size_t read_size = 1 << 20) {
  auto dec = open_decoder(std::make_unique<MemoryReader>(compressed), max_output);
  std::string out, buf(read_size, '\0');
  while (size_t n = dec->read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

std::string run_capture(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[65536];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  return out;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

EncoderOptions gzip_options(unsigned jobs, size_t chunk = 256 << 10) {
  EncoderOptions o;
  o.compression = Compression::Gzip;
  o.jobs = jobs;
  o.gzip_chunk = chunk;
  return o;
}

EncoderOptions zstd_options(unsigned jobs) {
  EncoderOptions o;
  o.compression = Compression::Zstd;
  o.jobs = jobs;
  return o;
}

}  // namespace

TEST_CASE("layer: compression detected by magic and media type") {
  const uint8_t gz[] = {0x1f, 0x8b, 8, 0}, zs[] = {0x28, 0xb5, 0x2f, 0xfd}, tar[] = {'e', 't', 'c', '/'};
  CHECK(detect_compression(gz, 4) == Compression::Gzip);
  CHECK(detect_compression(zs, 4) == Compression::Zstd);
  CHECK(detect_compression(tar, 4) == Compression::None);
  CHECK(detect_compression(gz, 2) == Compression::None);
  CHECK(compression_from_media_type("application/vnd.oci.image.layer.v1.tar+gzip") == Compression::Gzip);
  CHECK(compression_from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip") == Compression::Gzip);
  CHECK(compression_from_media_type("application/vnd.oci.image.layer.v1.tar+zstd") == Compression::Zstd);
  CHECK(compression_from_media_type("application/vnd.oci.image.layer.v1.tar") == Compression::None);
  CHECK(parse_compression(compression_name(Compression::Zstd)) == Compression::Zstd);
  CHECK(error_of([] { parse_compression("lz4"); }).find("unknown compression 'lz4'") != std::string::npos);
}

TEST_CASE("layer: gzip and zstd round trip, including empty input and small reads") {
  const std::string data = sample_data(3 << 20);
  for (auto options : {gzip_options(2), zstd_options(2)}) {
    CAPTURE(compression_name(options.compression));
    std::string compressed = encode(data, options);
    CHECK(detect_compression(reinterpret_cast<const uint8_t*>(compressed.data()), compressed.size()) ==
          options.compression);
    CHECK(compressed.size() < data.size());
    CHECK(decode(compressed) == data);
    CHECK(decode(compressed, UINT64_MAX, 512) == data);
    CHECK(decode(encode("", options)).empty());
  }
  CHECK(decode(encode(data, EncoderOptions{Compression::None})) == data);
}

TEST_CASE("layer: encoder output does not depend on jobs or write sizes") {
  const std::string data = sample_data(2 << 20, 7);
  CHECK(encode(data, gzip_options(1)) == encode(data, gzip_options(4), 512));
  CHECK(encode(data, gzip_options(1)) == encode(data, gzip_options(3), 1 << 20));
  CHECK(encode(data, zstd_options(1)) == encode(data, zstd_options(2), 512));
}

TEST_CASE("layer: gzip members have a fixed header and one member per chunk") {
  const std::string data = sample_data(1 << 20);
  std::string gz = encode(data, gzip_options(2, 256 << 10));
  // mtime 0, no FNAME, XFL 0 at the default level, OS 255 (unknown)
  const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
  CHECK(gz.compare(0, 10, reinterpret_cast<const char*>(header), 10) == 0);
  size_t members = 0;
  for (size_t pos = gz.find(reinterpret_cast<const char*>(header), 0, 10); pos != std::string::npos;
       pos = gz.find(reinterpret_cast<const char*>(header), pos + 1, 10))
    ++members;
  CHECK(members == 4);
  EncoderOptions best = gzip_options(1);
  best.level = 9;
  CHECK(static_cast<unsigned char>(encode(data, best)[8]) == 2);
}

TEST_CASE("layer: encoder levels are validated against each codec's own range") {
  CHECK(check_compression_level(Compression::Gzip, 12) == "");
  CHECK(check_compression_level(Compression::Gzip, -1) == "");
  CHECK(check_compression_level(Compression::Gzip, 13) == "gzip levels are 1-12, not 13");
  CHECK(check_compression_level(Compression::Zstd, 19) == "");
  CHECK(check_compression_level(Compression::Zstd, 20) == "zstd levels are 1-19, not 20");
  CHECK(check_compression_level(Compression::None, 3) == "compression none has no levels");
  EncoderOptions o = gzip_options(1);
  o.level = 0;
  StringWriter sink;
  CHECK(error_of([&] { open_encoder(sink, o); }) == "gzip levels are 1-12, not 0");
}

TEST_CASE("layer: encoder identity names the library and version serving the level") {
  EncoderOptions o{Compression::Gzip};
  CHECK(encoder_identity(o) == "gzip level 5: libdeflate " LIBDEFLATE_VERSION_STRING
                               " level 5, 1048576-byte members");
  o.level = 12;
  CHECK(encoder_identity(o) == "gzip level 12: libdeflate " LIBDEFLATE_VERSION_STRING
                               " level 12, 1048576-byte members");
  o = zstd_options(1);
  CHECK(encoder_identity(o) == std::string("zstd level 3: libzstd ") + ZSTD_versionString());
}

TEST_CASE("layer: every gzip level round trips, is deterministic and gzip-readable" *
          doctest::skip(!slimage::test::have_tool("gzip"))) {
  TempDir dir(scratch_parent(), "slimage-layer-test-");
  const std::string data = sample_data(3 << 20, 11);
  for (int level = 1; level <= 12; level++) {
    CAPTURE(level);
    EncoderOptions o = gzip_options(2);
    o.level = level;
    std::string compressed = encode(data, o);
    CHECK(compressed.size() < data.size());
    CHECK(decode(compressed) == data);
    EncoderOptions one = o;
    one.jobs = 1;
    CHECK(encode(data, one, 4096) == compressed);
    write_file_atomic(dir.path() + "/l.gz", compressed);
    CHECK(run_capture("gzip -dc " + dir.path() + "/l.gz") == data);
  }
}

TEST_CASE("layer: system gzip and zstd decode our output, we decode theirs" *
          doctest::skip(!slimage::test::have_tool("gzip") || !slimage::test::have_tool("zstd"))) {
  TempDir dir(scratch_parent(), "slimage-layer-test-");
  const std::string data = sample_data(1 << 20, 3);
  write_file_atomic(dir.path() + "/data", data);
  {
    write_file_atomic(dir.path() + "/ours.gz", encode(data, gzip_options(2, 100000)));
    CHECK(run_capture("gzip -dc " + dir.path() + "/ours.gz") == data);
    // Two concatenated members from gzip itself (RFC 1952 2.2).
    std::string twice = run_capture("gzip -c " + dir.path() + "/data; gzip -9c " + dir.path() + "/data");
    CHECK(decode(twice) == data + data);
  }
  {
    write_file_atomic(dir.path() + "/ours.zst", encode(data, zstd_options(2)));
    CHECK(run_capture("zstd -qdc " + dir.path() + "/ours.zst") == data);
    std::string frames = run_capture("zstd -qc " + dir.path() + "/data; zstd -qc " + dir.path() + "/data");
    CHECK(decode(frames) == data + data);
  }
}

TEST_CASE("layer: decompression bomb stops at max_output") {
  const std::string zeros(8 << 20, '\0');
  for (auto options : {gzip_options(2), zstd_options(1), EncoderOptions{Compression::None}}) {
    CAPTURE(compression_name(options.compression));
    std::string compressed = encode(zeros, options);
    CHECK(error_of([&] { decode(compressed, 1 << 20); })
              .find("decompressed size exceeds limit of 1048576 bytes") != std::string::npos);
    CHECK(decode(compressed, zeros.size()).size() == zeros.size());
  }
}

TEST_CASE("layer: corrupt, truncated or trailing-garbage gzip is an error") {
  const std::string data = sample_data(512 << 10, 9);
  const std::string gz = encode(data, gzip_options(1));
  std::string corrupt = gz;
  for (size_t i = 1000; i < 1100; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  CHECK(error_of([&] { decode(corrupt); }).find("gzip: corrupt data at compressed offset") == 0);
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 1;
  CHECK(error_of([&] { decode(bad_crc); }).find("gzip: corrupt data") == 0);
  CHECK(error_of([&] { decode(gz.substr(0, gz.size() / 2)); }).find("gzip: truncated") == 0);
  CHECK(error_of([&] { decode(gz + "garbage"); }).find("gzip: trailing garbage") == 0);
}

TEST_CASE("layer: corrupt or truncated zstd is an error") {
  const std::string data = sample_data(512 << 10, 11);
  const std::string zs = encode(data, zstd_options(1));
  std::string corrupt = zs;
  for (size_t i = 100; i < 200; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  CHECK(error_of([&] { decode(corrupt); }).find("zstd: corrupt data at compressed offset") == 0);
  CHECK(error_of([&] { decode(zs.substr(0, zs.size() - 3)); }).find("zstd:") == 0);
  CHECK(error_of([&] { decode(zs.substr(0, zs.size() / 2)); }).find("zstd: truncated") == 0);
}
