// Layer merge: whiteouts, opaque dirs, hardlinks across layers, symlinks
// resolved inside the root, hostile paths — over layers built in memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <set>

#include <sys/stat.h>

#include "slimage/layer/compression.h"
#include "slimage/rootfs/releasing_writer.h"
#include "slimage/layer/tar.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/util/file.h"
#include "slimage/util/budget.h"
#include "slimage/util/hash.h"

#include "memory_source.h"
#include "tar_fixture.h"

using namespace slimage;
using test::make_tar;
using test::MemorySource;
using test::Spec;

namespace {

struct Fixture {
  TempDir dir{scratch_parent(), "slimage-rootfs-test-"};
  MemorySource source;
  Diagnostics diagnostics;
  std::unique_ptr<MergedFs> merge(const std::vector<std::vector<Spec>>& layers) {
    std::vector<std::unique_ptr<SpilledLayer>> spilled;
    for (size_t i = 0; i < layers.size(); i++) {
      std::string tar = make_tar(layers[i]);
      Descriptor d = source.add(tar);
      spilled.push_back(spill_layer(source, d, sha256_digest(tar), dir.path(), i));
    }
    return std::make_unique<MergedFs>(std::move(spilled), diagnostics);
  }
  // The error a merge throws, less its "layer sha256:ab12…: " prefix.
  std::string merge_error(const std::vector<std::vector<Spec>>& layers) {
    try {
      merge(layers);
    } catch (const Error& e) {
      std::string msg = e.what();
      REQUIRE(msg.rfind("layer sha256:", 0) == 0);
      return msg.substr(msg.find(": ") + 2);
    }
    return "";
  }
  std::string text(const FsView& fs, const std::string& path) {
    const Node* n = fs.lookup(path);
    REQUIRE(n);
    auto b = fs.content(*n);
    return std::string(b.begin(), b.end());
  }
};

}  // namespace

TEST_CASE("rootfs: whiteout hides lower layers only") {
  Fixture f;
  auto fs = f.merge({{{"a/x", TarType::Regular, "x"}, {"a/y", TarType::Regular, "y"},
                      {"b/w", TarType::Regular, "old"}},
                     {{"a/.wh.x"}, {"a/z", TarType::Regular, "z"},
                      {"b/.wh.w"}, {"b/w", TarType::Regular, "new"}}});
  CHECK_FALSE(fs->lookup("a/x"));
  CHECK(fs->lookup("a/y"));
  CHECK(fs->lookup("a/z"));
  CHECK(f.text(*fs, "b/w") == "new");  // written after its whiteout: both runtimes keep it
  CHECK(f.diagnostics.items().empty());
}

TEST_CASE("rootfs: a whiteout after its own layer's entry is refused (containerd deletes it, umoci keeps it)") {
  Fixture f;
  CHECK(f.merge_error({{{"b/w", TarType::Regular, "old"}},
                       {{"b/w", TarType::Regular, "new"}, {"b/.wh.w"}}}) ==
        "b/.wh.w: whiteout of b/w comes after b/w of its own layer: containerd deletes it, "
        "umoci keeps it; refused (see docs/layer-semantics.md)");
  // Beneath the whited-out path counts too: containerd's RemoveAll takes it.
  CHECK(f.merge_error({{{"d/x", TarType::Regular, "x"}},
                       {{"d/y", TarType::Regular, "y"}, {".wh.d"}}}) ==
        ".wh.d: whiteout of d comes after d/y of its own layer: containerd deletes it, umoci "
        "keeps it; refused (see docs/layer-semantics.md)");
  // A sibling whose name extends the whited-out one is not beneath it.
  auto fs = f.merge({{{"d", TarType::Regular, "x"}}, {{"d-1", TarType::Regular, "y"}, {".wh.d"}}});
  CHECK_FALSE(fs->lookup("d"));
  CHECK(fs->lookup("d-1"));
}

TEST_CASE("rootfs: a whiteout in a missing directory creates nothing, and is refused unless its layer creates it") {
  Fixture f;
  // containerd's mkparent would create a/b; umoci ignores the whiteout.
  CHECK(f.merge_error({{{"bin/ok", TarType::Regular, "ok"}}, {{"a/b/.wh.c"}}}) ==
        "a/b/.wh.c: whiteout in a/b, a directory no layer creates: containerd creates it, umoci "
        "does not; refused (see docs/layer-semantics.md)");
  // Through a symlinked parent: the link's target, never var/tmp itself.
  CHECK(f.merge_error({{{"var/", TarType::Directory}, {"var/tmp", TarType::Symlink, "/tmp"}},
                       {{"var/tmp/.wh.x"}}}) ==
        "var/tmp/.wh.x: whiteout in tmp, a directory no layer creates: containerd creates it, "
        "umoci does not; refused (see docs/layer-semantics.md)");
  // The layer creates the directory itself: both runtimes agree.
  auto fs = f.merge({{{"bin/ok", TarType::Regular, "ok"}},
                     {{"a/.wh.c"}, {"a/", TarType::Directory}}});
  CHECK(fs->lookup("a"));
  fs = f.merge({{{"tmp/x", TarType::Regular, "x"}, {"var/tmp", TarType::Symlink, "../tmp"}},
                {{"var/tmp/.wh.x"}}});
  CHECK_FALSE(fs->lookup("tmp/x"));
  CHECK(fs->lookup("var/tmp")->type == FileType::Symlink);
  CHECK_FALSE(fs->lookup("var/tmp/x"));
}

TEST_CASE("rootfs: an opaque marker hides lower entries only, refusing where containerd would delete its own layer's") {
  Fixture f;
  // Out of order: entries before the marker survive (containerd's unpackedPaths).
  auto fs = f.merge({{{"d/a", TarType::Regular, "a"}},
                     {{"d/", TarType::Directory}, {"d/b", TarType::Regular, "b"}, {"d/.wh..wh..opq"}}});
  CHECK_FALSE(fs->lookup("d/a"));
  CHECK(f.text(*fs, "d/b") == "b");
  // d/sub is a lower directory: containerd removes it with d/sub/f of this layer.
  CHECK(f.merge_error({{{"d/sub/a", TarType::Regular, "a"}},
                       {{"d/sub/f", TarType::Regular, "f"}, {"d/.wh..wh..opq"}}}) ==
        "d/.wh..wh..opq: opaque marker removes d/sub with d/sub/f of its own layer beneath it: "
        "containerd deletes both, umoci keeps d/sub/f; refused (see docs/layer-semantics.md)");
  CHECK(f.merge_error({{{"d/a", TarType::Regular, "a"}},
                       {{"d/new/f", TarType::Regular, "f"}, {"d/.wh..wh..opq"}}}) ==
        "d/.wh..wh..opq: opaque marker comes after d/new, a directory its own layer created "
        "implicitly: containerd deletes it, umoci keeps it; refused (see docs/layer-semantics.md)");
}

TEST_CASE("rootfs: opaque dir hides lower layer") {
  Fixture f;
  auto fs = f.merge({{{"d/", TarType::Directory}, {"d/a", TarType::Regular, "a"},
                      {"d/sub/b", TarType::Regular, "b"}, {"e", TarType::Regular, "e"}},
                     {{"d/.wh..wh..opq"}, {"d/c", TarType::Regular, "c"}}});
  CHECK(fs->lookup("d"));
  CHECK_FALSE(fs->lookup("d/a"));
  CHECK_FALSE(fs->lookup("d/sub"));
  CHECK(fs->lookup("d/c"));
  CHECK(fs->lookup("e"));
  auto children = fs->list_dir("d");
  REQUIRE(children.size() == 1);
  CHECK(children[0]->path == "d/c");
}

TEST_CASE("rootfs: hardlink across layers survives its target's deletion") {
  Fixture f;
  auto fs = f.merge({{{"f", TarType::Regular, "hello"}},
                     {{"g", TarType::Hardlink, "f"}},
                     {{".wh.f"}}});
  CHECK_FALSE(fs->lookup("f"));
  const Node* g = fs->lookup("g");
  REQUIRE(g);
  CHECK(g->type == FileType::Hardlink);
  CHECK(f.text(*fs, "g") == "hello");
}

TEST_CASE("rootfs: a hardlink to a symlink, device or fifo is one more of them") {
  Fixture f;
  auto fs = f.merge({{{"lib/", TarType::Directory}, {"lib/libz.so.1", TarType::Regular, "z"},
                      {"lib/libz.so", TarType::Symlink, "libz.so.1"}},
                     {{"lib/libz-link.so", TarType::Hardlink, "lib/libz.so"}}});
  const Node* n = fs->lookup("lib/libz-link.so");
  REQUIRE(n);
  CHECK(n->type == FileType::Symlink);  // link(2) does not follow the last symlink
  CHECK(n->link_target == "libz.so.1");
  CHECK(f.diagnostics.items().empty());
}

TEST_CASE("rootfs: a hardlink before its target's whiteout in the same layer keeps the content") {
  Fixture f;
  auto fs = f.merge({{{"f", TarType::Regular, "hello"}},
                     {{"g", TarType::Hardlink, "f"}, {".wh.f"}}});
  CHECK_FALSE(fs->lookup("f"));
  CHECK(f.text(*fs, "g") == "hello");
  CHECK(f.diagnostics.items().empty());
}

TEST_CASE("rootfs: a hardlink to a directory is refused (link(2) fails in containerd)") {
  Fixture f;
  CHECK(f.merge_error({{{"d/", TarType::Directory}, {"l", TarType::Hardlink, "d"}}}) ==
        "l: hardlink to directory d: link(2) refuses it, so containerd cannot apply this layer");
}

TEST_CASE("rootfs: a hardlink to nothing is refused (link(2) fails in containerd)") {
  Fixture f;
  CHECK(f.merge_error({{{"g", TarType::Hardlink, "missing"}}}) ==
        "g: hardlink to missing, which does not exist: link(2) fails, so containerd cannot apply "
        "this layer");
  // Its target whited-out earlier in the same layer: gone when the link is made.
  CHECK(f.merge_error({{{"f", TarType::Regular, "x"}}, {{".wh.f"}, {"g", TarType::Hardlink, "f"}}}) ==
        "g: hardlink to f, which does not exist: link(2) fails, so containerd cannot apply "
        "this layer");
  // A link to itself: containerd removes the path first, so the target is gone too.
  CHECK(f.merge_error({{{"h", TarType::Hardlink, "h"}}}) ==
        "h: hardlink to h, which does not exist: link(2) fails, so containerd cannot apply "
        "this layer");
}

TEST_CASE("rootfs: a hardlink leaving the root is clamped inside it, as containerd and umoci do") {
  Fixture f;
  auto fs = f.merge({{{"etc/passwd", TarType::Regular, "image"}},
                     {{"h", TarType::Hardlink, "../../etc/passwd"}, {"a", TarType::Hardlink, "/etc/passwd"}}});
  CHECK(f.text(*fs, "h") == "image");
  CHECK(f.text(*fs, "a") == "image");
  CHECK(f.diagnostics.error_count() == 0);
  // Clamped to nothing: refused as any link to a missing file.
  CHECK(f.merge_error({{{"h", TarType::Hardlink, "../../etc/passwd"}}}) ==
        "h: hardlink to ../../etc/passwd, which does not exist: link(2) fails, so containerd "
        "cannot apply this layer");
}

TEST_CASE("rootfs: absolute symlink parents resolve inside the root") {
  Fixture f;
  auto fs = f.merge({{{"usr/lib/", TarType::Directory}, {"lib", TarType::Symlink, "/usr/lib"},
                      {"evil", TarType::Symlink, "../../../../etc"}, {"etc/", TarType::Directory}},
                     {{"lib/libx.so", TarType::Regular, "x"}, {"evil/passwd", TarType::Regular, "p"}}});
  CHECK(fs->lookup("usr/lib/libx.so"));
  CHECK_FALSE(fs->lookup("lib/libx.so"));
  CHECK(f.text(*fs, "etc/passwd") == "p");  // written through the link, still inside the root
  std::string real;
  CHECK(fs->resolve("lib/libx.so", true, &real));
  CHECK(real == "usr/lib/libx.so");
  CHECK(fs->symlink_chain("lib/libx.so") == std::vector<std::string>{"lib"});
}

TEST_CASE("rootfs: paths leaving the root are skipped with a diagnostic") {
  Fixture f;
  auto fs = f.merge({{{"../outside", TarType::Regular, "x"}, {"a/../../b", TarType::Regular, "y"},
                      {"/abs/ok", TarType::Regular, "z"}, {".wh..."}}});
  CHECK_FALSE(fs->lookup("outside"));
  CHECK_FALSE(fs->lookup("b"));
  CHECK(fs->lookup("abs/ok"));  // absolute names are relative to the root, as runtimes do
  CHECK(f.diagnostics.error_count() == 3);
}

TEST_CASE("rootfs: a file replaces a directory and its subtree") {
  Fixture f;
  auto fs = f.merge({{{"x/", TarType::Directory}, {"x/a", TarType::Regular, "a"}},
                     {{"x", TarType::Regular, "file"}}});
  CHECK(fs->lookup("x")->type == FileType::Regular);
  CHECK_FALSE(fs->lookup("x/a"));
}

TEST_CASE("rootfs: an applied entry keeps its header only where a later stage reads it") {
  Fixture f;
  auto fs = f.merge({{{"d/", TarType::Directory}, {"d/f", TarType::Regular, "x"}, {"gone", TarType::Regular, "g"}},
                     {{"d/g", TarType::Regular, "y"}, {".wh.gone"}, {"big", TarType::Regular, std::string(300 << 10, 'b')},
                      {"l", TarType::Symlink, "d"}, {"l/h", TarType::Regular, "z"}, {"/abs", TarType::Regular, "a"}}});
  std::map<std::string, const LayerEntry*> by_path;
  for (auto& layer : fs->layers())
    for (auto& e : layer->entries) by_path[e.path] = &e;
  // Directories and markers (the writer gives them their layer's header again), files
  // over kSparseKeepMax (the low-disk estimate reads their stored name): kept.
  CHECK(by_path.at("d")->tar);
  CHECK(by_path.at("gone")->kind == LayerEntry::Kind::Whiteout);
  CHECK(by_path.at("gone")->tar);
  CHECK(by_path.at("big")->tar);
  // The rest: dropped, what later stages read copied out.
  const LayerEntry& g = *by_path.at("d/g");
  CHECK_FALSE(g.tar);
  CHECK(g.type == TarType::Regular);
  CHECK(g.size == 1);
  CHECK(fs->entry_visible(1, g));
  CHECK(g.verbatim);
  // Written through a symlink or under an absolute name: not passed on byte for byte.
  CHECK_FALSE(by_path.at("d/h")->verbatim);
  CHECK_FALSE(by_path.at("abs")->verbatim);
  CHECK_FALSE(by_path.at("d/h")->tar);
}

TEST_CASE("rootfs: a diff_id mismatch names the layer") {
  Fixture f;
  std::string tar = make_tar({{"a", TarType::Regular, "a"}});
  Descriptor d = f.source.add(tar);
  CHECK_THROWS_WITH_AS(spill_layer(f.source, d, sha256_digest("other"), f.dir.path(), 0),
                       doctest::Contains("diff_id mismatch"), Error);
}

TEST_CASE("rootfs: gzip layers decode and keep their digest check") {
  Fixture f;
  std::string tar = make_tar({{"a", TarType::Regular, "hello"}});
  StringWriter gz;
  EncoderOptions eo;
  auto enc = open_encoder(gz, eo);
  enc->write(tar.data(), tar.size());
  enc->finish();
  Descriptor d = f.source.add(gz.str());
  auto layer = spill_layer(f.source, d, sha256_digest(tar), f.dir.path(), 0);
  CHECK(layer->diff_id == sha256_digest(tar));
  REQUIRE(layer->entries.size() == 1);
  CHECK(layer->headers->get(layer->entries[0].packed).path == "a");
}

TEST_CASE("rootfs: SLIMAGE_MAX_LAYER_BYTES lowers the decode limit and names the layer") {
  Fixture f;
  std::string tar = make_tar({{"a", TarType::Regular, std::string(8192, 'x')}});
  Descriptor d = f.source.add(tar);
  ::setenv("SLIMAGE_MAX_LAYER_BYTES", "4096", 1);
  std::string message;
  try {
    spill_layer(f.source, d, sha256_digest(tar), f.dir.path(), 0);
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message.rfind("layer " + short_digest(d.digest) + ": ", 0) == 0);
  CHECK(message.find("exceeds limit of 4096 bytes") != std::string::npos);
  ::setenv("SLIMAGE_MAX_LAYER_BYTES", "lots", 1);
  CHECK_THROWS_WITH_AS(spill_layer(f.source, d, sha256_digest(tar), f.dir.path(), 0),
                       doctest::Contains("SLIMAGE_MAX_LAYER_BYTES=lots"), Error);
  ::unsetenv("SLIMAGE_MAX_LAYER_BYTES");
  CHECK(spill_layer(f.source, d, sha256_digest(tar), f.dir.path(), 0)->tar_size == tar.size());
}

TEST_CASE("rootfs: big files reach the scratch around the page cache, byte for byte") {
  // Content of files >= direct_min_bytes goes through O_DIRECT (page-aligned
  // middles only); headers, small files and the unaligned edges are buffered.
  // Either way the scratch must be the decoded tar, exactly.
  Fixture f;
  auto noise = [](size_t n, uint32_t seed) {
    std::string s(n, '\0');
    for (auto& c : s) {
      seed = seed * 1103515245u + 12345u;
      c = static_cast<char>(seed >> 23);
    }
    return s;
  };
  std::string big1 = noise((3 << 20) + 123, 1), big2 = noise(2 << 20, 2), big3 = noise(9 << 20, 3);
  std::string tar = make_tar({{"small", TarType::Regular, "abc"},
                              {"big1", TarType::Regular, big1},
                              {"mid", TarType::Regular, noise(5000, 4)},
                              {"big2", TarType::Regular, big2},
                              {"big3", TarType::Regular, big3},
                              {"tail", TarType::Regular, "z"}});
  Descriptor d = f.source.add(tar);
  SpillLimits limits;
  for (uint64_t threshold : {uint64_t(1) << 20, uint64_t(4) << 20, UINT64_MAX}) {
    CAPTURE(threshold);
    limits.direct_min_bytes = threshold;
    auto layer = spill_layer(f.source, d, sha256_digest(tar), f.dir.path(), 0, limits);
    CHECK(layer->tar_size == tar.size());
    CHECK(read_file(layer->tar_path) == tar);
    std::vector<std::unique_ptr<SpilledLayer>> layers;
    layers.push_back(std::move(layer));
    MergedFs fs(std::move(layers), f.diagnostics);
    CHECK(f.text(fs, "big1") == big1);
    CHECK(f.text(fs, "big2") == big2);
    CHECK(f.text(fs, "big3") == big3);
    CHECK(f.text(fs, "tail") == "z");
  }
}

TEST_CASE("rootfs: discard frees dropped files' scratch blocks and keeps every live byte") {
  // Dead: two big files, one of them hardlinked from a live path (its bytes
  // must stay). Live neighbours on both sides of each, one of them big.
  // (Scratch contents this big went through O_DIRECT: they are on disk.)
  Fixture f;
  auto fill = [](size_t n, char c) { return std::string(n, c) + "end"; };
  std::string dead1 = fill(3 << 20, 'a'), shared = fill(2 << 20, 'b'), live_big = fill(5 << 20, 'c');
  auto fs = f.merge({{{"before", TarType::Regular, "small live"},
                      {"dead1", TarType::Regular, dead1},
                      {"between", TarType::Regular, "x"},
                      {"shared", TarType::Regular, shared},
                      {"live_big", TarType::Regular, live_big},
                      {"link", TarType::Hardlink, "shared"}}});
  const std::string tar_path = fs->layers()[0]->tar_path;
  auto blocks = [&] {
    struct stat st {};
    REQUIRE(::stat(tar_path.c_str(), &st) == 0);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  };
  uint64_t before = blocks();
  std::set<std::string> dead = {"dead1", "shared"};
  uint64_t freed = fs->discard([&](const Node& n) { return dead.count(n.path) > 0; });
  CHECK(f.text(*fs, "before") == "small live");
  CHECK(f.text(*fs, "between") == "x");
  CHECK(f.text(*fs, "live_big") == live_big);
  CHECK(f.text(*fs, "link") == shared);
  if (freed == 0) {
    MESSAGE("the scratch filesystem punches no holes; only the live bytes were checked");
    return;
  }
  // dead1's whole pages, less nothing else: "shared" is live through "link".
  CHECK(freed >= (3 << 20) - 8192);
  CHECK(freed <= dead1.size());
  CHECK(blocks() + freed <= before + 4096);
  CHECK(f.text(*fs, "dead1") != dead1);  // its middle reads as zeros now
}

TEST_CASE("rootfs: a path deeper than SLIMAGE_MAX_PATH_DEPTH is refused at the door, naming the layer") {
  Fixture f;
  std::string deep = "d/d/d/d/f";  // five components
  std::string tar = make_tar({{deep, TarType::Regular, "x"}});
  Descriptor d = f.source.add(tar);
  ::setenv("SLIMAGE_MAX_PATH_DEPTH", "5", 1);
  reset_budgets_for_test();
  CHECK(spill_layer(f.source, d, sha256_digest(tar), f.dir.path(), 0)->entries.size() == 1);
  ::setenv("SLIMAGE_MAX_PATH_DEPTH", "4", 1);
  reset_budgets_for_test();
  CHECK_THROWS_WITH_AS(spill_layer(f.source, d, sha256_digest(tar), f.dir.path(), 0),
                       ("layer " + short_digest(d.digest) +
                        ": d/d/d/d/f: 5 path components exceed the budget of 4 "
                        "(raise it with SLIMAGE_MAX_PATH_DEPTH=N)").c_str(),
                       Error);
  ::unsetenv("SLIMAGE_MAX_PATH_DEPTH");
  reset_budgets_for_test();
}

TEST_CASE("rootfs: the merged tree's path bytes, implicit parents included, stay within SLIMAGE_MAX_PATH_BYTES") {
  // One entry, four nodes: a (2 bytes with its separator), a/b (4), a/b/c (6), a/b/c/f (8).
  Fixture f;
  ::setenv("SLIMAGE_MAX_PATH_BYTES", "20", 1);
  reset_budgets_for_test();
  CHECK(f.merge_error({{{"a/b/c/f", TarType::Regular, "x"}}}) == "");
  ::setenv("SLIMAGE_MAX_PATH_BYTES", "19", 1);
  reset_budgets_for_test();
  CHECK(f.merge_error({{{"a/b/c/f", TarType::Regular, "x"}}}) ==
        "20 bytes of paths in the merged tree exceed the budget of 19 "
        "(raise it with SLIMAGE_MAX_PATH_BYTES=N)");
  // The implicit parents alone count: the entry's own node is never reached.
  ::setenv("SLIMAGE_MAX_PATH_BYTES", "11", 1);
  reset_budgets_for_test();
  CHECK(f.merge_error({{{"a/b/c/f", TarType::Regular, "x"}}}) ==
        "12 bytes of paths in the merged tree exceed the budget of 11 "
        "(raise it with SLIMAGE_MAX_PATH_BYTES=N)");
  ::unsetenv("SLIMAGE_MAX_PATH_BYTES");
  reset_budgets_for_test();
}

namespace {

// A view over a merged tree that records what is released, and how.
class ReleaseRecorder : public FsView {
 public:
  explicit ReleaseRecorder(const FsView& base) : base_(base) {}
  const Node* lookup(std::string_view path) const override { return base_.lookup(path); }
  std::vector<const Node*> list_dir(std::string_view dir) const override { return base_.list_dir(dir); }
  void for_each(const std::function<void(const Node&)>& fn) const override { base_.for_each(fn); }
  std::span<const uint8_t> content(const Node& node) const override { return base_.content(node); }
  void release(const Node& node) const override {
    calls.push_back("release " + node.path);
    base_.release(node);
  }
  void release_range(const Node& node, uint64_t offset, uint64_t length) const override {
    calls.push_back("range " + std::to_string(offset) + "+" + std::to_string(length));
    base_.release_range(node, offset, length);
  }
  mutable std::vector<std::string> calls;

 private:
  const FsView& base_;
};

}  // namespace

TEST_CASE("rootfs: write_content passes a big file through in steps, releasing each, and the bytes stay readable") {
  Fixture f;
  std::string big(3 * (1 << 20) + 1234, '\0');
  uint32_t x = 12345;
  for (char& c : big) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  auto fs = f.merge({{{"usr/lib/libbig.so", TarType::Regular, big}}});
  ReleaseRecorder view(*fs);
  const Node* n = view.lookup("usr/lib/libbig.so");
  REQUIRE(n);
  StringWriter out;
  write_content(view, *n, out, 1 << 20);
  CHECK(out.str() == big);
  CHECK(view.calls == std::vector<std::string>{"range 0+1048576", "range 1048576+1048576",
                                               "range 2097152+1048576", "range 3145728+1234",
                                               "release usr/lib/libbig.so"});
  // The pages dropped from this process come back from the page cache.
  fs->release_range(*n, 1 << 20, 1 << 20);
  fs->release_range(*n, 5 << 20, 1);  // past the end: nothing
  CHECK(f.text(*fs, "usr/lib/libbig.so") == big);
}

TEST_CASE("rootfs: a rewrite's writer releases the content behind it in steps; literal bytes release nothing") {
  Fixture f;
  std::string big(10 * 1000 + 7, '\0');
  uint32_t x = 777;
  for (char& c : big) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  auto fs = f.merge({{{"usr/lib/libgpu.so", TarType::Regular, big}}});
  ReleaseRecorder view(*fs);
  const Node* n = view.lookup("usr/lib/libgpu.so");
  REQUIRE(n);
  auto bytes = view.content(*n);
  StringWriter out;
  ReleasingWriter w(view, *n, bytes, out, 4000);
  w.write(bytes.data(), 3000);              // high 3000: under one step
  w.write("patch", 5);                      // not the input: nothing to release
  w.write(bytes.data() + 5000, 5007);       // to the end, passed on in 4000-byte steps
  w.write(bytes.data() + 100, 10);          // going back: read again, no release
  CHECK(out.str() == big.substr(0, 3000) + "patch" + big.substr(5000) + big.substr(100, 10));
  CHECK(view.calls == std::vector<std::string>{"range 0+9000"});
}

TEST_CASE("rootfs: a chain 10,000 components deep: lookup, list_dir, for_each order and resolve") {
  // The tree holds each path once (its node's); this checks that every view
  // of it still answers as the path-keyed tree did: exact nodes, children in
  // path order, for_each in byte order of the whole path ("d-x" sorts between
  // "d" and "d/…"), symlinks followed through the deep chain.
  constexpr size_t kDepth = 10000;
  ::setenv("SLIMAGE_MAX_PATH_DEPTH", "20000", 1);
  ::setenv("SLIMAGE_MAX_PATH_BYTES", "400000000", 1);
  reset_budgets_for_test();
  std::vector<std::string> chain{""};  // chain[k]: k components "d/d/…/d"
  for (size_t k = 1; k < kDepth; k++) chain.push_back(chain.back() + (k == 1 ? "d" : "/d"));
  const std::string file = chain[kDepth - 1] + "/f";
  const std::string side = chain[4999] + "/d-x";  // a sibling of chain[5000]
  Fixture f;
  auto fs = f.merge({{{file, TarType::Regular, "x"},
                      {"d-x", TarType::Regular, "top"},
                      {side, TarType::Regular, "side"},
                      {"l", TarType::Symlink, "/d/d/d"},
                      {chain[kDepth - 1] + "/back", TarType::Symlink, "/" + side},
                      {chain[kDepth - 1] + "/up", TarType::Symlink, "../../d/f"}}});
  ::unsetenv("SLIMAGE_MAX_PATH_DEPTH");
  ::unsetenv("SLIMAGE_MAX_PATH_BYTES");
  reset_budgets_for_test();
  CHECK(f.diagnostics.items().empty());

  // Views, not copies: the chain's paths alone are 100 MB.
  const std::string back = chain[kDepth - 1] + "/back", up = chain[kDepth - 1] + "/up";
  std::vector<std::string_view> expected(chain.begin(), chain.end());
  for (std::string_view p : {std::string_view(file), std::string_view("d-x"), std::string_view(side),
                             std::string_view("l"), std::string_view(back), std::string_view(up)})
    expected.push_back(p);
  std::sort(expected.begin(), expected.end());
  std::vector<std::string_view> order;
  fs->for_each([&](const Node& n) { order.push_back(n.path); });
  CHECK(order.size() == kDepth + 6);
  CHECK(order == expected);
  CHECK(order[1] == "d");
  CHECK(order[2] == "d-x");

  size_t bad_lookups = 0, bad_lists = 0;
  for (size_t k = 0; k < kDepth; k++) {
    const Node* n = fs->lookup(chain[k]);
    if (!n || n->path != chain[k] || n->type != FileType::Directory) bad_lookups++;
    std::vector<std::string> names;
    for (const Node* c : fs->list_dir(chain[k])) names.push_back(c->path);
    std::vector<std::string> want;
    if (k == 0) want = {"d", "d-x", "l"};
    else if (k == 4999) want = {chain[5000], side};
    else if (k == kDepth - 1) want = {chain[k] + "/back", file, chain[k] + "/up"};
    else want = {chain[k + 1]};
    if (names != want) bad_lists++;
  }
  CHECK(bad_lookups == 0);
  CHECK(bad_lists == 0);
  CHECK(fs->lookup(chain[kDepth - 1] + "/d") == nullptr);
  CHECK(fs->list_dir(file).empty());
  CHECK(f.text(*fs, file) == "x");
  CHECK(f.text(*fs, side) == "side");

  // Through "l" (-> /d/d/d) down to the file: 4 components fewer than the real path.
  std::string via_link = "l/" + file.substr(chain[3].size() + 1);
  std::string real;
  CHECK(fs->resolve(via_link, true, &real) == fs->lookup(file));
  CHECK(real == file);
  CHECK(fs->symlink_chain(via_link) == std::vector<std::string>{"l"});
  // An absolute target 5,000 components deep, and a relative one climbing two levels.
  CHECK(fs->resolve(chain[kDepth - 1] + "/back", true, &real) == fs->lookup(side));
  CHECK(real == side);
  CHECK(fs->resolve(chain[kDepth - 1] + "/back", false, &real) ==
        fs->lookup(chain[kDepth - 1] + "/back"));
  CHECK(fs->resolve(chain[kDepth - 1] + "/up", true, &real) == nullptr);  // d/f is not there
  CHECK(real == chain[kDepth - 2] + "/f");
  CHECK(fs->symlink_chain(chain[kDepth - 1] + "/up") ==
        std::vector<std::string>{chain[kDepth - 1] + "/up"});
}

TEST_CASE("rootfs: is_normalized agrees with normalize_path") {
  for (std::string_view p : {"", "a", "a/b", "usr/lib/x.so", ".a", "a/..b", "a/b.", "...", "/", "/a", "a/",
                             "a//b", ".", "./a", "a/.", "..", "a/../b", "a/b/.."}) {
    CAPTURE(p);
    CHECK(is_normalized(p) == (normalize_path(p) == p));
  }
}

TEST_CASE("rootfs: layer entries stay within SLIMAGE_MAX_ENTRIES, one layer's and the image's") {
  Fixture f;
  ::setenv("SLIMAGE_MAX_ENTRIES", "3", 1);
  reset_budgets_for_test();
  const std::vector<Spec> three = {{"a", TarType::Regular, "x"}, {"b", TarType::Regular, "y"}, {"c", TarType::Regular, "z"}};
  CHECK(f.merge_error({three}) == "");
  // One layer past it: its decode stops at the fourth entry.
  auto four = three;
  four.push_back({"d", TarType::Regular, "w"});
  CHECK(f.merge_error({four}) == "4 layer entries exceed the budget of 3 (raise it with SLIMAGE_MAX_ENTRIES=N)");
  // Two layers within it alone, past it together: the merge counts the sum
  // (decoded without a shared count, as a batch's shared layers are).
  CHECK(f.merge_error({{three[0], three[1]}, {three[2], four[3]}}) ==
        "4 layer entries exceed the budget of 3 (raise it with SLIMAGE_MAX_ENTRIES=N)");
  // With one (slim's decode): the layer that takes the image past it stops.
  std::atomic<uint64_t> seen{0};
  SpillLimits limits;
  limits.entries = &seen;
  std::string first = make_tar({three[0], three[1]}), second = make_tar({three[2], four[3]});
  Descriptor a = f.source.add(first), b = f.source.add(second);
  CHECK_NOTHROW(spill_layer(f.source, a, sha256_digest(first), f.dir.path(), 0, limits));
  CHECK_THROWS_WITH_AS(spill_layer(f.source, b, sha256_digest(second), f.dir.path(), 1, limits),
                       ("layer " + short_digest(b.digest) +
                        ": 4 layer entries exceed the budget of 3 (raise it with SLIMAGE_MAX_ENTRIES=N)").c_str(),
                       Error);
  ::unsetenv("SLIMAGE_MAX_ENTRIES");
  reset_budgets_for_test();
}
