// Low-disk mode (rootfs/sparse_spill.h): which content pass 1 leaves as a
// hole, the safety net that refuses to read one, and pass 2's refill.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <mutex>

#include "slimage/layer/tar.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"
#include "slimage/util/scratch_meter.h"

#include "memory_source.h"

using namespace slimage;
using test::MemorySource;

namespace {

std::string make_tar(const std::vector<std::pair<std::string, std::string>>& files) {
  StringWriter out;
  TarWriter tar(out);
  for (auto& [path, content] : files) {
    TarEntry e;
    e.path = path;
    e.mode = 0644;
    e.size = content.size();
    tar.add(e);
    if (!content.empty()) tar.write_data(content.data(), content.size());
  }
  tar.finish();
  return out.str();
}

const std::string kBig(300 << 10, 'x');  // above kSparseKeepMax, no magic
const std::string kElf = std::string("\x7f" "ELF", 4) + std::string(300 << 10, '\0');
const std::string kScript = "#!/bin/sh\n" + std::string(300 << 10, '#');

struct Sparse {
  TempDir dir{scratch_parent(), "slimage-sparse-test-"};
  MemorySource source;
  Diagnostics diagnostics;
  Descriptor descriptor;
  std::unique_ptr<MergedFs> fs;
  explicit Sparse(const std::vector<std::pair<std::string, std::string>>& files, ElfSummarizer summarize = {}) {
    std::string tar = make_tar(files);
    descriptor = source.add(tar);
    SpillLimits limits;
    limits.sparse = true;
    limits.summarize = std::move(summarize);
    std::vector<std::unique_ptr<SpilledLayer>> layers;
    layers.push_back(spill_layer(source, descriptor, sha256_digest(tar), dir.path(), 0, limits));
    fs = std::make_unique<MergedFs>(std::move(layers), diagnostics);
  }
  const Node& node(const std::string& path) {
    const Node* n = fs->lookup(path);
    REQUIRE(n);
    return *n;
  }
  std::string text(const std::string& path) {
    auto b = fs->content(node(path));
    return std::string(b.begin(), b.end());
  }
};

// A file whose content lies at `offset` in input layer `layer` (for select_streamed).
Node node(uint32_t layer, uint64_t offset, uint64_t size) {
  Node n;
  n.data_layer = layer;
  n.data_offset = offset;
  n.size = size;
  return n;
}

}  // namespace

// The whole 4 KiB blocks of [offset, offset + size): what a hole frees.
uint64_t whole_blocks(uint64_t offset, uint64_t size) {
  return (offset + size) / 4096 * 4096 - (offset + 4095) / 4096 * 4096;
}

TEST_CASE("sparse_keeps_content: small, ELF, #!, analysed paths are spilled; other files over 16 KiB are not") {
  CHECK(kSparseKeepMax == 16384);
  CHECK(sparse_keeps_content("usr/share/x.bin", kSparseKeepMax, "abcd"));
  CHECK_FALSE(sparse_keeps_content("usr/share/locale/de/LC_MESSAGES/x.mo", 20 << 10, "\xde\x12\x04\x95"));
  CHECK(sparse_keeps_content("usr/lib/libx.so.1", 20 << 10, std::string("\x7f" "ELF", 4)));
  CHECK_FALSE(sparse_keeps_content("usr/share/x.bin", kSparseKeepMax + 1, "abcd"));
  CHECK(sparse_keeps_content("usr/lib/libx.so", kSparseKeepMax + 1, std::string("\x7f" "ELF", 4)));
  CHECK(sparse_keeps_content("usr/bin/tool", kSparseKeepMax + 1, "#!/b"));
  CHECK(sparse_keeps_content("./usr/lib/python3/dist-packages/m.py", kSparseKeepMax + 1, "impo"));
  CHECK(sparse_keeps_content("var/lib/dpkg/status", kSparseKeepMax + 1, "Pack"));
  CHECK(sparse_keeps_content("etc/ld.so.cache", kSparseKeepMax + 1, "ld.s"));
  // pkgdb_dpkg reads each package's copyright for its licenses; the gconv plugin scan its modules list.
  CHECK(sparse_keeps_content("usr/share/doc/libboost1.74-dev/copyright", kSparseKeepMax + 1, "Form"));
  CHECK(sparse_keeps_content("usr/lib/x86_64-linux-gnu/gconv/gconv-modules", kSparseKeepMax + 1, "# Gn"));
  CHECK_FALSE(sparse_keeps_content("usr/share/doc/libboost1.74-dev/changelog.gz", kSparseKeepMax + 1, "\x1f\x8b\x08\x00"));
}

TEST_CASE("hole_gap: the whole 4 KiB blocks of a range") {
  auto gap = [](uint64_t begin, uint64_t size) {
    HoleGap g = hole_gap(begin, size);
    return std::vector<uint64_t>{g.begin, g.end};
  };
  CHECK(gap(512, 307200) == std::vector<uint64_t>{4096, 307200});
  CHECK(gap(4096, 8192) == std::vector<uint64_t>{4096, 12288});
  CHECK(gap(512, 7680) == std::vector<uint64_t>{4096, 8192});
  CHECK(gap(512, 7679) == std::vector<uint64_t>{4096, 4096});  // no whole block: empty
  CHECK(gap(1024, 1024) == std::vector<uint64_t>{4096, 4096});
}

TEST_CASE("low-disk spill: unspilled content is a hole, and content() refuses to read it") {
  const std::string mid(20 << 10, 'm');  // over kSparseKeepMax: a hole too
  Sparse s({{"usr/share/data.bin", kBig}, {"usr/lib/libx.so", kElf}, {"usr/bin/run", kScript},
            {"etc/small", "hello\n"}, {"usr/share/mid.bin", mid}, {"usr/share/tiny.bin", mid.substr(0, 16 << 10)}});
  CHECK(s.fs->unspilled_digest(s.node("usr/share/mid.bin")));
  CHECK(s.text("usr/share/tiny.bin") == mid.substr(0, 16 << 10));
  CHECK(s.text("usr/lib/libx.so") == kElf);
  CHECK(s.text("usr/bin/run") == kScript);
  CHECK(s.text("etc/small") == "hello\n");
  const Node& big = s.node("usr/share/data.bin");
  REQUIRE(s.fs->unspilled_digest(big));
  CHECK(*s.fs->unspilled_digest(big) == sha256_digest(kBig));  // what dedupe compares
  CHECK(s.fs->unspilled_digest(s.node("usr/lib/libx.so")) == nullptr);
  // Its whole blocks are left out; the partial ones at its ends are written.
  CHECK(big.data_offset == 512);
  const Node& m = s.node("usr/share/mid.bin");
  CHECK(s.fs->layers()[0]->holes->bytes == 303104 + whole_blocks(m.data_offset, m.size));  // [4096, 307200) of [512, 307712)
  // The safety net: never zeros.
  CHECK_THROWS_WITH_AS(s.fs->content(big),
                       ("layer " + short_digest(s.descriptor.digest) +
                        ": usr/share/data.bin: internal error: content not spilled in low-disk mode")
                           .c_str(),
                       Error);
  // The hole holds no blocks: the file's allocation is below its size by about the hole.
  struct stat st {};
  REQUIRE(::stat(s.fs->layers()[0]->tar_path.c_str(), &st) == 0);
  CHECK(uint64_t(st.st_blocks) * 512 + kBig.size() - 8192 <= uint64_t(st.st_size));
}

TEST_CASE("low-disk spill: a big ELF file is summarized and left out, or, declined, spilled whole") {
  // Summarized: marked 'S' after the magic. Declined: anything else. The sizes are not
  // multiples of a page or a tar block, so each restore lands between neighbours.
  const std::string summed = std::string("\x7f" "ELF" "S", 5) + std::string((300 << 10) + 123, 's');
  std::string declined = std::string("\x7f" "ELF" "D", 5);
  for (int i = 0; declined.size() < (310 << 10) + 7; i++) declined += static_cast<char>(i * 31 + 7);
  const std::string config_elf = std::string("\x7f" "ELF" "S", 5) + std::string(300 << 10, 'c');
  std::vector<std::string> seen;  // sha256 of each file the summarizer was given
  std::mutex m;
  auto summarize = [&](std::span<const uint8_t> bytes, std::span<const FileRange>) -> std::shared_ptr<const ElfSummary> {
    std::string text(bytes.begin(), bytes.end());
    std::lock_guard lock(m);
    seen.push_back(sha256_digest(text));
    if (text[4] != 'S') return nullptr;
    auto s = std::make_shared<ElfSummary>();
    s->kind = 's';
    s->strings = {"libseen.so." + std::to_string(text.size())};
    return s;
  };
  const uint64_t before = scratch_in_use();
  Sparse s({{"usr/lib/a.so", summed}, {"usr/share/data.bin", kBig}, {"usr/lib/b.so", declined},
            {"etc/elf.conf", config_elf}, {"usr/lib/small.so", kElf.substr(0, 1000)},
            {"usr/lib/mid.so", kElf.substr(0, 100 << 10)}},
           summarize);
  // Given the whole of each big ELF file outside the paths text readers look at, once.
  CHECK(seen == std::vector<std::string>{sha256_digest(summed), sha256_digest(declined)});
  const Node& a = s.node("usr/lib/a.so");
  REQUIRE(s.fs->elf_summary(a));
  CHECK(s.fs->elf_summary(a)->kind == 's');
  CHECK(s.fs->elf_summary(a)->strings == std::vector<std::string>{"libseen.so." + std::to_string(summed.size())});
  REQUIRE(s.fs->unspilled_digest(a));
  CHECK(*s.fs->unspilled_digest(a) == sha256_digest(summed));  // dedupe and pass 2 check against it
  CHECK_THROWS_AS(s.fs->content(a), Error);
  // Declined: written into its place in the tar as soon as it was whole, neighbours intact.
  CHECK(s.text("usr/lib/b.so") == declined);
  CHECK(s.fs->elf_summary(s.node("usr/lib/b.so")) == nullptr);
  CHECK(s.fs->unspilled_digest(s.node("usr/lib/b.so")) == nullptr);
  CHECK(s.text("etc/elf.conf") == config_elf);
  CHECK(s.text("usr/lib/small.so") == kElf.substr(0, 1000));
  CHECK(s.text("usr/lib/mid.so") == kElf.substr(0, 100 << 10));  // up to kSummarizeMin: spilled
  CHECK(s.fs->unspilled_digest(s.node("usr/share/data.bin")) != nullptr);
  const SparseHoles& h = *s.fs->layers()[0]->holes;
  const Node& d = s.node("usr/share/data.bin");
  const uint64_t left_out = whole_blocks(a.data_offset, a.size) + whole_blocks(d.data_offset, d.size);
  CHECK(std::vector<uint64_t>{h.bytes, h.summarized_files, h.summarized_bytes, h.declined_files, h.declined_bytes} ==
        std::vector<uint64_t>{left_out, 1, summed.size(), 1, declined.size()});
  // The summarized file's own scratch file is gone; the tar holds neither it nor data.bin.
  struct stat st {};
  REQUIRE(::stat(s.fs->layers()[0]->tar_path.c_str(), &st) == 0);
  CHECK(uint64_t(st.st_blocks) * 512 + kBig.size() + summed.size() - 16384 <= uint64_t(st.st_size));
  // Charged: the tar less its holes (the declined file's restore included); its scratch file went.
  CHECK(scratch_in_use() - before == s.fs->layers()[0]->tar_size - left_out);
}

TEST_CASE("low-disk refill: kept holes get their bytes back, dropped ones stay holes") {
  const std::string other(400 << 10, 'y');
  Sparse s({{"keep/a.bin", kBig}, {"drop/b.bin", other}});
  const Node& a = s.node("keep/a.bin");
  const Node& b = s.node("drop/b.bin");
  uint64_t written = refill_nodes(s.source, *s.fs, {&a}, 2);  // what the writer reads: the kept file
  CHECK(written == kBig.size());
  CHECK(s.text("keep/a.bin") == kBig);
  CHECK(s.fs->unspilled_digest(b));
  CHECK_THROWS_AS(s.fs->content(b), Error);
  // After the write: punched again, and refused again.
  release_refilled(*s.fs);
  CHECK(s.fs->unspilled_digest(a));
  CHECK_THROWS_AS(s.fs->content(a), Error);
}

TEST_CASE("low-disk refill per layer: only the nodes asked for are refilled, and only they are punched again") {
  const std::string other(400 << 10, 'y');
  Sparse s({{"keep/a.bin", kBig}, {"keep/b.bin", other}});
  const Node& a = s.node("keep/a.bin");
  const Node& b = s.node("keep/b.bin");
  const std::vector<const Node*> first{&a}, second{&b};
  CHECK(unfilled_bytes(*s.fs, {&a, &b, &a}) == kBig.size() + other.size());  // each hole once
  uint64_t asked = 0;
  CHECK(refill_nodes(s.source, *s.fs, first, 1, [&](uint64_t need) { asked = need; }) == kBig.size());
  CHECK(asked == kBig.size());
  CHECK(s.text("keep/a.bin") == kBig);
  CHECK(s.fs->unspilled_digest(b));  // not asked for: still a hole
  CHECK(unfilled_bytes(*s.fs, {&a, &b}) == other.size());
  // The first layer staged: its content punched, the next one's refilled.
  const uint64_t before = scratch_in_use();
  CHECK(release_refilled(*s.fs, &first) > 0);
  CHECK(scratch_in_use() < before);
  CHECK(s.fs->unspilled_digest(a));
  CHECK(refill_nodes(s.source, *s.fs, second, 1) == other.size());
  CHECK(s.text("keep/b.bin") == other);
  CHECK(release_refilled(*s.fs, &first) == 0);  // nothing of `first` is filled now
  CHECK(s.text("keep/b.bin") == other);
}

TEST_CASE("low-disk refill: a blob that decodes differently the second time is an error naming the layer") {
  Sparse s({{"keep/a.bin", kBig}});
  // The same digest, other bytes: the layer's recorded diff_id no longer matches.
  const std::string diff_id = s.fs->layers()[0]->diff_id;
  const_cast<SpilledLayer&>(*s.fs->layers()[0]).diff_id = sha256_digest("other");
  std::string message;
  try {
    refill_nodes(s.source, *s.fs, {&s.node("keep/a.bin")}, 1);
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.rfind("layer " + short_digest(s.descriptor.digest) + ": re-decoded for low-disk mode: decodes to " +
                          diff_id + " (308736 bytes), the first decode to " + sha256_digest("other") + " (308736 bytes)",
                      0) == 0);
}

TEST_CASE("select_streamed: per input layer, the plain holes at increasing offsets; the rest is refilled") {
  Node a = node(0, 1024, 10), b = node(0, 512, 10), c = node(1, 512, 10), d = node(0, 2048, 10);
  Node spilled = node(0, 3072, 10), stripped = node(0, 4096, 10), empty = node(0, 8192, 0), e = node(0, 1034, 10);
  // The writer's order: b comes after a in it but before a in the tar; a is read twice.
  std::vector<const Node*> reads{&a, &b, &c, &spilled, &d, &a, &stripped, &empty};
  auto is_hole = [&](const Node& n) { return &n != &spilled; };
  auto plain = [&](const Node& n) { return &n != &stripped; };
  CHECK(select_streamed(reads, is_hole, plain) ==
        std::vector<bool>{true, false, true, false, true, false, false, false});
  // A hole that starts right where the last streamed one ends is still ahead of the decode.
  CHECK(select_streamed({&a, &e}, is_hole, plain) == std::vector<bool>{true, true});
}

TEST_CASE("low-disk stream: holes in tar order go from a second decode to the writer; the rest is refilled") {
  const std::string other(400 << 10, 'y');
  const std::string third = kBig + "c";
  Sparse s({{"keep/b.bin", other}, {"keep/a.bin", kBig}, {"keep/c.bin", third}});  // the tar: b, a, c
  const Node& a = s.node("keep/a.bin");
  const Node& b = s.node("keep/b.bin");
  const Node& c = s.node("keep/c.bin");
  const uint64_t before = scratch_in_use();
  HoleStream stream(s.source, *s.fs, {&a, &b, &c}, [](const Node&) { return true; });  // the writer's: by path
  CHECK(stream.rest() == std::vector<const Node*>{&b});
  CHECK(stream.bytes() == kBig.size() + third.size());
  CHECK(stream.serves(a));
  CHECK(!stream.serves(b));
  CHECK(stream.serves(c));
  StringWriter out;
  stream.copy(a, out);
  stream.copy(c, out);
  stream.finish();
  CHECK(out.str() == kBig + third);
  CHECK(scratch_in_use() == before);  // nothing went through scratch
  CHECK(s.fs->unspilled_digest(a));   // still a hole
}

TEST_CASE("low-disk stream: a file or a layer that decodes differently the second time is an error naming it") {
  Sparse s({{"keep/a.bin", kBig}});
  const Node& a = s.node("keep/a.bin");
  const std::string where = "layer " + short_digest(s.descriptor.digest) + ": re-decoded for low-disk mode: ";
  auto plain = [](const Node&) { return true; };
  auto& hole = const_cast<Hole&>(s.fs->layers()[0]->holes->by_offset.at(a.data_offset));
  const std::string digest = hole.digest;
  hole.digest = sha256_digest("other");
  std::string message;
  {
    HoleStream stream(s.source, *s.fs, {&a}, plain);
    StringWriter out;
    try {
      stream.copy(a, out);
    } catch (const Error& e) {
      message = e.what();
    }
  }
  CHECK(message == where + "keep/a.bin: content differs from the first decode");
  hole.digest = digest;
  const std::string diff_id = s.fs->layers()[0]->diff_id;
  const_cast<SpilledLayer&>(*s.fs->layers()[0]).diff_id = sha256_digest("other");
  message.clear();
  {
    HoleStream stream(s.source, *s.fs, {&a}, plain);
    StringWriter out;
    stream.copy(a, out);
    CHECK(out.str() == kBig);
    try {
      stream.finish();
    } catch (const Error& e) {
      message = e.what();
    }
  }
  CHECK(message == where + "decodes to " + diff_id + " (308736 bytes), the first decode to " +
                        sha256_digest("other") + " (308736 bytes)");
}

TEST_CASE("select_streamed: at most max_layers input layers stream, those with the most hole bytes") {
  // A squash of four layers read in path order, interleaved: layer 2 holds the most,
  // then layers 0 and 3 (a tie: the lower layer first), then layer 1.
  Node a0 = node(0, 512, 30), a1 = node(1, 512, 10), a2 = node(2, 512, 50), a3 = node(3, 512, 30);
  Node b2 = node(2, 1024, 20), b1 = node(1, 1024, 5);
  std::vector<const Node*> reads{&a0, &a1, &a2, &a3, &b2, &b1};
  auto hole = [](const Node&) { return true; };
  CHECK(select_streamed(reads, hole, hole, 2) == std::vector<bool>{true, false, true, false, true, false});
  CHECK(select_streamed(reads, hole, hole, 3) == std::vector<bool>{true, false, true, true, true, false});
  CHECK(select_streamed(reads, hole, hole) == std::vector<bool>(6, true));  // kMaxStreamedLayers: 4
}

namespace {

std::span<const uint8_t> span_of(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// A fat binary container (elf/fatbin.h): its 16-byte header, then `payload`.
std::string fat_container(const std::string& payload) {
  std::string c(16, '\0');
  const uint64_t fields[] = {kFatbinMagic, 1, 16, payload.size()};
  const unsigned widths[] = {4, 2, 2, 8}, at[] = {0, 4, 6, 8};
  for (int f = 0; f < 4; ++f)
    for (unsigned i = 0; i < widths[f]; ++i) c[at[f] + i] = static_cast<char>(fields[f] >> (8 * i));
  return c + payload;
}

// Bytes like compressed GPU code: mostly not text, a NUL now and then.
std::string noise(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    s[i] = static_cast<char>(0x80 | (seed >> 16));
    if (i % 997 == 0) s[i] = '\0';
  }
  return s;
}

// `file` written through an ElfCopy `chunk` bytes at a time: the copy, and what it left out.
std::string copy_of(const std::string& file, size_t chunk, std::vector<FileRange>* zeroed) {
  TempDir dir(scratch_parent(), "slimage-elf-copy-test-");
  ElfCopy copy(dir.path(), file.size());
  for (size_t i = 0; i < file.size(); i += chunk) copy.write(file.data() + i, std::min(chunk, file.size() - i));
  copy.finish();
  *zeroed = copy.zeroed();
  MappedFile mapped(copy.file().path());
  return std::string(mapped.bytes().begin(), mapped.bytes().end());
}

}  // namespace

TEST_CASE("ElfCopy: fat binaries left out, every byte the library-name scan reads kept") {
  // Three containers back to back after some "ELF" bytes, one after a gap, and strings
  // where a careless copy would change what library_name_strings finds: in a container
  // (near its start, across a block boundary, a long text run that ends in a non-text
  // byte), one running to the container's end with its NUL after it, name characters at
  // a container's end before a "lib…so" that follows it, and one before a header.
  std::string c1 = noise(100000, 1), c2 = noise(70000, 2), c3 = noise(50000, 3), c4 = noise(200000, 4);
  c1.replace(40, 18, std::string("\0libnear.so.2\0\x90\x91\x92\x93", 18));
  c1.replace(8185, 16, std::string("\0libacross.so.9\0", 16));
  c2.replace(30000, 12, std::string("\0libtext.so ", 12));
  c2.replace(30012, 6000, std::string(6000, 't'));
  c2[36012] = '\x01';  // not a C string: nothing found
  c3.replace(c3.size() - 16, 16, "libatend.so.1.2 ");  // its NUL follows the container
  c4.replace(c4.size() - 8, 8, "\x90" "abcdefg");  // "abcdefglibafter.so" is one word: nothing found
  std::string file = std::string("\x7f" "ELF", 4) + std::string(4092, 'E');
  file += fat_container(c1) + fat_container(c2) + fat_container(c3);
  file += std::string(" trailing text\0 and", 19);
  file += noise(5, 9) + "libbefore.so";  // runs into the next header: not a C string
  file += std::string((8 - file.size() % 8) % 8, '\x90');
  file += fat_container(c4) + std::string("libafter.so\0libplain.so.3\0", 26);
  const std::vector<std::string> want = {"libnear.so.2", "libacross.so.9", "libatend.so.1.2", "libplain.so.3"};
  ElfInfo whole;  // no section table: the scan reads the whole file
  REQUIRE(library_name_strings(span_of(file), whole) == want);
  for (size_t chunk : {size_t(1) << 20, size_t(4099), size_t(1000), size_t(7)}) {
    CAPTURE(chunk);
    std::vector<FileRange> zeroed;
    std::string copy = copy_of(file, chunk, &zeroed);
    REQUIRE(copy.size() == file.size());
    uint64_t left_out = 0;
    size_t z = 0;
    bool same = true;
    for (size_t i = 0; i < file.size(); ++i) {
      while (z < zeroed.size() && zeroed[z].second <= i) ++z;
      bool in = z < zeroed.size() && i >= zeroed[z].first;
      same &= copy[i] == (in ? '\0' : file[i]);
    }
    CHECK(same);
    for (auto& [b, e] : zeroed) {
      CHECK(b % 4096 == 0);
      CHECK(e % 4096 == 0);
      left_out += e - b;
    }
    // Most of the 420 KB of GPU code: all but the blocks holding a header or a string.
    CHECK(left_out >= 360000);
    CHECK(library_name_strings(span_of(copy), whole) == want);
    // With a section starting inside the first container: the scan's bounds change nothing.
    ElfInfo ro;
    ro.sections = {{".rodata", 1, 2, 0, 4096 + 16 + 8000, file.size() - 4096 - 16 - 8000, 0, 0, 8, 0}};
    CHECK(library_name_strings(span_of(copy), ro) == library_name_strings(span_of(file), ro));
  }
}
