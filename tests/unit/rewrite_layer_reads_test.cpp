// What the layer writer reads per output layer (rewrite/layer_writer.h's
// layer_reads): low-disk mode streams or refills exactly that, layer by layer.
#include <doctest/doctest.h>

#include <algorithm>

#include "slimage/rewrite/layer_writer.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

#include "memory_source.h"
#include "tar_fixture.h"

using namespace slimage;
using test::make_tar;
using test::MemorySource;
using test::Spec;

namespace {

std::vector<std::string> paths(const std::vector<const Node*>& nodes) {
  std::vector<std::string> out;
  for (const Node* n : nodes) out.push_back(n->path);
  return out;
}

}  // namespace

TEST_CASE("layer writer: a reused layer reads nothing; a rewritten one reads each content once") {
  TempDir dir{scratch_parent(), "slimage-layer-reads-test-"};
  MemorySource source;
  Diagnostics diagnostics;
  const TarType hardlink = TarType::Hardlink;
  const std::vector<std::vector<Spec>> specs = {
      {{"a/one", TarType::Regular, "one"}},  // untouched: reused
      {{"b/two", TarType::Regular, "two"}, {"b/gone", TarType::Regular, "gone"},
       {"b/two-link", hardlink, "b/two"}},  // a drop: rewritten
      {{"c/three", TarType::Regular, "three"}, {"c/gone", TarType::Regular, "gone"},
       {"c/up-link", hardlink, "b/two"}},  // the same
  };
  std::vector<std::unique_ptr<SpilledLayer>> layers;
  for (size_t i = 0; i < specs.size(); i++) {
    std::string tar = make_tar(specs[i]);
    layers.push_back(spill_layer(source, source.add(tar), sha256_digest(tar), dir.path(), i));
  }
  MergedFs fs(std::move(layers), diagnostics);
  Plan plan;
  for (const char* gone : {"b/gone", "c/gone"}) {
    Action a;
    a.fate = Fate::Drop;
    plan.actions[gone] = a;
  }
  std::vector<LayerReads> reads = layer_reads(fs, plan, WriteOptions{});
  REQUIRE(reads.size() == 3);
  CHECK(reads[0].reused);
  CHECK(reads[0].content.empty());
  CHECK_FALSE(reads[1].reused);
  // b/two-link shares b/two's content: a hardlink in the tar, not read again.
  CHECK(paths(reads[1].content) == std::vector<std::string>{"b/two"});
  // c/up-link's content is carried by the layer below: a hardlink to it.
  CHECK(paths(reads[2].content) == std::vector<std::string>{"c/three"});
  // Squash: one layer reading each content once, whatever layer holds it.
  WriteOptions squash;
  squash.layers = LayerMode::Squash;
  std::vector<LayerReads> one = layer_reads(fs, plan, squash);
  REQUIRE(one.size() == 1);
  std::vector<std::string> all = paths(one[0].content);
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::string>{"a/one", "b/two", "c/three"});
}
